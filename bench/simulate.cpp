// Accuracy and cost of perfbisect's decision rule on simulated histories,
// against a reference measured in the same run: a plain `git bisect run` with
// one measurement per commit and a threshold halfway between good and bad (what
// an engineer scripts by hand).
//
//   bench_simulate [trials]      default 400 trials per noise model
//
// Prints, per noise model: the fraction of searches that named the right
// culprit, mean probe runs and builds, for both, and the ratios.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bisect/simulation.hpp"

using namespace perfbisect;

namespace {

struct NoiseModel {
    std::string name;
    std::function<double(double, double, std::mt19937_64&)> draw;
};

std::vector<NoiseModel> noise_models() {
    return {
        {"lognormal 3%",
         [](double l, double, std::mt19937_64& r) { return l * std::lognormal_distribution<>(0, 0.03)(r); }},
        {"lognormal 10%",
         [](double l, double, std::mt19937_64& r) { return l * std::lognormal_distribution<>(0, 0.10)(r); }},
        {"student-t(3) 3%",
         [](double l, double, std::mt19937_64& r) {
             return l * (1 + 0.03 * std::student_t_distribution<>(3)(r));
         }},
        {"5% outliers x1.5",
         [](double l, double, std::mt19937_64& r) {
             const double base = l * std::lognormal_distribution<>(0, 0.02)(r);
             return std::bernoulli_distribution(0.05)(r) ? base * 1.5 : base;
         }},
        {"bimodal +8%",
         [](double l, double, std::mt19937_64& r) {
             const double base = l * std::lognormal_distribution<>(0, 0.02)(r);
             return std::bernoulli_distribution(0.5)(r) ? base * 1.08 : base;
         }},
    };
}

// The reference: binary search, one sample per commit, threshold at the
// midpoint of one good and one bad sample.
struct NaiveResult {
    bool right = false;
    int runs = 0;
    int builds = 0;
};

NaiveResult naive_bisect(const SimulatedHistory& h, std::size_t culprit, std::mt19937_64& rng) {
    NaiveResult result;
    const double good = h.noise(h.levels.front(), 0, rng);
    const double bad = h.noise(h.levels.back(), 0, rng);
    result.runs = 2;
    result.builds = 2;
    const double threshold = (good + bad) / 2;
    std::size_t lo = 0;
    std::size_t hi = h.levels.size() - 1;
    while (hi - lo > 1) {
        const std::size_t mid = (lo + hi) / 2;
        ++result.runs;
        ++result.builds;
        if (h.noise(h.levels[mid], 0, rng) >= threshold) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    result.right = hi == culprit;
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    const int trials = argc > 1 ? std::atoi(argv[1]) : 400;
    constexpr std::size_t k_commits = 64;
    constexpr double k_slowdown = 0.10;
    PlannerSettings settings;
    settings.decide.min_effect = 0.05;
    settings.decide.samples = 10;
    settings.decide.alpha = 0.01;

    fmt::print("{} commits, one {:.0f}% regression at a random position, {} trials per model\n",
               k_commits, k_slowdown * 100, trials);
    fmt::print("{:<18} {:>9} {:>9} {:>10} {:>10} {:>8} {:>8} {:>12} {:>10}\n", "noise",
               "right", "ref_right", "runs", "ref_runs", "builds", "ref_bld", "right_ratio",
               "run_ratio");
    std::mt19937_64 rng(20261128);
    for (const auto& model : noise_models()) {
        int right = 0, ref_right = 0;
        long runs = 0, ref_runs = 0, builds = 0, ref_builds = 0;
        for (int t = 0; t < trials; ++t) {
            const std::size_t culprit =
                std::uniform_int_distribution<std::size_t>(1, k_commits - 1)(rng);
            SimulatedHistory h = step_history(k_commits, culprit, k_slowdown);
            h.noise = model.draw;
            const SimulationResult r = simulate_search(settings, h, rng());
            right += r.finished && r.outcome.status == SessionStatus::culprit_found &&
                     r.outcome.culprits.front().position == culprit;
            runs += r.probe_runs;
            builds += r.builds;
            const NaiveResult n = naive_bisect(h, culprit, rng);
            ref_right += n.right;
            ref_runs += n.runs;
            ref_builds += n.builds;
        }
        const double acc = static_cast<double>(right) / trials;
        const double ref_acc = static_cast<double>(ref_right) / trials;
        fmt::print("{:<18} {:>8.1f}% {:>8.1f}% {:>10.1f} {:>10.1f} {:>8.1f} {:>8.1f} {:>12.2f} {:>10.2f}\n",
                   model.name, acc * 100, ref_acc * 100, static_cast<double>(runs) / trials,
                   static_cast<double>(ref_runs) / trials, static_cast<double>(builds) / trials,
                   static_cast<double>(ref_builds) / trials, ref_acc > 0 ? acc / ref_acc : NAN,
                   static_cast<double>(runs) / static_cast<double>(ref_runs));
    }
    return 0;
}
