#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "bisect/session_driver.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/interrupt.hpp"
#include "util/machine.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

// Fakes at the side effects: builds succeed (or fail for listed commits)
// without running anything; probes return level * noise for the commit.
class FakeBuilder final : public Builder {
public:
    explicit FakeBuilder(std::filesystem::path root) : m_root(std::move(root)) {}
    BuildOutcome build(const CommitInfo& commit) override {
        ++builds;
        BuildOutcome outcome;
        outcome.ok = broken.count(commit.id) == 0;
        outcome.reason = outcome.ok ? "" : "exit code 2";
        outcome.artifacts_dir = m_root / commit.id;
        outcome.worktree = m_root / commit.id;
        std::filesystem::create_directories(outcome.artifacts_dir);
        outcome.seconds = 0.25;
        return outcome;
    }
    std::set<std::string> broken;
    int builds = 0;

private:
    std::filesystem::path m_root;
};

// The k-th value of a commit depends only on the commit and k, so a search
// that is interrupted and resumed sees the same values as one that is not.
class FakeProber final : public Prober {
public:
    explicit FakeProber(std::map<std::string, double> levels,
                        std::map<std::string, int> taken = {})
        : m_levels(std::move(levels)), m_taken(std::move(taken)) {}
    ProbeRun run(const ProbeTarget& target) override {
        ++runs;
        if (interrupt_after > 0 && runs == interrupt_after) {
            on_interrupt();
            return ProbeRun{false, true, {}, "interrupted", 0, "", {}, ""};
        }
        const std::string& id = target.commit->id;
        std::mt19937_64 rng(std::hash<std::string>{}(id) ^ static_cast<std::uint64_t>(m_taken[id]++));
        std::lognormal_distribution<double> noise(0.0, 0.03);
        return ProbeRun{true, false, {m_levels.at(id) * noise(rng)}, "", 0.01, "", {}, ""};
    }
    int runs = 0;
    int interrupt_after = 0;
    std::function<void()> on_interrupt = [] { request_interrupt(); };

private:
    std::map<std::string, double> m_levels;
    std::map<std::string, int> m_taken;  // values given per commit so far
};

struct Fixture {
    TempDir dir;
    CommitRange range;
    std::map<std::string, double> levels;
    Config config;

    explicit Fixture(std::size_t n = 24, std::size_t culprit = 15) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::string id = std::string(36, '0') + std::to_string(1000 + i);
            range.commits.push_back({id, "commit " + std::to_string(i), "T <t@x>", 0});
            levels[id] = i >= culprit ? 120.0 : 100.0;
        }
        config.decide.samples = 8;
        config.decide.min_effect = 0.05;
        config.probe.metric = "wall";
        config.build.command.shell = true;
        config.build.command.words = {"make"};
    }

    std::string start(Cache& cache) {
        SessionRecord record;
        record.good = "good";
        record.bad = "bad";
        record.config_path = "/c.toml";
        record.metric = "wall";
        record.direction = "lower";
        return cache.create_session(record, range).id;
    }
};

}  // namespace

TEST_CASE("driver runs a session to the culprit and records everything", "[driver]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    FakeBuilder builder(f.dir / "art");
    FakeProber prober(f.levels);
    QuietReporter quiet;
    SessionDriver driver(cache, builder, prober, quiet, f.config);
    const Outcome outcome = driver.run(id);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);

    CHECK(cache.find_session(id)->status == "culprit_found");
    CHECK(static_cast<int>(cache.load_samples(id).size()) == prober.runs);
    CHECK(static_cast<int>(cache.builds_by_session(id).size()) == builder.builds);
    // Interleaving: the ends were measured in shared rounds, alternating.
    std::map<std::int64_t, std::set<std::string>> rounds;
    for (const auto& s : cache.load_samples(id)) {
        rounds[s.round].insert(s.commit);
    }
    CHECK(rounds.begin()->second.size() == 2);
    bool logged_decision = false;
    for (const auto& e : cache.load_events(id)) {
        logged_decision = logged_decision || e.kind == "decision";
    }
    CHECK(logged_decision);
}

