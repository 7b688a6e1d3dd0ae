// The commands that look after sessions and the cache: sessions, status,
// abort, log, cache stats|gc|export|import. The only file of cli/ that
// includes nlohmann-json (for the progress and event payloads it reads and
// the JSON it writes).
#include <signal.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <set>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bisect/session_driver.hpp"
#include "cache/maintenance.hpp"
#include "cli/commands.hpp"
#include "cli/session_support.hpp"
#include "config/config.hpp"
#include "report/report.hpp"
#include "util/machine.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

using nlohmann::json;

// The JSON in a text column, or an empty object when there is none or it
// does not parse (a payload is for humans first).
json parse_object(const std::string& text) {
    if (text.empty()) {
        return json::object();
    }
    json value = json::parse(text, nullptr, false);
    return value.is_discarded() ? json::object() : value;
}

std::string size_text(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30));
    if (bytes >= (1ULL << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ULL << 20));
    if (bytes >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
    return fmt::format("{} B", bytes);
}

std::string short_id(const std::string& id) { return id.substr(0, 10); }

// What `sessions` and `status` show of one session.
struct SessionView {
    SessionRecord record;
    std::int64_t commits = 0;
    SampleTotals samples;
    std::int64_t builds = 0;
    std::vector<std::string> culprits;
    json progress = json::object();
    std::optional<ProcessIdentity> holder;
    Liveness holder_state = Liveness::dead;
    std::string last_event;
};

SessionView view_of(Cache& cache, const SessionRecord& record) {
    SessionView v;
    v.record = record;
    v.commits = cache.range_size(record.id);
    v.samples = cache.sample_totals(record.id);
    for (const auto& build : cache.builds_by_session(record.id)) {
        v.builds += build.reused ? 0 : 1;
    }
    std::istringstream culprits(record.culprits);
    for (std::string id; culprits >> id;) {
        v.culprits.push_back(id);
    }
    if (v.culprits.empty() && record.status == "culprit_found") {
        // Finished before schema 4 stored culprits: replay the planner.
        try {
            for (const auto& c : build_report(cache, record.id).culprits) {
                v.culprits.push_back(c.commit.id);
            }
        } catch (const Failure&) {  // NOLINT(bugprone-empty-catch): shown as unknown
        }
    }
    if (record.status == "running") {
        v.progress = parse_object(record.progress);
        if (!record.lease.empty()) {
            v.holder = ProcessIdentity::parse(record.lease);
            v.holder_state = liveness(*v.holder);
        }
    }
    return v;
}

// "running (pid 4242, alive)", "stopped: resume it", "culprit_found".
std::string state_text(const SessionView& v) {
    if (v.record.status != "running") {
        return v.record.status;
    }
    if (!v.holder) {
        return "running (stopped; `perfbisect resume` continues it)";
    }
    switch (v.holder_state) {
        case Liveness::alive:
            return fmt::format("running (process {})", v.holder->pid);
        case Liveness::unknown:
            return fmt::format("running (process {} on {})", v.holder->pid, v.holder->host);
        case Liveness::dead: break;
    }
    return fmt::format("running (process {} is gone; `perfbisect resume` continues it)",
                       v.holder->pid);
}

std::string progress_text(const SessionView& v) {
    if (v.record.status != "running") {
        return fmt::format("done, {} samples", v.samples.values);
    }
    if (!v.progress.contains("open")) {
        return fmt::format("{} samples", v.samples.values);
    }
    return fmt::format("{}/{} open, step {}", v.progress.value("open", 0), v.commits,
                       v.progress.value("step", 0));
}

json holder_json(const SessionView& v) {
    if (!v.holder) {
        return nullptr;
    }
    const char* state = v.holder_state == Liveness::alive     ? "alive"
                        : v.holder_state == Liveness::unknown ? "unknown"
                                                              : "gone";
    return {{"pid", v.holder->pid},
            {"host", v.holder->host},
            {"state", state},
            {"since", format_utc(static_cast<std::int64_t>(v.record.lease_since))}};
}

