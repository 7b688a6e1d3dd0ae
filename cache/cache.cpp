#include "cache/cache.hpp"

#include <chrono>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include <sqlite3.h>

#include "util/error.hpp"
#include "util/fault.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// Schema migrations: entry i brings a database from user_version i to i+1.
// Append only; never edit a migration that has shipped.
const char* const k_migrations[] = {
    R"sql(
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    good TEXT NOT NULL,
    bad TEXT NOT NULL,
    config_path TEXT NOT NULL,
    config_text TEXT NOT NULL,
    metric TEXT NOT NULL,
    direction TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    wall_seconds REAL NOT NULL DEFAULT 0,
    stop_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE commits (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    position INTEGER NOT NULL,
    commit_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    author TEXT NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE TABLE builds (
    id INTEGER PRIMARY KEY,
    commit_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL,
    seconds REAL NOT NULL,
    artifacts_dir TEXT NOT NULL,
    worktree TEXT NOT NULL,
    log_path TEXT NOT NULL,
    session_id TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (commit_id, fingerprint)
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    commit_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    run INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    value REAL,
    failure TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    timestamp REAL NOT NULL,
    build_fingerprint TEXT NOT NULL,
    probe_fingerprint TEXT NOT NULL
);
CREATE INDEX samples_by_session ON samples (session_id, commit_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    timestamp REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_by_session ON events (session_id, id);
)sql",
    // 2: several metrics per probe run, and the output of failed runs.
    R"sql(
ALTER TABLE samples ADD COLUMN output TEXT NOT NULL DEFAULT '';
CREATE TABLE metric_values (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    commit_id TEXT NOT NULL,
    run INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX metric_values_by_session ON metric_values (session_id, run);
)sql",
    // 3: builds know their tree and whether they reused another build's
    // artifacts; the artifact store, keyed by build fingerprint and tree.
    R"sql(
ALTER TABLE builds ADD COLUMN tree_id TEXT NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
CREATE TABLE artifacts (
    fingerprint TEXT NOT NULL,
    tree_id TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL,
    PRIMARY KEY (fingerprint, tree_id)
);
)sql",
    // 4: the webhook server's queue of alerts (alerts/queue.hpp) and the
    // notifications owed when their sessions end. IF NOT EXISTS, so the entry
    // can be renumbered when migrations of parallel work land before it.
    R"sql(
CREATE TABLE IF NOT EXISTS alert_queue (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    dedup_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    test TEXT NOT NULL,
    metric TEXT NOT NULL,
    config_path TEXT NOT NULL,
    config_text TEXT NOT NULL,
    repository TEXT NOT NULL,
    good TEXT NOT NULL,
    bad TEXT NOT NULL,
    expected_change REAL,
    min_effect REAL NOT NULL,
    received REAL NOT NULL,
    started REAL,
    finished REAL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alert_queue_by_state ON alert_queue (state, id);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (session_id, target)
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_attempt);
)sql",
    // 5: sessions and cache. A session remembers the machine it started on,
    // which process holds it (the lease), what it is doing (progress) and its
    // culprits; samples know their machine and, when copied from another
    // session, which one; machines are described once; indexes for reading a
    // session's new samples, for finding reusable samples and a session's builds.
    R"sql(
ALTER TABLE sessions ADD COLUMN machine TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN lease TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN lease_since REAL NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN progress TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN culprits TEXT NOT NULL DEFAULT '';
ALTER TABLE samples ADD COLUMN machine TEXT NOT NULL DEFAULT '';
ALTER TABLE samples ADD COLUMN reused_from TEXT;
CREATE TABLE machines (
    fingerprint TEXT PRIMARY KEY,
    hostname TEXT NOT NULL,
    cpu_model TEXT NOT NULL,
    cores INTEGER NOT NULL,
    kernel TEXT NOT NULL,
    governor TEXT NOT NULL,
    first_seen REAL NOT NULL
);
CREATE INDEX samples_by_session_id ON samples (session_id, id);
CREATE INDEX samples_for_reuse ON samples (commit_id, build_fingerprint, probe_fingerprint);
CREATE INDEX builds_by_session ON builds (session_id);
CREATE INDEX metric_values_by_commit ON metric_values (commit_id, run);
)sql",
    // 6: jobs a session has running on a cluster ([executor] kind = "slurm"),
    // recorded when a job starts and deleted when it ends: what a process
    // that was killed left behind, for the next holder to cancel. IF NOT
    // EXISTS, so the entry can be renumbered when parallel work lands first.
    R"sql(