TEST_CASE("an interrupted session resumes without measuring anything twice", "[driver]") {
    Fixture f;
    const auto db = f.dir / "db.sqlite";
    std::string id;
    int runs_before = 0;
    {
        Cache cache = Cache::open(db);
        id = f.start(cache);
        FakeBuilder builder(f.dir / "art");
        FakeProber prober(f.levels);
        prober.interrupt_after = 30;
        QuietReporter quiet;
        SessionDriver driver(cache, builder, prober, quiet, f.config);
        try {
            driver.run(id);
            FAIL("the interrupt was ignored");
        } catch (const Failure& failure) {
            CHECK(failure.kind() == ErrorKind::interrupted);
        }
        clear_interrupt();
        runs_before = prober.runs - 1;  // the interrupted run stored nothing
        CHECK(static_cast<int>(cache.load_samples(id).size()) == runs_before);
        CHECK(cache.find_session(id)->status == "running");
    }
    // A new process: new cache handle, new builder and prober.
    Cache cache = Cache::open(db);
    FakeBuilder builder(f.dir / "art");
    std::map<std::string, int> taken;
    for (const auto& sample : cache.load_samples(id)) {
        ++taken[sample.commit];
    }
    FakeProber prober(f.levels, taken);
    QuietReporter quiet;
    SessionDriver driver(cache, builder, prober, quiet, f.config);
    const Outcome outcome = driver.run(id);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);
    CHECK(builder.builds <= 6);  // the ends were not rebuilt: only bisection steps remain

    // Everything measured before the interruption was kept, and the resumed
    // process measured less than a session that starts from nothing.
    CHECK(static_cast<int>(cache.load_samples(id).size()) == runs_before + prober.runs);
    Fixture g;
    Cache other = Cache::open(g.dir / "db.sqlite");
    const std::string other_id = g.start(other);
    FakeBuilder other_builder(g.dir / "art");
    FakeProber other_prober(g.levels);
    SessionDriver other_driver(other, other_builder, other_prober, quiet, g.config);
    other_driver.run(other_id);
    // Same values, nearly the same search: the two processes together ran what
    // an uninterrupted session runs, give or take the round cut by the
    // interruption (whose stored part shifts later values of its commits).
    // Measuring again from scratch would add all runs_before (29) runs.
    CHECK(runs_before + prober.runs <= other_prober.runs + 6);
    CHECK(runs_before + prober.runs >= other_prober.runs - 6);
}

TEST_CASE("driver stops with a runtime error when good does not build", "[driver]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    FakeBuilder builder(f.dir / "art");
    builder.broken.insert(f.range.good().id);
    FakeProber prober(f.levels);
    QuietReporter quiet;
    SessionDriver driver(cache, builder, prober, quiet, f.config);
    try {
        driver.run(id);
        FAIL("no error");
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::runtime);
        CHECK(std::string(failure.what()).find("good commit failed to build") != std::string::npos);
    }
    CHECK(prober.runs == 0);
}

namespace {

class RecordingReporter final : public Reporter {
public:
    void progress(std::string_view line) override { lines.emplace_back(line); }
    void status(const Progress& progress) override { statuses.push_back(progress); }
    void finish() override { ++finished; }

    std::vector<std::string> lines;
    std::vector<Progress> statuses;
    int finished = 0;
};

}  // namespace

TEST_CASE("the driver reports where the session stands while it runs, then finishes",
          "[driver][reporter]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    FakeBuilder builder(f.dir / "art");
    FakeProber prober(f.levels);
    RecordingReporter reporter;
    SessionDriver driver(cache, builder, prober, reporter, f.config);
    REQUIRE(driver.run(id).status == SessionStatus::culprit_found);

    REQUIRE_FALSE(reporter.statuses.empty());
    CHECK(reporter.statuses.front().commits_left == 23);  // every position but good's
    CHECK(reporter.statuses.front().activity.starts_with("building "));
    int samples = 0;
    int step = 0;
    bool measuring = false;
    for (const auto& status : reporter.statuses) {
        CHECK(status.samples >= samples);  // one more with every recorded run
        CHECK(status.step >= step);
        CHECK(status.steps_estimate >= status.step);
        CHECK(status.range_size == 24);
        measuring = measuring || status.activity.starts_with("measuring ");
        samples = status.samples;
        step = status.step;
    }
    CHECK(measuring);
    CHECK(samples == static_cast<int>(cache.load_samples(id).size()));
    CHECK(reporter.finished >= 1);
    CHECK(reporter.lines.back().starts_with("culprit"));
}

