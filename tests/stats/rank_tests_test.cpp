#include "stats/rank_tests.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace ps = perfbisect::stats;
using ps::Alternative;

namespace {

// ---- Oracles, independent of the implementation ----------------------------

// The pooled sample 0, 1, ..., m + n - 1 split by `mask`: bit r set puts the
// value r into x. Enumerating every mask with popcount m enumerates the
// C(m + n, m) equally likely rank assignments under H0.
struct Split {
    std::vector<double> x;
    std::vector<double> y;
};

Split split_by_mask(std::uint32_t mask, int total) {
    Split s;
    for (int r = 0; r < total; ++r) {
        ((mask >> r) & 1U ? s.x : s.y).push_back(static_cast<double>(r));
    }
    return s;
}

// U of x counted pair by pair.
long brute_u(const Split& s) {
    long u = 0;
    for (double xi : s.x) {
        for (double yj : s.y) {
            u += xi > yj ? 1 : 0;
        }
    }
    return u;
}

// The null distribution of U by enumeration: counts[u].
std::vector<double> enumerate_u_counts(int m, int n) {
    std::vector<double> counts(static_cast<std::size_t>(m * n + 1), 0.0);
    for (std::uint32_t mask = 0; mask < (1U << (m + n)); ++mask) {
        if (std::popcount(mask) == m) {
            counts[static_cast<std::size_t>(brute_u(split_by_mask(mask, m + n)))] += 1.0;
        }
    }
    return counts;
}

// The null distribution of U by the additions-only recursion of Mann & Whitney
// (1947), f(m, n; u) = f(m - 1, n; u - n) + f(m, n - 1; u), in long double;
// returned normalized to probabilities.
std::vector<long double> recursion_u_pmf(int m, int n) {
    // row[b] holds f(a, b; .) for the current a.
    const std::vector<long double> one{1.0L};  // f(0, b) = f(a, 0) = [1]
    std::vector<std::vector<long double>> row(static_cast<std::size_t>(n + 1), one);
    for (int a = 1; a <= m; ++a) {
        std::vector<std::vector<long double>> next(static_cast<std::size_t>(n + 1), one);
        for (int b = 1; b <= n; ++b) {
            std::vector<long double> f(static_cast<std::size_t>(a * b + 1), 0.0L);
            const auto& left = next[static_cast<std::size_t>(b - 1)];  // f(a, b - 1)
            const auto& down = row[static_cast<std::size_t>(b)];       // f(a - 1, b)
            for (std::size_t u = 0; u < left.size(); ++u) {
                f[u] += left[u];
            }
            for (std::size_t u = 0; u < down.size(); ++u) {
                f[u + static_cast<std::size_t>(b)] += down[u];
            }
            next[static_cast<std::size_t>(b)] = std::move(f);
        }
        row = std::move(next);
    }
    std::vector<long double> pmf = row[static_cast<std::size_t>(n)];
    long double total = 0;
    for (long double c : pmf) {
        total += c;
    }
    for (long double& c : pmf) {
        c /= total;
    }
    return pmf;
}

template <typename T>
double lower_tail(const std::vector<T>& mass, long u) {
    long double below = 0, total = 0;
    for (std::size_t i = 0; i < mass.size(); ++i) {
        total += mass[i];
        if (static_cast<long>(i) <= u) {
            below += mass[i];
        }
    }
    return static_cast<double>(below / total);
}

// Exact p-values from a null distribution of U, as scipy defines them.
template <typename T>
double oracle_p(const std::vector<T>& mass, long u, long pairs, Alternative alt) {
    switch (alt) {
        case Alternative::less:
            return lower_tail(mass, u);
        case Alternative::greater:
            return lower_tail(mass, pairs - u);
        case Alternative::two_sided:
            return std::min(1.0, 2.0 * lower_tail(mass, std::min(u, pairs - u)));
    }
    return 0;
}

// D scaled by m n for a split of distinct values, by walking the sorted pool.
long brute_d_scaled(std::uint32_t mask, int m, int n) {
    long i = 0, j = 0, d = 0;
    for (int r = 0; r < m + n; ++r) {
        ((mask >> r) & 1U ? i : j) += 1;
        d = std::max(d, std::labs(i * n - j * m));
    }
    return d;
}

// Gnedenko & Korolyuk (1951): for equal sizes n,
// P(D >= k / n) = 2 sum_{j=1}^{floor(n/k)} (-1)^(j+1) C(2n, n - jk) / C(2n, n).
double gnedenko_korolyuk_sf(int n, int k) {
    double sum = 0;
    for (int j = 1; j * k <= n; ++j) {
        const int a = j * k;
        double ratio = 1.0;  // C(2n, n - a) / C(2n, n) = prod_{i=1..a} (n - a + i) / (n + i)
        for (int i = 1; i <= a; ++i) {
            ratio *= static_cast<double>(n - a + i) / static_cast<double>(n + i);
        }
        sum += (j % 2 == 1 ? 1.0 : -1.0) * ratio;
    }
    return 2.0 * sum;
}

std::vector<double> sorted_differences(const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> d;
    for (double yj : y) {
        for (double xi : x) {
            d.push_back(yj - xi);
        }
    }
    std::sort(d.begin(), d.end());
    return d;
}

double median_of_sorted(const std::vector<double>& s) {
    return (s[(s.size() - 1) / 2] + s[s.size() / 2]) / 2.0;
}

std::vector<double> draw(std::mt19937_64& rng, std::size_t n, double location, double spread) {
    std::normal_distribution<double> normal(location, spread);
    std::vector<double> v(n);
    for (double& e : v) {
        e = normal(rng);
    }
    return v;
}

// Run times: lognormal around `scale` with 10% spread.
std::vector<double> draw_times(std::mt19937_64& rng, std::size_t n, double scale) {
    std::lognormal_distribution<double> lognormal(0.0, 0.1);
    std::vector<double> v(n);
    for (double& e : v) {
        e = scale * lognormal(rng);
    }
    return v;
}

constexpr Alternative k_alternatives[] = {Alternative::two_sided, Alternative::less,
                                          Alternative::greater};

}  // namespace