CREATE TABLE IF NOT EXISTS executor_jobs (
    job_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    started REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS executor_jobs_by_session ON executor_jobs (session_id);
)sql",
    // 7: the node that measured each sample, when a cluster's nodes measure
    // ([executor] nodes > 1): the planner's node blocking needs it.
    R"sql(
ALTER TABLE samples ADD COLUMN node TEXT NOT NULL DEFAULT '';
)sql",
};

static_assert(std::size(k_migrations) == Cache::k_schema_version);

std::string new_session_id() {
    std::random_device device;
    std::mt19937_64 rng(device() ^ static_cast<std::uint64_t>(now_seconds() * 1e6));
    return fmt::format("{:08x}", static_cast<std::uint32_t>(rng()));
}

SessionRecord read_session(const Statement& s) {
    SessionRecord r;
    r.id = s.column_text(0);
    r.status = s.column_text(1);
    r.good = s.column_text(2);
    r.bad = s.column_text(3);
    r.config_path = s.column_text(4);
    r.config_text = s.column_text(5);
    r.metric = s.column_text(6);
    r.direction = s.column_text(7);
    r.created = s.column_int(8);
    r.updated = s.column_int(9);
    r.wall_seconds = s.column_double(10);
    r.stop_reason = s.column_text(11);
    r.machine = s.column_text(12);
    r.lease = s.column_text(13);
    r.lease_since = s.column_double(14);
    r.progress = s.column_text(15);
    r.culprits = s.column_text(16);
    return r;
}

constexpr const char* k_session_columns =
    "id, status, good, bad, config_path, config_text, metric, direction, created, updated, "
    "wall_seconds, stop_reason, machine, lease, lease_since, progress, culprits";

constexpr const char* k_sample_columns =
    "id, commit_id, round, run, ok, value, failure, wall_seconds, timestamp, build_fingerprint, "
    "probe_fingerprint, output, machine, reused_from, node";

SampleRecord read_sample(const Statement& s) {
    SampleRecord r;
    r.id = s.column_int(0);
    r.commit = s.column_text(1);
    r.round = s.column_int(2);
    r.run = s.column_int(3);
    r.ok = s.column_int(4) != 0;
    r.value = s.column_is_null(5) ? 0 : s.column_double(5);
    r.failure = s.column_text(6);
    r.wall_seconds = s.column_double(7);
    r.timestamp = s.column_double(8);
    r.build_fingerprint = s.column_text(9);
    r.probe_fingerprint = s.column_text(10);
    r.output = s.column_text(11);
    r.machine = s.column_text(12);
    r.reused_from = s.column_text(13);
    r.node = s.column_text(14);
    return r;
}

BuildRecord read_build(const Statement& s) {
    BuildRecord b;
    b.commit = s.column_text(0);
    b.fingerprint = s.column_text(1);
    b.ok = s.column_int(2) != 0;
    b.reason = s.column_text(3);
    b.seconds = s.column_double(4);
    b.artifacts_dir = s.column_text(5);
    b.worktree = s.column_text(6);
    b.log_path = s.column_text(7);
    b.session = s.column_text(8);
    b.created = s.column_int(9);
    b.tree_id = s.column_text(10);
    b.reused = s.column_int(11) != 0;
    return b;
}

constexpr const char* k_build_columns =
    "commit_id, fingerprint, ok, reason, seconds, artifacts_dir, worktree, log_path, session_id, "
    "created, tree_id, reused";

ArtifactRecord read_artifact(const Statement& s) {
    return ArtifactRecord{s.column_text(0), s.column_text(1), s.column_text(2), s.column_int(3),
                          s.column_double(4), s.column_double(5)};
}

