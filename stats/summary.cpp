#include "stats/summary.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

namespace perfbisect::stats {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

[[maybe_unused]] bool all_finite(std::span<const double> values) {
    return std::ranges::all_of(values, [](double v) { return std::isfinite(v); });
}

// Definition-7 quantile of `sorted`, which must be sorted ascending and
// non-empty.
double type7_of_sorted(std::span<const double> sorted, double q) {
    const double h = static_cast<double>(sorted.size() - 1) * q;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    if (lo + 1 >= sorted.size()) {
        return sorted[lo];
    }
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

}  // namespace

double mean(std::span<const double> values) {
    assert(all_finite(values));
    if (values.empty()) {
        return k_nan;
    }
    double sum = 0;
    for (double v : values) {
        sum += v;
    }
    return sum / static_cast<double>(values.size());
}

double median(std::span<const double> values) {
    return quantile(values, 0.5);
}

double quantile(std::span<const double> values, double q) {
    assert(all_finite(values));
    if (values.empty() || !(q >= 0.0 && q <= 1.0)) {
        return k_nan;
    }
    std::vector<double> buffer(values.begin(), values.end());
    return quantile_in_place(buffer, q);
}

double quantile_in_place(std::span<double> buffer, double q) {
    assert(all_finite(buffer));
    if (buffer.empty() || !(q >= 0.0 && q <= 1.0)) {
        return k_nan;
    }
    // Selection instead of a full sort: the two order statistics that are
    // interpolated are the lo-th and the smallest of those above it.
    const double h = static_cast<double>(buffer.size() - 1) * q;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const auto lo_it = buffer.begin() + static_cast<std::ptrdiff_t>(lo);
    std::nth_element(buffer.begin(), lo_it, buffer.end());
    const double fraction = h - static_cast<double>(lo);
    if (lo + 1 >= buffer.size() || fraction == 0.0) {
        return *lo_it;
    }
    const double above = *std::min_element(lo_it + 1, buffer.end());
    return *lo_it + fraction * (above - *lo_it);
}

double median_in_place(std::span<double> values) { return quantile_in_place(values, 0.5); }

double iqr(std::span<const double> values) {
    assert(all_finite(values));
    if (values.empty()) {
        return k_nan;
    }
    std::vector<double> sorted(values.begin(), values.end());
    std::ranges::sort(sorted);
    return type7_of_sorted(sorted, 0.75) - type7_of_sorted(sorted, 0.25);
}

}  // namespace perfbisect::stats
