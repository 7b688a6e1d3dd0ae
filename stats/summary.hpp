#pragma once

// Descriptive statistics of one sample of measurements.
//
// Precondition of every function: the values are finite (no NaN, no infinity);
// the caller filters failed or missing measurements before calling. It is
// checked by assert only. An empty sample gives NaN.

#include <span>

namespace perfbisect::stats {

double mean(std::span<const double> values);

double median(std::span<const double> values);

// The q-quantile, 0 <= q <= 1, by linear interpolation between order
// statistics: Hyndman & Fan (1996) definition 7, the default of R's quantile()
// and of numpy.quantile (method="linear"). With the sorted values x[0..n-1] and
// h = (n - 1) q, it is x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
// NaN when q is outside [0, 1] or NaN.
double quantile(std::span<const double> values, double q);
// The same without copying: reorders `values` (which it may use as scratch).
// For large temporary samples, where the copy would cost more than the selection.
double quantile_in_place(std::span<double> values, double q);
double median_in_place(std::span<double> values);

// Interquartile range: quantile(0.75) - quantile(0.25), both of definition 7.
double iqr(std::span<const double> values);

}  // namespace perfbisect::stats
