#pragma once

// Two-sample rank tests and the shift estimate that goes with them: the
// decision statistics of a bisect step ("is revision B slower than A?").
//
// Preconditions of every function:
//  - all values are finite (no NaN, no infinity); the caller filters failed
//    measurements first. Checked by assert only.
// An empty sample is not an error: the tests return p_value = 1 (no evidence)
// and hodges_lehmann returns NaN.

#include <cstddef>
#include <span>

namespace perfbisect::stats {

// The direction of the alternative hypothesis, always about x relative to y.
enum class Alternative {
    two_sided,
    less,     // x tends to be smaller than y (stochastically smaller)
    greater,  // x tends to be larger than y
};

// Above this many pairs n_x * n_y (and with min(n_x, n_y) > k_mwu_exact_min_size)
// the Mann-Whitney test and the Hodges-Lehmann interval use the normal
// approximation instead of the exact null distribution.
inline constexpr std::size_t k_mwu_exact_max_pairs = 2500;
// The exact distribution is always used when the smaller sample has at most
// this many values (scipy's method="auto" rule).
inline constexpr std::size_t k_mwu_exact_min_size = 8;
// Above this many pairs n_x * n_y the Kolmogorov-Smirnov p-value is asymptotic.
inline constexpr std::size_t k_ks_exact_max_pairs = 40000;

struct MannWhitneyResult {
    double u = 0;  // U of x: #pairs with x_i > y_j, plus 1/2 for each x_i == y_j
    double p_value = 1;
    bool exact = false;  // p_value from the exact null distribution
};

// Mann-Whitney U (Wilcoxon rank-sum) test; the same statistic and p-value as
// scipy.stats.mannwhitneyu(x, y, alternative, use_continuity=True) with
// method="exact" or method="asymptotic" as chosen below.
//
// Method: exact when there are no ties in the pooled sample and either
// min(n_x, n_y) <= k_mwu_exact_min_size or n_x * n_y <= k_mwu_exact_max_pairs.
// This contains scipy's method="auto" rule (exact iff no ties and one sample has
// at most 8 values), so wherever scipy's default is exact this is too; it is
// also exact for larger samples, where scipy's default is asymptotic. The null
// distribution of U is the coefficient sequence of the Gaussian binomial
// [n_x + n_y choose n_x]_q (Mann & Whitney 1947), O(min(n_x, n_y) * U) time.
// Two-sided p = min(1, 2 P(U <= min(U_x, U_y))).
//
// Otherwise the normal approximation with the tie correction of the variance,
// sigma^2 = n_x n_y / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))), and the
// continuity correction of 1/2 towards the mean. When every value is tied
// (sigma = 0) the p-value is 1.
MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y,
                                 Alternative alt = Alternative::two_sided);

struct KolmogorovSmirnovResult {
    double d = 0;  // sup |F_x - F_y| of the two empirical distribution functions
    double p_value = 1;
};

// Two-sample, two-sided Kolmogorov-Smirnov test.
//
// Method: exact when n_x * n_y <= k_ks_exact_max_pairs: P(D >= d) under H0 by
// the lattice-path recursion of Hodges (1957) (all C(N, n_x) orderings equally
// likely), summing the probability of the paths at the point where they first
// leave the band, so small p-values keep their relative accuracy. This is the
// quantity scipy.stats.ks_2samp(x, y, method="exact") computes.
//
// Otherwise the asymptotic Kolmogorov distribution with Stephens' (1970)
// small-sample correction, as in Numerical Recipes (3rd ed., sec. 14.3) and in
// the ks_2samp of older scipy releases: p = Q_KS((sqrt(n_e) + 0.12 + 0.11 / sqrt(n_e)) d)
// with n_e = n_x n_y / (n_x + n_y). Current scipy's method="asymp" instead
// evaluates the exact one-sample distribution kstwo at round(n_e). Spot checks
// against kstwo (Marsaglia, Tsang & Wang 2003) at n_e from 92 to 500: the two
// differ by at most 0.011 absolute (near p = 0.7, partly the steps of kstwo),
// at most 1e-3 absolute where p <= 0.1, and at most 5% relative down to
// p = 1e-6, in either direction.
//
// With ties the p-value is that of continuous data (as in scipy), which makes
// the test conservative.
KolmogorovSmirnovResult kolmogorov_smirnov(std::span<const double> x, std::span<const double> y);

// The survival function Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2)
// of the limiting Kolmogorov distribution (scipy.stats.kstwobign.sf), to double
// precision; for lambda < 1.18 it is evaluated as 1 - the Jacobi theta series
// sqrt(2 pi) / lambda sum_{k>=1} exp(-(2k - 1)^2 pi^2 / (8 lambda^2)).
double kolmogorov_sf(double lambda);

struct ShiftEstimate {
    double estimate = 0;  // the shift of y relative to x, in the units of the data
    double low = 0;
    double high = 0;
    double confidence = 0.95;
};

// Hodges-Lehmann estimate of the shift y - x: the median of the n_x n_y
// pairwise differences y_j - x_i, with the distribution-free confidence
// interval [D_(k), D_(n_x n_y + 1 - k)] of the sorted differences (Moses 1953;
// Bauer 1972; Hollander & Wolfe, Nonparametric Statistical Methods, 4.3). k is
// the largest integer with P(U <= k - 1) <= (1 - confidence) / 2 under H0,
// which gives coverage >= confidence for continuous data whatever the shape.
//
// k comes from the exact null distribution of U under the same size rule as
// mann_whitney_u (whether or not the data have ties), otherwise from the
// normal approximation with continuity correction,
// k = floor(n_x n_y / 2 - z_{(1+confidence)/2} sqrt(n_x n_y (N + 1) / 12) + 1/2),
// without tie correction; with tied data the coverage is approximate.
// When k < 1 (samples too small for the confidence, e.g. 3 vs 3 at 95%) the
// interval is unbounded: low = -inf, high = +inf.
//
// Precondition: 0 < confidence < 1 (assert; otherwise low and high are NaN).
// The order statistics are selected without a full sort: from the
// materialized differences while n_x n_y <= 32 (n_x + n_y), else by bisection
// over the implicitly sorted differences in O((n_x + n_y) * 64); memory
// O(n_x + n_y). The exact cut-off of the last (sizes, confidence) is
// remembered per thread.
ShiftEstimate hodges_lehmann(std::span<const double> x, std::span<const double> y,
                             double confidence = 0.95);

}  // namespace perfbisect::stats
