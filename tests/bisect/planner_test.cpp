#include <catch2/catch.hpp>

#include <random>

#include "bisect/planner.hpp"

using namespace perfbisect;

namespace {

PlannerSettings settings(Direction direction = Direction::lower_is_better) {
    PlannerSettings s;
    s.decide.samples = 10;
    s.decide.alpha = 0.01;
    s.decide.min_effect = 0.05;
    s.direction = direction;
    return s;
}

// A simulated history: each position has a true level; samples are level times
// lognormal noise. Unbuildable positions fail to build.
struct History {
    std::vector<double> levels;
    std::vector<bool> unbuildable;
    double noise = 0.03;
};

struct SearchResult {
    Outcome outcome;
    int builds = 0;
    int runs = 0;
    std::vector<Verdict> verdicts;
};

SearchResult search(const History& h, const PlannerSettings& s, unsigned seed = 1) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> noise(0.0, h.noise);
    Observations obs(h.levels.size());
    SearchResult result;
    for (int step = 0; step < 1000; ++step) {
        Plan plan = plan_next(s, obs);
        result.verdicts = plan.verdicts;
        if (auto* b = std::get_if<BuildAction>(&plan.next)) {
            ++result.builds;
            const bool broken = !h.unbuildable.empty() && h.unbuildable[b->position];
            obs[b->position].build = broken ? BuildState::failed : BuildState::ok;
            obs[b->position].build_failure = broken ? "exit code 2" : "";
        } else if (auto* m = std::get_if<MeasureAction>(&plan.next)) {
            REQUIRE(m->rounds > 0);
            for (int r = 0; r < m->rounds; ++r) {
                for (std::size_t p : m->positions) {
                    REQUIRE(obs[p].build == BuildState::ok);
                    obs[p].values.push_back(h.levels[p] * noise(rng));
                    ++result.runs;
                }
            }
        } else if (auto* d = std::get_if<DoneAction>(&plan.next)) {
            result.outcome = d->outcome;
            return result;
        } else {
            FAIL("planner failed: " << std::get<FailAction>(plan.next).message);
        }
    }
    FAIL("the search did not end in 1000 steps");
    return result;
}

History step_history(std::size_t n, std::size_t culprit, double slowdown) {
    History h;
    for (std::size_t p = 0; p < n; ++p) {
        h.levels.push_back(p >= culprit ? 100.0 * (1 + slowdown) : 100.0);
    }
    return h;
}

}  // namespace

TEST_CASE("planner builds and measures both ends first, interleaved", "[planner]") {
    Observations obs(10);
    auto plan = plan_next(settings(), obs);
    REQUIRE(std::holds_alternative<BuildAction>(plan.next));
    CHECK(std::get<BuildAction>(plan.next).position == 0);
    obs[0].build = BuildState::ok;
    plan = plan_next(settings(), obs);
    REQUIRE(std::holds_alternative<BuildAction>(plan.next));
    CHECK(std::get<BuildAction>(plan.next).position == 9);
    obs[9].build = BuildState::ok;
    plan = plan_next(settings(), obs);
    REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
    const auto& m = std::get<MeasureAction>(plan.next);
    CHECK(m.positions == std::vector<std::size_t>{0, 9});
    CHECK(m.rounds == 10);
}

TEST_CASE("planner finds a planted culprit in few builds", "[planner]") {
    for (std::size_t culprit : {1u, 7u, 20u, 38u, 39u}) {
        CAPTURE(culprit);
        auto result = search(step_history(40, culprit, 0.20), settings());
        REQUIRE(result.outcome.status == SessionStatus::culprit_found);
        REQUIRE(result.outcome.culprits.size() == 1);
        const auto& c = result.outcome.culprits[0];
        CHECK(c.position == culprit);
        CHECK(c.parent == culprit - 1);
        CHECK(c.effect == Approx(0.20).margin(0.05));
        CHECK(c.ci_low < c.effect);
        CHECK(c.ci_high > c.effect);
        CHECK(c.ci_low > 0.1);
        CHECK(c.p_value < 0.001);
        CHECK(c.share == Approx(1.0).margin(0.25));
        CHECK(result.builds <= 2 + 7);  // ends plus ~log2(38)
    }
}

