#pragma once

// A session's result as data (SessionReport), built from the cache alone by
// replaying the planner on the stored observations, and its renderers: text
// for terminals, Markdown for pull requests, JSON (schema_version 1, see
// docs/report-json.md) for machines, and one self-contained HTML page.

#include <optional>
#include <string>
#include <vector>

#include "bisect/planner.hpp"
#include "cache/cache.hpp"
#include "report/profile_record.hpp"

namespace perfbisect {

// The values of one of `[probe] metrics` (not the decision metric) on one commit.
struct MetricSummary {
    std::string metric;          // as written in the config, e.g. "maxrss"
    std::string unit;
    std::vector<double> values;
    double median = 0;
};

struct TestedCommit {
    std::size_t position = 0;
    CommitInfo commit;
    std::vector<double> values;  // successful samples
    int failed_runs = 0;
    std::optional<double> median;
    Verdict verdict = Verdict::untested;
    std::string note;            // why skipped, when skipped
    std::vector<MetricSummary> metrics;  // the other metrics recorded, in config order
};

struct CulpritReport {
    CommitInfo commit;
    CommitInfo parent;
    CulpritEvidence evidence;
    std::optional<ProfileRecord> profile;  // [profile]: the diff of the parent's and its profiles
};

struct Cost {
    int builds = 0;              // builds run by this session (reused ones excluded)
    double build_seconds = 0;
    int probe_runs = 0;          // run by this session (reused ones excluded)
    int samples = 0;             // successful values, reused ones included
    int samples_reused = 0;      // of samples: copied from earlier sessions ([cache] reuse)
    int probe_runs_reused = 0;   // the probe runs those came from
    double wall_seconds = 0;     // time spent running the session
};

// A cluster node that measured the session's samples ([executor] nodes).
struct NodeReport {
    std::string node;
    int probe_runs = 0;
    int samples = 0;  // successful values
    // How much higher its values are than the nodes' mean, relative: over
    // the commits measured on several nodes, the commit's mean on this node
    // divided by the mean of its nodes' means, minus 1, weighted by this
    // node's values of the commit. Empty when no commit it measured was
    // measured on another node too.
    std::optional<double> offset;
};

struct SessionReport {
    SessionRecord session;
    std::string status;          // running, culprit_found, not_reproduced, ambiguous, …
    std::string summary;
    CommitInfo good;
    CommitInfo bad;
    std::size_t range_size = 0;  // commits from good to bad, both included
    std::string metric;
    std::string unit;
    std::string direction;       // "lower" or "higher" (is better)
    double min_effect = 0;
    std::vector<CulpritReport> culprits;
    std::vector<CommitInfo> candidates;
    std::vector<TestedCommit> tested;  // every commit with a build or samples, in range order
    Cost cost;
    std::vector<NodeReport> nodes;  // by name; empty when every sample was measured here
    std::vector<EventRecord> events;
    std::string database;        // path of the cache, for the re-run command
    std::string config_path;     // the config the session started with
    std::string rerun_command;   // runs the same session again
    std::string narrow_command;  // looks closer: the culprit's step alone, or the range still
                                 // open; "" when there is nothing to narrow
};

// Throws Failure(usage) when the session does not exist.
SessionReport build_report(Cache& cache, const std::string& session);

std::string render_text(const SessionReport& report, bool verbose = false);
std::string render_markdown(const SessionReport& report);
std::string render_json(const SessionReport& report);
std::string render_html(const SessionReport& report);

// Shared by the renderers.
// "+12.4%" for 0.124.
std::string percent_text(double fraction);
// "Measured on 2 nodes (offsets against their mean): n1 20 probe runs -3.6%,
// n2 …", or "" when the samples were measured on one machine.
std::string nodes_text(const SessionReport& report);
// "p = 3e-9", "p = 0.012", "p < 1e-300".
std::string p_value_text(double p);
// The same for a table's cell: "3e-9", "0.012", "< 1e-300".
std::string p_value_cell(double p);
// "+12.4% (95% CI +11.8…+13.1%), p = 3e-9".
std::string effect_text(const CulpritEvidence& evidence);
// A Unicode block sparkline of values ("▁▂▅█"), lowest to highest.
std::string sparkline(const std::vector<double>& values);
// A culprit's profile diff as text lines, each starting with indent.
std::string profile_text(const ProfileRecord& profile, const std::string& indent);
// The same as Markdown: a collapsible block headed by title.
std::string profile_markdown(const ProfileRecord& profile, const std::string& title);

// "json", "md", "text", "html" -> the rendering; unknown: usage error.
Result<std::string> render(const SessionReport& report, const std::string& format);

}  // namespace perfbisect
