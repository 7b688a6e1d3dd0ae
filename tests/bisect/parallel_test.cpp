// The parallel search (PlannerSettings::parallel = W > 1): which commits the
// planner measures together, on hand-made observations, and whole simulated
// searches against W = 1.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "bisect/planner.hpp"
#include "bisect/simulation.hpp"

using namespace perfbisect;

namespace {

PlannerSettings settings(std::size_t width) {
    PlannerSettings s;
    s.decide.samples = 10;
    s.decide.alpha = 0.01;
    s.decide.min_effect = 0.05;
    s.parallel = width;
    return s;
}

// Good (0) at 100 and bad (last) at 120, ten rounds each, sd about 1; every
// inner commit built, none measured.
Observations reproduced_ends(std::size_t count) {
    Observations obs(count);
    std::mt19937_64 rng(11);
    std::normal_distribution<double> noise(0, 1);
    for (auto& o : obs) {
        o.build = BuildState::ok;
    }
    for (std::int64_t r = 1; r <= 10; ++r) {
        for (std::size_t p : {std::size_t{0}, count - 1}) {
            obs[p].values.push_back((p == 0 ? 100 : 120) + noise(rng));
            obs[p].rounds.push_back(r);
        }
    }
    return obs;
}

void add_values(Observations& obs, std::size_t p, double level, int count, std::int64_t& round) {
    for (int i = 0; i < count; ++i) {
        obs[p].values.push_back(level + (i % 2 == 0 ? 0.5 : -0.5));
        obs[p].rounds.push_back(++round);
    }
}

// The inner commits of a measure action (the ends 0 and last left out), and
// how many runs it holds.
std::set<std::size_t> candidates(const MeasureAction& m, std::size_t last) {
    std::set<std::size_t> out;
    for (std::size_t p : m.positions) {
        if (p != 0 && p != last) {
            out.insert(p);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("k-section: W candidates cut an untouched gap into W + 1 equal parts",
          "[planner][parallel]") {
    // 0..20: the step is at one of 1..20, each equally likely; P(commit c is
    // at bad's level) = c / 20.
    const Observations obs = reproduced_ends(21);
    {
        const Plan plan = plan_next(settings(4), obs);
        REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
        const auto& m = std::get<MeasureAction>(plan.next);
        CHECK(candidates(m, 20) == std::set<std::size_t>{4, 8, 12, 16});
        // One value each in one round, and at most one run of a reference
        // for the whole batch (not one per candidate).
        CHECK(m.rounds == 1);
        CHECK(m.positions.size() <= 5);
    }
    {
        const Plan plan = plan_next(settings(3), obs);
        REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
        CHECK(candidates(std::get<MeasureAction>(plan.next), 20) ==
              std::set<std::size_t>{5, 10, 15});
    }
    {
        // One node: the single commit most in doubt, as before.
        const Plan plan = plan_next(settings(1), obs);
        REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
        CHECK(candidates(std::get<MeasureAction>(plan.next), 20) == std::set<std::size_t>{10});
    }
}

TEST_CASE("k-section: one run of an end for each commit measured for the first time",
          "[planner][parallel]") {
    // Good (0) at 100 and bad (20) at 120, eight rounds each (samples = 8),
    // sd about 7: fewer values than a candidate of the gap may get (12), so
    // the ends are measured beside the batch. On one node, one run of an end comes with
    // each new commit; on 4 nodes too, not one for the whole batch: the
    // end commits anchor the check of a level's two ends and the
    // confirmation, and one run per batch left them thin.
    Observations obs(21);
    for (auto& o : obs) {
        o.build = BuildState::ok;
    }
    for (std::int64_t r = 1; r <= 8; ++r) {
        for (std::size_t p : {std::size_t{0}, std::size_t{20}}) {
            obs[p].values.push_back((p == 0 ? 100 : 120) + (r % 2 == 0 ? 7 : -7));
            obs[p].rounds.push_back(r);
        }
    }
    PlannerSettings four = settings(4);
    four.decide.samples = 8;
    const Plan plan = plan_next(four, obs);
    REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
    const auto& m = std::get<MeasureAction>(plan.next);
    CHECK(candidates(m, 20) == std::set<std::size_t>{4, 8, 12, 16});
    // Four new commits, four end runs, to the end with fewer values in turn.
    CHECK(std::count(m.positions.begin(), m.positions.end(), std::size_t{0}) == 2);
    CHECK(std::count(m.positions.begin(), m.positions.end(), std::size_t{20}) == 2);
    CHECK(m.positions.size() == 8);

    PlannerSettings one = settings(1);
    one.decide.samples = 8;
    const Plan single = plan_next(one, obs);
    REQUIRE(std::holds_alternative<MeasureAction>(single.next));
    CHECK(std::get<MeasureAction>(single.next).positions == std::vector<std::size_t>{10, 0});
}

TEST_CASE("on W > 1 nodes a level's ends are measured until their difference is ruled out",
          "[planner][parallel]") {
    // Good (0) at 80, bad (2) at 117 and the culprit (1) at 114.5 on three
    // rounds shared with good, sd about 6: the culprit is confirmed, and it
    // and bad, one level, differ by 2.5 (+3.1 %, below min_effect = 5 %),
    // but on three values of the culprit that difference could still be
    // min_effect (a second culprit after it). One node takes the difference
    // as it is; on 4 nodes, where a culprit rests on fewer values, the
    // culprit gets more values first.
    Observations obs(3);
    for (auto& o : obs) {
        o.build = BuildState::ok;
    }
    const double deviation[] = {6, -6, 0};
    std::int64_t round = 0;
    for (int i = 0; i < 12; ++i) {
        ++round;
        obs[0].values.push_back(80 + deviation[i % 3]);
        obs[0].rounds.push_back(round);
        obs[2].values.push_back(117 + deviation[(i + 1) % 3]);
        obs[2].rounds.push_back(round);
    }
    for (int i = 0; i < 3; ++i) {
        ++round;
        obs[0].values.push_back(80 + deviation[(i + 2) % 3]);
        obs[0].rounds.push_back(round);
        obs[1].values.push_back(114.5 + deviation[i]);
        obs[1].rounds.push_back(round);
    }
    const Plan one = plan_next(settings(1), obs);
    REQUIRE(std::holds_alternative<DoneAction>(one.next));
    const Outcome& outcome = std::get<DoneAction>(one.next).outcome;
    CHECK(outcome.status == SessionStatus::culprit_found);
    REQUIRE(outcome.culprits.size() == 1);
    CHECK(outcome.culprits[0].position == 1);

    const Plan four = plan_next(settings(4), obs);
    REQUIRE(std::holds_alternative<MeasureAction>(four.next));
    const auto& m = std::get<MeasureAction>(four.next);
    REQUIRE_FALSE(m.positions.empty());
    CHECK(
        std::all_of(m.positions.begin(), m.positions.end(), [](std::size_t p) { return p == 1; }));
}

TEST_CASE("k-section measures only commits whose side is still in doubt", "[planner][parallel]") {
    // 4 and 8 measure like good, 12 and 16 like bad, decisively: the step is
    // at 9, 10, 11 or 12. Of 4 nodes only three get a commit (9, 10, 11);
    // the commits already placed, and those whose side they imply (1..7,
    // 13..19), are not measured again.
    Observations obs = reproduced_ends(21);
    std::int64_t round = 10;
    add_values(obs, 4, 100, 3, round);
    add_values(obs, 8, 100, 3, round);
    add_values(obs, 12, 120, 3, round);
    add_values(obs, 16, 120, 3, round);
    const Plan plan = plan_next(settings(4), obs);
    REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
    const auto& m = std::get<MeasureAction>(plan.next);
    CHECK(candidates(m, 20) == std::set<std::size_t>{9, 10, 11});
    CHECK(plan.open == std::vector<std::size_t>{9, 10, 11, 12});
}

TEST_CASE("k-section builds the commits of a batch before measuring it", "[planner][parallel]") {
    Observations obs = reproduced_ends(21);
    for (std::size_t p = 1; p < 20; ++p) {
        obs[p].build = BuildState::unknown;
    }
    std::set<std::size_t> built;
    for (int step = 0; step < 10; ++step) {
        const Plan plan = plan_next(settings(4), obs);
        if (const auto* b = std::get_if<BuildAction>(&plan.next)) {
            built.insert(b->position);
            obs[b->position].build = BuildState::ok;
            continue;
        }
        REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
        CHECK(candidates(std::get<MeasureAction>(plan.next), 20) == built);
        break;
    }
    CHECK(built == std::set<std::size_t>{4, 8, 12, 16});
}

TEST_CASE("a search on 4 nodes finds the culprit in fewer rounds, for about the same runs",
          "[planner][parallel]") {
    for (std::size_t culprit : {3u, 37u, 90u}) {
        CAPTURE(culprit);
        const SimulatedHistory history = step_history(128, culprit, 0.20);
        std::size_t widest = 0;
        const auto observe = [&](const Plan& plan) {
            if (const auto* m = std::get_if<MeasureAction>(&plan.next)) {
                widest = std::max(widest, candidates(*m, 127).size());
            }
        };
        const SimulationResult one = simulate_search(settings(1), history, 5, 1000);
        const SimulationResult four = simulate_search(settings(4), history, 5, 1000, observe);
        REQUIRE(one.finished);
        REQUIRE(four.finished);
        for (const auto* r : {&one, &four}) {
            REQUIRE(r->outcome.status == SessionStatus::culprit_found);
            REQUIRE(r->outcome.culprits.size() == 1);
            CHECK(r->outcome.culprits[0].position == culprit);
        }
        CHECK(one.rounds == one.probe_runs);  // one node: a round per run
        CHECK(widest >= 3);                   // several commits at once...
        CHECK(widest <= 4);                   // ...never more than the nodes
        CHECK(four.rounds * 2 < one.rounds);
        CHECK(four.probe_runs <= one.probe_runs * 13 / 10);
    }
}

TEST_CASE("node blocking: a node that measures slower names no false culprit",
          "[planner][parallel]") {
    // No regression at all; node 1 of 4 adds 5 % to every value it measures.
    // Without blocking the entries of a round go to nodes 0, 1, ... in turn:
    // good runs on node 0 and bad on node 1 in every round of reproduce, so
    // bad looks 5 % slower, and so does the culprit of every pair the
    // confirmation measures. With blocking every node measures every entry,
    // and node 1's offset, estimated within commits, is taken out.
    SimulatedHistory history = step_history(100, 100, 0);
    history.node_offsets = {0, 5, 0, 0};
    PlannerSettings s = settings(4);
    s.decide.min_effect = 0.02;
    int false_off = 0;
    int false_on = 0;
    int not_reproduced_on = 0;
    constexpr int k_searches = 8;
    for (int seed = 1; seed <= k_searches; ++seed) {
        s.node_blocking = false;
        const SimulationResult off = simulate_search(s, history, seed, 2000);
        REQUIRE(off.finished);
        false_off += !off.outcome.culprits.empty();
        s.node_blocking = true;
        const SimulationResult on = simulate_search(s, history, seed, 2000);
        REQUIRE(on.finished);
        false_on += !on.outcome.culprits.empty();
        not_reproduced_on += on.outcome.status == SessionStatus::not_reproduced;
    }
    CHECK(false_off >= k_searches / 2);
    CHECK(false_on == 0);
    CHECK(not_reproduced_on == k_searches);
}

TEST_CASE("rotating the entries over the nodes names no false culprit, for no more runs",
          "[planner][parallel]") {
    // As above: no regression, node 1 of 4 at +5 %. With rotate, entry j of
    // round r runs on node (j + r) mod 4 (bisect/node_schedule.hpp): good
    // and bad, measured in many rounds, visit every node, node 1's offset is
    // estimated within them and taken out of every value of node 1 (commits
    // measured once included), and the rounds of a confirmation pair see
    // each node in turn. Each entry still runs once per round, so the
    // search costs no more runs than with blocking off, and far fewer than
    // with every node measuring every entry (full).
    SimulatedHistory history = step_history(100, 100, 0);
    history.node_offsets = {0, 5, 0, 0};
    PlannerSettings s = settings(4);
    s.decide.min_effect = 0.02;
    int false_off = 0;
    int false_rotate = 0;
    int not_reproduced_rotate = 0;
    long runs_rotate = 0;
    long runs_full = 0;
    constexpr int k_searches = 8;
    for (int seed = 1; seed <= k_searches; ++seed) {
        const SimulationResult off = simulate_search(s, NodeBlocking::off, history, seed, 2000);
        REQUIRE(off.finished);
        false_off += !off.outcome.culprits.empty();
        const SimulationResult rotate =
            simulate_search(s, NodeBlocking::rotate, history, seed, 2000);
        REQUIRE(rotate.finished);
        false_rotate += !rotate.outcome.culprits.empty();
        not_reproduced_rotate += rotate.outcome.status == SessionStatus::not_reproduced;
        runs_rotate += rotate.probe_runs;
        const SimulationResult full = simulate_search(s, NodeBlocking::full, history, seed, 2000);
        REQUIRE(full.finished);
        runs_full += full.probe_runs;
    }
    CHECK(false_off >= k_searches / 2);
    CHECK(false_rotate == 0);
    CHECK(not_reproduced_rotate == k_searches);
    CHECK(runs_rotate * 3 < runs_full * 2);
}

TEST_CASE("rotate keeps a real culprit beside slower and faster nodes", "[planner][parallel]") {
    SimulatedHistory history = step_history(64, 41, 0.10);
    history.node_offsets = {0, 10, -5, 0};
    double effects = 0;
    for (std::uint64_t seed : {1u, 2u, 3u, 7u}) {
        CAPTURE(seed);
        const SimulationResult r =
            simulate_search(settings(4), NodeBlocking::rotate, history, seed);
        REQUIRE(r.finished);
        REQUIRE(r.outcome.status == SessionStatus::culprit_found);
        REQUIRE(r.outcome.culprits.size() == 1);
        const CulpritEvidence& culprit = r.outcome.culprits[0];
        CHECK(culprit.position == 41);
        // The step's own effect, within its interval: not moved by the
        // offsets of the nodes that measured the culprit and its parent.
        CHECK(culprit.ci_low <= 0.10);
        CHECK(culprit.ci_high >= 0.10);
        effects += culprit.effect;
        // No more than one run per entry and round: W runs per step.
        CHECK(r.rounds * 4 >= r.probe_runs);
        CHECK(r.rounds * 4 < r.probe_runs + 4 * 64);
    }
    CHECK(effects / 4 == Approx(0.10).margin(0.025));
}

TEST_CASE("simulate_search: settings.node_blocking alone stands for off and full",
          "[planner][parallel]") {
    SimulatedHistory history = step_history(40, 17, 0.10);
    history.node_offsets = {0, 4, 0};
    PlannerSettings s = settings(3);
    for (const bool blocking : {false, true}) {
        CAPTURE(blocking);
        s.node_blocking = blocking;
        const SimulationResult implied = simulate_search(s, history, 9);
        const SimulationResult named =
            simulate_search(s, blocking ? NodeBlocking::full : NodeBlocking::off, history, 9);
        CHECK(implied.probe_runs == named.probe_runs);
        CHECK(implied.rounds == named.rounds);
        CHECK(implied.outcome.summary == named.outcome.summary);
    }
    // The schedule decides the planner's node_blocking, as the driver sets it.
    s.node_blocking = false;
    const SimulationResult full = simulate_search(s, NodeBlocking::full, history, 9);
    s.node_blocking = true;
    CHECK(simulate_search(s, history, 9).probe_runs == full.probe_runs);
}

TEST_CASE("node blocking keeps a real culprit beside a slower node", "[planner][parallel]") {
    SimulatedHistory history = step_history(32, 21, 0.20);
    history.node_offsets = {0, 10, -5};
    PlannerSettings s = settings(3);
    s.node_blocking = true;
    const SimulationResult r = simulate_search(s, history, 4, 1000);
    REQUIRE(r.finished);
    REQUIRE(r.outcome.status == SessionStatus::culprit_found);
    REQUIRE(r.outcome.culprits.size() == 1);
    CHECK(r.outcome.culprits[0].position == 21);
    // The effect is the step's, not inflated by the node's offset.
    CHECK(r.outcome.culprits[0].effect == Approx(0.20).margin(0.05));
}

TEST_CASE("node blocking estimates offsets within commits measured on several nodes",
          "[planner][parallel]") {
    // Good (100) and bad (110) each measured on both nodes, node 1 at +10.
    // Commit 4 was measured on node 1 only, at 110: as measured, it sits
    // midway between good's values (100 and 110) and bad's (110 and 120),
    // and its side is open; with node 1's offset (estimated from good and
    // bad) taken out, it is at good's level and the step lies after it.
    Observations obs(9);
    for (auto& o : obs) {
        o.build = BuildState::ok;
    }
    std::int64_t round = 0;
    for (int i = 0; i < 12; ++i) {
        ++round;
        for (std::size_t p : {std::size_t{0}, std::size_t{8}}) {
            for (int node : {0, 1}) {
                obs[p].values.push_back((p == 8 ? 110 : 100) + 10 * node + (i % 2 ? 0.5 : -0.5));
                obs[p].rounds.push_back(round);
                obs[p].nodes.push_back(node);
            }
        }
    }
    for (int i = 0; i < 4; ++i) {
        obs[4].values.push_back(110 + (i % 2 ? 0.5 : -0.5));
        obs[4].rounds.push_back(++round);
        obs[4].nodes.push_back(1);
    }
    PlannerSettings s = settings(2);
    s.node_blocking = true;
    const Plan on = plan_next(s, obs);
    REQUIRE_FALSE(on.open.empty());
    CHECK(on.open.front() > 4);
    s.node_blocking = false;
    const Plan off = plan_next(s, obs);
    REQUIRE_FALSE(off.open.empty());
    CHECK(off.open.front() <= 4);
}

TEST_CASE("next to a level of its own, the W values go to the one commit most in doubt",
          "[planner][parallel]") {
    // Good (0) at 100, bad (16) at 114 and position 8 at 107, a level of its
    // own, 20 values each (sd about 5): the shift is spread. In the gap 0..8
    // a commit needs many values before a chain of links can close the gap,
    // so the 4 nodes measure the commit most in doubt 4 times, instead of 4
    // commits once each.
    Observations obs(17);
    for (auto& o : obs) {
        o.build = BuildState::ok;
    }
    std::int64_t round = 0;
    for (const auto& [p, level] :
         {std::pair{std::size_t{0}, 100.0}, std::pair{std::size_t{16}, 114.0},
          std::pair{std::size_t{8}, 107.0}}) {
        for (int i = 0; i < 20; ++i) {
            obs[p].values.push_back(level + (i % 2 == 0 ? 5 : -5));
            obs[p].rounds.push_back(++round);
        }
    }
    const Plan plan = plan_next(settings(4), obs);
    CHECK(plan.verdicts[8] == Verdict::between);
    REQUIRE(std::holds_alternative<MeasureAction>(plan.next));
    const auto& m = std::get<MeasureAction>(plan.next);
    const std::set<std::size_t> inner = candidates(m, 16);
    REQUIRE(inner.size() == 1);
    const std::size_t c = *inner.begin();
    CHECK(c > 0);
    CHECK(c < 8);
    CHECK(std::count(m.positions.begin(), m.positions.end(), c) == 4);
    // The same commit a single node would measure, once.
    const Plan one = plan_next(settings(1), obs);
    REQUIRE(std::holds_alternative<MeasureAction>(one.next));
    CHECK(candidates(std::get<MeasureAction>(one.next), 16) == inner);
}
