#include "stats/rank_tests.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/binomial.hpp>

namespace perfbisect::stats {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_inf = std::numeric_limits<double>::infinity();
// Below this argument Q_KS is computed from the theta series of its complement
// (Numerical Recipes' switch point: both series need at most 4 terms there).
constexpr double k_ks_series_switch = 1.18;

[[maybe_unused]] bool all_finite(std::span<const double> values) {
    return std::ranges::all_of(values, [](double v) { return std::isfinite(v); });
}

// Both samples copied into one buffer (one allocation) and sorted separately.
struct SortedPair {
    std::vector<double> buffer;
    std::size_t nx = 0;

    std::span<const double> x() const { return std::span<const double>(buffer).first(nx); }
    std::span<const double> y() const { return std::span<const double>(buffer).subspan(nx); }
};

SortedPair sort_pair(std::span<const double> x, std::span<const double> y) {
    SortedPair s;
    s.nx = x.size();
    s.buffer.reserve(x.size() + y.size());
    s.buffer.insert(s.buffer.end(), x.begin(), x.end());
    s.buffer.insert(s.buffer.end(), y.begin(), y.end());
    const auto mid = s.buffer.begin() + static_cast<std::ptrdiff_t>(x.size());
    std::sort(s.buffer.begin(), mid);
    std::sort(mid, s.buffer.end());
    return s;
}

// Calls visit(count_in_x, count_in_y) for each distinct value of the pooled
// sample, in ascending order.
template <typename Visit>
void for_each_distinct(std::span<const double> xs, std::span<const double> ys, Visit visit) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < xs.size() || j < ys.size()) {
        double v = 0;
        if (j == ys.size() || (i < xs.size() && xs[i] <= ys[j])) {
            v = xs[i];
        } else {
            v = ys[j];
        }
        std::size_t cx = 0;
        std::size_t cy = 0;
        for (; i < xs.size() && xs[i] == v; ++i) {
            ++cx;
        }
        for (; j < ys.size() && ys[j] == v; ++j) {
            ++cy;
        }
        visit(cx, cy);
    }
}

bool mwu_exact_size(std::size_t nx, std::size_t ny) {
    return std::min(nx, ny) <= k_mwu_exact_min_size || nx * ny <= k_mwu_exact_max_pairs;
}

// counts[u] for u = 0..u_max: the number of the C(m + n, m) equally likely
// orderings of the pooled sample whose U equals u. The generating function is
// the Gaussian binomial prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i); each factor
// is applied as a subtraction of a shifted copy followed by a running sum, and
// the truncation at u_max is exact because both operations only look back.
std::vector<double> mwu_null_counts(std::size_t m, std::size_t n, std::size_t u_max) {
    if (n < m) {
        std::swap(m, n);
    }
    std::vector<double> counts{1.0};
    counts.resize(u_max + 1, 0.0);
    for (std::size_t i = 1; i <= m; ++i) {
        for (std::size_t u = u_max + 1; u-- > n + i;) {
            counts[u] -= counts[u - n - i];
        }
        for (std::size_t u = i; u <= u_max; ++u) {
            counts[u] += counts[u - i];
        }
    }
    return counts;
}

double binomial(std::size_t n, std::size_t k) {
    return boost::math::binomial_coefficient<double>(static_cast<unsigned>(n),
                                                     static_cast<unsigned>(k));
}

// P(U <= u) under H0 for samples of sizes m and n, u an integer >= 0.
double mwu_exact_cdf(std::size_t m, std::size_t n, std::size_t u) {
    const std::size_t pairs = m * n;
    if (u >= pairs) {
        return 1.0;
    }
    // The distribution is symmetric about pairs / 2; sum the shorter tail.
    if (2 * u > pairs) {
        return 1.0 - mwu_exact_cdf(m, n, pairs - u - 1);
    }
    const std::vector<double> counts = mwu_null_counts(m, n, u);
    double below = 0;
    for (double c : counts) {
        below += c;
    }
    return std::min(1.0, below / binomial(m + n, m));
}

