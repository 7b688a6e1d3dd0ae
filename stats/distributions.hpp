#pragma once

// Quantiles of the reference distributions the decision rules use, from
// Boost.Math (kept out of headers: Boost.Math is heavy to compile).

namespace perfbisect::stats {

// The p-quantile of the standard normal distribution, 0 < p < 1.
double normal_quantile(double p);

// The p-quantile of Student's t distribution with df degrees of freedom
// (df > 0, need not be an integer), 0 < p < 1. Tends to normal_quantile(p)
// as df grows; for df > 1e6 it returns normal_quantile(p).
double student_t_quantile(double p, double df);

// P(T > t) for Student's t distribution with df degrees of freedom (df > 0):
// the one-sided p-value of a t statistic. Normal for df > 1e6.
double student_t_sf(double t, double df);

// The p-quantile of the F distribution with df1 and df2 degrees of freedom
// (both > 0), 0 < p < 1: how far a ratio of two variance estimates may go
// by chance. df2 > 1e6 counts as infinite (a chi-squared over df1).
double fisher_f_quantile(double p, double df1, double df2);

}  // namespace perfbisect::stats
