#include "bisect/simulation.hpp"

#include <algorithm>

namespace perfbisect {

SimulatedHistory step_history(std::size_t n, std::size_t culprit, double slowdown) {
    SimulatedHistory h;
    for (std::size_t p = 0; p < n; ++p) {
        h.levels.push_back(p >= culprit ? 100.0 * (1 + slowdown) : 100.0);
    }
    return h;
}

SimulationResult simulate_search(const PlannerSettings& settings, const SimulatedHistory& history,
                                 std::uint64_t seed, int max_steps,
                                 const std::function<void(const Plan&)>& observe) {
    return simulate_search(settings,
                           settings.node_blocking ? NodeBlocking::full : NodeBlocking::off, history,
                           seed, max_steps, observe);
}

SimulationResult simulate_search(const PlannerSettings& settings, NodeBlocking schedule,
                                 const SimulatedHistory& history, std::uint64_t seed, int max_steps,
                                 const std::function<void(const Plan&)>& observe) {
    PlannerSettings planner = settings;
    planner.node_blocking = schedule != NodeBlocking::off;
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> lognormal(0.0, 0.03);
    double time = 0;
    auto draw = [&](double level) {
        time += 1;
        return history.noise ? history.noise(level, time, rng) : level * lognormal(rng);
    };
    Observations obs(history.levels.size());
    std::int64_t round = 0;
    SimulationResult result;
    const std::size_t nodes = std::max<std::size_t>(settings.parallel, 1);
    for (int step = 0; step < max_steps; ++step) {
        Plan plan = plan_next(planner, obs);
        result.verdicts = plan.verdicts;
        if (observe) {
            observe(plan);
        }
        if (const auto* b = std::get_if<BuildAction>(&plan.next)) {
            ++result.builds;
            const bool broken = !history.unbuildable.empty() && history.unbuildable[b->position];
            obs[b->position].build = broken ? BuildState::failed : BuildState::ok;
            obs[b->position].build_failure = broken ? "simulated build failure" : "";
        } else if (const auto* m = std::get_if<MeasureAction>(&plan.next)) {
            const std::size_t rounds = static_cast<std::size_t>(std::max(m->rounds, 0));
            const std::size_t entries = m->positions.size();
            const bool every_node = schedule == NodeBlocking::full && nodes > 1;
            result.rounds += static_cast<int>(every_node ? rounds * entries
                                                         : (rounds * entries + nodes - 1) / nodes);
            const auto run = [&](std::size_t p, std::size_t node) {
                double value = draw(history.levels[p]);
                if (node < history.node_offsets.size()) {
                    value += history.node_offsets[node];
                }
                obs[p].values.push_back(value);
                obs[p].rounds.push_back(round);
                if (nodes > 1) {
                    obs[p].nodes.push_back(static_cast<int>(node));
                }
                ++result.probe_runs;
            };
            // Entry indices in the order of the last round: each round
            // shuffles the order of the one before.
            std::vector<std::size_t> order(entries);
            for (std::size_t j = 0; j < entries; ++j) {
                order[j] = j;
            }
            for (std::size_t r = 0; r < rounds; ++r) {
                if (every_node) {
                    for (std::size_t node = 0; node < nodes; ++node) {
                        ++round;
                        std::shuffle(order.begin(), order.end(), rng);
                        for (std::size_t j : order) {
                            run(m->positions[j], node);
                        }
                    }
                    continue;
                }
                ++round;
                std::shuffle(order.begin(), order.end(), rng);
                for (std::size_t j : order) {
                    run(m->positions[j], node_of_entry(schedule, j, nodes, round));
                }
            }
        } else if (const auto* d = std::get_if<DoneAction>(&plan.next)) {
            result.outcome = d->outcome;
            result.finished = true;
            return result;
        } else {
            result.failure = std::get<FailAction>(plan.next).message;
            return result;
        }
    }
    result.failure = "the search did not end";
    return result;
}

}  // namespace perfbisect