json view_json(const SessionView& v) {
    const auto& r = v.record;
    json out = {
        {"id", r.id},
        {"status", r.status},
        {"good", r.good},
        {"bad", r.bad},
        {"created", format_utc(r.created)},
        {"updated", format_utc(r.updated)},
        {"summary", r.stop_reason},
        {"commits", v.commits},
        {"samples", v.samples.values},
        {"failed_runs", v.samples.failed},
        {"probe_runs", v.samples.runs - v.samples.reused_runs},
        {"samples_reused", v.samples.reused_values},
        {"builds", v.builds},
        {"culprits", v.culprits},
        {"machine", r.machine},
        {"holder", holder_json(v)},
        {"wall_seconds", r.wall_seconds},
    };
    if (r.status == "running" && v.progress.contains("open")) {
        out["step"] = v.progress.value("step", 0);
        out["doing"] = v.progress.value("doing", "");
        out["why"] = v.progress.value("why", "");
        out["open"] = v.progress.value("open", 0);
        out["first_open"] = v.progress.value("first_open", -1);
        out["last_open"] = v.progress.value("last_open", -1);
        out["estimated_steps"] = v.progress.value("estimated_steps", 0);
    } else {
        out["open"] = r.status == "running" ? json(nullptr) : json(0);
    }
    return out;
}

void print_status(const SessionView& v, Cache& cache, std::ostream& out) {
    const auto& r = v.record;
    out << fmt::format("session {}: {}\n", r.id, state_text(v));
    out << fmt::format("  range     {} .. {}, {} commits; started {}\n", r.good, r.bad, v.commits,
                       format_utc(r.created));
    if (r.status == "running") {
        if (v.progress.contains("open")) {
            out << fmt::format("  step {}    {}\n", v.progress.value("step", 0),
                               v.progress.value("doing", ""));
            if (const std::string why = v.progress.value("why", ""); !why.empty()) {
                out << fmt::format("  why       {}\n", why);
            }
            const int open = v.progress.value("open", 0);
            out << fmt::format("  left      {} commit(s) open{}, about {} step(s) to go\n", open,
                               open > 0 ? fmt::format(" (positions {}-{})",
                                                      v.progress.value("first_open", 0),
                                                      v.progress.value("last_open", 0))
                                        : "",
                               v.progress.value("estimated_steps", 0));
        } else {
            out << "  no step recorded yet\n";
        }
    } else if (!r.stop_reason.empty()) {
        out << "  " << r.stop_reason << "\n";
    }
    for (const auto& c : v.culprits) {
        out << fmt::format("  culprit   {}\n", c);
    }
    out << fmt::format("  samples   {} ({} reused from earlier sessions), {} failed run(s); "
                       "{} probe run(s), {} build(s); {} spent\n",
                       v.samples.values, v.samples.reused_values, v.samples.failed,
                       v.samples.runs - v.samples.reused_runs, v.builds,
                       format_seconds(r.wall_seconds));
    const auto events = cache.load_events(r.id);
    if (!events.empty()) {
        const auto& e = events.back();
        out << fmt::format("  last      {} {}: {}\n",
                           format_utc(static_cast<std::int64_t>(e.timestamp)), e.kind, e.message);
    }
}

double duration_seconds(const std::string& text, const char* flag) {
    if (text == "0" || text == "0s") {
        return 0;  // no age limit: everything no running session needs
    }
    auto parsed = parse_duration(text);
    if (!parsed) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{} '{}': {} (e.g. 720h for 30 days, 48h, 90m)", flag, text, parsed.error().message));
    }
    return parsed->count();
}

}  // namespace

int command_sessions(const SessionsOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "json"});
    Cache cache = Cache::open(database_path(options.db));
    const auto sessions = cache.list_sessions();
    if (options.format == "json") {
        json list = json::array();
        for (const auto& s : sessions) {
            list.push_back(view_json(view_of(cache, s)));
        }
        out << list.dump(2) << "\n";
        return 0;
    }
    if (sessions.empty()) {
        out << "no sessions in " << cache.path().string() << "\n";
        return 0;
    }
    out << fmt::format("{:<10} {:<15} {:<22} {:<16} {:<16} {:<11} {}\n", "id", "status", "progress",
                       "good", "bad", "culprit", "updated");
    for (const auto& s : sessions) {
        const SessionView v = view_of(cache, s);
        std::string culprit = v.culprits.empty() ? "-" : short_id(v.culprits.front());
        if (v.culprits.size() > 1) {
            culprit += fmt::format(" +{}", v.culprits.size() - 1);
        }
        out << fmt::format("{:<10} {:<15} {:<22} {:<16} {:<16} {:<11} {}\n", s.id, s.status,
                           progress_text(v), s.good, s.bad, culprit, format_utc(s.updated));
        if (s.status == "running") {
            out << "           " << state_text(v) << "\n";
        } else if (!s.stop_reason.empty()) {
            out << "           " << s.stop_reason << "\n";
        }
    }
    return 0;
}

