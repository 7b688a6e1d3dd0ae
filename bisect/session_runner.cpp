#include "bisect/session_runner.hpp"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "executors/executor.hpp"
#include "util/interrupt.hpp"
#include "util/machine.hpp"

namespace perfbisect {
namespace {

// Given to every build and probe this process starts for a session it holds
// (RealProcessRunner's common environment; their children inherit it): when
// this process dies, the next holder finds and stops what it left running.
// Never set in this process's own environment: setenv() races with getenv()
// in other threads, and perfbisect serve runs sessions beside its HTTP server.
constexpr const char* k_lease_env = "PERFBISECT_SESSION_LEASE";

std::string lease_value(const std::string& session, const ProcessIdentity& holder) {
    return session + "@" + holder.token();
}

// This process's lease on a session while it runs it (cache.hpp, acquire_lease).
class SessionLease {
public:
    SessionLease(Cache& cache, const std::string& session, bool take_over)
        : m_cache(cache), m_session(session), m_self(this_process()) {
        if (const auto previous = cache.acquire_lease(session, m_self, take_over)) {
            const auto stopped =
                kill_processes_with_env(k_lease_env, lease_value(session, *previous));
            const std::string message = fmt::format(
                "took the session over from process {} on {}, which is gone{}", previous->pid,
                previous->host,
                stopped.empty() ? ""
                                : fmt::format("; stopped {} process(es) it left running",
                                              stopped.size()));
            cache.append_event(session, "session", message);
            // Said even with --quiet: another process's work was cut off.
            fmt::print(stderr, "perfbisect: {}\n", message);
        }
    }
    ~SessionLease() {
        try {
            m_cache.release_lease(m_session, m_self);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a lease left behind is reclaimed later
        }
    }
    SessionLease(const SessionLease&) = delete;
    SessionLease& operator=(const SessionLease&) = delete;

    // The value of k_lease_env in the environment of this holder's children.
    std::string child_env_value() const { return lease_value(m_session, m_self); }

private:
    Cache& m_cache;
    std::string m_session;
    ProcessIdentity m_self;
};

}  // namespace

SessionRecord create_session_here(Cache& cache, SessionRecord record, const CommitRange& range) {
    record.machine = this_machine().fingerprint();
    cache.store_machine(this_machine());
    return cache.create_session(record, range);
}

std::string reuse_earlier_samples(Cache& cache, const Config& config, const SessionRecord& session) {
    if (config.cache.reuse == ReuseScope::none) {
        return {};
    }
    const auto reused = cache.reuse_samples(
        session.id, config.build_fingerprint(), config.probe_fingerprint(),
        config.cache.reuse == ReuseScope::same_machine ? std::optional(session.machine)
                                                      : std::nullopt);
    if (reused.samples == 0) {
        return {};
    }
    std::string sources;
    for (const auto& source : reused.sessions) {
        sources += (sources.empty() ? "" : ", ") + source;
    }
    std::string message = fmt::format(
        "reused {} sample(s) of {} commit(s) from session(s) {} ([cache] reuse = \"{}\")",
        reused.samples, reused.commits, sources, to_string(config.cache.reuse));
    cache.append_event(
        session.id, "reuse", message,
        fmt::format(R"({{"samples":{},"commits":{}}})", reused.samples, reused.commits));
    return message;
}

SessionRecord start_session(Cache& cache, const Config& config, const std::string& good,
                            const std::string& bad, const std::string& id,
                            const std::function<void(const std::string&)>& say) {
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    const CommitRange range =
        value_or_throw(repository->range(good, bad, config.repo.first_parent));
    SessionRecord record;
    record.id = id;
    record.good = good;
    record.bad = bad;
    record.config_path = config.file.string();
    record.config_text = config.text;
    record.metric = config.probe.metric;
    record.direction = to_string(config.probe.direction);
    const SessionRecord session = create_session_here(cache, record, range);
    const std::string started =
        fmt::format("session {}: {} commits from {} ({}) to {} ({}), database {}", session.id,
                    range.size(), good, range.good().short_id(), bad, range.bad().short_id(),
                    cache.path().string());
    cache.append_event(session.id, "session", started);
    if (say) {
        say(started);
    }
    if (const std::string reused = reuse_earlier_samples(cache, config, session);
        !reused.empty() && say) {
        say(reused);
    }
    return session;
}

Outcome run_session(Cache& cache, const std::string& session, const Config& config,
                    Reporter& reporter, bool take_over) {
    // Before the lease: from then on `perfbisect abort` may send SIGUSR1,
    // whose default action would end the process.
    install_interrupt_handlers();
    SessionLease lease(cache, session, take_over);
    cache.store_machine(this_machine());
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    RealProcessRunner runner({{k_lease_env, lease.child_env_value()}});
    const auto work = cache.path().parent_path() / "work";
    const CommitRange range = cache.load_range(session);
    ArtifactStore store(cache, work / "artifacts", config.cache.max_artifacts_size);
    // Where probe runs (and, with a build partition, builds) execute: here,
    // or as Slurm jobs named after the session ([executor]).
    const auto executor = make_executor(config.executor, cache, session, runner, work);
    LocalBuilder builder(*repository, executor->build_runner(), store, config.build,
                         config.build_fingerprint(),
                         BuildPlace{work, "session-" + session, {range.good().id, range.bad().id}});
    CommandProber command_prober(executor->probe_runner(0), config.probe, executor->scratch_dir());
    PlacedProber prober(*executor, command_prober);
    value_or_throw(command_prober.check_machine());
    // The other lanes ([executor] nodes): a prober each, as its runs go on
    // at the same time as lane 0's.
    std::vector<std::unique_ptr<CommandProber>> lane_command_probers;
    std::vector<std::unique_ptr<PlacedProber>> lane_probers;
    std::vector<Prober*> lanes;
    for (std::size_t lane = 1; lane < executor->lanes(); ++lane) {
        lane_command_probers.push_back(std::make_unique<CommandProber>(
            executor->probe_runner(lane), config.probe, executor->scratch_dir()));
        lane_probers.push_back(
            std::make_unique<PlacedProber>(*executor, *lane_command_probers.back()));
        lanes.push_back(lane_probers.back().get());
    }
    if (const std::string said = value_or_throw(executor->prepare()); !said.empty()) {
        cache.append_event(session, "session", said);
        fmt::print(stderr, "perfbisect: {}\n", said);
    }
    CommandProfiler profiler(runner, config.probe, config.profile);
    if (config.profile.enabled()) {
        value_or_throw(profiler.check_machine(work / "scratch"));
    }
    SessionDriver driver(cache, builder, prober, reporter, config);
    driver.set_lanes(std::move(lanes));
    if (config.profile.enabled()) {
        // Beside the other per-session directories; kept with the database.
        driver.set_profiler(&profiler, work / "profiles" / ("session-" + session),
                            static_cast<std::size_t>(config.profile.top));
    }
    return driver.run(session);
}

}  // namespace perfbisect