TEST_CASE("planner handles higher-is-better metrics", "[planner]") {
    History h = step_history(20, 12, -0.25);  // throughput drops by 25 %
    auto result = search(h, settings(Direction::higher_is_better));
    REQUIRE(result.outcome.status == SessionStatus::culprit_found);
    CHECK(result.outcome.culprits[0].position == 12);
    CHECK(result.outcome.culprits[0].effect == Approx(0.25).margin(0.06));
    CHECK(result.outcome.culprits[0].ci_low > 0);
}

TEST_CASE("planner reports not_reproduced without chasing improvements", "[planner]") {
    SECTION("no change") {
        auto result = search(step_history(20, 10, 0.0), settings());
        CHECK(result.outcome.status == SessionStatus::not_reproduced);
        CHECK(result.builds == 2);
        CHECK(result.outcome.summary.find("not reproduced") != std::string::npos);
    }
    SECTION("an improvement") {
        auto result = search(step_history(20, 10, -0.3), settings());
        CHECK(result.outcome.status == SessionStatus::not_reproduced);
    }
    SECTION("a change below min_effect") {
        History h = step_history(20, 10, 0.02);
        h.noise = 0.002;
        auto result = search(h, settings());
        CHECK(result.outcome.status == SessionStatus::not_reproduced);
    }
}

TEST_CASE("planner skips unbuildable commits to a neighbour", "[planner]") {
    History h = step_history(21, 13, 0.2);
    h.unbuildable.assign(21, false);
    h.unbuildable[10] = true;  // the first midpoint
    auto result = search(h, settings());
    REQUIRE(result.outcome.status == SessionStatus::culprit_found);
    CHECK(result.outcome.culprits[0].position == 13);
    CHECK(result.verdicts[10] == Verdict::skipped);
}

TEST_CASE("planner reports ambiguous when skipped commits hide the culprit", "[planner]") {
    History h = step_history(21, 13, 0.2);
    h.unbuildable.assign(21, false);
    h.unbuildable[12] = true;
    h.unbuildable[13] = true;
    auto result = search(h, settings());
    REQUIRE(result.outcome.status == SessionStatus::ambiguous);
    CHECK(result.outcome.candidates == std::vector<std::size_t>{12, 13, 14});
    CHECK(result.outcome.culprits.empty());
}

TEST_CASE("planner fails when good does not build or probe", "[planner]") {
    Observations obs(5);
    obs[0].build = BuildState::failed;
    obs[0].build_failure = "exit code 1";
    obs[4].build = BuildState::ok;
    auto plan = plan_next(settings(), obs);
    REQUIRE(std::holds_alternative<FailAction>(plan.next));
    CHECK(std::get<FailAction>(plan.next).message.find("good commit failed to build") !=
          std::string::npos);

    obs[0].build = BuildState::ok;
    obs[4].failed_runs = 10;
    obs[4].last_probe_failure = "exit code 3";
    plan = plan_next(settings(), obs);
    REQUIRE(std::holds_alternative<FailAction>(plan.next));
    CHECK(std::get<FailAction>(plan.next).message.find("bad commit") != std::string::npos);
    CHECK(std::get<FailAction>(plan.next).message.find("exit code 3") != std::string::npos);
}

TEST_CASE("planner is a pure function of the observations", "[planner]") {
    History h = step_history(30, 17, 0.2);
    auto first = search(h, settings(), 7);
    auto second = search(h, settings(), 7);
    CHECK(first.builds == second.builds);
    CHECK(first.runs == second.runs);
    CHECK(first.verdicts == second.verdicts);
}