TEST_CASE("the event log holds every decision with its comparison, and every step with why",
          "[driver][events]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    FakeBuilder builder(f.dir / "art");
    FakeProber prober(f.levels);
    QuietReporter quiet;
    SessionDriver driver(cache, builder, prober, quiet, f.config);
    driver.set_machine("test-machine");
    const Outcome outcome = driver.run(id);
    REQUIRE(outcome.status == SessionStatus::culprit_found);

    int decisions = 0;
    int steps = 0;
    int builds = 0;
    std::set<std::pair<std::string, std::string>> decided;  // (position, verdict)
    for (const auto& e : cache.load_events(id)) {
        if (e.kind == "decision") {
            ++decisions;
            CHECK(e.data.find("\"compared\":[{\"with\":") != std::string::npos);
            CHECK(e.data.find("\"p_value\":") != std::string::npos);
            CHECK(e.message.find("vs good p = ") != std::string::npos);
            const auto at = e.data.find("\"position\":");
            const auto verdict = e.data.find("\"verdict\":");
            // No decision is logged twice with the same verdict.
            CHECK(decided
                      .emplace(e.data.substr(at, e.data.find(',', at) - at),
                               e.data.substr(verdict, e.data.find(',', verdict) - verdict))
                      .second);
        } else if (e.kind == "step") {
            ++steps;
            CHECK(e.data.find("\"why\":\"\"") == std::string::npos);  // every step says why
            CHECK(e.message.find(": ") != std::string::npos);
            builds += e.data.find("\"action\":\"build\"") != std::string::npos;
        }
    }
    CHECK(decisions >= 3);
    CHECK(builds == builder.builds);
    CHECK(steps > builds);
    const auto done = cache.load_events(id).back();
    CHECK(done.kind == "done");
    const std::string culprit = f.range.commits[15].id;
    CHECK(done.data.find(culprit) != std::string::npos);
    const auto session = cache.session(id);
    CHECK(session.culprits == culprit);
    CHECK(session.progress.empty());  // nothing in progress once done
    for (const auto& s : cache.load_samples(id)) {
        CHECK(s.machine == "test-machine");
    }
}

TEST_CASE("the observation cache reads only new samples and agrees with a full load",
          "[driver]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    ObservationCache observations(f.range, f.config.build_fingerprint());
    SampleRecord s;
    s.commit = f.range.commits[0].id;
    s.round = 1;
    s.run = 1;
    s.value = 100;
    cache.store_samples(id, {s});
    CHECK(observations.update(cache, id)[0].values.size() == 1);
    s.run = 2;
    s.round = 2;
    s.value = 101;
    SampleRecord failed = s;
    failed.commit = f.range.commits[3].id;
    failed.ok = false;
    failed.failure = "exit code 1";
    cache.store_samples(id, {s, failed});
    const auto& updated = observations.update(cache, id);
    CHECK(updated[0].values == std::vector<double>{100, 101});
    CHECK(updated[3].failed_runs == 1);
    CHECK(observations.max_round() == 2);
    CHECK(observations.max_run() == 2);
    const Observations full = load_observations(cache, id, f.range, f.config.build_fingerprint());
    CHECK(full[0].values == updated[0].values);
    CHECK(full[0].rounds == updated[0].rounds);
    CHECK(full[3].last_probe_failure == "exit code 1");
}

TEST_CASE("a second session over the same range reuses every sample and builds nothing",
          "[driver][reuse]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    FakeBuilder builder(f.dir / "art");
    QuietReporter quiet;
    const std::string first = f.start(cache);
    FakeProber prober(f.levels);
    SessionDriver(cache, builder, prober, quiet, f.config).run(first);
    const int builds = builder.builds;
    const int runs = prober.runs;

    const std::string second = f.start(cache);
    const auto reused = cache.reuse_samples(second, f.config.build_fingerprint(),
                                            f.config.probe_fingerprint(),
                                            this_machine().fingerprint());
    CHECK(reused.samples == runs);
    FakeProber idle(f.levels);
    const Outcome outcome = SessionDriver(cache, builder, idle, quiet, f.config).run(second);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);
    CHECK(builder.builds == builds);  // nothing built
    CHECK(idle.runs == 0);            // nothing measured
    CHECK(cache.sample_totals(second).reused_values == runs);
}

