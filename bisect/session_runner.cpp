#include "bisect/session_runner.hpp"

#include <fmt/format.h>

#include "util/interrupt.hpp"

namespace perfbisect {

SessionRecord start_session(Cache& cache, const Config& config, const std::string& good,
                            const std::string& bad, const std::string& id) {
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
    const SessionRecord session = cache.create_session(record, range);
    cache.append_event(session.id, "session",
                       fmt::format("session {}: {} commits from {} ({}) to {} ({}), database {}",
                                   session.id, range.size(), good, range.good().short_id(), bad,
                                   range.bad().short_id(), cache.path().string()));
    return session;
}

Outcome run_session(Cache& cache, const std::string& session, const Config& config,
                    Reporter& reporter) {
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    RealProcessRunner runner;
    const auto work = cache.path().parent_path() / "work";
    const CommitRange range = cache.load_range(session);
    ArtifactStore store(cache, work / "artifacts", config.cache.max_artifacts_size);
    LocalBuilder builder(*repository, runner, store, config.build, config.build_fingerprint(),
                         BuildPlace{work, "session-" + session, {range.good().id, range.bad().id}});
    CommandProber prober(runner, config.probe, work / "scratch");
    value_or_throw(prober.check_machine());
    CommandProfiler profiler(runner, config.probe, config.profile);
    if (config.profile.enabled()) {
        value_or_throw(profiler.check_machine(work / "scratch"));
    }
    install_interrupt_handlers();
    SessionDriver driver(cache, builder, prober, reporter, config);
    if (config.profile.enabled()) {
        // Beside the other per-session directories; kept with the database.
        driver.set_profiler(&profiler, work / "profiles" / ("session-" + session),
                            static_cast<std::size_t>(config.profile.top));
    }
    return driver.run(session);
}

}  // namespace perfbisect
