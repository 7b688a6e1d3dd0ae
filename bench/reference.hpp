#pragma once

// The simple references of bench_suite: a scripted `git bisect run` and an
// idealised lower bound on the probe runs of any search.

#include <cstddef>
#include <cstdint>
#include <span>

#include "bench/pinpoint.hpp"
#include "bench/scenarios.hpp"

namespace perfbisect::bench {

inline constexpr int k_git_bisect_samples = 5;

// `git bisect run` with a script an engineer writes by hand: measure good and
// bad 5 times each; stop (not_reproduced) when median(bad) is not worse than
// median(good) by min_effect; then plain binary search, 5 samples per commit,
// bad when their median is above the threshold halfway between the good and
// bad medians. A commit that does not build is skipped to the buildable one
// nearest the midpoint (git bisect skip); when only skipped commits are left
// the outcome is ambiguous with them. It can never answer gradual and finds
// at most one culprit. Assumes lower is better; history.noise must be set.
ReferenceResult run_git_bisect(const SimulatedHistory& history, double min_effect,
                               std::uint64_t seed);

// Upper quantile of the standard normal distribution: z with Phi(z) = p, 0 < p < 1.
double normal_quantile(double p);

// Lower bound on the probe runs of a search over `commits` commits, from an
// idealised test: a one-sided z-test with known sigma. Each of the
// k = ceil(log2 N) halving steps per located step d classifies one commit by
// comparing its mean with the midpoint between the two levels, which lies d/2
// from either level, at per-step error alpha = 0.01 / k whichever level the
// commit is at:
//     n(d) = ceil( (z_{1-alpha} * sigma / (d / 2))^2 ).
// (The same n decides "level L or level R" with both errors alpha.) The
// good/bad reproduce measurement is counted once as n(reproduce_shift) runs.
// So
//     LB = n(reproduce_shift) + sum over located steps d of k * n(d),
// sigma and d relative to the level. It ignores builds, broken commits and
// the cost of telling "gradual" apart; with heavy-tailed noise (outliers)
// sigma is inflated and rank tests can beat it.
double lower_bound_runs(std::size_t commits, double relative_sd,
                        std::span<const double> located_steps, double reproduce_shift);

}  // namespace perfbisect::bench
