#pragma once

// In-process bisects against a simulated history: the real planner and
// statistics, with measurements drawn from a noise model instead of builds and
// probes. Tests use it to check decisions; bench/ uses it to measure accuracy
// and cost over thousands of searches.

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "bisect/node_schedule.hpp"
#include "bisect/planner.hpp"

namespace perfbisect {

struct SimulatedHistory {
    std::vector<double> levels;     // the true metric at each position
    std::vector<bool> unbuildable;  // empty: every commit builds
    // Draws one measurement around level. `time` counts probe runs since the
    // start of the search (one per run), for noise that drifts over time.
    // Default: level * lognormal(0, 3 %).
    std::function<double(double level, double time, std::mt19937_64& rng)> noise;
    // A constant added to every value node k measures (empty: none), for
    // settings.parallel > 1 nodes.
    std::vector<double> node_offsets;
};

struct SimulationResult {
    Outcome outcome;
    std::vector<Verdict> verdicts;
    int builds = 0;
    int probe_runs = 0;
    // Wall-clock steps of the measurements on W = settings.parallel nodes: a
    // step is the time of one probe run, in which each node does at most one
    // run. Which node runs which entry is the driver's rule,
    // node_of_entry() of the schedule (bisect/node_schedule.hpp). With off
    // and rotate, an action of T runs takes ceil(T / W) steps (on one node:
    // steps = probe runs); the next action waits for all of them. With full
    // (W > 1), every node runs every entry of each round, in its own
    // shuffled order and as a round of its own: W times the runs, and an
    // action of R rounds of K entries takes R K steps. Builds are not
    // counted.
    int rounds = 0;
    bool finished = false;          // false: the planner failed or did not end
    std::string failure;            // the planner's FailAction message, if any
};

// A history of n commits at level 100 where the commit at `culprit` and all
// after it are (1 + slowdown) times slower.
SimulatedHistory step_history(std::size_t n, std::size_t culprit, double slowdown);

// Runs a whole search with the driver's node schedule ([executor]
// blocking); at most max_steps planner actions. The planner runs with
// settings.node_blocking = (schedule != off), as the driver sets it.
// observe, when set, sees every plan before its action is carried out.
SimulationResult simulate_search(const PlannerSettings& settings, NodeBlocking schedule,
                                 const SimulatedHistory& history, std::uint64_t seed,
                                 int max_steps = 10000,
                                 const std::function<void(const Plan&)>& observe = {});

// The same with the schedule settings.node_blocking stood for before there
// were three: full when on, off otherwise.
SimulationResult simulate_search(const PlannerSettings& settings, const SimulatedHistory& history,
                                 std::uint64_t seed, int max_steps = 10000,
                                 const std::function<void(const Plan&)>& observe = {});

}  // namespace perfbisect
