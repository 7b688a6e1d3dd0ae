// bench_parallel: the parallel search (k-section on W nodes) on the scenario
// suite of bench_suite, for W = 1, 2, 4, 8, 16: rounds per bisect, probe runs
// and accuracy, as ratios against W = 1 measured in the same run on the same
// instances and seeds.
//
//   bench_parallel [--seeds N] [--large-seeds N] [--only TEXT] [--rows] [--trace]
//
// --seeds N        seeds per scenario (default 5); each scenario kind runs
//                  under every noise model, so a kind has 8 N searches
// --large-seeds N  seeds per scenario for the 10,000-commit range (default 1)
// --only TEXT      only scenario rows whose name contains TEXT
// --rows           also one line per scenario row and W
// --trace          one line per wrong answer: the row, noise model, seed, W, expected
//                  and given
// --explain S W    every planner step (action and why) of seed S at W nodes, when wrong
//
// A round is a wall-clock step of the simulation (bisect/simulation.hpp,
// SimulationResult::rounds): the time of one probe run, in which each of the
// W nodes does at most one run; a measure action of T runs takes ceil(T / W)
// rounds and the next action waits for it. On one node, rounds = probe runs.
// The instances and the noise seeds are bench_suite's, so the W = 1 line
// repeats bench_suite's perfbisect accuracy and probe runs for these seeds.
// A second table: the node schedules off, full and rotate, with one node
// measuring 5 % slower (8 x seeds searches per line).

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/scenarios.hpp"
#include "bisect/simulation.hpp"

using namespace perfbisect;
using namespace perfbisect::bench;