// ---- Mann-Whitney U ---------------------------------------------------------

TEST_CASE("Mann-Whitney: the scipy.stats.mannwhitneyu documentation example", "[stats][mwu]") {
    // SciPy reference guide, mannwhitneyu: U = 17, exact two-sided p = 1/9
    // (its method="asymptotic" value 0.11134688653314041 is not reachable:
    // samples this small are always exact here). The one-sided values are hand
    // counts for sizes 5 and 4 (C(9, 4) = 126 orderings): P(U <= 3) = (1 + 1 +
    // 2 + 3) / 126 and P(U <= 17) = 1 - P(U <= 2) = 1 - 4 / 126.
    const std::vector<double> males{19, 22, 16, 29, 24};
    const std::vector<double> females{20, 11, 17, 12};
    const auto two = ps::mann_whitney_u(males, females);
    CHECK(two.u == 17.0);
    CHECK(two.exact);
    CHECK(two.p_value == Approx(1.0 / 9.0).epsilon(1e-12));
    CHECK(ps::mann_whitney_u(males, females, Alternative::greater).p_value ==
          Approx(7.0 / 126.0).epsilon(1e-12));
    CHECK(ps::mann_whitney_u(males, females, Alternative::less).p_value ==
          Approx(1.0 - 4.0 / 126.0).epsilon(1e-12));
    // U of the swapped call is n_x n_y - U.
    CHECK(ps::mann_whitney_u(females, males).u == 3.0);
}

