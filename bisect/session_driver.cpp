#include "bisect/session_driver.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bisect/node_schedule.hpp"
#include "report/profile_record.hpp"
#include "stats/rank_tests.hpp"
#include "util/interrupt.hpp"
#include "util/machine.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

double unix_now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

double steady_now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Stops the session on a signal: an aborted session (`perfbisect abort`, which
// sends SIGUSR1) ends as a runtime error and forgets the abort request, so a
// server's worker goes on; any other stop leaves the session resumable.
[[noreturn]] void throw_stopped(Cache& cache, const std::string& session) {
    clear_abort_request();
    if (cache.session_status(session) == "aborted") {
        throw Failure(ErrorKind::runtime,
                      fmt::format("session {} was aborted (`perfbisect abort`); everything "
                                  "measured is kept: `perfbisect report {} --db {}`",
                                  session, session, cache.path().string()));
    }
    throw Failure(ErrorKind::interrupted,
                  fmt::format("interrupted; session {} keeps everything measured so far, continue "
                              "it with `perfbisect resume {}`",
                              session, session));
}

std::string describe(const CommitInfo& commit, std::size_t position, std::size_t count) {
    return fmt::format("{} (position {}/{}) {}", commit.short_id(), position, count - 1,
                       commit.subject);
}

// Calls Reporter::finish() however the session's loop ends.
class FinishReporter {
public:
    explicit FinishReporter(Reporter& reporter) : m_reporter(reporter) {}
    ~FinishReporter() { m_reporter.finish(); }
    FinishReporter(const FinishReporter&) = delete;
    FinishReporter& operator=(const FinishReporter&) = delete;

private:
    Reporter& m_reporter;
};

// Each lane's runs of a whole measure action (node_schedule.hpp), rounds
// numbered on from `round` (advanced past the action's): with full blocking
// a lane runs every entry of a round, in an order of its own, as a round of
// its own (round + k); else entry j of round r goes to lane (j + r) mod W.
// Unpinned (blocking off), that rotation only spreads the work: Slurm picks
// the nodes. Each round's order is shuffled reproducibly: it depends only
// on the session and the round.
std::vector<std::vector<LaneRun>> lane_queues(const MeasureAction& action,
                                              const std::string& session, std::int64_t& round,
                                              std::size_t lanes, NodeBlocking blocking) {
    std::vector<std::vector<LaneRun>> queues(lanes);
    std::vector<std::size_t> order(action.positions.size());  // entries, in the round's order
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (int r = 0; r < action.rounds; ++r) {
        ++round;
        std::mt19937_64 rng(std::hash<std::string>{}(session) ^ static_cast<std::uint64_t>(round));
        std::shuffle(order.begin(), order.end(), rng);
        if (lanes > 1 && blocking == NodeBlocking::full) {
            for (std::size_t k = 0; k < lanes; ++k) {
                std::vector<std::size_t> own = order;
                std::mt19937_64 lane_rng(rng() ^ k);
                std::shuffle(own.begin(), own.end(), lane_rng);
                for (std::size_t j : own) {
                    queues[k].push_back(LaneRun{j, round + static_cast<std::int64_t>(k)});
                }
            }
            round += static_cast<std::int64_t>(lanes) - 1;
            continue;
        }
        for (std::size_t j : order) {
            queues[node_of_entry(NodeBlocking::rotate, j, lanes, round)].push_back(
                LaneRun{j, round});
        }
    }
    return queues;
}

}  // namespace