double normal_sf(double z) {
    return boost::math::cdf(boost::math::complement(boost::math::normal(), z));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

// The probability, under H0, that the random lattice path from (0, 0) to
// (m, n) (a step in i per x value, in j per y value, all C(m + n, m) paths
// equally likely) reaches a point with |i n - j m| >= d_scaled, i.e.
// P(D >= d_scaled / (m n)). The probability mass of the paths still inside
// the band is propagated row by row with the step probabilities of drawing
// without replacement; mass that steps out is added to the result where it
// leaves. Only the band and its two neighbouring cells are visited in a row.
double ks_exact_sf(std::size_t m, std::size_t n, std::int64_t d_scaled) {
    if (d_scaled <= 0) {
        return 1.0;
    }
    const auto sm = static_cast<std::int64_t>(m);
    const auto sn = static_cast<std::int64_t>(n);
    // mass[j] for j = 0..n: the current row; reciprocal[s] = 1 / (m + n - s),
    // the step probabilities' denominator after s steps.
    std::vector<double> work(n + 1 + m + n, 0.0);
    const std::span<double> mass(work.data(), n + 1);
    const std::span<double> reciprocal(work.data() + n + 1, m + n);
    for (std::size_t steps = 0; steps < m + n; ++steps) {
        reciprocal[steps] = 1.0 / static_cast<double>(m + n - steps);
    }
    double outside = 0;
    std::int64_t previous_low = 0;
    std::int64_t previous_high = 0;
    for (std::int64_t i = 0; i <= sm; ++i) {
        // Inside: i n - d < j m < i n + d. Every path visits row i, so a row
        // without inside cells means every path leaves the band.
        const std::int64_t low = std::max<std::int64_t>(0, floor_div(i * sn - d_scaled, sm) + 1);
        const std::int64_t high = std::min(sn, floor_div(i * sn + d_scaled - 1, sm));
        if (low > high) {
            return 1.0;
        }
        const double x_steps_left = static_cast<double>(sm - i + 1);
        // Cells left of the band are reached only by x steps from the row
        // below (their left neighbours are outside too).
        for (std::int64_t j = previous_low; j < low; ++j) {
            const auto uj = static_cast<std::size_t>(j);
            outside += mass[uj] * x_steps_left * reciprocal[static_cast<std::size_t>(i + j - 1)];
            mass[uj] = 0.0;
        }
        double carry = 0;  // the mass of cell (i, j - 1)
        std::int64_t j = low;
        if (i == 0) {
            mass[0] = carry = 1.0;
            j = 1;
        }
        for (; j <= high; ++j) {
            const auto uj = static_cast<std::size_t>(j);
            carry = (mass[uj] * x_steps_left + carry * static_cast<double>(sn - j + 1)) *
                    reciprocal[static_cast<std::size_t>(i + j - 1)];
            mass[uj] = carry;
        }
        // Right of the band: the first cell also by a y step from the band.
        for (j = high + 1; j <= std::min(sn, std::max(previous_high, high + 1)); ++j) {
            const auto uj = static_cast<std::size_t>(j);
            const double from_y = j == high + 1 ? carry * static_cast<double>(sn - j + 1) : 0.0;
            outside += (mass[uj] * x_steps_left + from_y) *
                       reciprocal[static_cast<std::size_t>(i + j - 1)];
            mass[uj] = 0.0;
        }
        previous_low = low;
        previous_high = high;
    }
    return std::min(1.0, outside);
}

// Unsigned keys that order finite doubles as the doubles are ordered.
std::uint64_t order_key(double v) {
    constexpr std::uint64_t k_sign = std::uint64_t{1} << 63;
    const auto bits = std::bit_cast<std::uint64_t>(v);
    return (bits & k_sign) != 0 ? ~bits : bits | k_sign;
}

double from_order_key(std::uint64_t key) {
    constexpr std::uint64_t k_sign = std::uint64_t{1} << 63;
    return std::bit_cast<double>((key & k_sign) != 0 ? key & ~k_sign : ~key);
}

// The number of differences ys[j] - xs[i] (as computed in floating point)
// that are <= t; xs and ys sorted ascending. Rounding is monotone, so for
// each ys[j] those xs[i] form a suffix that shrinks as j grows: O(n_x + n_y).
std::size_t count_differences_at_most(std::span<const double> xs, std::span<const double> ys,
                                      double t) {
    std::size_t count = 0;
    std::size_t i = 0;
    for (double yj : ys) {
        while (i < xs.size() && yj - xs[i] > t) {
            ++i;
        }
        count += xs.size() - i;
    }
    return count;
}

// The rank-th smallest (1-based) of the n_x n_y differences ys[j] - xs[i],
// without forming them: bisection over the doubles between the smallest and
// the largest difference, ordered by order_key. The count above is a step
// function of t that steps only at differences, so the smallest double where
// it reaches `rank` is exactly that order statistic. At most 64 steps of
// O(n_x + n_y) each.
double difference_order_statistic(std::span<const double> xs, std::span<const double> ys,
                                  std::size_t rank) {
    std::uint64_t low = order_key(ys.front() - xs.back());
    std::uint64_t high = order_key(ys.back() - xs.front());
    while (low < high) {
        const std::uint64_t mid = low + (high - low) / 2;
        if (count_differences_at_most(xs, ys, from_order_key(mid)) >= rank) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    return from_order_key(low) + 0.0;  // + 0.0 turns a -0.0 into 0.0
}

// Order statistics of the n_x n_y differences y_j - x_i, asked for by
// non-decreasing 1-based rank. While n_x n_y <= k_materialize_factor (n_x + n_y)
// the differences are materialized and selected with nth_element on the part
// above the previous rank (expected O(n_x n_y) time); beyond that
// difference_order_statistic works on sorted copies (O(64 (n_x + n_y)) per
// rank). The factor is about where the two cost the same (measured at -O2);
// memory is O(n_x + n_y) either way.
class DifferenceSelector {
  public:
    DifferenceSelector(std::span<const double> x, std::span<const double> y) {
        const std::size_t pairs = x.size() * y.size();
        if (pairs <= k_materialize_factor * (x.size() + y.size())) {
            m_differences.reserve(pairs);
            for (double yj : y) {
                for (double xi : x) {
                    m_differences.push_back(yj - xi);
                }
            }
        } else {
            m_sorted = sort_pair(x, y);
        }
    }

    double at(std::size_t rank) {
        if (m_differences.empty()) {
            return difference_order_statistic(m_sorted.x(), m_sorted.y(), rank);
        }
        const std::size_t index = rank - 1;
        if (index >= m_selected) {
            std::nth_element(m_differences.begin() + static_cast<std::ptrdiff_t>(m_selected),
                             m_differences.begin() + static_cast<std::ptrdiff_t>(index),
                             m_differences.end());
            m_selected = index + 1;
        }
        return m_differences[index];
    }

  private:
    static constexpr std::size_t k_materialize_factor = 32;
    SortedPair m_sorted;
    std::vector<double> m_differences;
    // The m_selected smallest differences are in m_differences[0, m_selected),
    // the largest of them at m_selected - 1.
    std::size_t m_selected = 0;
};

// The rank cut-off k of the Moses interval (see hodges_lehmann), clamped to
// [0, (m n + 1) / 2] so that D_(k) <= D_(m n + 1 - k).
std::size_t moses_cutoff_uncached(std::size_t m, std::size_t n, double confidence) {
    const std::size_t pairs = m * n;
    const double alpha_half = (1.0 - confidence) / 2.0;
    std::size_t k = 0;
    if (mwu_exact_size(m, n)) {
        const std::vector<double> counts = mwu_null_counts(m, n, pairs / 2);
        // Relative slack so that a tail probability equal to alpha/2 in exact
        // arithmetic is not lost to rounding.
        const double limit = alpha_half * binomial(m + n, m) * (1.0 + 1e-12);
        double below = 0;
        for (double c : counts) {
            below += c;
            if (below > limit) {
                break;
            }
            ++k;
        }
    } else {
        const double z = boost::math::quantile(boost::math::normal(), 1.0 - alpha_half);
        const double sigma =
            std::sqrt(static_cast<double>(pairs) * static_cast<double>(m + n + 1) / 12.0);
        const double cut = std::floor(static_cast<double>(pairs) / 2.0 - z * sigma + 0.5);
        k = cut > 0 ? static_cast<std::size_t>(cut) : 0;
    }
    return std::min(k, (pairs + 1) / 2);
}

// The same, remembering the last answer per thread: a bisect asks for the
// same sizes and confidence again and again, and the exact cut-off costs
// O(min(m, n) m n).
std::size_t moses_cutoff(std::size_t m, std::size_t n, double confidence) {
    struct Memo {
        std::size_t m = 0;
        std::size_t n = 0;
        double confidence = 0;
        std::size_t k = 0;
    };
    thread_local Memo memo;
    if (memo.m != m || memo.n != n || memo.confidence != confidence) {
        memo = {m, n, confidence, moses_cutoff_uncached(m, n, confidence)};
    }
    return memo.k;
}

}  // namespace

MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y,
                                 Alternative alt) {
    assert(all_finite(x) && all_finite(y));
    MannWhitneyResult result;
    if (x.empty() || y.empty()) {
        return result;
    }
    const SortedPair sorted = sort_pair(x, y);
    double u_x = 0;
    double tie_term = 0;
    std::size_t y_below = 0;
    for_each_distinct(sorted.x(), sorted.y(), [&](std::size_t cx, std::size_t cy) {
        u_x += static_cast<double>(cx) *
               (static_cast<double>(y_below) + 0.5 * static_cast<double>(cy));
        const auto t = static_cast<double>(cx + cy);
        tie_term += t * t * t - t;
        y_below += cy;
    });
    result.u = u_x;

    const std::size_t nx = x.size();
    const std::size_t ny = y.size();
    const auto pairs = static_cast<double>(nx * ny);
    const double u_y = pairs - u_x;
    // The p-value is an upper tail of the statistic `u_tail`, doubled for
    // the two-sided test (scipy's formulation; U_y's upper tail is U_x's lower).
    double u_tail = u_x;
    double factor = 1.0;
    switch (alt) {
        case Alternative::greater:
            break;
        case Alternative::less:
            u_tail = u_y;
            break;
        case Alternative::two_sided:
            u_tail = std::max(u_x, u_y);
            factor = 2.0;
            break;
    }

    if (tie_term == 0.0 && mwu_exact_size(nx, ny)) {
        result.exact = true;
        // P(U >= u_tail) = P(U <= pairs - u_tail) by symmetry; U is an integer here.
        const auto lower = static_cast<std::size_t>(pairs - u_tail);
        result.p_value = std::min(1.0, factor * mwu_exact_cdf(nx, ny, lower));
        return result;
    }

    const auto n = static_cast<double>(nx + ny);
    const double variance = pairs / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if (!(variance > 0.0)) {
        return result;
    }
    const double z = (u_tail - pairs / 2.0 - 0.5) / std::sqrt(variance);
    result.p_value = std::clamp(factor * normal_sf(z), 0.0, 1.0);
    return result;
}

