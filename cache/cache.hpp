#pragma once

// The SQLite store of everything perfbisect learns: sessions, the commit range
// of each session, builds (shared across sessions, keyed by commit and build
// fingerprint), samples (each with its timestamp and interleaving round) and an
// append-only event log. Every write is committed before the call returns, so
// a kill -9 loses at most the measurement in flight.
//
// Not thread-safe; one Cache per thread. Two processes may share a file (WAL,
// busy timeout).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bisect/repository.hpp"
#include "cache/sqlite.hpp"
#include "util/machine.hpp"

namespace perfbisect {

struct SessionRecord {
    std::string id;
    std::string status = "running";  // a report status (culprit_found, …) or "running"
    std::string good;                // the revisions as the user gave them
    std::string bad;
    std::string config_path;         // absolute path of the config file when started
    std::string config_text;         // the config as read then (resume needs no file)
    std::string metric;
    std::string direction;
    std::int64_t created = 0;        // unix seconds
    std::int64_t updated = 0;
    double wall_seconds = 0;         // time spent running the session, over all its runs
    std::string stop_reason;         // why it stopped, for humans
    // Schema 4 (empty in sessions from before):
    std::string machine;             // fingerprint of the machine it started on (table machines)
    std::string lease;               // ProcessIdentity::token() of the process running it; "" = none
    double lease_since = 0;          // unix seconds the lease was taken
    std::string progress;            // JSON object the driver writes before each action (`status`)
    std::string culprits;            // the culprits' commit ids, space-separated, once culprit_found
};

struct BuildRecord {
    std::string commit;
    std::string fingerprint;
    bool ok = false;
    std::string reason;              // why it failed; empty when ok
    double seconds = 0;
    std::string artifacts_dir;
    std::string worktree;
    std::string log_path;
    std::string session;             // the session that built it
    std::int64_t created = 0;
    std::string tree_id;             // the commit's tree ("" in builds from before schema 2)
    bool reused = false;             // nothing ran: the artifacts of the same tree were reused
};

// One saved set of artifacts in the artifact store, shared by every commit
// with that tree.
struct ArtifactRecord {
    std::string fingerprint;         // the build fingerprint
    std::string tree_id;
    std::string path;                // the directory holding them
    std::int64_t bytes = 0;          // their total size
    double created = 0;              // unix seconds
    double last_used = 0;            // unix seconds: stored, reused for a build, or kept
};

struct SampleRecord {
    std::int64_t id = 0;             // assigned when stored; increases in the order stored
    std::string commit;
    std::int64_t round = 0;          // interleaving round; commits of one round alternate
    std::int64_t run = 0;            // probe run number within the session; one run may give several values
    bool ok = true;
    double value = 0;                // valid when ok; the metric's unit
    std::string failure;             // why the run failed; empty when ok
    double wall_seconds = 0;         // of the probe run
    double timestamp = 0;            // unix seconds, sub-second precision
    std::string build_fingerprint;
    std::string probe_fingerprint;
    std::string output;              // failed runs: the end of the probe's stdout and stderr (bounded)
    std::string machine;             // machine fingerprint ("" before schema 4)
    std::string reused_from;         // the session that measured it; "" = measured by this session
    std::string node;                // the cluster node that measured it; "" = this machine (or
                                     // before schema 7)
};

// A value of a metric other than the decision metric (`[probe] metrics`),
// recorded with the probe run that gave it.
struct MetricValueRecord {
    std::string commit;
    std::int64_t run = 0;            // the run of the samples it was taken with
    std::string metric;              // as written in the config, e.g. "maxrss"
    double value = 0;
};

// What a session's samples add up to, from one query.
struct SampleTotals {
    std::int64_t values = 0;         // successful samples
    std::int64_t failed = 0;         // failed probe runs
    std::int64_t runs = 0;           // distinct probe runs
    std::int64_t reused_values = 0;  // successful samples copied from earlier sessions
    std::int64_t reused_runs = 0;    // probe runs copied from earlier sessions
    std::int64_t max_round = 0;
    std::int64_t max_run = 0;
};

// What reuse_samples() copied.
struct ReuseSummary {
    std::int64_t samples = 0;        // sample rows (failed runs included)
    std::int64_t commits = 0;        // distinct commits they belong to
    std::vector<std::string> sessions;  // where they came from, oldest first
};

// The machine a sample was measured on (util/machine.hpp), as stored.
struct MachineRecord {
    std::string fingerprint;
    std::string hostname;
    std::string cpu_model;
    std::int64_t cores = 0;
    std::string kernel;
    std::string governor;
};

struct EventRecord {
    std::int64_t id = 0;
    double timestamp = 0;
    std::string kind;                // "session", "build", "measure", "decision", "done", …
    std::string message;             // one line for humans
    std::string data;                // JSON object with the details
};

class Cache {
public:
    static constexpr int k_schema_version = 7;

    // Opens or creates the database (and its directory), migrating an older
    // schema; a newer schema is an error telling to upgrade perfbisect.
    static Cache open(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return m_db.path(); }