Progress progress_of(const Observations& observations, const Plan& plan, double elapsed_seconds) {
    Progress p;
    p.range_size = observations.size();
    for (const auto& o : observations) {
        if (o.build != BuildState::unknown || !o.values.empty() || o.failed_runs > 0) {
            ++p.step;
        }
        p.samples += static_cast<int>(o.values.size());
    }
    if (const auto* build = std::get_if<BuildAction>(&plan.next);
        build != nullptr && build->position < observations.size() &&
        observations[build->position].build == BuildState::unknown) {
        ++p.step;  // the commit about to be built is the step in hand
    }
    if (!plan.open.empty()) {
        const auto [first, last] = std::minmax_element(plan.open.begin(), plan.open.end());
        // Good itself (position 0, open while the ends are built) cannot be the culprit.
        p.first_open = std::max<std::size_t>(*first, 1);
        p.last_open = std::max(*last, p.first_open);
        p.commits_left = p.last_open - p.first_open + 1;
    }
    // A bisection halves the candidates with each commit it tests.
    const int more = p.commits_left > 1
                         ? static_cast<int>(std::ceil(std::log2(static_cast<double>(p.commits_left))))
                         : 0;
    p.steps_estimate = p.step + more;
    p.elapsed_seconds = elapsed_seconds;
    if (p.step > 2 && elapsed_seconds > 0) {
        // Good and bad (the first two steps) include the reproduce rounds: time
        // per step from the whole session is a fair, if pessimistic, rate.
        p.remaining_seconds = elapsed_seconds / p.step * more;
    }
    return p;
}

void ObservationCache::read_builds(Cache& cache, const std::string& session) {
    for (auto& o : m_obs) {
        o.build = BuildState::unknown;
        o.build_failure.clear();
    }
    for (const auto& build : cache.builds_of_range(session, m_build_fingerprint)) {
        const std::size_t p = m_position_of.at(build.commit);
        if (!build.ok) {
            m_obs[p].build = BuildState::failed;
            m_obs[p].build_failure = build.reason;
        } else if (!m_require_artifacts || std::filesystem::is_directory(build.artifacts_dir)) {
            m_obs[p].build = BuildState::ok;
        }  // else: the artifacts are gone; build again
    }
}

ObservationCache::ObservationCache(const CommitRange& range, std::string build_fingerprint,
                                   bool require_artifacts)
    : m_build_fingerprint(std::move(build_fingerprint)),
      m_require_artifacts(require_artifacts),
      m_obs(range.size()) {
    for (std::size_t p = 0; p < range.size(); ++p) {
        m_position_of.emplace(range.commits[p].id, p);
    }
}

const Observations& ObservationCache::update(Cache& cache, const std::string& session) {
    const std::int64_t version = cache.builds_version();
    if (version != m_builds_version) {
        m_builds_version = version;
        read_builds(cache, session);
    }
    cache.visit_samples_after(session, m_last_id, [&](const Cache::SampleView& sample) {
        m_last_id = std::max(m_last_id, sample.id);
        m_max_round = std::max(m_max_round, sample.round);
        m_max_run = std::max(m_max_run, sample.run);
        auto it = m_position_of.find(sample.commit);
        if (it == m_position_of.end()) {
            return;
        }
        auto& o = m_obs[it->second];
        if (sample.ok) {
            o.values.push_back(sample.value);
            o.rounds.push_back(sample.round);
            auto node = m_node_id.find(sample.node);
            if (node == m_node_id.end()) {
                const int id = static_cast<int>(m_node_id.size());
                node = m_node_id.emplace(std::string(sample.node), id).first;
            }
            o.nodes.push_back(node->second);
        } else {
            ++o.failed_runs;
            o.last_probe_failure = std::string(sample.failure);
        }
    });
    return m_obs;
}

Observations load_observations(Cache& cache, const std::string& session, const CommitRange& range,
                               const std::string& build_fingerprint, bool require_artifacts) {
    ObservationCache observations(range, build_fingerprint, require_artifacts);
    return observations.update(cache, session);
}

DecisionEvent describe_decision(const Decision& decision, const CommitRange& range,
                                const Observations& obs) {
    const std::size_t p = decision.position;
    const std::size_t last = range.size() - 1;
    const auto& commit = range.commits[p];
    std::string compared;
    std::string compared_json;
    for (const auto& [end, name] : {std::pair{std::size_t{0}, "good"}, std::pair{last, "bad"}}) {
        if (end == p || obs[p].values.empty() || obs[end].values.empty()) {
            continue;
        }
        const double p_value = stats::mann_whitney_u(obs[p].values, obs[end].values).p_value;
        compared += fmt::format("{}vs {} p = {:.2g}", compared.empty() ? "" : ", ", name, p_value);
        compared_json += fmt::format(
            R"({}{{"with":{},"commit":{},"values":{},"p_value":{}}})", compared_json.empty() ? "" : ",",
            json_quote(name), json_quote(range.commits[end].id), obs[end].values.size(),
            std::isfinite(p_value) ? fmt::format("{:.6g}", p_value) : "null");
    }
    DecisionEvent event;
    // The planner's reasons often start with the verdict already.
    const std::string verdict = to_string(decision.verdict);
    event.message = fmt::format("{} (position {}) {}{}{}", commit.short_id(), p,
                                decision.reason.starts_with(verdict) ? "" : verdict + ": ",
                                decision.reason,
                                compared.empty() ? ""
                                                 : fmt::format(" [{} values; {}]",
                                                               obs[p].values.size(), compared));
    event.data = fmt::format(
        R"({{"position":{},"commit":{},"verdict":{},"reason":{},"values":{},"compared":[{}]}})", p,
        json_quote(commit.id), json_quote(to_string(decision.verdict)), json_quote(decision.reason),
        obs[p].values.size(), compared_json);
    return event;
}

