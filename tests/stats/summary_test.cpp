#include "stats/summary.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace ps = perfbisect::stats;

// Expected values are hand computations of Hyndman & Fan definition 7 (numpy's
// default): h = (n - 1) q, x[floor h] + frac(h) (x[floor h + 1] - x[floor h])
// on the sorted sample.

TEST_CASE("mean of a sample", "[stats][summary]") {
    const std::vector<double> v{3.0, 1.0, 4.0, 1.0, 5.0};
    CHECK(ps::mean(v) == Approx(14.0 / 5.0));
    CHECK(ps::mean(std::vector<double>{-2.5}) == -2.5);
}

TEST_CASE("median of odd and even samples, unsorted input", "[stats][summary]") {
    CHECK(ps::median(std::vector<double>{9.0, 1.0, 5.0}) == 5.0);
    CHECK(ps::median(std::vector<double>{4.0, 1.0, 3.0, 2.0}) == 2.5);
    CHECK(ps::median(std::vector<double>{7.0}) == 7.0);
    CHECK(ps::median(std::vector<double>{2.0, 2.0, 2.0, 8.0}) == 2.0);
}

TEST_CASE("quantile interpolates linearly between order statistics (type 7)", "[stats][summary]") {
    // sorted: 1 2 3 4 10, n = 5
    const std::vector<double> v{10.0, 3.0, 1.0, 4.0, 2.0};
    CHECK(ps::quantile(v, 0.0) == 1.0);
    CHECK(ps::quantile(v, 1.0) == 10.0);
    CHECK(ps::quantile(v, 0.25) == 2.0);                     // h = 1
    CHECK(ps::quantile(v, 0.9) == Approx(7.6));              // h = 3.6: 4 + 0.6 * 6
    CHECK(ps::quantile(v, 0.1) == Approx(1.4));              // h = 0.4: 1 + 0.4 * 1
    CHECK(ps::quantile(v, 0.8) == Approx(4.0 + 0.2 * 6.0));  // h = 3.2

    // sorted: 1 2 3 4, n = 4: h(0.25) = 0.75, h(0.75) = 2.25, h(0.5) = 1.5
    const std::vector<double> w{4.0, 2.0, 1.0, 3.0};
    CHECK(ps::quantile(w, 0.25) == Approx(1.75));
    CHECK(ps::quantile(w, 0.75) == Approx(3.25));
    CHECK(ps::quantile(w, 0.5) == Approx(2.5));

    CHECK(ps::quantile(std::vector<double>{5.0}, 0.3) == 5.0);
}

TEST_CASE("iqr is the difference of the type-7 quartiles", "[stats][summary]") {
    CHECK(ps::iqr(std::vector<double>{4.0, 2.0, 1.0, 3.0}) == Approx(1.5));  // 3.25 - 1.75
    // sorted 1..9: quartiles at h = 2 and h = 6 -> 3 and 7
    CHECK(ps::iqr(std::vector<double>{9, 8, 7, 6, 5, 4, 3, 2, 1}) == Approx(4.0));
    CHECK(ps::iqr(std::vector<double>{3.0}) == 0.0);
}

TEST_CASE("empty samples and out-of-range q give NaN", "[stats][summary]") {
    const std::vector<double> empty;
    CHECK(std::isnan(ps::mean(empty)));
    CHECK(std::isnan(ps::median(empty)));
    CHECK(std::isnan(ps::quantile(empty, 0.5)));
    CHECK(std::isnan(ps::iqr(empty)));
    const std::vector<double> v{1.0, 2.0};
    CHECK(std::isnan(ps::quantile(v, -0.1)));
    CHECK(std::isnan(ps::quantile(v, 1.5)));
    CHECK(std::isnan(ps::quantile(v, std::nan(""))));
}

TEST_CASE("quantiles of large samples (radix selection) equal those of a full sort",
          "[stats][summary]") {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal(0.0, 50.0);
    for (const std::size_t n : {std::size_t{20000}, std::size_t{100001}, std::size_t{300000}}) {
        std::vector<double> values(n);
        for (auto& v : values) {
            v = normal(rng);
        }
        // Ties, both zeros and a narrow cluster that shares its top bits.
        for (std::size_t i = 0; i < n / 10; ++i) {
            values[i] = 3.0;
            values[n - 1 - i] = 1e6 + static_cast<double>(i % 7) * 1e-9;
        }
        values[n / 2] = -0.0;
        values[n / 2 + 1] = 0.0;
        std::vector<double> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        for (const double q : {0.0, 0.1, 0.25, 0.5, 0.5 + 1e-7, 0.9, 0.95, 1.0}) {
            const double h = static_cast<double>(n - 1) * q;
            const auto lo = static_cast<std::size_t>(std::floor(h));
            const double expected =
                lo + 1 < n ? sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo])
                           : sorted[lo];
            std::vector<double> scratch = values;
            CHECK(ps::quantile_in_place(scratch, q) == expected);
            CHECK(ps::quantile(values, q) == expected);
        }
    }
    std::vector<double> equal(50000, 7.5);
    CHECK(ps::median_in_place(equal) == 7.5);
}