int command_status(const StatusOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "json"});
    Cache cache = Cache::open(database_path(options.db));
    std::vector<SessionRecord> shown;
    if (!options.session.empty()) {
        shown.push_back(cache.session(options.session));
    } else {
        const auto all = cache.list_sessions();
        for (const auto& s : all) {
            if (s.status == "running") {
                shown.push_back(s);
            }
        }
        if (shown.empty() && !all.empty()) {
            shown.push_back(all.back());
        }
    }
    if (options.format == "json") {
        json list = json::array();
        for (const auto& s : shown) {
            list.push_back(view_json(view_of(cache, s)));
        }
        out << (options.session.empty() ? list : list.at(0)).dump(2) << "\n";
        return 0;
    }
    if (shown.empty()) {
        out << "no sessions in " << cache.path().string() << "\n";
    }
    for (std::size_t i = 0; i < shown.size(); ++i) {
        if (i > 0) {
            out << "\n";
        }
        print_status(view_of(cache, shown[i]), cache, out);
    }
    return 0;
}

int command_abort(const AbortOptions& options, std::ostream& out) {
    Cache cache = Cache::open(database_path(options.db));
    const SessionRecord session = cache.session(options.session);
    if (!cache.abort_session(session.id, "aborted by `perfbisect abort`")) {
        throw Failure(ErrorKind::usage,
                      fmt::format("session {} is not running (it is {}); nothing to abort",
                                  session.id, cache.session_status(session.id)));
    }
    cache.append_event(session.id, "aborted", "aborted by `perfbisect abort`");
    std::string stopping;
    if (!session.lease.empty()) {
        const ProcessIdentity holder = ProcessIdentity::parse(session.lease);
        if (liveness(holder) == Liveness::alive &&
            ::kill(static_cast<pid_t>(holder.pid), SIGUSR1) == 0) {
            stopping = fmt::format("; process {}, which was running it, stops now", holder.pid);
        } else if (liveness(holder) == Liveness::unknown) {
            stopping = fmt::format("; process {} on {} stops before its next step", holder.pid,
                                   holder.host);
        }
    }
    const SampleTotals totals = cache.sample_totals(session.id);
    out << fmt::format("session {} aborted{}; its {} samples are kept (`perfbisect report {}`)\n",
                       session.id, stopping, totals.values, session.id);
    return 0;
}

int command_log(const LogOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "json"});
    Cache cache = Cache::open(database_path(options.db));
    const SessionRecord session = cache.session(options.session);
    const auto events = cache.load_events(session.id);
    if (options.format == "json") {
        json list = json::array();
        for (const auto& e : events) {
            list.push_back({{"id", e.id},
                            {"time", format_utc(static_cast<std::int64_t>(e.timestamp))},
                            {"timestamp", e.timestamp},
                            {"kind", e.kind},
                            {"message", e.message},
                            {"data", parse_object(e.data)}});
        }
        out << list.dump(2) << "\n";
        return 0;
    }
    for (const auto& e : events) {
        out << fmt::format("{} {:<8} {}\n", format_utc(static_cast<std::int64_t>(e.timestamp)),
                           e.kind, e.message);
    }
    return 0;
}