BuildRecord build_record(const CommitInfo& commit, const std::string& fingerprint,
                         const BuildOutcome& outcome, const std::string& session) {
    BuildRecord record;
    record.commit = commit.id;
    record.fingerprint = fingerprint;
    record.ok = outcome.ok;
    record.reason = outcome.reason;
    record.seconds = outcome.seconds;
    record.artifacts_dir = outcome.artifacts_dir.string();
    record.worktree = outcome.worktree.string();
    record.log_path = outcome.log_path.string();
    record.session = session;
    record.tree_id = outcome.tree;
    record.reused = outcome.reused;
    return record;
}

Config session_config(const SessionRecord& session) {
    const std::filesystem::path path(session.config_path);
    Config config =
        value_or_throw(parse_config(session.config_text, path.parent_path(), session.config_path));
    config.file = path;
    return config;
}

PlannerSettings planner_settings(const Config& config) {
    PlannerSettings settings{config.decide, config.budget, config.probe.direction};
    settings.parallel = static_cast<std::size_t>(std::max(config.executor.nodes, 1));
    settings.node_blocking =
        settings.parallel > 1 && config.executor.blocking != NodeBlocking::off;
    return settings;
}

SessionDriver::SessionDriver(Cache& cache, Builder& builder, Prober& prober, Reporter& reporter,
                             const Config& config)
    : m_cache(cache),
      m_builder(builder),
      m_prober(prober),
      m_reporter(reporter),
      m_config(config),
      m_build_fingerprint(config.build_fingerprint()),
      m_probe_fingerprint(config.probe_fingerprint()),
      m_machine(this_machine().fingerprint()) {}

void SessionDriver::set_profiler(Profiler* profiler, std::filesystem::path directory,
                                 std::size_t top) {
    m_profiler = profiler;
    m_profile_dir = std::move(directory);
    m_profile_top = top;
}

void SessionDriver::show_status() {
    Progress shown = m_progress;
    const double since = steady_now() - m_progress_tick;
    shown.elapsed_seconds += since;
    if (m_remaining_at_tick >= 0) {
        shown.remaining_seconds = std::max(0.0, m_remaining_at_tick - since);
    }
    m_reporter.status(shown);
}

