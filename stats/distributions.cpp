#include "stats/distributions.hpp"

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

}  // namespace perfbisect::stats
