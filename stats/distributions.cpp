#include "stats/distributions.hpp"

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace perfbisect::stats {

double normal_quantile(double p) {
    return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

double student_t_quantile(double p, double df) {
    if (df > 1e6) {
        return normal_quantile(p);
    }
    return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

double student_t_sf(double t, double df) {
    if (df > 1e6) {
        return boost::math::cdf(boost::math::complement(boost::math::normal_distribution<double>(), t));
    }
    return boost::math::cdf(
        boost::math::complement(boost::math::students_t_distribution<double>(df), t));
}

double fisher_f_quantile(double p, double df1, double df2) {
    if (df2 > 1e6) {
        return boost::math::quantile(boost::math::chi_squared_distribution<double>(df1), p) / df1;
    }
    return boost::math::quantile(boost::math::fisher_f_distribution<double>(df1, df2), p);
}

}  // namespace perfbisect::stats