Outcome SessionDriver::run(const std::string& session) {
    FinishReporter finish_reporter(m_reporter);
    const CommitRange range = m_cache.load_range(session);
    const PlannerSettings settings = planner_settings(m_config);
    if (settings.parallel != 1 + m_lanes.size()) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("internal error: [executor] nodes = {} but {} lane(s) to run on",
                                  settings.parallel, 1 + m_lanes.size()));
    }
    const auto stored = m_cache.find_session(session);
    double elapsed = stored ? stored->wall_seconds : 0;

    // Decisions already in the event log are not logged again after a resume:
    // a commit's decision is logged when its verdict changes.
    std::map<std::size_t, std::string> last_verdict;
    int steps = 0;
    for (const auto& event : m_cache.load_events(session)) {
        if (event.kind == "decision") {
            const auto at = event.data.find("\"position\":");
            const auto verdict = event.data.find("\"verdict\":\"");
            if (at != std::string::npos && verdict != std::string::npos) {
                const std::size_t position = std::stoul(event.data.substr(at + 11));
                const auto from = verdict + 11;
                last_verdict[position] =
                    event.data.substr(from, event.data.find('"', from) - from);
            }
        } else if (event.kind == "step") {
            ++steps;
        }
    }

    double last_tick = steady_now();
    auto account_time = [&] {
        const double now = steady_now();
        m_cache.add_wall_seconds(session, now - last_tick);
        elapsed += now - last_tick;
        last_tick = now;
    };
    auto check_stop = [&] {
        if (interrupt_requested() || m_cache.session_status(session) == "aborted") {
            account_time();
            throw_stopped(m_cache, session);
        }
    };

    ObservationCache observations(range, m_build_fingerprint);
    while (true) {
        check_stop();
        const Observations& obs = observations.update(m_cache, session);
        Plan plan = plan_next(settings, obs, elapsed);
        m_progress = progress_of(obs, plan, elapsed);
        m_progress_tick = steady_now();
        m_remaining_at_tick = m_progress.remaining_seconds.value_or(-1);
        for (const auto& decision : plan.decisions) {
            const std::string verdict = to_string(decision.verdict);
            auto& previous = last_verdict[decision.position];
            if (previous == verdict) {
                continue;
            }
            previous = verdict;
            const auto event = describe_decision(decision, range, obs);
            m_reporter.progress(fmt::format(
                "{} is {}", describe(range.commits[decision.position], decision.position, range.size()),
                decision.reason));
            m_cache.append_event(session, "decision", event.message, event.data);
        }

        if (!std::holds_alternative<DoneAction>(plan.next) &&
            !std::holds_alternative<FailAction>(plan.next)) {
            ++steps;
            std::string what;
            std::string positions;
            int rounds = 0;
            if (const auto* b = std::get_if<BuildAction>(&plan.next)) {
                what = "build " + describe(range.commits[b->position], b->position, range.size());
                positions = std::to_string(b->position);
            } else {
                const auto& m = std::get<MeasureAction>(plan.next);
                std::map<std::size_t, int> per_round;
                for (std::size_t p : m.positions) {
                    ++per_round[p];
                }
                for (const auto& [p, runs] : per_round) {
                    what += fmt::format("{}{} (position {}){}", what.empty() ? "" : ", ",
                                        range.commits[p].short_id(), p,
                                        runs > 1 ? fmt::format(" ×{}", runs) : "");
                    positions += fmt::format("{}{}", positions.empty() ? "" : ",", p);
                }
                rounds = m.rounds;
                what = fmt::format("measure {} round{} of {}", m.rounds, m.rounds == 1 ? "" : "s",
                                   what);
            }
            const std::size_t open = plan.open.size();
            // About one classification per halving of what is open, and one
            // confirmation of the culprit.
            const int estimate =
                open == 0 ? 0
                          : static_cast<int>(std::ceil(std::log2(static_cast<double>(open)))) + 1;
            m_cache.append_event(
                session, "step", fmt::format("{}: {}", what, plan.why),
                fmt::format(R"({{"step":{},"action":{},"positions":[{}],"rounds":{},"open":{},"why":{}}})",
                            steps, json_quote(std::holds_alternative<BuildAction>(plan.next)
                                                  ? "build"
                                                  : "measure"),
                            positions, rounds, open, json_quote(plan.why)));
            m_cache.set_progress(
                session,
                fmt::format(
                    R"({{"step":{},"doing":{},"why":{},"open":{},"first_open":{},"last_open":{},"estimated_steps":{},"since":{:.3f},"pid":{}}})",
                    steps, json_quote(what), json_quote(plan.why), open,
                    open == 0 ? -1 : static_cast<long>(plan.open.front()),
                    open == 0 ? -1 : static_cast<long>(plan.open.back()), estimate, unix_now(),
                    static_cast<long>(::getpid())));
        }

        if (const auto* b = std::get_if<BuildAction>(&plan.next)) {
            m_progress.activity = "building " + range.commits[b->position].short_id();
            show_status();
            build(session, range.commits[b->position], b->position, range.size());
        } else if (const auto* m = std::get_if<MeasureAction>(&plan.next)) {
            if (!measure(session, range, *m, observations.max_round(), observations.max_run())) {
                observations.forget_builds();
            }
        } else if (const auto* f = std::get_if<FailAction>(&plan.next)) {
            account_time();
            m_cache.append_event(session, "failed", f->message);
            throw Failure(ErrorKind::runtime, f->message);
        } else {
            const Outcome outcome = std::get<DoneAction>(plan.next).outcome;
            profile_culprits(session, range, outcome);
            account_time();
            std::string culprits;
            std::string culprits_json;
            for (const auto& c : outcome.culprits) {
                culprits += (culprits.empty() ? "" : " ") + range.commits[c.position].id;
                culprits_json += (culprits_json.empty() ? "" : ",") +
                                 json_quote(range.commits[c.position].id);
            }
            m_cache.finish_session(session, to_string(outcome.status), outcome.summary, culprits);
            m_cache.set_progress(session, "");
            m_cache.append_event(session, "done", outcome.summary,
                                 fmt::format(R"({{"status":{},"culprits":[{}]}})",
                                             json_quote(to_string(outcome.status)), culprits_json));
            m_reporter.finish();
            m_reporter.progress(outcome.summary);
            return outcome;
        }
        account_time();
    }
}