TEST_CASE("a session aborted from outside stops before its next step", "[driver]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    FakeBuilder builder(f.dir / "art");
    // The prober aborts the session through a second connection, as
    // `perfbisect abort` in another process does.
    class AbortingProber final : public Prober {
    public:
        AbortingProber(FakeProber& inner, std::filesystem::path db, std::string id)
            : m_inner(inner), m_db(std::move(db)), m_id(std::move(id)) {}
        ProbeRun run(const ProbeTarget& target) override {
            if (++runs == 10) {
                Cache other = Cache::open(m_db);
                other.abort_session(m_id, "by a test");
            }
            return m_inner.run(target);
        }
        int runs = 0;

    private:
        FakeProber& m_inner;
        std::filesystem::path m_db;
        std::string m_id;
    };
    FakeProber inner(f.levels);
    AbortingProber prober(inner, f.dir / "db.sqlite", id);
    QuietReporter quiet;
    try {
        SessionDriver(cache, builder, prober, quiet, f.config).run(id);
        FAIL("the abort was ignored");
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::runtime);
        CHECK(std::string(failure.what()).find("aborted") != std::string::npos);
    }
    CHECK(cache.session_status(id) == "aborted");
    // The action in flight (one measure action) finished; nothing after it.
    CHECK(prober.runs < 30);
    CHECK(static_cast<int>(cache.load_samples(id).size()) == prober.runs);
}

TEST_CASE("a session left by the foundation's schema 1 migrates and resumes to its culprit",
          "[driver][migration]") {
    TempDir dir;
    const auto db = dir / "v1.db";
    std::filesystem::copy_file(PERFBISECT_SOURCE_DIR "/tests/data/cache/schema-v1.db", db);
    Cache cache = Cache::open(db);
    const SessionRecord session = cache.session("f1c7e001");
    const Config config = session_config(session);
    const auto before = cache.load_samples(session.id);
    REQUIRE(before.size() == 16);

    Fixture f;  // the fixture's commits: 24, slower from position 15
    std::map<std::string, int> taken;
    for (const auto& sample : before) {
        ++taken[sample.commit];
    }
    FakeBuilder builder(dir / "art");
    FakeProber prober(f.levels, taken);
    QuietReporter quiet;
    const Outcome outcome = SessionDriver(cache, builder, prober, quiet, config).run(session.id);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);
    CHECK(cache.session_status(session.id) == "culprit_found");
    // The fixture's samples are still there, first and unchanged, and were used:
    // the ends were not measured again from scratch.
    const auto after = cache.load_samples(session.id);
    REQUIRE(after.size() == before.size() + static_cast<std::size_t>(prober.runs));
    for (std::size_t i = 0; i < before.size(); ++i) {
        CHECK(after[i].value == before[i].value);
        CHECK(after[i].round == before[i].round);
    }
    CHECK(after[before.size()].round > 8);  // new rounds continue after the stored ones
}

TEST_CASE("an aborted session stops with a runtime error and leaves no stop pending", "[driver]") {
    // What `perfbisect abort` does to the process running the session: marks
    // it aborted, then SIGUSR1 cuts the probe run in flight.
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    FakeBuilder builder(f.dir / "art");
    FakeProber prober(f.levels);
    prober.interrupt_after = 12;
    prober.on_interrupt = [&] {
        REQUIRE(cache.abort_session(id, "aborted by a test"));
        request_abort();
    };
    QuietReporter quiet;
    SessionDriver driver(cache, builder, prober, quiet, f.config);
    try {
        driver.run(id);
        FAIL("the abort was ignored");
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::runtime);
        CHECK_THAT(failure.what(), Catch::Contains("was aborted"));
    }
    // A server's worker takes the next alert: nothing asks it to stop.
    CHECK_FALSE(interrupt_requested());
    CHECK_FALSE(stop_requested());
    CHECK(cache.find_session(id)->status == "aborted");
    CHECK(static_cast<int>(cache.load_samples(id).size()) == prober.runs - 1);
}