int command_cache_stats(const CacheStatsOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "json"});
    const auto db = database_path(options.db);
    Cache cache = Cache::open(db);
    const CacheStats s = cache_stats(cache, work_dir(db));
    std::int64_t sessions = 0;
    for (const auto& [status, n] : s.sessions) {
        sessions += n;
    }
    if (options.format == "json") {
        out << json{{"database", s.database.string()},
                    {"schema_version", s.schema_version},
                    {"database_bytes", s.database_bytes},
                    {"sessions", sessions},
                    {"sessions_by_status", s.sessions},
                    {"samples", s.samples},
                    {"samples_reused", s.samples_reused},
                    {"metric_values", s.metric_values},
                    {"events", s.events},
                    {"builds", s.builds},
                    {"builds_failed", s.builds_failed},
                    {"machines", s.machines},
                    {"artifacts", s.artifacts},
                    {"artifact_bytes", s.artifact_bytes},
                    {"work_dir", s.work_dir.string()},
                    {"worktree_bytes", s.worktree_bytes},
                    {"log_bytes", s.log_bytes}}
                   .dump(2)
            << "\n";
        return 0;
    }
    std::string by_status;
    for (const auto& [status, n] : s.sessions) {
        by_status += fmt::format("{}{} {}", by_status.empty() ? "" : ", ", n, status);
    }
    out << fmt::format("database   {} ({}, schema {})\n", s.database.string(),
                       size_text(s.database_bytes), s.schema_version);
    out << fmt::format("sessions   {}{}\n", sessions,
                       by_status.empty() ? "" : " (" + by_status + ")");
    out << fmt::format("samples    {} ({} reused copies), {} values of other metrics\n", s.samples,
                       s.samples_reused, s.metric_values);
    out << fmt::format("builds     {} ({} failed)\n", s.builds, s.builds_failed);
    out << fmt::format("artifacts  {} entries, {}\n", s.artifacts, size_text(s.artifact_bytes));
    out << fmt::format("work       {}: worktrees {}, logs {}\n", s.work_dir.string(),
                       size_text(s.worktree_bytes), size_text(s.log_bytes));
    out << fmt::format("events     {}; machines {}\n", s.events, s.machines);
    return 0;
}

int command_cache_gc(const CacheGcOptions& options, std::ostream& out) {
    GcOptions gc;
    gc.older_than_seconds = duration_seconds(options.older_than, "--older-than");
    if (!options.max_artifacts_size.empty()) {
        auto size = parse_size(options.max_artifacts_size);
        if (!size) {
            throw Failure(ErrorKind::usage,
                          fmt::format("--max-artifacts-size '{}': {} (e.g. 500M, 10G)",
                                      options.max_artifacts_size, size.error().message));
        }
        gc.max_artifacts_bytes = *size;
    }
    gc.sessions = options.sessions;
    gc.dry_run = options.dry_run;
    const auto db = database_path(options.db);
    Cache cache = Cache::open(db);
    const GcResult result = collect_garbage(cache, work_dir(db), gc);
    for (const auto& line : result.lines) {
        out << line << "\n";
    }
    out << fmt::format("{}: {} artifact entries ({}), {} worktrees ({}), {} sessions with {} "
                       "samples, {} orphaned rows\n",
                       options.dry_run ? "would free" : "freed", result.artifacts,
                       size_text(result.artifact_bytes), result.worktrees,
                       size_text(result.worktree_bytes), result.sessions, result.samples,
                       result.orphans);
    return 0;
}