void SessionDriver::build(const std::string& session, const CommitInfo& commit,
                          std::size_t position, std::size_t count) {
    m_reporter.progress("building " + describe(commit, position, count));
    const BuildOutcome outcome = m_builder.build(commit);
    if (outcome.interrupted || interrupt_requested()) {
        throw_stopped(m_cache, session);
    }
    m_cache.store_build(build_record(commit, m_build_fingerprint, outcome, session));
    std::string message;
    if (outcome.reused) {
        message = fmt::format("{} has the tree of a commit built before: reused its artifacts",
                              commit.short_id());
    } else if (outcome.ok) {
        message = fmt::format("built {} in {}", commit.short_id(), format_seconds(outcome.seconds));
    } else {
        message = fmt::format("build of {} failed after {}: {}{}", commit.short_id(),
                              format_seconds(outcome.seconds), outcome.reason,
                              outcome.log_path.empty() ? ""
                                                       : " (log: " + outcome.log_path.string() + ")");
    }
    if (!outcome.note.empty() && !outcome.reused) {
        message += " (" + outcome.note + ")";
    }
    m_cache.append_event(
        session, "build", message,
        fmt::format(R"({{"position":{},"commit":{},"ok":{},"reused":{},"seconds":{}}})", position,
                    json_quote(commit.id), outcome.ok, outcome.reused, outcome.seconds));
    m_reporter.progress(message);
}

bool SessionDriver::measure(const std::string& session, const CommitRange& range,
                            const MeasureAction& action, std::int64_t round, std::int64_t run) {

    std::map<std::size_t, ProbeTarget> targets;
    std::map<std::size_t, int> runs_per_round;
    for (std::size_t p : action.positions) {
        ++runs_per_round[p];
        if (targets.contains(p)) {
            continue;
        }
        const auto& commit = range.commits[p];
        const auto build = m_cache.find_build(commit.id, m_build_fingerprint);
        if (!build || !build->ok) {
            throw Failure(ErrorKind::runtime,
                          fmt::format("internal error: {} has no build to measure", commit.id));
        }
        if (!std::filesystem::is_directory(build->artifacts_dir)) {
            spdlog::info("the artifacts of {} are gone (evicted); building it again",
                         commit.short_id());
            return false;
        }
        targets[p] = ProbeTarget{&commit, build->artifacts_dir, build->worktree};
    }
    std::string names;
    for (const auto& [p, runs] : runs_per_round) {
        names += fmt::format("{}{}{}", names.empty() ? "" : ", ",
                             describe(range.commits[p], p, range.size()),
                             runs > 1 ? fmt::format(" ×{}", runs) : "");
    }
    m_reporter.progress(fmt::format(
        "measuring {} round{} of {}{}", action.rounds, action.rounds == 1 ? "" : "s", names,
        m_lanes.empty() ? ""
                        : fmt::format(" on {} nodes (blocking {})", m_lanes.size() + 1,
                                      to_string(m_config.executor.blocking))));
    std::string shorts;
    for (const auto& [p, runs] : runs_per_round) {
        shorts += (shorts.empty() ? "" : ", ") + range.commits[p].short_id();
    }
    m_progress.activity = "measuring " + shorts;
    show_status();

    const std::size_t lanes = 1 + m_lanes.size();
    const auto queues = lane_queues(action, session, round, lanes, m_config.executor.blocking);
    if (lanes == 1) {
        for (const LaneRun& next : queues[0]) {
            const std::size_t p = action.positions[next.entry];
            const ProbeRun result = m_prober.run(targets[p]);
            if (!store_run(session, range.commits[p], result, next.round, ++run) ||
                interrupt_requested()) {
                throw_stopped(m_cache, session);
            }
        }
        return true;
    }
    run_lanes(session, range, action, targets, queues, run);
    return true;
}