TEST_CASE("Mann-Whitney exact p-values equal full enumeration of rank assignments",
          "[stats][mwu]") {
    const std::pair<int, int> sizes[] = {{1, 1}, {1, 5}, {2, 3}, {3, 3}, {4, 6},
                                         {5, 5}, {7, 8}, {8, 8}, {3, 12}};
    for (auto [m, n] : sizes) {
        const auto counts = enumerate_u_counts(m, n);
        for (std::uint32_t mask = 0; mask < (1U << (m + n)); ++mask) {
            if (std::popcount(mask) != m) {
                continue;
            }
            const Split s = split_by_mask(mask, m + n);
            const long u = brute_u(s);
            for (Alternative alt : k_alternatives) {
                const auto r = ps::mann_whitney_u(s.x, s.y, alt);
                INFO("m=" << m << " n=" << n << " mask=" << mask
                          << " alt=" << static_cast<int>(alt));
                REQUIRE(r.exact);
                REQUIRE(r.u == static_cast<double>(u));
                REQUIRE(r.p_value == Approx(oracle_p(counts, u, m * n, alt)).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("Mann-Whitney exact p-values up to 50 x 50 equal the additive recursion",
          "[stats][mwu]") {
    // Larger than enumeration allows: the long-double recursion of Mann &
    // Whitney is the oracle. Shifts from 0 to 2 sigma spread the p-values from
    // about 1 down to about 1e-20; the tolerance is relative.
    std::mt19937_64 rng(20240601);
    const std::pair<int, int> sizes[] = {{9, 40}, {30, 40}, {50, 50}, {6, 300}};
    for (auto [m, n] : sizes) {
        const auto pmf = recursion_u_pmf(m, n);
        for (double shift : {0.0, 0.3, 0.8, 2.0}) {
            const auto x = draw(rng, static_cast<std::size_t>(m), 0.0, 1.0);
            const auto y = draw(rng, static_cast<std::size_t>(n), shift, 1.0);
            for (Alternative alt : k_alternatives) {
                const auto r = ps::mann_whitney_u(x, y, alt);
                INFO("m=" << m << " n=" << n << " shift=" << shift << " u=" << r.u);
                REQUIRE(r.exact);
                const double expected =
                    oracle_p(pmf, static_cast<long>(r.u), static_cast<long>(m) * n, alt);
                CHECK(r.p_value == Approx(expected).epsilon(1e-9).margin(1e-300));
            }
        }
    }
}

TEST_CASE("Mann-Whitney normal approximation with ties and continuity correction", "[stats][mwu]") {
    // Hand computation (rank sums with midranks): U_x = 17.5; tie groups of
    // sizes 2, 4, 3, 2, 2, 3 give sum(t^3 - t) = 126; sigma =
    // sqrt(100 / 12 * (21 - 126 / 380)) = 13.123903462966465;
    // two-sided p = 2 * Q((100 - 17.5 - 50 - 0.5) / sigma) = 0.014756564804322575.
    const std::vector<double> x{1, 2, 2, 3, 3, 3, 4, 5, 6, 7};
    const std::vector<double> y{3, 4, 4, 5, 6, 7, 7, 8, 9, 10};
    const auto two = ps::mann_whitney_u(x, y);
    CHECK_FALSE(two.exact);
    CHECK(two.u == 17.5);
    CHECK(two.p_value == Approx(0.014756564804322575).epsilon(1e-12));
    CHECK(ps::mann_whitney_u(x, y, Alternative::less).p_value ==
          Approx(0.007378282402161288).epsilon(1e-12));
    CHECK(ps::mann_whitney_u(x, y, Alternative::greater).p_value ==
          Approx(0.9940398637029575).epsilon(1e-12));
}

TEST_CASE("Mann-Whitney method rule: exact iff no ties and (min n <= 8 or n_x n_y <= 2500)",
          "[stats][mwu]") {
    std::mt19937_64 rng(7);
    const auto exact_for = [&](std::size_t m, std::size_t n) {
        return ps::mann_whitney_u(draw(rng, m, 0, 1), draw(rng, n, 0, 1)).exact;
    };
    CHECK(exact_for(50, 50));
    CHECK(exact_for(8, 1000));
    CHECK(exact_for(25, 100));
    CHECK_FALSE(exact_for(51, 50));
    CHECK_FALSE(exact_for(9, 300));
    const std::vector<double> tied{1, 2, 3};
    CHECK_FALSE(ps::mann_whitney_u(tied, std::vector<double>{3, 4, 5}).exact);
    CHECK_FALSE(ps::mann_whitney_u(std::vector<double>{1, 1, 2}, std::vector<double>{4, 5}).exact);
}

TEST_CASE("Mann-Whitney normal approximation without ties (large samples)", "[stats][mwu]") {
    // 60 vs 60 distinct values, x = 0..59 and y = 30..89 shifted by 0.5 so
    // nothing ties: U_x = #pairs x > y = sum_{k=1..29} k = 435; sigma =
    // sqrt(3600 * 121 / 12) = 190.52558883257652; two-sided
    // p = 2 Q((3600 - 435 - 1800 - 0.5) / sigma) = 2 Q(7.1618...)
    std::vector<double> x, y;
    for (int i = 0; i < 60; ++i) {
        x.push_back(i);
        y.push_back(i + 30.5);
    }
    const auto r = ps::mann_whitney_u(x, y);
    CHECK_FALSE(r.exact);
    CHECK(r.u == 435.0);
    const double z = (3600.0 - 435.0 - 1800.0 - 0.5) / std::sqrt(3600.0 * 121.0 / 12.0);
    CHECK(r.p_value == Approx(std::erfc(z / std::sqrt(2.0))).epsilon(1e-10));
    CHECK(r.p_value == Approx(7.96e-13).epsilon(0.01));  // erfc(7.1618 / sqrt 2)
}

TEST_CASE("Mann-Whitney degenerate inputs", "[stats][mwu]") {
    const std::vector<double> empty;
    const std::vector<double> some{1, 2, 3};
    for (Alternative alt : k_alternatives) {
        CHECK(ps::mann_whitney_u(empty, some, alt).p_value == 1.0);
        CHECK(ps::mann_whitney_u(some, empty, alt).p_value == 1.0);
    }
    // Every value tied: sigma = 0, no evidence either way.
    const auto all_tied =
        ps::mann_whitney_u(std::vector<double>{5, 5, 5}, std::vector<double>{5, 5});
    CHECK(all_tied.u == 3.0);
    CHECK(all_tied.p_value == 1.0);
}

// ---- Kolmogorov-Smirnov -----------------------------------------------------

TEST_CASE("Kolmogorov-Smirnov exact p-values equal full enumeration", "[stats][ks]") {
    // Includes very unequal sizes, where the band moves several columns a row.
    const std::pair<int, int> sizes[] = {{1, 2}, {3, 7},  {5, 6},  {4, 9}, {7, 7},
                                         {8, 8}, {2, 14}, {14, 2}, {6, 10}};
    for (auto [m, n] : sizes) {
        std::vector<long> d_of_mask;
        std::vector<double> d_count(static_cast<std::size_t>(m * n + 1), 0.0);
        double total = 0;
        for (std::uint32_t mask = 0; mask < (1U << (m + n)); ++mask) {
            if (std::popcount(mask) == m) {
                d_count[static_cast<std::size_t>(brute_d_scaled(mask, m, n))] += 1.0;
                total += 1.0;
            }
        }
        for (std::uint32_t mask = 0; mask < (1U << (m + n)); ++mask) {
            if (std::popcount(mask) != m) {
                continue;
            }
            const long d = brute_d_scaled(mask, m, n);
            double at_least = 0;
            for (long e = d; e <= m * n; ++e) {
                at_least += d_count[static_cast<std::size_t>(e)];
            }
            const Split s = split_by_mask(mask, m + n);
            const auto r = ps::kolmogorov_smirnov(s.x, s.y);
            INFO("m=" << m << " n=" << n << " mask=" << mask);
            REQUIRE(r.d == Approx(static_cast<double>(d) / (m * n)).epsilon(1e-15));
            REQUIRE(r.p_value == Approx(at_least / total).epsilon(1e-12));
        }
    }
}

TEST_CASE("Kolmogorov-Smirnov exact p-values for equal sizes follow Gnedenko-Korolyuk",
          "[stats][ks]") {
    // x = 0..n-1 and y = k - 0.5 + (0..n-1): D = k / n exactly.
    for (int n : {20, 100, 200}) {
        for (int k : {1, 3, n / 10, n / 4, n / 2}) {
            std::vector<double> x, y;
            for (int i = 0; i < n; ++i) {
                x.push_back(i);
                y.push_back(i + k - 0.5);
            }
            const auto r = ps::kolmogorov_smirnov(x, y);
            INFO("n=" << n << " k=" << k);
            CHECK(r.d == Approx(static_cast<double>(k) / n));
            CHECK(r.p_value == Approx(std::min(1.0, gnedenko_korolyuk_sf(n, k))).epsilon(1e-10));
        }
    }
}

TEST_CASE("Kolmogorov-Smirnov statistic with ties", "[stats][ks]") {
    // Hand computation: after 1: |1/4 - 0| = .25; after 2: |3/4 - 1/5| = .55;
    // after 3: |1 - 3/5| = .4; after 4: .2; after 5: 0.
    const std::vector<double> x{2, 1, 3, 2};
    const std::vector<double> y{3, 5, 2, 4, 3};
    CHECK(ps::kolmogorov_smirnov(x, y).d == Approx(0.55));
    CHECK(ps::kolmogorov_smirnov(y, x).d == Approx(0.55));
    const auto same = ps::kolmogorov_smirnov(std::vector<double>{1, 1}, std::vector<double>{1});
    CHECK(same.d == 0.0);
    CHECK(same.p_value == 1.0);
    CHECK(ps::kolmogorov_smirnov(std::vector<double>{}, y).p_value == 1.0);
}

TEST_CASE("Kolmogorov distribution survival function at tabulated points", "[stats][ks]") {
    // Critical values of the limiting distribution, Q_KS(lambda) = alpha
    // (Smirnov 1948; e.g. Conover, Practical Nonparametric Statistics, table):
    // 1.2238 -> 0.10, 1.3581 -> 0.05, 1.6276 -> 0.01, 1.9495 -> 0.001.
    CHECK(ps::kolmogorov_sf(1.2238) == Approx(0.10).epsilon(1e-3));
    CHECK(ps::kolmogorov_sf(1.3581) == Approx(0.05).epsilon(1e-3));
    CHECK(ps::kolmogorov_sf(1.6276) == Approx(0.01).epsilon(1e-3));
    CHECK(ps::kolmogorov_sf(1.9495) == Approx(0.001).epsilon(2e-3));
    CHECK(ps::kolmogorov_sf(0.0) == 1.0);
    CHECK(ps::kolmogorov_sf(0.2) == Approx(1.0).epsilon(1e-12));
    CHECK(ps::kolmogorov_sf(6.0) == Approx(2.0 * std::exp(-72.0)).epsilon(1e-12));
    // The two series agree where the implementation switches between them.
    CHECK(ps::kolmogorov_sf(1.18 - 1e-9) == Approx(ps::kolmogorov_sf(1.18)).epsilon(1e-8));
    // The alternating series summed to 50 terms, independently.
    for (double lambda : {0.5, 0.8, 1.0, 1.5, 2.5}) {
        double sum = 0;
        for (int k = 1; k <= 50; ++k) {
            sum += (k % 2 == 1 ? 2.0 : -2.0) * std::exp(-2.0 * k * k * lambda * lambda);
        }
        CHECK(ps::kolmogorov_sf(lambda) == Approx(sum).epsilon(1e-12));
    }
}

TEST_CASE("Kolmogorov-Smirnov asymptotic p-value uses Stephens' correction", "[stats][ks]") {
    // 250 x 200 = 50000 pairs: asymptotic. x = 0..249, y = 20.5 + (0..199) * 1.25.
    std::vector<double> x, y;
    for (int i = 0; i < 250; ++i) {
        x.push_back(i);
    }
    for (int j = 0; j < 200; ++j) {
        y.push_back(20.5 + j * 1.25);
    }
    const auto r = ps::kolmogorov_smirnov(x, y);
    const double root_en = std::sqrt(250.0 * 200.0 / 450.0);
    CHECK(r.p_value == Approx(ps::kolmogorov_sf((root_en + 0.12 + 0.11 / root_en) * r.d)));
    // At 249: F_x = 1, F_y = (floor(228.5 / 1.25) + 1) / 200 = 183 / 200.
    CHECK(r.d == Approx(1.0 - 183.0 / 200.0));
    // The exact method on nearly the same sizes gives nearly the same p-value.
    x.pop_back();
    x.pop_back();  // 248 x 160 = 39680 pairs: exact
    y.resize(160);
    const auto exact = ps::kolmogorov_smirnov(x, y);
    const auto asymp_like = ps::kolmogorov_sf(
        (std::sqrt(248.0 * 160.0 / 408.0) + 0.12 + 0.11 / std::sqrt(248.0 * 160.0 / 408.0)) *
        exact.d);
    CHECK(exact.p_value == Approx(asymp_like).margin(0.01));
}

// ---- Hodges-Lehmann -----------------------------------------------------------

TEST_CASE("Hodges-Lehmann on a hand-computed example", "[stats][hl]") {
    // Differences y - x sorted: -1 1 1 2 3 4 4 5 6 7 7 8 (12 of them),
    // median (4 + 4) / 2 = 4. Sizes 3 and 4: C(7, 3) = 35 orderings and
    // P(U <= 0) = 1/35 > 0.025, so no finite 95% interval; at 80%,
    // P(U <= 1) = 2/35 <= 0.1 < P(U <= 2) = 4/35, k = 2, CI = [D_(2), D_(11)] = [1, 7].
    const std::vector<double> x{1, 2, 4};
    const std::vector<double> y{3, 5, 8, 9};
    const auto wide = ps::hodges_lehmann(x, y);
    CHECK(wide.estimate == 4.0);
    CHECK(wide.confidence == 0.95);
    CHECK(std::isinf(wide.low));
    CHECK(wide.low < 0);
    CHECK(std::isinf(wide.high));
    CHECK(wide.high > 0);
    const auto narrow = ps::hodges_lehmann(x, y, 0.8);
    CHECK(narrow.estimate == 4.0);
    CHECK(narrow.low == 1.0);
    CHECK(narrow.high == 7.0);
}

TEST_CASE("Hodges-Lehmann interval uses the tabulated Mann-Whitney critical values",
          "[stats][hl]") {
    // Two-sided 5% critical values of U from the standard tables (e.g.
    // Siegel & Castellan, Table J; reproduced by the enumeration above):
    // 5 x 5 -> 2, 8 x 8 -> 13, 10 x 10 -> 23, 20 x 20 -> 127, 5 x 10 -> 8,
    // i.e. reject when U <= c. The Moses cut-off is k = c + 1.
    // 60 x 60 (normal approximation): k = floor(1800 - 1.959964 * 190.5256 + 0.5) = 1427.
    struct Case {
        std::size_t m, n, k;
    };
    const Case cases[] = {{5, 5, 3},     {8, 8, 14}, {10, 10, 24},
                          {20, 20, 128}, {5, 10, 9}, {60, 60, 1427}};
    std::mt19937_64 rng(99);
    for (const Case& c : cases) {
        const auto x = draw(rng, c.m, 10.0, 2.0);
        const auto y = draw(rng, c.n, 11.0, 2.0);
        const auto sorted = sorted_differences(x, y);
        const auto r = ps::hodges_lehmann(x, y);
        INFO("m=" << c.m << " n=" << c.n);
        CHECK(r.low == sorted[c.k - 1]);
        CHECK(r.high == sorted[sorted.size() - c.k]);
        CHECK(r.estimate == median_of_sorted(sorted));
    }
}

TEST_CASE("Hodges-Lehmann estimate is the median of the sorted differences", "[stats][hl]") {
    // Sizes on both sides of the switch from materialized differences
    // (n_x n_y <= 32 (n_x + n_y)) to bisection: 30 x 90, 7 x 300 materialize;
    // 90 x 90, 60 x 300, 200 x 150 bisect.
    std::mt19937_64 rng(3);
    for (std::size_t m : {1, 2, 7, 30, 90, 200}) {
        for (std::size_t n : {1, 4, 15, 90, 150, 300}) {
            const auto x = draw(rng, m, 0.0, 1.0);
            const auto y = draw(rng, n, 0.5, 1.0);
            const auto r = ps::hodges_lehmann(x, y);
            INFO("m=" << m << " n=" << n);
            CHECK(r.estimate == median_of_sorted(sorted_differences(x, y)));
            CHECK(r.low <= r.estimate);
            CHECK(r.estimate <= r.high);
        }
    }
    // Equivariance: shifting y by c shifts everything by c.
    const auto x = draw(rng, 12, 0.0, 1.0);
    auto y = draw(rng, 14, 0.0, 1.0);
    const auto before = ps::hodges_lehmann(x, y);
    for (double& v : y) {
        v += 8.0;  // a power of two keeps the arithmetic exact enough
    }
    const auto after = ps::hodges_lehmann(x, y);
    CHECK(after.estimate == Approx(before.estimate + 8.0));
    CHECK(after.low == Approx(before.low + 8.0));
    CHECK(after.high == Approx(before.high + 8.0));
}

TEST_CASE("Hodges-Lehmann with many ties selects the exact order statistics", "[stats][hl]") {
    // Integer-valued timings: many equal differences, and differences of 0.
    // 20 x 25 materializes, 120 x 150 bisects; both against a full sort.
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int> tick(95, 105);
    for (auto [m, n] : {std::pair<std::size_t, std::size_t>{20, 25}, {120, 150}}) {
        std::vector<double> x(m), y(n);
        for (double& v : x) {
            v = tick(rng);
        }
        for (double& v : y) {
            v = tick(rng) + 1;
        }
        // Standard normal quantiles z_{(1 + confidence) / 2} from the usual tables.
        const std::pair<double, double> levels[] = {
            {0.5, 0.6744897501960817}, {0.9, 1.6448536269514722}, {0.99, 2.5758293035489004}};
        const bool exact = m * n <= 2500;
        const auto pmf = exact ? recursion_u_pmf(static_cast<int>(m), static_cast<int>(n))
                               : std::vector<long double>{};
        for (auto [confidence, z] : levels) {
            std::size_t k = 0;
            if (exact) {  // k = #{u : P(U <= u) <= alpha / 2}
                while (lower_tail(pmf, static_cast<long>(k)) <= (1 - confidence) / 2) {
                    ++k;
                }
            } else {
                const double pairs = static_cast<double>(m * n);
                k = static_cast<std::size_t>(std::floor(
                    pairs / 2 - z * std::sqrt(pairs * static_cast<double>(m + n + 1) / 12) + 0.5));
            }
            const auto sorted = sorted_differences(x, y);
            const auto r = ps::hodges_lehmann(x, y, confidence);
            INFO("m=" << m << " n=" << n << " confidence=" << confidence << " k=" << k);
            CHECK(r.estimate == median_of_sorted(sorted));
            CHECK(r.low == sorted[k - 1]);
            CHECK(r.high == sorted[sorted.size() - k]);
        }
    }
    // All differences zero: the estimate is +0, not -0.
    const auto zero =
        ps::hodges_lehmann(std::vector<double>(100, 1.5), std::vector<double>(100, 1.5));
    CHECK(zero.estimate == 0.0);
    CHECK_FALSE(std::signbit(zero.estimate));
    CHECK(zero.low == 0.0);
    CHECK(zero.high == 0.0);
}

TEST_CASE("Hodges-Lehmann of an empty sample is NaN", "[stats][hl]") {
    const auto r = ps::hodges_lehmann(std::vector<double>{}, std::vector<double>{1.0, 2.0}, 0.9);
    CHECK(std::isnan(r.estimate));
    CHECK(std::isnan(r.low));
    CHECK(std::isnan(r.high));
    CHECK(r.confidence == 0.9);
}

// ---- Properties on simulated data (fixed seeds) -------------------------------

TEST_CASE("Under H0 the rank tests reject at about their nominal level", "[stats][property]") {
    // 10 vs 10 is exact for Mann-Whitney; its largest attainable size <= 5% is
    // 2 P(U <= 23) = 0.0433. KS at 10 vs 10 is coarser: P(D >= 0.7) = 0.0123.
    std::mt19937_64 rng(12345);
    constexpr int k_repetitions = 2000;
    int mwu_rejections = 0;
    int ks_rejections = 0;
    for (int rep = 0; rep < k_repetitions; ++rep) {
        const auto x = draw_times(rng, 10, 100.0);
        const auto y = draw_times(rng, 10, 100.0);
        mwu_rejections += ps::mann_whitney_u(x, y).p_value <= 0.05 ? 1 : 0;
        ks_rejections += ps::kolmogorov_smirnov(x, y).p_value <= 0.05 ? 1 : 0;
    }
    const double mwu_rate = static_cast<double>(mwu_rejections) / k_repetitions;
    const double ks_rate = static_cast<double>(ks_rejections) / k_repetitions;
    INFO("mwu rate " << mwu_rate << ", ks rate " << ks_rate);
    CHECK(mwu_rate >= 0.02);
    CHECK(mwu_rate <= 0.08);
    CHECK(ks_rate <= 0.08);
}

TEST_CASE("A 30% slowdown with 20 runs each is detected", "[stats][property]") {
    std::mt19937_64 rng(777);
    for (int rep = 0; rep < 20; ++rep) {
        const auto good = draw_times(rng, 20, 100.0);
        const auto bad = draw_times(rng, 20, 130.0);
        CHECK(ps::mann_whitney_u(good, bad).p_value < 1e-3);
        CHECK(ps::mann_whitney_u(good, bad, Alternative::less).p_value < 1e-3);
        CHECK(ps::mann_whitney_u(good, bad, Alternative::greater).p_value > 0.99);
        CHECK(ps::kolmogorov_smirnov(good, bad).p_value < 1e-3);
        const auto shift = ps::hodges_lehmann(good, bad);
        CHECK(shift.low > 0.0);
    }
}

TEST_CASE("One-sided alternatives follow the sign of the shift", "[stats][property]") {
    std::mt19937_64 rng(4242);
    for (std::size_t n : {6, 15, 80}) {
        for (double shift : {-1.0, 1.0}) {
            const auto x = draw(rng, n, 0.0, 1.0);
            const auto y = draw(rng, n, shift, 1.0);
            const double p_less = ps::mann_whitney_u(x, y, Alternative::less).p_value;
            const double p_greater = ps::mann_whitney_u(x, y, Alternative::greater).p_value;
            const double p_two = ps::mann_whitney_u(x, y).p_value;
            INFO("n=" << n << " shift=" << shift);
            // y shifted up means x tends to be smaller: "less" is the supported side.
            if (shift > 0) {
                CHECK(p_less < p_greater);
            } else {
                CHECK(p_greater < p_less);
            }
            CHECK(p_two == Approx(std::min(1.0, 2.0 * std::min(p_less, p_greater))));
            CHECK((ps::hodges_lehmann(x, y).estimate > 0) == (shift > 0));
        }
    }
}

TEST_CASE("Hodges-Lehmann intervals cover the true shift at about the nominal rate",
          "[stats][property]") {
    // Exponential noise (skewed, like run times) to exercise distribution
    // freeness; 12 x 15 uses the exact cut-off, 60 x 70 the normal one.
    std::mt19937_64 rng(2718);
    std::exponential_distribution<double> noise(1.0);
    const auto sample = [&](std::size_t n, double location) {
        std::vector<double> v(n);
        for (double& e : v) {
            e = location + noise(rng);
        }
        return v;
    };
    constexpr double k_true_shift = 0.7;
    const std::pair<std::size_t, std::size_t> sizes[] = {{12, 15}, {60, 70}};
    for (auto [m, n] : sizes) {
        int covered = 0;
        constexpr int k_repetitions = 1000;
        for (int rep = 0; rep < k_repetitions; ++rep) {
            const auto r = ps::hodges_lehmann(sample(m, 5.0), sample(n, 5.0 + k_true_shift));
            covered += (r.low <= k_true_shift && k_true_shift <= r.high) ? 1 : 0;
        }
        const double rate = static_cast<double>(covered) / k_repetitions;
        INFO("m=" << m << " n=" << n << " coverage " << rate);
        CHECK(rate >= 0.90);
        CHECK(rate <= 0.99);
    }
}