double kolmogorov_sf(double lambda) {
    if (std::isnan(lambda)) {
        return k_nan;
    }
    if (lambda <= 0.0) {
        return 1.0;
    }
    constexpr int k_max_terms = 100;
    if (lambda < k_ks_series_switch) {
        const double y = std::exp(-std::numbers::pi * std::numbers::pi / (8.0 * lambda * lambda));
        double sum = 0;
        for (int k = 1; k <= k_max_terms; ++k) {
            const double odd = 2.0 * k - 1.0;
            const double term = std::pow(y, odd * odd);
            sum += term;
            if (term <= sum * std::numeric_limits<double>::epsilon()) {
                break;
            }
        }
        const double cdf = std::sqrt(2.0 * std::numbers::pi) / lambda * sum;
        return std::clamp(1.0 - cdf, 0.0, 1.0);
    }
    const double x = std::exp(-2.0 * lambda * lambda);
    double sum = 0;
    double sign = 1.0;
    for (int k = 1; k <= k_max_terms; ++k) {
        const double term = std::pow(x, static_cast<double>(k) * k);
        sum += sign * term;
        if (term <= std::abs(sum) * std::numeric_limits<double>::epsilon()) {
            break;
        }
        sign = -sign;
    }
    return std::clamp(2.0 * sum, 0.0, 1.0);
}