constexpr const char* k_artifact_columns = "fingerprint, tree_id, path, bytes, created, last_used";

}  // namespace

std::filesystem::path default_database_path() {
    if (const char* env = std::getenv("PERFBISECT_DB"); env != nullptr && *env != '\0') {
        return env;
    }
    return std::filesystem::path(".perfbisect") / "perfbisect.db";
}

Cache Cache::open(const std::filesystem::path& path) {
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            throw Failure(ErrorKind::runtime,
                          fmt::format("cannot create the database directory {}: {} (choose "
                                      "another --db path)",
                                      path.parent_path().string(), ec.message()));
        }
    }
    Cache cache(Database::open(path));
    cache.m_db.exec("PRAGMA busy_timeout = 10000");
    cache.m_db.exec("PRAGMA journal_mode = WAL");
    cache.m_db.exec("PRAGMA synchronous = NORMAL");
    cache.m_db.exec("PRAGMA foreign_keys = ON");
    cache.migrate();
    return cache;
}

void Cache::migrate() {
    const int version = m_db.user_version();
    if (version > k_schema_version) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("database {} has schema version {}, newer than this perfbisect "
                                  "understands ({}); upgrade perfbisect or use another --db",
                                  m_db.path().string(), version, k_schema_version));
    }
    for (int v = version; v < k_schema_version; ++v) {
        Transaction tx(m_db);
        m_db.exec(k_migrations[v]);
        m_db.set_user_version(v + 1);
        tx.commit();
    }
}

SessionRecord Cache::create_session(SessionRecord session, const CommitRange& range) {
    if (session.id.empty()) {
        session.id = new_session_id();
    }
    const auto now = static_cast<std::int64_t>(now_seconds());
    session.created = session.updated = now;
    insert_session(session, range);
    return session;
}