void SessionDriver::run_lanes(const std::string& session, const CommitRange& range,
                              const MeasureAction& action,
                              const std::map<std::size_t, ProbeTarget>& targets,
                              const std::vector<std::vector<LaneRun>>& queues, std::int64_t run) {
    // The lanes run at once, each going on to its next run without waiting
    // for the others (W lanes take about T/W runs' time for T runs); this
    // thread stores each run as it ends, so a kill loses only the runs in
    // flight. After an interruption every lane stops after its current run.
    struct Done {
        std::size_t entry = 0;
        std::int64_t round = 0;
        ProbeRun result;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Done> done;
    // Counted before any lane starts: a lane may end before the next starts.
    auto running = static_cast<std::size_t>(std::count_if(
        queues.begin(), queues.end(), [](const auto& queue) { return !queue.empty(); }));
    std::exception_ptr error;
    std::vector<std::jthread> threads;
    for (std::size_t k = 0; k < queues.size(); ++k) {
        if (queues[k].empty()) {
            continue;
        }
        Prober* prober = k == 0 ? &m_prober : m_lanes[k - 1];
        // The stop token: set when `threads` is destroyed early (this thread
        // failed to store a run), so that no lane starts another run.
        threads.emplace_back([&, k, prober](const std::stop_token& quit) {
            try {
                for (const LaneRun& next : queues[k]) {
                    if (quit.stop_requested()) {
                        break;
                    }
                    ProbeRun result = prober->run(targets.at(action.positions[next.entry]));
                    const bool stop = result.interrupted || interrupt_requested();
                    {
                        const std::lock_guard lock(mutex);
                        done.push_back(Done{next.entry, next.round, std::move(result)});
                    }
                    changed.notify_one();
                    if (stop) {
                        break;
                    }
                }
            } catch (...) {
                const std::lock_guard lock(mutex);
                error = std::current_exception();
            }
            {
                const std::lock_guard lock(mutex);
                --running;
            }
            changed.notify_one();
        });
    }
    bool stopped = false;
    for (bool finished = false; !finished;) {
        std::vector<Done> ended;
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return !done.empty() || running == 0; });
            ended.assign(std::make_move_iterator(done.begin()), std::make_move_iterator(done.end()));
            done.clear();
            finished = running == 0;
        }
        for (const Done& d : ended) {
            const std::size_t p = action.positions[d.entry];
            if (store_run(session, range.commits[p], d.result, d.round, run + 1)) {
                ++run;
            } else {
                stopped = true;
            }
        }
    }
    threads.clear();  // joined: all have ended
    if (error) {
        std::rethrow_exception(error);
    }
    if (stopped || interrupt_requested()) {
        throw_stopped(m_cache, session);
    }
}

bool SessionDriver::store_run(const std::string& session, const CommitInfo& commit,
                              const ProbeRun& result, std::int64_t round, std::int64_t run) {
    if (result.interrupted) {
        return false;
    }
    SampleRecord base;
    base.commit = commit.id;
    base.round = round;
    base.run = run;
    base.wall_seconds = result.wall_seconds;
    base.timestamp = unix_now();
    base.build_fingerprint = m_build_fingerprint;
    base.probe_fingerprint = m_probe_fingerprint;
    base.machine = m_machine;
    base.node = result.node;
    std::vector<SampleRecord> samples;
    std::vector<MetricValueRecord> metric_values;
    if (result.ok) {
        for (double value : result.values) {
            SampleRecord s = base;
            s.ok = true;
            s.value = value;
            samples.push_back(s);
        }
        for (const auto& [metric, values] : result.extra) {
            for (double value : values) {
                metric_values.push_back(MetricValueRecord{base.commit, run, metric, value});
            }
        }
    } else {
        base.ok = false;
        base.failure = result.failure;
        base.output = result.output;
        samples.push_back(base);
        spdlog::warn("probe failed on {}{}: {}", commit.short_id(),
                     result.node.empty() ? "" : " (node " + result.node + ")", result.failure);
    }
    m_cache.store_samples(session, samples, metric_values);
    if (result.ok) {
        m_progress.samples += static_cast<int>(result.values.size());
    }
    show_status();
    return true;
}