namespace {

// One lane of a cluster ([executor] nodes): FakeProber's values, times
// `factor` (a node that measures slower), reported as measured on `node`.
// Each lane has its own, as each runs from a thread of its own.
class NodeProber final : public Prober {
public:
    NodeProber(const std::map<std::string, double>& levels, std::string node, double factor)
        : m_levels(levels), m_node(std::move(node)), m_factor(factor) {}
    ProbeRun run(const ProbeTarget& target) override {
        ++runs;
        if (before_run) {
            before_run(runs);
        }
        if (interrupt_after > 0 && runs == interrupt_after) {
            request_interrupt();
            ProbeRun cut;
            cut.interrupted = true;
            cut.failure = "interrupted";
            return cut;
        }
        const std::string& id = target.commit->id;
        std::mt19937_64 rng(std::hash<std::string>{}(id + m_node) ^
                            static_cast<std::uint64_t>(m_taken[id]++));
        std::lognormal_distribution<double> noise(0.0, 0.03);
        ProbeRun result;
        result.ok = true;
        result.values = {m_levels.at(id) * m_factor * noise(rng)};
        result.wall_seconds = 0.01;
        result.node = m_node;
        ++finished;
        return result;
    }
    int runs = 0;
    int interrupt_after = 0;
    std::atomic<int> finished{0};
    std::function<void(int run)> before_run;

private:
    const std::map<std::string, double>& m_levels;
    std::string m_node;
    double m_factor;
    std::map<std::string, int> m_taken;
};

// A session of f on three nodes (n2 measures 5 % slower) with the given
// blocking; the probers are left in `lanes` for the test to count.
Outcome run_on_nodes(Fixture& f, Cache& cache, const std::string& id, NodeBlocking blocking,
                     std::vector<std::unique_ptr<NodeProber>>& lanes) {
    f.config.executor.nodes = 3;
    f.config.executor.blocking = blocking;
    for (const auto& [node, factor] :
         {std::pair{"n1", 1.0}, std::pair{"n2", 1.05}, std::pair{"n3", 1.0}}) {
        lanes.push_back(std::make_unique<NodeProber>(f.levels, node, factor));
    }
    FakeBuilder builder(f.dir / "art");
    QuietReporter quiet;
    SessionDriver driver(cache, builder, *lanes[0], quiet, f.config);
    driver.set_lanes({lanes[1].get(), lanes[2].get()});
    return driver.run(id);
}

int runs_of(const std::vector<std::unique_ptr<NodeProber>>& lanes) {
    int runs = 0;
    for (const auto& lane : lanes) {
        runs += lane->runs;
    }
    return runs;
}

// A new session of f on three nodes with the given blocking, run to its
// end: its samples, once it is checked that it found the culprit and stored
// every run of every lane.
std::vector<SampleRecord> samples_on_nodes(Fixture& f, NodeBlocking blocking) {
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    std::vector<std::unique_ptr<NodeProber>> lanes;
    const Outcome outcome = run_on_nodes(f, cache, id, blocking, lanes);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);
    auto samples = cache.load_samples(id);
    CHECK(static_cast<int>(samples.size()) == runs_of(lanes));
    for (const auto& lane : lanes) {
        CHECK(lane->runs > 0);
    }
    return samples;
}

}  // namespace

TEST_CASE(
    "on three nodes with full blocking every node measures every commit of a round, as a "
    "round of its own",
    "[driver][nodes]") {
    Fixture f;
    const auto samples = samples_on_nodes(f, NodeBlocking::full);
    std::map<std::int64_t, std::set<std::string>> nodes_of_round;
    std::map<std::string, std::map<std::string, int>> per_commit;  // commit -> node -> values
    for (const auto& s : samples) {
        nodes_of_round[s.round].insert(s.node);
        ++per_commit[s.commit][s.node];
    }
    for (const auto& [round, nodes] : nodes_of_round) {
        INFO("round " << round);
        CHECK(nodes.size() == 1);
    }
    // Every commit measured was measured alike on each node.
    for (const auto& [commit, nodes] : per_commit) {
        INFO(commit);
        REQUIRE(nodes.size() == 3);
        CHECK(nodes.at("n1") == nodes.at("n2"));
        CHECK(nodes.at("n2") == nodes.at("n3"));
    }
}