int command_cache_export(const CacheExportOptions& options, std::ostream& out) {
    if (options.output.empty()) {
        throw Failure(ErrorKind::usage, "cache export needs -o FILE (the JSON file to write)");
    }
    Cache cache = Cache::open(database_path(options.db));
    const SessionRecord s = cache.session(options.session);
    json commits = json::array();
    for (const auto& c : cache.load_range(s.id).commits) {
        commits.push_back({{"commit", c.id}, {"subject", c.subject}, {"author", c.author}, {"time", c.time}});
    }
    json builds = json::array();
    for (const auto& b : cache.builds_by_session(s.id)) {
        builds.push_back({{"commit", b.commit},
                          {"fingerprint", b.fingerprint},
                          {"ok", b.ok},
                          {"reason", b.reason},
                          {"seconds", b.seconds},
                          {"tree", b.tree_id},
                          {"reused", b.reused},
                          {"created", b.created}});
    }
    json samples = json::array();
    std::set<std::string> machines;
    for (const auto& x : cache.load_samples(s.id)) {
        samples.push_back({{"commit", x.commit},
                           {"round", x.round},
                           {"run", x.run},
                           {"ok", x.ok},
                           {"value", x.ok ? json(x.value) : json(nullptr)},
                           {"failure", x.failure},
                           {"wall_seconds", x.wall_seconds},
                           {"timestamp", x.timestamp},
                           {"build_fingerprint", x.build_fingerprint},
                           {"probe_fingerprint", x.probe_fingerprint},
                           {"output", x.output},
                           {"machine", x.machine},
                           {"reused_from", x.reused_from}});
        if (!x.machine.empty()) {
            machines.insert(x.machine);
        }
    }
    if (!s.machine.empty()) {
        machines.insert(s.machine);
    }
    json machine_list = json::array();
    for (const auto& fp : machines) {
        if (const auto m = cache.find_machine(fp)) {
            machine_list.push_back({{"fingerprint", m->fingerprint},
                                    {"hostname", m->hostname},
                                    {"cpu_model", m->cpu_model},
                                    {"cores", m->cores},
                                    {"kernel", m->kernel},
                                    {"governor", m->governor}});
        }
    }
    json metric_values = json::array();
    for (const auto& v : cache.load_metric_values(s.id)) {
        metric_values.push_back({{"commit", v.commit}, {"run", v.run}, {"metric", v.metric}, {"value", v.value}});
    }
    json events = json::array();
    for (const auto& e : cache.load_events(s.id)) {
        events.push_back({{"timestamp", e.timestamp}, {"kind", e.kind}, {"message", e.message}, {"data", e.data}});
    }
    const json document = {
        {"perfbisect_export", 1},
        {"exported", format_utc(static_cast<std::int64_t>(std::time(nullptr)))},
        {"session",
         {{"id", s.id},
          {"status", s.status},
          {"good", s.good},
          {"bad", s.bad},
          {"config_path", s.config_path},
          {"config_text", s.config_text},
          {"metric", s.metric},
          {"direction", s.direction},
          {"created", s.created},
          {"updated", s.updated},
          {"wall_seconds", s.wall_seconds},
          {"stop_reason", s.stop_reason},
          {"machine", s.machine},
          {"culprits", s.culprits}}},
        {"commits", commits},
        {"builds", builds},
        {"samples", samples},
        {"metric_values", metric_values},
        {"events", events},
        {"machines", machine_list},
    };
    const auto tmp = options.output.string() + ".tmp";
    {
        std::ofstream file(tmp, std::ios::binary);
        file << document.dump(1) << "\n";
        if (!file) {
            throw Failure(ErrorKind::runtime,
                          fmt::format("cannot write {} (check the -o path)", options.output.string()));
        }
    }
    std::filesystem::rename(tmp, options.output);
    out << fmt::format("exported session {} ({} commits, {} samples, {} events) to {}\n", s.id,
                       commits.size(), samples.size(), events.size(), options.output.string());
    return 0;
}