void SessionDriver::profile_culprits(const std::string& session, const CommitRange& range,
                                     const Outcome& outcome) {
    if (m_profiler == nullptr || outcome.culprits.empty()) {
        return;
    }
    std::set<std::string> profiled;  // before an interruption: not profiled again on resume
    for (const auto& event : m_cache.load_events(session)) {
        if (event.kind == "profile") {
            if (auto record = parse_profile_record(event.data)) {
                profiled.insert(record->culprit);
            }
        }
    }
    std::map<std::size_t, ProfileRun> runs;  // by position: a parent may be a culprit too
    auto profile_at = [&](std::size_t p) -> const ProfileRun& {
        if (auto it = runs.find(p); it != runs.end()) {
            return it->second;
        }
        const CommitInfo& commit = range.commits[p];
        ProfileRun run;
        const auto build = m_cache.find_build(commit.id, m_build_fingerprint);
        if (!build || !build->ok || !std::filesystem::is_directory(build->artifacts_dir)) {
            run.failure = fmt::format("the artifacts of {} are gone (evicted from the artifact "
                                      "store); raise [cache] max_artifacts_size",
                                      commit.short_id());
        } else {
            m_progress.activity = fmt::format("profiling {}", commit.short_id());
            show_status();
            m_reporter.progress(fmt::format("profiling {} with {}",
                                            describe(commit, p, range.size()), m_profiler->tool()));
            run = m_profiler->profile(ProbeTarget{&commit, build->artifacts_dir, build->worktree},
                                      m_profile_dir / commit.short_id());
            if (run.interrupted || interrupt_requested()) {
                throw_stopped(m_cache, session);
            }
        }
        return runs.emplace(p, std::move(run)).first->second;
    };
    for (const auto& culprit : outcome.culprits) {
        const CommitInfo& commit = range.commits[culprit.position];
        if (profiled.contains(commit.id)) {
            continue;
        }
        const ProfileRun& before = profile_at(culprit.parent);
        const ProfileRun& after = profile_at(culprit.position);
        ProfileRecord record;
        record.culprit = commit.id;
        record.parent = range.commits[culprit.parent].id;
        record.tool = m_profiler->tool();
        record.directory = m_profile_dir.string();
        for (const auto& file : before.files) {
            record.parent_files.push_back(file.string());
        }
        for (const auto& file : after.files) {
            record.culprit_files.push_back(file.string());
        }
        record.runs = std::max(before.profile.runs, after.profile.runs);
        std::string message;
        if (before.ok && after.ok) {
            record.ok = true;
            record.diff = diff_profiles(before.profile, after.profile, m_profile_top);
            if (record.diff.grew.empty()) {
                message = fmt::format("profile of {} vs its parent: no function's share grew",
                                      commit.short_id());
            } else {
                const auto& top = record.diff.grew.front();
                message = fmt::format(
                    "profile of {} vs its parent: {} grew most, {:+.1f} points ({:.1f}% -> "
                    "{:.1f}% of the {})",
                    commit.short_id(), short_function_name(top.function), top.change() * 100,
                    top.parent_share * 100, top.culprit_share * 100,
                    record.tool == "callgrind" ? "instructions" : "samples");
            }
        } else {
            record.error = !before.ok ? fmt::format("parent {}: {}", record.parent.substr(0, 10),
                                                    before.failure)
                                      : after.failure;
            message = fmt::format("profiling {} failed: {}", commit.short_id(), record.error);
        }
        m_cache.append_event(session, "profile", message, profile_record_json(record));
        m_reporter.progress(message);
    }
}

}  // namespace perfbisect