    // Sessions. create_session() assigns id (when empty) and timestamps.
    SessionRecord create_session(SessionRecord session, const CommitRange& range);
    // Stores a session exactly as given (`cache import`); the id must be new.
    void insert_session(const SessionRecord& session, const CommitRange& range);
    std::optional<SessionRecord> find_session(const std::string& id);
    // Like find_session, but a missing session is a usage error naming it.
    SessionRecord session(const std::string& id);
    std::vector<SessionRecord> list_sessions();
    // Sets the final status of a running session (a session aborted
    // meanwhile keeps "aborted"). culprits: space-separated commit ids.
    void finish_session(const std::string& id, const std::string& status,
                        const std::string& stop_reason, const std::string& culprits = "");
    // The status as stored now (another process may have changed it).
    std::string session_status(const std::string& id);
    // Marks a running session "aborted"; false when it was not running.
    bool abort_session(const std::string& id, const std::string& reason);
    // The driver's live progress (a JSON object), for `perfbisect status`.
    void set_progress(const std::string& id, const std::string& progress);
    // Deletes a session with its range, samples, metric values and events
    // (builds and artifacts are shared and stay). For `cache gc --sessions`.
    void delete_session(const std::string& id);

    // The lease: at most one process runs a session. Takes it for `self` when
    // it is free, already ours, or held by a process that is gone (then the
    // former holder is returned, so its leftover children can be stopped); a
    // holder on another host counts as alive unless take_over. Throws
    // Failure(runtime) naming the holder when it is held. One transaction.
    std::optional<ProcessIdentity> acquire_lease(const std::string& id, const ProcessIdentity& self,
                                                 bool take_over = false);
    // Gives the lease up if self holds it.
    void release_lease(const std::string& id, const ProcessIdentity& self);

    // Jobs on a cluster ([executor] kind = "slurm") that a session has
    // running: recorded before the job does any work, forgotten once it has
    // ended or was cancelled, so those still listed after the process died are
    // the ones to cancel. kind: "probe" or "build".
    void record_job(const std::string& session, const std::string& job_id, const std::string& kind);
    void forget_job(const std::string& job_id);
    std::vector<std::string> jobs_of(const std::string& session);

    // Machines.
    void store_machine(const MachineInfo& machine);
    std::optional<MachineRecord> find_machine(const std::string& fingerprint);
    void add_wall_seconds(const std::string& id, double seconds);
    CommitRange load_range(const std::string& session);
    std::int64_t range_size(const std::string& session);

    // Builds.
    std::optional<BuildRecord> find_build(const std::string& commit, const std::string& fingerprint);
    void store_build(const BuildRecord& build);
    // Changes whenever a build is stored (the largest row id): readers that
    // keep builds in memory reload them only then.
    std::int64_t builds_version();
    std::vector<BuildRecord> builds_by_session(const std::string& session);
    // The builds with this fingerprint of the commits in the session's range,
    // in one query (the driver asks after every action).
    std::vector<BuildRecord> builds_of_range(const std::string& session,
                                             const std::string& fingerprint);

    // The artifact store's table (builders/artifact_store.hpp keeps the files).
    std::optional<ArtifactRecord> find_artifact(const std::string& fingerprint,
                                                const std::string& tree_id);
    void store_artifact(const ArtifactRecord& artifact);
    void touch_artifact(const std::string& fingerprint, const std::string& tree_id);
    void remove_artifact(const std::string& fingerprint, const std::string& tree_id);
    // Least recently used first.
    std::vector<ArtifactRecord> list_artifacts();

    // Samples, in the order they were taken, with the values of the run's
    // other metrics; one transaction.
    void store_samples(const std::string& session, const std::vector<SampleRecord>& samples,
                       const std::vector<MetricValueRecord>& metric_values = {});
    std::vector<SampleRecord> load_samples(const std::string& session);
    // Those stored after the sample with id after_id (0: all), in order:
    // the driver reads only what is new after each action.
    std::vector<SampleRecord> load_samples_after(const std::string& session, std::int64_t after_id);
    // The same, streamed without copies, with only what the planner needs:
    // for reading a large session's samples into observations. The views are
    // valid during the call only.
    struct SampleView {
        std::int64_t id = 0;
        std::string_view commit;
        std::int64_t round = 0;
        std::int64_t run = 0;
        bool ok = true;
        double value = 0;
        std::string_view failure;
        std::string_view node;
    };
    void visit_samples_after(const std::string& session, std::int64_t after_id,
                             const std::function<void(const SampleView&)>& visit);
    SampleTotals sample_totals(const std::string& session);
    // Copies into `session` (which must hold no samples yet) every sample that
    // another session measured itself of a commit in this session's range with
    // these build and probe fingerprints (and this machine fingerprint, unless
    // machine is nullopt: any machine), with the values of their runs' other
    // metrics. Rounds and runs are renumbered so that rounds of different
    // sessions stay apart and each source keeps its own interleaving. One
    // transaction.
    ReuseSummary reuse_samples(const std::string& session, const std::string& build_fingerprint,
                               const std::string& probe_fingerprint,
                               const std::optional<std::string>& machine);
    std::vector<MetricValueRecord> load_metric_values(const std::string& session);

    // Events.
    void append_event(const std::string& session, const std::string& kind,
                      const std::string& message, const std::string& data = "{}");
    // Stores an event with its own timestamp (`cache import`).
    void insert_event(const std::string& session, const EventRecord& event);
    std::vector<EventRecord> load_events(const std::string& session);

    // The database itself, for maintenance (cache/maintenance.hpp) and tests.
    Database& database() { return m_db; }

private:
    explicit Cache(Database db) : m_db(std::move(db)) {}
    void migrate();
    Database m_db;
};

// The default database path: $PERFBISECT_DB, else .perfbisect/perfbisect.db in
// the current directory.
std::filesystem::path default_database_path();

}  // namespace perfbisect