void Cache::insert_session(const SessionRecord& session, const CommitRange& range) {
    Transaction tx(m_db);
    m_db.prepare(fmt::format(
                     "INSERT INTO sessions ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     k_session_columns))
        .bind(1, session.id)
        .bind(2, session.status)
        .bind(3, session.good)
        .bind(4, session.bad)
        .bind(5, session.config_path)
        .bind(6, session.config_text)
        .bind(7, session.metric)
        .bind(8, session.direction)
        .bind(9, session.created)
        .bind(10, session.updated)
        .bind(11, session.wall_seconds)
        .bind(12, session.stop_reason)
        .bind(13, session.machine)
        .bind(14, session.lease)
        .bind(15, session.lease_since)
        .bind(16, session.progress)
        .bind(17, session.culprits)
        .run();
    Statement insert = m_db.prepare(
        "INSERT INTO commits (session_id, position, commit_id, subject, author, time) "
        "VALUES (?,?,?,?,?,?)");
    for (std::size_t i = 0; i < range.commits.size(); ++i) {
        const auto& c = range.commits[i];
        insert.reset();
        insert.bind(1, session.id)
            .bind(2, static_cast<std::int64_t>(i))
            .bind(3, c.id)
            .bind(4, c.subject)
            .bind(5, c.author)
            .bind(6, c.time)
            .run();
    }
    tx.commit();
}

std::optional<SessionRecord> Cache::find_session(const std::string& id) {
    Statement s =
        m_db.prepare(fmt::format("SELECT {} FROM sessions WHERE id = ?", k_session_columns));
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_session(s);
}

SessionRecord Cache::session(const std::string& id) {
    auto found = find_session(id);
    if (!found) {
        throw Failure(ErrorKind::usage,
                      fmt::format("unknown session '{}' in {} (list them with `perfbisect sessions "
                                  "--db {}`)",
                                  id, path().string(), path().string()));
    }
    return *found;
}

std::vector<SessionRecord> Cache::list_sessions() {
    Statement s = m_db.prepare(
        fmt::format("SELECT {} FROM sessions ORDER BY created, rowid", k_session_columns));
    std::vector<SessionRecord> out;
    while (s.step()) {
        out.push_back(read_session(s));
    }
    return out;
}

void Cache::finish_session(const std::string& id, const std::string& status,
                           const std::string& stop_reason, const std::string& culprits) {
    m_db.prepare(
            "UPDATE sessions SET status = ?, stop_reason = ?, culprits = ?, updated = ? "
            "WHERE id = ? AND status <> 'aborted'")
        .bind(1, status)
        .bind(2, stop_reason)
        .bind(3, culprits)
        .bind(4, static_cast<std::int64_t>(now_seconds()))
        .bind(5, id)
        .run();
}

std::string Cache::session_status(const std::string& id) {
    Statement s = m_db.prepare("SELECT status FROM sessions WHERE id = ?");
    s.bind(1, id);
    return s.step() ? s.column_text(0) : std::string();
}

bool Cache::abort_session(const std::string& id, const std::string& reason) {
    m_db.prepare(
            "UPDATE sessions SET status = 'aborted', stop_reason = ?, updated = ? "
            "WHERE id = ? AND status = 'running'")
        .bind(1, reason)
        .bind(2, static_cast<std::int64_t>(now_seconds()))
        .bind(3, id)
        .run();
    return sqlite3_changes(m_db.handle()) > 0;
}

void Cache::set_progress(const std::string& id, const std::string& progress) {
    m_db.prepare("UPDATE sessions SET progress = ? WHERE id = ?").bind(1, progress).bind(2, id).run();
}

void Cache::delete_session(const std::string& id) {
    Transaction tx(m_db);
    for (const char* table :
         {"metric_values", "samples", "events", "commits", "executor_jobs", "sessions"}) {
        m_db.prepare(fmt::format("DELETE FROM {} WHERE {} = ?", table,
                                 std::string_view(table) == "sessions" ? "id" : "session_id"))
            .bind(1, id)
            .run();
    }
    tx.commit();
}

void Cache::record_job(const std::string& session, const std::string& job_id,
                       const std::string& kind) {
    m_db.prepare(
            "INSERT OR REPLACE INTO executor_jobs (job_id, session_id, kind, started) "
            "VALUES (?,?,?,?)")
        .bind(1, job_id)
        .bind(2, session)
        .bind(3, kind)
        .bind(4, now_seconds())
        .run();
}

void Cache::forget_job(const std::string& job_id) {
    m_db.prepare("DELETE FROM executor_jobs WHERE job_id = ?").bind(1, job_id).run();
}

std::vector<std::string> Cache::jobs_of(const std::string& session) {
    Statement s = m_db.prepare(
        "SELECT job_id FROM executor_jobs WHERE session_id = ? ORDER BY started, job_id");
    s.bind(1, session);
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.column_text(0));
    }
    return out;
}

std::optional<ProcessIdentity> Cache::acquire_lease(const std::string& id,
                                                    const ProcessIdentity& self, bool take_over) {
    Transaction tx(m_db);
    Statement s = m_db.prepare("SELECT lease, lease_since FROM sessions WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) {
        throw Failure(ErrorKind::usage, fmt::format("unknown session '{}' in {}", id, path().string()));
    }
    const std::string token = s.column_text(0);
    const double since = s.column_double(1);
    std::optional<ProcessIdentity> reclaimed;
    if (!token.empty() && token != self.token()) {
        const ProcessIdentity holder = ProcessIdentity::parse(token);
        const Liveness state = liveness(holder);
        if (state == Liveness::alive || (state == Liveness::unknown && !take_over)) {
            throw Failure(
                ErrorKind::runtime,
                fmt::format("session {} is already being run by process {} on {} (since {}){}; "
                            "wait for it (`perfbisect status {}` shows its progress) or stop it, "
                            "then resume",
                            id, holder.pid, holder.host, format_utc(static_cast<std::int64_t>(since)),
                            state == Liveness::unknown
                                ? ", which cannot be checked from this host: if it is gone, "
                                  "resume with --take-over"
                                : "",
                            id));
        }
        reclaimed = holder;
    }
    m_db.prepare("UPDATE sessions SET lease = ?, lease_since = ? WHERE id = ?")
        .bind(1, self.token())
        .bind(2, now_seconds())
        .bind(3, id)
        .run();
    tx.commit();
    return reclaimed;
}