int command_cache_import(const CacheImportOptions& options, std::ostream& out) {
    std::ifstream in(options.file, std::ios::binary);
    if (!in) {
        throw Failure(ErrorKind::usage,
                      fmt::format("cannot read {} (give the file `perfbisect cache export` wrote)",
                                  options.file.string()));
    }
    const json doc = json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || doc.value("perfbisect_export", 0) != 1) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{} is not a perfbisect export (version 1); write one with "
                                  "`perfbisect cache export SESSION -o FILE`",
                                  options.file.string()));
    }
    Cache cache = Cache::open(database_path(options.db));
    SessionRecord s;
    CommitRange range;
    std::vector<SampleRecord> samples;
    std::vector<MetricValueRecord> metric_values;
    try {
        const json& j = doc.at("session");
        s.id = j.at("id").get<std::string>();
        s.status = j.at("status").get<std::string>();
        s.good = j.at("good").get<std::string>();
        s.bad = j.at("bad").get<std::string>();
        s.config_path = j.at("config_path").get<std::string>();
        s.config_text = j.at("config_text").get<std::string>();
        s.metric = j.at("metric").get<std::string>();
        s.direction = j.at("direction").get<std::string>();
        s.created = j.at("created").get<std::int64_t>();
        s.updated = j.at("updated").get<std::int64_t>();
        s.wall_seconds = j.value("wall_seconds", 0.0);
        s.stop_reason = j.value("stop_reason", "");
        s.machine = j.value("machine", "");
        s.culprits = j.value("culprits", "");
        for (const auto& c : doc.at("commits")) {
            range.commits.push_back(CommitInfo{c.at("commit").get<std::string>(),
                                               c.value("subject", ""), c.value("author", ""),
                                               c.value("time", std::int64_t{0})});
        }
        for (const auto& x : doc.at("samples")) {
            SampleRecord r;
            r.commit = x.at("commit").get<std::string>();
            r.round = x.at("round").get<std::int64_t>();
            r.run = x.at("run").get<std::int64_t>();
            r.ok = x.at("ok").get<bool>();
            r.value = r.ok ? x.at("value").get<double>() : 0;
            r.failure = x.value("failure", "");
            r.wall_seconds = x.value("wall_seconds", 0.0);
            r.timestamp = x.at("timestamp").get<double>();
            r.build_fingerprint = x.at("build_fingerprint").get<std::string>();
            r.probe_fingerprint = x.at("probe_fingerprint").get<std::string>();
            r.output = x.value("output", "");
            r.machine = x.value("machine", "");
            r.reused_from = x.value("reused_from", "");
            samples.push_back(std::move(r));
        }
        for (const auto& v : doc.value("metric_values", json::array())) {
            metric_values.push_back(MetricValueRecord{v.at("commit").get<std::string>(),
                                                      v.at("run").get<std::int64_t>(),
                                                      v.at("metric").get<std::string>(),
                                                      v.at("value").get<double>()});
        }
    } catch (const json::exception& e) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{} is not a complete perfbisect export: {}; export it again",
                                  options.file.string(), e.what()));
    }
    if (range.size() < 2) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{} holds no commit range; export it again", options.file.string()));
    }
    if (cache.find_session(s.id)) {
        throw Failure(ErrorKind::usage,
                      fmt::format("session {} is already in {}; nothing imported (import into "
                                  "another --db, or drop it there first)",
                                  s.id, cache.path().string()));
    }
    if (!options.config.empty()) {
        // The session continues here with a config of this machine (its
        // repository path); what it builds and how it probes must not change.
        const Config config = value_or_throw(load_config(options.config));
        const Config stored = session_config(s);
        if (config.build_fingerprint() != stored.build_fingerprint() ||
            config.probe_fingerprint() != stored.probe_fingerprint()) {
            throw Failure(ErrorKind::usage,
                          fmt::format("{} builds or probes differently from the config the "
                                      "samples of {} were measured with; keep its [build] and "
                                      "[probe] as they were and change only the paths",
                                      options.config.string(), options.file.string()));
        }
        s.config_path = config.file.string();
        s.config_text = config.text;
    }
    s.lease.clear();
    s.progress.clear();

    Transaction tx(cache.database());
    cache.insert_session(s, range);
    for (const auto& m : doc.value("machines", json::array())) {
        MachineInfo info;
        info.hostname = m.value("hostname", "");
        info.cpu_model = m.value("cpu_model", "");
        info.cores = m.value("cores", 0);
        info.kernel = m.value("kernel", "");
        info.governor = m.value("governor", "");
        if (info.fingerprint() == m.value("fingerprint", "")) {
            cache.store_machine(info);
        }
    }
    int builds = 0;
    for (const auto& b : doc.value("builds", json::array())) {
        BuildRecord r;
        r.commit = b.at("commit").get<std::string>();
        r.fingerprint = b.at("fingerprint").get<std::string>();
        if (cache.find_build(r.commit, r.fingerprint)) {
            continue;  // this machine's own build of it stays
        }
        r.ok = b.at("ok").get<bool>();
        r.reason = b.value("reason", "");
        r.seconds = b.value("seconds", 0.0);
        r.tree_id = b.value("tree", "");
        r.reused = b.value("reused", false);
        r.created = b.value("created", std::int64_t{0});
        r.session = s.id;  // no artifacts here: a commit that needs them is built again
        cache.store_build(r);
        ++builds;
    }
    cache.store_samples(s.id, samples, metric_values);
    for (const auto& e : doc.value("events", json::array())) {
        cache.insert_event(s.id, EventRecord{0, e.value("timestamp", 0.0), e.value("kind", ""),
                                             e.value("message", ""), e.value("data", "{}")});
    }
    cache.append_event(s.id, "session",
                       fmt::format("imported from {} on {}", options.file.string(),
                                   this_machine().hostname));
    tx.commit();
    out << fmt::format("imported session {} ({}, {} commits, {} samples, {} build records) into "
                       "{}{}\n",
                       s.id, s.status, range.size(), samples.size(), builds, cache.path().string(),
                       s.status == "running" ? fmt::format("; continue it with `perfbisect resume {}`", s.id)
                                             : "");
    return 0;
}

}  // namespace perfbisect
