#include "bench/reference.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <vector>

#include "stats/summary.hpp"

namespace perfbisect::bench {

namespace {

class GitBisect {
public:
    GitBisect(const SimulatedHistory& history, double min_effect, std::uint64_t seed)
        : m_history(history),
          m_min_effect(min_effect),
          m_rng(seed),
          m_broken(history.levels.size(), false) {}

    ReferenceResult run() {
        const std::size_t last = m_history.levels.size() - 1;
        if (!build(0) || !build(last)) {
            m_result.outcome.status = SessionStatus::budget_exhausted;
            return std::move(m_result);
        }
        const double good = measure(0);
        const double bad = measure(last);
        if (bad - good < m_min_effect * good) {
            m_result.outcome.status = SessionStatus::not_reproduced;
            return std::move(m_result);
        }
        const double threshold = (good + bad) / 2;
        std::size_t lo = 0;
        std::size_t hi = last;
        while (const auto mid = pick(lo, hi)) {
            if (!build(*mid)) {
                m_broken[*mid] = true;
                continue;
            }
            if (measure(*mid) > threshold) {
                hi = *mid;
            } else {
                lo = *mid;
            }
        }
        Outcome& outcome = m_result.outcome;
        if (hi == lo + 1) {
            outcome.status = SessionStatus::culprit_found;
            CulpritEvidence e;
            e.position = hi;
            e.parent = lo;
            outcome.culprits.push_back(e);
            outcome.candidates.push_back(hi);
        } else {
            outcome.status = SessionStatus::ambiguous;
            for (std::size_t p = lo + 1; p <= hi; ++p) {
                outcome.candidates.push_back(p);
            }
        }
        return std::move(m_result);
    }

private:
    bool build(std::size_t p) {
        ++m_result.builds;
        return m_history.unbuildable.empty() || !m_history.unbuildable[p];
    }

    // The median of k_git_bisect_samples runs of p, taken in one batch.
    double measure(std::size_t p) {
        std::vector<double> values;
        for (int i = 0; i < k_git_bisect_samples; ++i) {
            values.push_back(m_history.noise(m_history.levels[p], m_time, m_rng));
            m_time += 1;
            ++m_result.probe_runs;
        }
        return stats::median(values);
    }

    // The commit of (lo, hi) not known broken that is nearest the midpoint
    // (lower on a tie); none when only broken commits are left.
    std::optional<std::size_t> pick(std::size_t lo, std::size_t hi) const {
        std::optional<std::size_t> best;
        const std::size_t mid = lo + (hi - lo) / 2;
        for (std::size_t p = lo + 1; p < hi; ++p) {
            if (m_broken[p]) {
                continue;
            }
            const auto distance = [mid](std::size_t q) { return q > mid ? q - mid : mid - q; };
            if (!best || distance(p) < distance(*best)) {
                best = p;
            }
        }
        return best;
    }

    const SimulatedHistory& m_history;
    double m_min_effect;
    std::mt19937_64 m_rng;
    double m_time = 0;
    std::vector<bool> m_broken;
    ReferenceResult m_result;
};

}  // namespace

ReferenceResult run_git_bisect(const SimulatedHistory& history, double min_effect,
                               std::uint64_t seed) {
    return GitBisect(history, min_effect, seed).run();
}

double normal_quantile(double p) {
    // Bisection on Phi(z) = erfc(-z / sqrt 2) / 2; 200 halvings reach double precision.
    double low = -40;
    double high = 40;
    for (int i = 0; i < 200; ++i) {
        const double mid = (low + high) / 2;
        if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) {
            low = mid;
        } else {
            high = mid;
        }
    }
    return (low + high) / 2;
}

double lower_bound_runs(std::size_t commits, double relative_sd,
                        std::span<const double> located_steps, double reproduce_shift) {
    const double halvings = std::ceil(std::log2(static_cast<double>(commits)));
    const double alpha = 0.01 / halvings;
    const double z = normal_quantile(1 - alpha);
    const auto n = [&](double step) {
        return std::ceil(std::pow(z * relative_sd / (std::abs(step) / 2), 2));
    };
    double total = n(reproduce_shift);
    for (double step : located_steps) {
        total += halvings * n(step);
    }
    return total;
}

}  // namespace perfbisect::bench