void Cache::release_lease(const std::string& id, const ProcessIdentity& self) {
    m_db.prepare("UPDATE sessions SET lease = '', lease_since = 0 WHERE id = ? AND lease = ?")
        .bind(1, id)
        .bind(2, self.token())
        .run();
}

void Cache::store_machine(const MachineInfo& machine) {
    m_db.prepare(
            "INSERT OR IGNORE INTO machines (fingerprint, hostname, cpu_model, cores, kernel, "
            "governor, first_seen) VALUES (?,?,?,?,?,?,?)")
        .bind(1, machine.fingerprint())
        .bind(2, machine.hostname)
        .bind(3, machine.cpu_model)
        .bind(4, static_cast<std::int64_t>(machine.cores))
        .bind(5, machine.kernel)
        .bind(6, machine.governor)
        .bind(7, now_seconds())
        .run();
}

std::optional<MachineRecord> Cache::find_machine(const std::string& fingerprint) {
    Statement s = m_db.prepare(
        "SELECT fingerprint, hostname, cpu_model, cores, kernel, governor FROM machines "
        "WHERE fingerprint = ?");
    s.bind(1, fingerprint);
    if (!s.step()) {
        return std::nullopt;
    }
    return MachineRecord{s.column_text(0), s.column_text(1), s.column_text(2),
                         s.column_int(3),  s.column_text(4), s.column_text(5)};
}

void Cache::add_wall_seconds(const std::string& id, double seconds) {
    m_db.prepare("UPDATE sessions SET wall_seconds = wall_seconds + ?, updated = ? WHERE id = ?")
        .bind(1, seconds)
        .bind(2, static_cast<std::int64_t>(now_seconds()))
        .bind(3, id)
        .run();
}

CommitRange Cache::load_range(const std::string& session) {
    Statement s = m_db.prepare(
        "SELECT commit_id, subject, author, time FROM commits WHERE session_id = ? "
        "ORDER BY position");
    s.bind(1, session);
    CommitRange range;
    while (s.step()) {
        range.commits.push_back(
            CommitInfo{s.column_text(0), s.column_text(1), s.column_text(2), s.column_int(3)});
    }
    return range;
}

std::int64_t Cache::range_size(const std::string& session) {
    Statement s = m_db.prepare("SELECT count(*) FROM commits WHERE session_id = ?");
    s.bind(1, session);
    s.step();
    return s.column_int(0);
}

std::optional<BuildRecord> Cache::find_build(const std::string& commit,
                                             const std::string& fingerprint) {
    Statement s = m_db.prepare(fmt::format(
        "SELECT {} FROM builds WHERE commit_id = ? AND fingerprint = ?", k_build_columns));
    s.bind(1, commit).bind(2, fingerprint);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_build(s);
}

