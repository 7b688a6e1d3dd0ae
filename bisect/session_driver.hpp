#pragma once

// The effectful half of the search: asks the planner for the next action,
// carries it out through Builder and Prober, and records every result in the
// cache before asking again. Running it on a session that was interrupted
// simply continues it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bisect/planner.hpp"
#include "bisect/repository.hpp"
#include "builders/builder.hpp"
#include "cache/cache.hpp"
#include "probes/prober.hpp"
#include "probes/profiler.hpp"
#include "report/reporter.hpp"

namespace perfbisect {

// Everything the cache knows about the session's commits, in planner form.
// Builds count when they match build_fingerprint (and, with require_artifacts,
// when their artifacts still exist: a commit whose artifacts are gone is built
// again; a report does not need them).
Observations load_observations(Cache& cache, const std::string& session, const CommitRange& range,
                               const std::string& build_fingerprint,
                               bool require_artifacts = true);

// The same, kept up to date: each update() reads only the samples stored
// since the previous update, and the range's builds only when a build was
// stored since (or after forget_builds()), so a step of a session that holds
// a million samples does not read them all again.
class ObservationCache {
public:
    ObservationCache(const CommitRange& range, std::string build_fingerprint,
                     bool require_artifacts = true);
    const Observations& update(Cache& cache, const std::string& session);
    // Reads the builds again at the next update (e.g. artifacts were evicted).
    void forget_builds() { m_builds_version = -1; }
    const Observations& observations() const { return m_obs; }
    std::int64_t max_round() const { return m_max_round; }
    std::int64_t max_run() const { return m_max_run; }

private:
    void read_builds(Cache& cache, const std::string& session);
    // Looked up by the string_view of a sample's commit, without a copy.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> m_position_of;
    // Nodes by name ("" = this machine), numbered as first seen.
    std::unordered_map<std::string, int, Hash, std::equal_to<>> m_node_id;
    std::string m_build_fingerprint;
    bool m_require_artifacts;
    Observations m_obs;
    std::int64_t m_last_id = 0;
    std::int64_t m_builds_version = -1;
    std::int64_t m_max_round = 0;
    std::int64_t m_max_run = 0;
};

// One line and a JSON object for the event log of a planner decision: the
// verdict and the planner's reason, and what the commit's values were
// compared with (two-sided Mann-Whitney p-values against the good and the bad
// end, for the reader; the planner decides with its own tests, named in the
// reason).
struct DecisionEvent {
    std::string message;
    std::string data;
};
DecisionEvent describe_decision(const Decision& decision, const CommitRange& range,
                                const Observations& obs);

// What the cache keeps of a build. session: the session that ran it ("" for
// `perfbisect measure`).
BuildRecord build_record(const CommitInfo& commit, const std::string& fingerprint,
                         const BuildOutcome& outcome, const std::string& session);

// The config a session started with (stored in the cache, so the file may have
// changed or gone); relative paths resolve against the original file's directory.
Config session_config(const SessionRecord& session);

// The planner's settings for a session of config: the decision rules, and
// from [executor] the nodes measuring at once and whether their offsets are
// taken out (blocking). The driver and every report of the session use it,
// so that a report replays the decisions the session made.
PlannerSettings planner_settings(const Config& config);

// Where a session stands after the planner's latest plan, for the progress
// line: commits tested, the culprit positions still open, the samples taken,
// and estimates of the steps and time left (elapsed_seconds: the session's
// wall time so far).
Progress progress_of(const Observations& observations, const Plan& plan, double elapsed_seconds);

// One run of a lane: entry `entry` of a measure action's positions, stored
// with round `round`.
struct LaneRun {
    std::size_t entry = 0;
    std::int64_t round = 0;
};

class SessionDriver {
public:
    SessionDriver(Cache& cache, Builder& builder, Prober& prober, Reporter& reporter,
                  const Config& config);

    // Runs the session to its end and returns the outcome, which is also
    // stored (status, stop reason, culprits, a "done" event). Every planner
    // decision and every step (with why it was chosen) goes to the event log,
    // and the step in progress to the session's progress. Throws Failure with
    // kind interrupted when SIGINT/SIGTERM arrived (the session stays
    // resumable) and kind runtime when good or bad cannot be built or measured
    // or the session was aborted (`perfbisect abort`).
    Outcome run(const std::string& session);

    // After the search converges, profile each culprit and its parent with
    // profiler (not owned), keep the raw profiles in directory/<short id>/,
    // and record the diff as a "profile" event (report/profile_record.hpp),
    // listing at most top functions. A profile that fails is recorded with
    // its reason; it does not fail the session.
    void set_profiler(Profiler* profiler, std::filesystem::path directory, std::size_t top);
    // The machine fingerprint stored with each sample (default: this machine's).
    void set_machine(std::string fingerprint) { m_machine = std::move(fingerprint); }
    // The probers of lanes 1 … W-1 ([executor] nodes = W; lane 0 is the
    // constructor's prober), not owned; run() refuses another count. The
    // planner then proposes up to W commits at once, and the runs of a
    // measure action are shared among the lanes by [executor] blocking
    // (lane_queues, bisect/node_schedule.hpp); each lane runs its share from
    // a thread of its own without waiting for the others, and each run is
    // stored, with the node it ran on, as it ends.
    void set_lanes(std::vector<Prober*> lanes) { m_lanes = std::move(lanes); }

private:
    void profile_culprits(const std::string& session, const CommitRange& range,
                          const Outcome& outcome);
    void show_status();
    void build(const std::string& session, const CommitInfo& commit, std::size_t position,
               std::size_t count);
    // False when a commit to measure has lost its artifacts (evicted by
    // another session): nothing was measured, build it again.
    bool measure(const std::string& session, const CommitRange& range,
                 const MeasureAction& action, std::int64_t round, std::int64_t run);
    // Runs lane k's queue on lane k's prober, all lanes at once, each from a
    // thread of its own, and stores each run as it ends (runs numbered on
    // from `run`); throws like measure() when interrupted.
    void run_lanes(const std::string& session, const CommitRange& range,
                   const MeasureAction& action, const std::map<std::size_t, ProbeTarget>& targets,
                   const std::vector<std::vector<LaneRun>>& queues, std::int64_t run);
    // One run's samples (and other metrics) into the cache; false when the
    // run was interrupted (nothing stored).
    bool store_run(const std::string& session, const CommitInfo& commit, const ProbeRun& result,
                   std::int64_t round, std::int64_t run);

    Cache& m_cache;
    Builder& m_builder;
    Prober& m_prober;
    Reporter& m_reporter;
    const Config& m_config;
    std::string m_build_fingerprint;
    std::string m_probe_fingerprint;
    Profiler* m_profiler = nullptr;
    std::filesystem::path m_profile_dir;
    std::size_t m_profile_top = 10;
    Progress m_progress;           // as of the latest plan, updated while measuring
    double m_progress_tick = 0;    // steady clock time of m_progress.elapsed_seconds
    double m_remaining_at_tick = -1;  // m_progress.remaining_seconds then (-1: none)
    std::string m_machine;
    std::vector<Prober*> m_lanes;  // lanes 1 … W-1
};

}  // namespace perfbisect
