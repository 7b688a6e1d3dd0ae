#pragma once

// A reference implementation of Chromium Pinpoint's decision rules, written
// for the bench from the description in DESIGN.md ("How it decides") and
// independent of perfbisect's planner:
//
//  - per comparison of two commits, p = min(two-sided Mann-Whitney U p,
//    Kolmogorov-Smirnov p); p <= 0.01 is "different"; p > high threshold is
//    "same"; otherwise "unknown": both commits get attempts doubled along
//    10 -> 20 -> 40 -> 80 -> 160; unknown at 160 counts as "same";
//  - the high threshold depends on the expected magnitude (in IQRs of the good
//    samples) and the sample size (SameThresholds);
//  - reproduce first: good vs bad, with the expected magnitude min_effect; not
//    "different", or bad better than good, is no regression (not_reproduced);
//  - segmentation: the tested commits start as {good, bad}; every adjacent
//    tested pair that differs gets the commit at its midpoint tested (a commit
//    that does not build is skipped to the nearest buildable neighbour),
//    with the expected magnitude |median bad - median good| / IQR(good);
//  - culprits: the right commit of every adjacent differing pair in the
//    regression direction (an improvement is found but not named).
//
// Measurements are taken in batches per commit, without interleaving, as
// Pinpoint does: under drift the commits measured later look slower.
// Simplifications: no re-verification of culprits with 30 attempts; the
// magnitude grid goes below Pinpoint's 1.0 IQR floor (so this reference is
// more patient, and more accurate on small steps, than Pinpoint itself).
//
// Mapping to perfbisect's statuses: differing pairs with only broken commits
// between them -> ambiguous (candidates: those commits and the right end);
// reproduced but no culprit -> gradual. Assumes lower is better.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bisect/simulation.hpp"

namespace perfbisect::bench {

inline constexpr double k_pinpoint_low_threshold = 0.01;
inline constexpr std::array<std::size_t, 5> k_pinpoint_sizes = {10, 20, 40, 80, 160};
// Pinpoint re-verifies every culprit pair with this many attempts on each side.
inline constexpr std::size_t k_pinpoint_verify_attempts = 30;

// The "same" threshold table, built by simulation: for each expected
// magnitude m (IQRs) and sample size n, the 99th percentile of
// p = min(MWU, KS) over pairs of normal samples of size n whose means are
// m IQRs (m * 1.349 sigma) apart. A p above it says: had the difference been
// that large, a p this high would occur in under 1 % of comparisons.
class SameThresholds {
public:
    // Builds the table with `draws` simulated pairs per cell (deterministic
    // from seed). Takes about a second at 1000 draws.
    SameThresholds(int draws, std::uint64_t seed);

    // The high threshold for a comparison at `magnitude` IQRs with n values in
    // the smaller sample: the size row is the largest table size <= n (10
    // below 10); log-linear interpolation between magnitudes, clamped at the
    // ends of the grid. Never below k_pinpoint_low_threshold.
    double high_threshold(double magnitude, std::size_t n) const;

    const std::vector<double>& magnitudes() const { return m_magnitudes; }
    // threshold(i, j): magnitude i, size k_pinpoint_sizes[j].
    double threshold(std::size_t magnitude_index, std::size_t size_index) const {
        return m_table[magnitude_index * k_pinpoint_sizes.size() + size_index];
    }

private:
    std::vector<double> m_magnitudes;
    std::vector<double> m_table;
};

// p = min(two-sided MWU p, KS p).
double pinpoint_p_value(const std::vector<double>& a, const std::vector<double>& b);

struct ReferenceResult {
    Outcome outcome;  // status, culprits (position, parent, effect), candidates
    int probe_runs = 0;
    int builds = 0;  // build attempts, failed ones included
};

// Runs the whole Pinpoint-like search on `history` (history.noise must be
// set). Deterministic from seed. If good or bad does not build the outcome is
// budget_exhausted (no scenario does that).
ReferenceResult run_pinpoint(const SimulatedHistory& history, double min_effect,
                             const SameThresholds& thresholds, std::uint64_t seed);

}  // namespace perfbisect::bench