KolmogorovSmirnovResult kolmogorov_smirnov(std::span<const double> x, std::span<const double> y) {
    assert(all_finite(x) && all_finite(y));
    KolmogorovSmirnovResult result;
    if (x.empty() || y.empty()) {
        return result;
    }
    const std::size_t nx = x.size();
    const std::size_t ny = y.size();
    const SortedPair sorted = sort_pair(x, y);
    // D scaled by nx * ny, an integer: |F_x - F_y| = |i ny - j nx| / (nx ny).
    const auto sx = static_cast<std::int64_t>(nx);
    const auto sy = static_cast<std::int64_t>(ny);
    std::int64_t i = 0;
    std::int64_t j = 0;
    std::int64_t d_scaled = 0;
    for_each_distinct(sorted.x(), sorted.y(), [&](std::size_t cx, std::size_t cy) {
        i += static_cast<std::int64_t>(cx);
        j += static_cast<std::int64_t>(cy);
        d_scaled = std::max(d_scaled, std::abs(i * sy - j * sx));
    });
    const auto pairs = static_cast<double>(nx * ny);
    result.d = static_cast<double>(d_scaled) / pairs;
    if (nx * ny <= k_ks_exact_max_pairs) {
        result.p_value = ks_exact_sf(nx, ny, d_scaled);
    } else {
        const double root_en = std::sqrt(pairs / static_cast<double>(nx + ny));
        result.p_value = kolmogorov_sf((root_en + 0.12 + 0.11 / root_en) * result.d);
    }
    return result;
}

ShiftEstimate hodges_lehmann(std::span<const double> x, std::span<const double> y,
                             double confidence) {
    assert(all_finite(x) && all_finite(y));
    assert(confidence > 0.0 && confidence < 1.0);
    ShiftEstimate result;
    result.confidence = confidence;
    if (x.empty() || y.empty()) {
        result.estimate = result.low = result.high = k_nan;
        return result;
    }
    const std::size_t pairs = x.size() * y.size();
    DifferenceSelector differences(x, y);
    const bool valid_confidence = confidence > 0.0 && confidence < 1.0;
    const std::size_t k = valid_confidence ? moses_cutoff(x.size(), y.size(), confidence) : 0;
    if (k >= 1) {
        result.low = differences.at(k);
    }
    const double middle_low = differences.at((pairs + 1) / 2);
    const double middle_high = pairs % 2 == 1 ? middle_low : differences.at(pairs / 2 + 1);
    result.estimate = (middle_low + middle_high) / 2.0;
    if (k >= 1) {
        result.high = differences.at(pairs + 1 - k);
    } else if (valid_confidence) {
        result.low = -k_inf;
        result.high = k_inf;
    } else {
        result.low = result.high = k_nan;
    }
    return result;
}

}  // namespace perfbisect::stats
