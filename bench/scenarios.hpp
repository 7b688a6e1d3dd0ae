#pragma once

// The scenarios of bench_suite: simulated histories whose right answer is
// known, under a set of noise models, and the scoring of an Outcome against
// that answer. Shared by perfbisect's planner and the references (Pinpoint,
// git bisect), so every method is scored by the same rule.
//
// Every scenario is "lower is better": levels only rise at a regression. The
// good commit is at level k_base_level.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bisect/simulation.hpp"

namespace perfbisect::bench {

inline constexpr double k_base_level = 100.0;

using NoiseFunction = std::function<double(double level, double time, std::mt19937_64& rng)>;

struct NoiseModel {
    std::string name;
    NoiseFunction draw;  // see SimulatedHistory::noise; time counts probe runs from 0
    // Standard deviation of one measurement divided by its level, at time 0
    // (analytic). The lower bound uses it as the known sigma.
    double relative_sd = 0;
    // Rare large outliers dominate the sd: a known-sigma z-test is then no
    // lower bound for rank tests, so rows over several models leave it out of
    // their pb/LB figure.
    bool heavy_tailed = false;
};

// The noise models, in print order. Built once; safe to call from one thread.
const std::vector<NoiseModel>& noise_models();

// The right answer of one scenario instance.
struct Expected {
    // culprit_found, ambiguous (a culprit that cannot be isolated because the
    // commits just before it do not build), gradual or not_reproduced.
    SessionStatus status = SessionStatus::culprit_found;
    std::vector<std::size_t> culprits;  // sorted, unique; empty for gradual / not_reproduced
    // ambiguous only: the first position of the block [block_first, culprit]
    // that no search can split: the broken commits right before the culprit.
    std::size_t block_first = 0;
};

// One drawn instance: the history, its answer, and what the lower bound needs.
struct Instance {
    SimulatedHistory history;
    Expected expected;
    // Relative size of each step a search has to locate (e.g. 0.10), relative
    // to the level just before the step; empty for gradual / no regression.
    std::vector<double> located_steps;
    // Relative good -> bad shift the reproduce check has to detect (for no
    // regression: min_effect, the smallest shift it must not miss).
    double reproduce_shift = 0;
};

// One scenario: a recipe for instances, run with `seeds` seeds. Scenarios
// with the same `row` are aggregated into one table row.
struct Scenario {
    std::string row;          // the table row: kind, plus the noise when split by noise
    std::string kind;         // e.g. "1 culprit +10%"
    std::string noise_label;  // the noise model, or "all" for a row over all models
    std::size_t commits = 0;  // range size N: position 0 is good, N-1 is bad
    double min_effect = 0.02;
    std::size_t noise = 0;  // index into noise_models()
    int seeds = 0;
    // Draws one instance. Deterministic given the generator state.
    std::function<Instance(std::mt19937_64& rng, int seed_index)> make;
};

struct SuiteOptions {
    int seeds = 20;        // per scenario, except the largest ranges
    int large_seeds = 20;  // per scenario for 10,000-commit ranges
};

// The default suite, in print order.
std::vector<Scenario> suite_scenarios(const SuiteOptions& options);

// The expected answer for step culprits at `culprits` (sorted) in `history`:
// culprit_found, or, for a single culprit whose predecessor does not build,
// ambiguous with the block of broken commits before it.
Expected expected_for_culprits(const SimulatedHistory& history,
                               const std::vector<std::size_t>& culprits);

struct Score {
    bool right = false;
    bool false_culprit = false;  // expected not_reproduced, yet a culprit was named
    bool both_found = false;     // two or more culprits expected, all among those named
};

// Scores an outcome. Right means:
//  - culprit_found expected: status culprit_found and the set of culprit
//    positions equals the expected set exactly;
//  - ambiguous expected: status ambiguous, the culprit among the candidates,
//    and every candidate inside the unsplittable block [block_first, culprit]
//    (a culprit_found there is a guess and counts as wrong);
//  - gradual / not_reproduced expected: that status.
Score score(const Expected& expected, const Outcome& outcome);

// Deterministic seed mixing (splitmix64), for per-run seeds.
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);
// FNV-1a of a string, so a scenario's seeds depend on its name, not its index.
std::uint64_t hash_name(const std::string& text);

}  // namespace perfbisect::bench