TEST_CASE(
    "on three nodes with rotate blocking each entry runs once, on a node that turns with "
    "the round",
    "[driver][nodes]") {
    Fixture f;
    const auto samples = samples_on_nodes(f, NodeBlocking::rotate);
    std::map<std::int64_t, std::map<std::string, int>> round_commits;  // round -> commit -> runs
    std::map<std::string, std::set<std::string>> nodes_of_commit;
    for (const auto& s : samples) {
        ++round_commits[s.round][s.commit];
        nodes_of_commit[s.commit].insert(s.node);
    }
    // The ends (measured in many rounds) visited every node; no round ran a
    // commit on every node, as full blocking would.
    CHECK(nodes_of_commit.at(f.range.good().id).size() == 3);
    CHECK(nodes_of_commit.at(f.range.bad().id).size() == 3);
    int rounds_with_every_node = 0;
    for (const auto& [round, commits] : round_commits) {
        for (const auto& [commit, runs] : commits) {
            rounds_with_every_node += runs == 3 ? 1 : 0;
        }
    }
    CHECK(rounds_with_every_node == 0);
}

TEST_CASE("a session on three nodes interrupted in a round keeps what the other nodes measured",
          "[driver][nodes]") {
    Fixture f;
    const auto db = f.dir / "db.sqlite";
    std::string id;
    int stored_before = 0;
    {
        Cache cache = Cache::open(db);
        id = f.start(cache);
        f.config.executor.nodes = 3;
        f.config.executor.blocking = NodeBlocking::full;
        std::vector<std::unique_ptr<NodeProber>> lanes;
        for (const char* node : {"n1", "n2", "n3"}) {
            lanes.push_back(std::make_unique<NodeProber>(f.levels, node, 1.0));
        }
        lanes[1]->interrupt_after = 20;
        FakeBuilder builder(f.dir / "art");
        QuietReporter quiet;
        SessionDriver driver(cache, builder, *lanes[0], quiet, f.config);
        driver.set_lanes({lanes[1].get(), lanes[2].get()});
        CHECK_THROWS_AS(driver.run(id), Failure);
        clear_interrupt();
        stored_before = static_cast<int>(cache.load_samples(id).size());
        // Every run but the one cut off was stored: those n1 and n3 finished
        // in the round n2 was interrupted in, too.
        CHECK(stored_before == runs_of(lanes) - 1);
        CHECK(lanes[1]->runs == 20);
    }
    Cache cache = Cache::open(db);
    std::vector<std::unique_ptr<NodeProber>> lanes;
    const Outcome outcome = run_on_nodes(f, cache, id, NodeBlocking::full, lanes);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);
    CHECK(static_cast<int>(cache.load_samples(id).size()) == stored_before + runs_of(lanes));
}

TEST_CASE("lanes do not wait for each other between the rounds of a measurement",
          "[driver][nodes]") {
    Fixture f;
    Cache cache = Cache::open(f.dir / "db.sqlite");
    const std::string id = f.start(cache);
    f.config.executor.nodes = 3;
    f.config.executor.blocking = NodeBlocking::rotate;
    std::vector<std::unique_ptr<NodeProber>> lanes;
    for (const char* node : {"n1", "n2", "n3"}) {
        lanes.push_back(std::make_unique<NodeProber>(f.levels, node, 1.0));
    }
    // The reproduce step measures good and bad in rounds; rotated over three
    // lanes, lane 1 has runs in rounds 1 and 3, lane 0 its first in round 2.
    // Lane 0's first run waits (10 s at most) for lane 1 to finish two runs:
    // with a barrier after each round, lane 1 could not start round 3.
    bool overlapped = false;
    lanes[0]->before_run = [&](int run) {
        if (run != 1) {
            return;
        }
        for (int i = 0; i < 1000 && lanes[1]->finished < 2; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        overlapped = lanes[1]->finished >= 2;
    };
    FakeBuilder builder(f.dir / "art");
    QuietReporter quiet;
    SessionDriver driver(cache, builder, *lanes[0], quiet, f.config);
    driver.set_lanes({lanes[1].get(), lanes[2].get()});
    const Outcome outcome = driver.run(id);
    CHECK(overlapped);
    REQUIRE(outcome.status == SessionStatus::culprit_found);
    CHECK(outcome.culprits.at(0).position == 15);
}