void Cache::store_build(const BuildRecord& b) {
    m_db.prepare(fmt::format("INSERT OR REPLACE INTO builds ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             k_build_columns))
        .bind(1, b.commit)
        .bind(2, b.fingerprint)
        .bind(3, b.ok ? 1 : 0)
        .bind(4, b.reason)
        .bind(5, b.seconds)
        .bind(6, b.artifacts_dir)
        .bind(7, b.worktree)
        .bind(8, b.log_path)
        .bind(9, b.session)
        .bind(10, b.created != 0 ? b.created : static_cast<std::int64_t>(now_seconds()))
        .bind(11, b.tree_id)
        .bind(12, static_cast<std::int64_t>(b.reused ? 1 : 0))
        .run();
}

std::int64_t Cache::builds_version() {
    Statement s = m_db.prepare("SELECT coalesce(max(id), 0) FROM builds");
    s.step();
    return s.column_int(0);
}

std::optional<ArtifactRecord> Cache::find_artifact(const std::string& fingerprint,
                                                   const std::string& tree_id) {
    Statement s = m_db.prepare(fmt::format(
        "SELECT {} FROM artifacts WHERE fingerprint = ? AND tree_id = ?", k_artifact_columns));
    s.bind(1, fingerprint).bind(2, tree_id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_artifact(s);
}

void Cache::store_artifact(const ArtifactRecord& a) {
    const double now = now_seconds();
    m_db.prepare(fmt::format("INSERT OR REPLACE INTO artifacts ({}) VALUES (?,?,?,?,?,?)",
                             k_artifact_columns))
        .bind(1, a.fingerprint)
        .bind(2, a.tree_id)
        .bind(3, a.path)
        .bind(4, a.bytes)
        .bind(5, a.created != 0 ? a.created : now)
        .bind(6, a.last_used != 0 ? a.last_used : now)
        .run();
}

void Cache::touch_artifact(const std::string& fingerprint, const std::string& tree_id) {
    m_db.prepare("UPDATE artifacts SET last_used = ? WHERE fingerprint = ? AND tree_id = ?")
        .bind(1, now_seconds())
        .bind(2, fingerprint)
        .bind(3, tree_id)
        .run();
}

void Cache::remove_artifact(const std::string& fingerprint, const std::string& tree_id) {
    m_db.prepare("DELETE FROM artifacts WHERE fingerprint = ? AND tree_id = ?")
        .bind(1, fingerprint)
        .bind(2, tree_id)
        .run();
}

std::vector<ArtifactRecord> Cache::list_artifacts() {
    Statement s = m_db.prepare(
        fmt::format("SELECT {} FROM artifacts ORDER BY last_used, rowid", k_artifact_columns));
    std::vector<ArtifactRecord> out;
    while (s.step()) {
        out.push_back(read_artifact(s));
    }
    return out;
}

std::vector<BuildRecord> Cache::builds_by_session(const std::string& session) {
    Statement s = m_db.prepare(
        fmt::format("SELECT {} FROM builds WHERE session_id = ? ORDER BY id", k_build_columns));
    s.bind(1, session);
    std::vector<BuildRecord> out;
    while (s.step()) {
        out.push_back(read_build(s));
    }
    return out;
}

std::vector<BuildRecord> Cache::builds_of_range(const std::string& session,
                                               const std::string& fingerprint) {
    Statement s = m_db.prepare(fmt::format(
        "SELECT {} FROM builds WHERE fingerprint = ? AND commit_id IN "
        "(SELECT commit_id FROM commits WHERE session_id = ?)",
        k_build_columns));
    s.bind(1, fingerprint).bind(2, session);
    std::vector<BuildRecord> out;
    while (s.step()) {
        out.push_back(read_build(s));
    }
    return out;
}

void Cache::store_samples(const std::string& session, const std::vector<SampleRecord>& samples,
                          const std::vector<MetricValueRecord>& metric_values) {
    Transaction tx(m_db);
    Statement insert = m_db.prepare(
        "INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, "
        "wall_seconds, timestamp, build_fingerprint, probe_fingerprint, output, machine, "
        "reused_from, node) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& sample : samples) {
        insert.reset();
        insert.bind(1, session)
            .bind(2, sample.commit)
            .bind(3, sample.round)
            .bind(4, sample.run)
            .bind(5, sample.ok ? 1 : 0)
            .bind(6, sample.ok ? std::optional<double>(sample.value) : std::nullopt)
            .bind(7, sample.failure)
            .bind(8, sample.wall_seconds)
            .bind(9, sample.timestamp != 0 ? sample.timestamp : now_seconds())
            .bind(10, sample.build_fingerprint)
            .bind(11, sample.probe_fingerprint)
            .bind(12, sample.output)
            .bind(13, sample.machine)
            .bind(15, sample.node);
        if (!sample.reused_from.empty()) {
            insert.bind(14, sample.reused_from);
        }
        insert.run();
    }
    if (!metric_values.empty()) {
        Statement insert_value = m_db.prepare(
            "INSERT INTO metric_values (session_id, commit_id, run, metric, value) "
            "VALUES (?,?,?,?,?)");
        for (const auto& v : metric_values) {
            insert_value.reset();
            insert_value.bind(1, session).bind(2, v.commit).bind(3, v.run).bind(4, v.metric).bind(
                5, v.value);
            insert_value.run();
        }
    }
    fault_point("sample-write");
    tx.commit();
}

std::vector<MetricValueRecord> Cache::load_metric_values(const std::string& session) {
    Statement s = m_db.prepare(
        "SELECT commit_id, run, metric, value FROM metric_values WHERE session_id = ? ORDER BY id");
    s.bind(1, session);
    std::vector<MetricValueRecord> out;
    while (s.step()) {
        out.push_back(
            MetricValueRecord{s.column_text(0), s.column_int(1), s.column_text(2), s.column_double(3)});
    }
    return out;
}

std::vector<SampleRecord> Cache::load_samples(const std::string& session) {
    return load_samples_after(session, 0);
}

std::vector<SampleRecord> Cache::load_samples_after(const std::string& session,
                                                    std::int64_t after_id) {
    Statement s = m_db.prepare(fmt::format(
        "SELECT {} FROM samples WHERE session_id = ? AND id > ? ORDER BY id", k_sample_columns));
    s.bind(1, session).bind(2, after_id);
    std::vector<SampleRecord> out;
    while (s.step()) {
        out.push_back(read_sample(s));
    }
    return out;
}

void Cache::visit_samples_after(const std::string& session, std::int64_t after_id,
                                const std::function<void(const SampleView&)>& visit) {
    Statement s = m_db.prepare(
        "SELECT id, commit_id, round, run, ok, value, failure, node FROM samples "
        "WHERE session_id = ? AND id > ? ORDER BY id");
    s.bind(1, session).bind(2, after_id);
    SampleView view;
    while (s.step()) {
        view.id = s.column_int(0);
        view.commit = s.column_view(1);
        view.round = s.column_int(2);
        view.run = s.column_int(3);
        view.ok = s.column_int(4) != 0;
        view.value = s.column_is_null(5) ? 0 : s.column_double(5);
        view.failure = s.column_view(6);
        view.node = s.column_view(7);
        visit(view);
    }
}

SampleTotals Cache::sample_totals(const std::string& session) {
    Statement s = m_db.prepare(
        "SELECT coalesce(sum(ok), 0), coalesce(sum(1 - ok), 0), count(DISTINCT run), "
        "coalesce(sum(ok AND reused_from IS NOT NULL), 0), "
        "count(DISTINCT CASE WHEN reused_from IS NOT NULL THEN run END), "
        "coalesce(max(round), 0), coalesce(max(run), 0) FROM samples WHERE session_id = ?");
    s.bind(1, session);
    s.step();
    return SampleTotals{s.column_int(0), s.column_int(1), s.column_int(2), s.column_int(3),
                        s.column_int(4), s.column_int(5), s.column_int(6)};
}

ReuseSummary Cache::reuse_samples(const std::string& session, const std::string& build_fingerprint,
                                  const std::string& probe_fingerprint,
                                  const std::optional<std::string>& machine) {
    Transaction tx(m_db);
    ReuseSummary summary;
    // The sources, oldest first, with the rounds and runs their samples span.
    Statement sources = m_db.prepare(
        "SELECT s.session_id, min(s.round), max(s.round), min(s.run), max(s.run) "
        "FROM samples s JOIN sessions o ON o.id = s.session_id "
        "WHERE s.session_id <> ?1 AND s.reused_from IS NULL AND s.build_fingerprint = ?2 "
        "AND s.probe_fingerprint = ?3 AND (?4 IS NULL OR s.machine = ?4) "
        "AND s.commit_id IN (SELECT commit_id FROM commits WHERE session_id = ?1) "
        "GROUP BY s.session_id ORDER BY o.created, o.rowid");
    sources.bind(1, session).bind(2, build_fingerprint).bind(3, probe_fingerprint);
    if (machine) {
        sources.bind(4, *machine);
    }
    struct Source {
        std::string id;
        std::int64_t round_shift = 0;
        std::int64_t run_shift = 0;
    };
    std::vector<Source> list;
    std::int64_t next_round = 1;
    std::int64_t next_run = 1;
    while (sources.step()) {
        Source source{sources.column_text(0), 0, 0};
        source.round_shift = next_round - sources.column_int(1);
        source.run_shift = next_run - sources.column_int(3);
        next_round += sources.column_int(2) - sources.column_int(1) + 1;
        next_run += sources.column_int(4) - sources.column_int(3) + 1;
        list.push_back(source);
    }
    for (const auto& source : list) {
        const auto copy = [&](const char* sql) {
            Statement st = m_db.prepare(sql);
            st.bind(1, session)
                .bind(2, source.id)
                .bind(3, build_fingerprint)
                .bind(4, probe_fingerprint)
                .bind(6, source.round_shift)
                .bind(7, source.run_shift);
            if (machine) {
                st.bind(5, *machine);
            }
            st.run();
            return static_cast<std::int64_t>(sqlite3_changes(m_db.handle()));
        };
        // The runs of the other metrics first, while the source's samples are
        // only in the source.
        copy(
            "INSERT INTO metric_values (session_id, commit_id, run, metric, value) "
            "SELECT ?1, v.commit_id, v.run + ?7, v.metric, v.value FROM metric_values v "
            "WHERE v.session_id = ?2 AND EXISTS (SELECT 1 FROM samples s WHERE s.session_id = ?2 "
            "AND s.run = v.run AND s.reused_from IS NULL AND s.build_fingerprint = ?3 "
            "AND s.probe_fingerprint = ?4 AND (?5 IS NULL OR s.machine = ?5) "
            "AND s.commit_id IN (SELECT commit_id FROM commits WHERE session_id = ?1)) "
            "ORDER BY v.id");
        summary.samples += copy(
            "INSERT INTO samples (session_id, commit_id, round, run, ok, value, failure, "
            "wall_seconds, timestamp, build_fingerprint, probe_fingerprint, output, machine, "
            "reused_from, node) "
            "SELECT ?1, commit_id, round + ?6, run + ?7, ok, value, failure, wall_seconds, "
            "timestamp, build_fingerprint, probe_fingerprint, output, machine, session_id, node "
            "FROM samples WHERE session_id = ?2 AND reused_from IS NULL "
            "AND build_fingerprint = ?3 AND probe_fingerprint = ?4 AND (?5 IS NULL OR machine = ?5) "
            "AND commit_id IN (SELECT commit_id FROM commits WHERE session_id = ?1) ORDER BY id");
        summary.sessions.push_back(source.id);
    }
    Statement commits = m_db.prepare(
        "SELECT count(DISTINCT commit_id) FROM samples WHERE session_id = ? AND reused_from IS NOT "
        "NULL");
    commits.bind(1, session);
    commits.step();
    summary.commits = commits.column_int(0);
    tx.commit();
    return summary;
}

void Cache::append_event(const std::string& session, const std::string& kind,
                         const std::string& message, const std::string& data) {
    m_db.prepare(
            "INSERT INTO events (session_id, timestamp, kind, message, data) VALUES (?,?,?,?,?)")
        .bind(1, session)
        .bind(2, now_seconds())
        .bind(3, kind)
        .bind(4, message)
        .bind(5, data)
        .run();
}

void Cache::insert_event(const std::string& session, const EventRecord& event) {
    m_db.prepare(
            "INSERT INTO events (session_id, timestamp, kind, message, data) VALUES (?,?,?,?,?)")
        .bind(1, session)
        .bind(2, event.timestamp)
        .bind(3, event.kind)
        .bind(4, event.message)
        .bind(5, event.data)
        .run();
}

std::vector<EventRecord> Cache::load_events(const std::string& session) {
    Statement s = m_db.prepare(
        "SELECT id, timestamp, kind, message, data FROM events WHERE session_id = ? ORDER BY id");
    s.bind(1, session);
    std::vector<EventRecord> out;
    while (s.step()) {
        out.push_back(EventRecord{s.column_int(0), s.column_double(1), s.column_text(2),
                                  s.column_text(3), s.column_text(4)});
    }
    return out;
}

}  // namespace perfbisect