namespace {

// bench_suite's master seed: the same instances and noise.
constexpr std::uint64_t k_master_seed = 20240611;
constexpr std::size_t k_widths[] = {1, 2, 4, 8, 16};

struct Tally {
    int searches = 0;
    int right = 0;
    int false_culprits = 0;
    int no_regression = 0;
    double probe_runs = 0;
    double rounds = 0;
    double rounds_per_log = 0;  // sum over searches of rounds / log_{W+1}(N)
    void add(const Score& s, bool expected_none, const SimulationResult& r, std::size_t commits,
             std::size_t width) {
        ++searches;
        right += s.right;
        false_culprits += s.false_culprit;
        no_regression += expected_none;
        probe_runs += r.probe_runs;
        rounds += r.rounds;
        rounds_per_log += r.rounds / (std::log(static_cast<double>(commits)) /
                                      std::log(static_cast<double>(width + 1)));
    }
};

// Node blocking: W = 4 nodes, node 1 of which adds +5 % to every value it
// measures, on a +10 % culprit and on no regression (lognormal 3 % noise,
// N = 100), under each schedule of the driver (bisect/node_schedule.hpp):
// off (each node its own commit of a round), full (every node measures every
// commit of a round) and rotate (entry j of round r on node (j + r) mod W);
// with full and rotate the planner takes node offsets out.
void print_node_offsets(int seeds) {
    constexpr std::size_t k_nodes = 4;
    const int runs = 8 * seeds;
    fmt::print(
        "\nnode blocking: {} nodes, node 1 adds +5% to every value, N=100, lognormal 3%, "
        "{} searches per line\n",
        k_nodes, runs);
    fmt::print("{:<24} {:<9} {:>9} {:>15} {:>10} {:>8}\n", "history", "blocking", "accuracy",
               "false culprits", "runs/srch", "rounds");
    for (const bool regression : {true, false}) {
        for (const NodeBlocking schedule :
             {NodeBlocking::off, NodeBlocking::full, NodeBlocking::rotate}) {
            int right = 0;
            int false_culprits = 0;
            double probe_runs = 0;
            double rounds = 0;
            for (int i = 0; i < runs; ++i) {
                std::mt19937_64 rng(
                    mix_seed(k_master_seed ^ 0x70de, static_cast<std::uint64_t>(i)));
                const std::size_t culprit = std::uniform_int_distribution<std::size_t>(1, 99)(rng);
                SimulatedHistory history = step_history(100, regression ? culprit : 100, 0.10);
                history.node_offsets.assign(k_nodes, 0);
                history.node_offsets[1] = 5;
                PlannerSettings settings;
                settings.decide.min_effect = 0.02;
                settings.parallel = k_nodes;
                const SimulationResult r = simulate_search(
                    settings, schedule, history, mix_seed(static_cast<std::uint64_t>(i), 7));
                const bool named = !r.outcome.culprits.empty();
                if (regression) {
                    right += r.finished && r.outcome.status == SessionStatus::culprit_found &&
                             r.outcome.culprits.size() == 1 &&
                             r.outcome.culprits[0].position == culprit;
                    false_culprits += named && (r.outcome.culprits.size() != 1 ||
                                                r.outcome.culprits[0].position != culprit);
                } else {
                    right += r.finished && r.outcome.status == SessionStatus::not_reproduced;
                    false_culprits += named;
                }
                probe_runs += r.probe_runs;
                rounds += r.rounds;
            }
            fmt::print("{:<24} {:<9} {:>8.1f}% {:>15} {:>10.1f} {:>8.1f}\n",
                       regression ? "1 culprit +10%" : "no regression", to_string(schedule),
                       100.0 * right / runs, false_culprits, probe_runs / runs, rounds / runs);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    SuiteOptions suite;
    suite.seeds = 5;
    suite.large_seeds = 1;
    std::string only;
    bool rows = false;
    bool trace = false;
    int explain_seed = -1;
    std::size_t explain_width = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--seeds" || arg == "--large-seeds" || arg == "--only") && i + 1 < argc) {
            const std::string v = argv[++i];
            if (arg == "--only") {
                only = v;
                continue;
            }
            const int n = std::atoi(v.c_str());
            if (n < 1) {
                fmt::print(stderr, "bench_parallel: {} needs a positive number, not '{}'\n", arg,
                           v);
                return 2;
            }
            (arg == "--seeds" ? suite.seeds : suite.large_seeds) = n;
        } else if (arg == "--rows") {
            rows = true;
        } else if (arg == "--trace") {
            trace = true;
        } else if (arg == "--explain" && i + 2 < argc) {
            explain_seed = std::atoi(argv[++i]);
            explain_width = static_cast<std::size_t>(std::atoi(argv[++i]));
        } else {
            fmt::print(stderr,
                       "usage: bench_parallel [--seeds N] [--large-seeds N] [--only TEXT] [--rows] "
                       "[--trace] [--explain SEED W]\n");
            return 2;
        }
    }
    const auto start = std::chrono::steady_clock::now();
    std::map<std::size_t, Tally> total;
    std::map<std::pair<std::string, std::size_t>, Tally> by_row;
    std::vector<std::string> row_order;
    for (const Scenario& scenario : suite_scenarios(suite)) {
        if (!only.empty() && scenario.row.find(only) == std::string::npos) {
            continue;
        }
        if (row_order.empty() || row_order.back() != scenario.row) {
            row_order.push_back(scenario.row);
        }
        const std::uint64_t scenario_seed = mix_seed(
            k_master_seed, hash_name(fmt::format("{} | N={} | {}", scenario.kind, scenario.commits,
                                                 noise_models()[scenario.noise].name)));
        for (int i = 0; i < scenario.seeds; ++i) {
            const std::uint64_t run_seed = mix_seed(scenario_seed, static_cast<std::uint64_t>(i));
            std::mt19937_64 rng(run_seed);
            const Instance instance = scenario.make(rng, i);
            for (std::size_t width : k_widths) {
                PlannerSettings settings;
                settings.decide.min_effect = scenario.min_effect;
                settings.parallel = width;
                const bool explain = i == explain_seed && width == explain_width;
                std::string explained;
                const auto observe = [&](const Plan& plan) {
                    std::string action;
                    if (const auto* m = std::get_if<MeasureAction>(&plan.next)) {
                        action =
                            fmt::format("measure {} x{}", fmt::join(m->positions, ","), m->rounds);
                    } else if (const auto* b = std::get_if<BuildAction>(&plan.next)) {
                        action = fmt::format("build {}", b->position);
                    } else {
                        action = "done";
                    }
                    explained += fmt::format("  {} | {}\n", action, plan.why);
                };
                const SimulationResult r =
                    simulate_search(settings, instance.history, mix_seed(run_seed, 1), 10000,
                                    explain ? std::function<void(const Plan&)>(observe)
                                            : std::function<void(const Plan&)>());
                Score s = score(instance.expected, r.outcome);
                if (!r.finished) {
                    s = Score{};
                }
                if (explain && !s.right) {
                    fmt::print("explain {} seed {} W={} ({}):\n{}", scenario.row, i, width,
                               noise_models()[scenario.noise].name, explained);
                }
                if (trace && !s.right) {
                    std::string named;
                    for (const auto& c : r.outcome.culprits) {
                        named += fmt::format(" {}", c.position);
                    }
                    std::string want;
                    for (std::size_t c : instance.expected.culprits) {
                        want += fmt::format(" {}", c);
                    }
                    fmt::print("wrong: {} ({}) seed {} W={}: expected {}{}, got {}{} ({} runs)\n",
                               scenario.row, noise_models()[scenario.noise].name, i, width,
                               to_string(instance.expected.status), want,
                               to_string(r.outcome.status), named, r.probe_runs);
                }
                const bool none = instance.expected.status == SessionStatus::not_reproduced;
                total[width].add(s, none, r, scenario.commits, width);
                by_row[{scenario.row, width}].add(s, none, r, scenario.commits, width);
            }
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const Tally& one = total[1];
    fmt::print(
        "perfbisect bench_parallel: k-section on W nodes, bench_suite's scenarios, {} seeds "
        "per scenario ({} for N=10000), {} searches per W\n",
        suite.seeds, suite.large_seeds, one.searches);
    fmt::print(
        "round = one wall-clock step (one probe run's time, each node at most one run); an "
        "action of T runs takes ceil(T/W) rounds\n");
    fmt::print(
        "r/log = mean over searches of rounds / log_(W+1)(N); 'vs W=1' columns divide by the "
        "W=1 figure of this run\n\n");
    fmt::print("{:>3} {:>9} {:>8} {:>8} {:>9} {:>10} {:>8} {:>9} {:>10} {:>11}\n", "W", "accuracy",
               "false", "rounds", "rounds", "probe runs", "runs", "r/log", "r/log", "log ratio");
    fmt::print("{:>3} {:>9} {:>8} {:>8} {:>9} {:>10} {:>8} {:>9} {:>10} {:>11}\n", "", "%",
               "culprits", "/search", "vs W=1", "/search", "vs W=1", "", "vs W=1", "log2/logW+1");
    for (std::size_t width : k_widths) {
        const Tally& t = total[width];
        const double n = t.searches;
        fmt::print(
            "{:>3} {:>9.1f} {:>8} {:>8.1f} {:>9.3f} {:>10.1f} {:>8.3f} {:>9.2f} {:>10.3f} "
            "{:>11.3f}\n",
            width, 100.0 * t.right / n, t.false_culprits, t.rounds / n, t.rounds / one.rounds,
            t.probe_runs / n, t.probe_runs / one.probe_runs, t.rounds_per_log / n,
            t.rounds_per_log / one.rounds_per_log,
            std::log(2.0) / std::log(static_cast<double>(width + 1)));
    }
    if (rows) {
        fmt::print("\n{:<45} {:>3} {:>9} {:>10} {:>9}\n", "row", "W", "accuracy", "runs/srch",
                   "rounds");
        for (const auto& row : row_order) {
            for (std::size_t width : k_widths) {
                const Tally& t = by_row[{row, width}];
                fmt::print("{:<45} {:>3} {:>9.1f} {:>10.1f} {:>9.1f}\n", row, width,
                           100.0 * t.right / t.searches, t.probe_runs / t.searches,
                           t.rounds / t.searches);
            }
        }
    }
    print_node_offsets(suite.seeds);
    fmt::print("\nwall time: {:.1f} s\n", seconds);
    return 0;
}
