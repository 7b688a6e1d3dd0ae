#include "stats/distributions.hpp"

#include <catch2/catch.hpp>

namespace ps = perfbisect::stats;

// Reference values from printed tables (NIST/SEMATECH e-Handbook of
// Statistical Methods, sections 1.3.6.7.1-1.3.6.7.4), which agree with
// scipy.stats (norm.ppf, t.ppf, f.ppf, chi2.ppf) to the digits given.

TEST_CASE("normal and Student t quantiles match the tables", "[stats][distributions]") {
    CHECK(ps::normal_quantile(0.975) == Approx(1.959964).epsilon(1e-6));
    CHECK(ps::normal_quantile(0.99) == Approx(2.326348).epsilon(1e-6));
    CHECK(ps::student_t_quantile(0.975, 10) == Approx(2.228).epsilon(1e-3));
    CHECK(ps::student_t_quantile(0.99, 2) == Approx(6.965).epsilon(1e-3));
    CHECK(ps::student_t_quantile(0.95, 2e6) == Approx(1.644854).epsilon(1e-6));
    CHECK(ps::student_t_sf(2.228, 10) == Approx(0.025).epsilon(1e-2));
}

TEST_CASE("F quantiles match the tables, and tend to chi-squared / df1", "[stats][distributions]") {
    CHECK(ps::fisher_f_quantile(0.95, 3, 10) == Approx(3.708).epsilon(1e-3));
    CHECK(ps::fisher_f_quantile(0.99, 2, 20) == Approx(5.849).epsilon(1e-3));
    CHECK(ps::fisher_f_quantile(0.99, 5, 30) == Approx(3.699).epsilon(1e-3));
    // chi-squared(0.99, 1) = 6.635, chi-squared(0.99, 4) = 13.277.
    CHECK(ps::fisher_f_quantile(0.99, 1, 1e7) == Approx(6.635).epsilon(1e-3));
    CHECK(ps::fisher_f_quantile(0.99, 4, 1e7) == Approx(13.277 / 4).epsilon(1e-3));
    // Continuous in df2 across the switch to chi-squared.
    CHECK(ps::fisher_f_quantile(0.99, 4, 1e6) == Approx(13.277 / 4).epsilon(1e-3));
}
