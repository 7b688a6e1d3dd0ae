#include "bench/pinpoint.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "stats/rank_tests.hpp"
#include "stats/summary.hpp"

namespace perfbisect::bench {

namespace {

// IQR of the standard normal distribution.
constexpr double k_normal_iqr = 1.3489795003921634;

std::vector<double> magnitude_grid() {
    return {0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0};
}

}  // namespace

double pinpoint_p_value(const std::vector<double>& a, const std::vector<double>& b) {
    const double p_mwu = stats::mann_whitney_u(a, b).p_value;
    const double p_ks = stats::kolmogorov_smirnov(a, b).p_value;
    return std::min(p_mwu, p_ks);
}

SameThresholds::SameThresholds(int draws, std::uint64_t seed) : m_magnitudes(magnitude_grid()) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0, 1);
    m_table.resize(m_magnitudes.size() * k_pinpoint_sizes.size());
    std::vector<double> a;
    std::vector<double> b;
    std::vector<double> p;
    for (std::size_t i = 0; i < m_magnitudes.size(); ++i) {
        const double shift = m_magnitudes[i] * k_normal_iqr;
        for (std::size_t j = 0; j < k_pinpoint_sizes.size(); ++j) {
            const std::size_t n = k_pinpoint_sizes[j];
            p.clear();
            for (int d = 0; d < draws; ++d) {
                a.resize(n);
                b.resize(n);
                for (std::size_t k = 0; k < n; ++k) {
                    a[k] = normal(rng);
                    b[k] = normal(rng) + shift;
                }
                p.push_back(pinpoint_p_value(a, b));
            }
            m_table[i * k_pinpoint_sizes.size() + j] =
                std::max(k_pinpoint_low_threshold, stats::quantile(p, 0.99));
        }
    }
}

double SameThresholds::high_threshold(double magnitude, std::size_t n) const {
    std::size_t j = 0;
    while (j + 1 < k_pinpoint_sizes.size() && k_pinpoint_sizes[j + 1] <= n) {
        ++j;
    }
    if (!(magnitude > m_magnitudes.front())) {  // also NaN
        return threshold(0, j);
    }
    if (magnitude >= m_magnitudes.back()) {
        return threshold(m_magnitudes.size() - 1, j);
    }
    std::size_t i = 0;
    while (m_magnitudes[i + 1] < magnitude) {
        ++i;
    }
    const double t = (magnitude - m_magnitudes[i]) / (m_magnitudes[i + 1] - m_magnitudes[i]);
    const double log_p = (1 - t) * std::log(threshold(i, j)) + t * std::log(threshold(i + 1, j));
    return std::max(k_pinpoint_low_threshold, std::exp(log_p));
}

namespace {

enum class PairState { same, differs, differs_unsplittable };

class PinpointSearch {
public:
    PinpointSearch(const SimulatedHistory& history, double min_effect,
                   const SameThresholds& thresholds, std::uint64_t seed)
        : m_history(history), m_min_effect(min_effect), m_thresholds(thresholds), m_rng(seed) {}

    ReferenceResult run() {
        const std::size_t good = 0;
        const std::size_t bad = m_history.levels.size() - 1;
        if (!build(good) || !build(bad)) {
            m_result.outcome.status = SessionStatus::budget_exhausted;
            m_result.outcome.summary = "good or bad does not build";
            return std::move(m_result);
        }
        top_up(good, k_pinpoint_sizes.front());
        const double good_iqr = stats::iqr(m_samples[good]);
        const double reproduce_magnitude =
            magnitude_in_iqrs(m_min_effect * stats::median(m_samples[good]), good_iqr);
        const bool differs = compare(good, bad, reproduce_magnitude);
        if (!differs || median(bad) <= median(good)) {
            m_result.outcome.status = SessionStatus::not_reproduced;
            return std::move(m_result);
        }
        m_magnitude =
            magnitude_in_iqrs(std::abs(median(bad) - median(good)), stats::iqr(m_samples[good]));
        segment(good, bad);
        return std::move(m_result);
    }

private:
    static double magnitude_in_iqrs(double difference, double iqr) {
        return iqr > 0 ? difference / iqr : HUGE_VAL;
    }

    double median(std::size_t p) const { return stats::median(m_samples.at(p)); }

    // Builds p once; false when it does not build.
    bool build(std::size_t p) {
        auto [it, inserted] = m_built.emplace(p, true);
        if (inserted) {
            ++m_result.builds;
            it->second = m_history.unbuildable.empty() || !m_history.unbuildable[p];
        }
        return it->second;
    }

    // Measures p until it has n values, in one batch.
    void top_up(std::size_t p, std::size_t n) {
        auto& values = m_samples[p];
        while (values.size() < n) {
            values.push_back(m_history.noise(m_history.levels[p], m_time, m_rng));
            m_time += 1;
            ++m_result.probe_runs;
        }
    }

    // The three-verdict comparison with the attempt ladder; true = different.
    bool compare(std::size_t a, std::size_t b, double magnitude) {
        std::size_t n = k_pinpoint_sizes.front();
        while (true) {
            top_up(a, n);
            top_up(b, n);
            const auto& xa = m_samples[a];
            const auto& xb = m_samples[b];
            const double p = pinpoint_p_value(xa, xb);
            if (p <= k_pinpoint_low_threshold) {
                return true;
            }
            const std::size_t used = std::min(xa.size(), xb.size());
            if (p > m_thresholds.high_threshold(magnitude, used) ||
                used >= k_pinpoint_sizes.back()) {
                return false;
            }
            n = std::min(k_pinpoint_sizes.back(), 2 * used);
        }
    }

    // The buildable commit nearest the midpoint of (a, b), trying mid, mid+1,
    // mid-1, mid+2, ...; none: the pair cannot be split.
    std::optional<std::size_t> split_point(std::size_t a, std::size_t b) {
        const std::size_t mid = a + (b - a) / 2;
        for (std::size_t d = 0; d < b - a; ++d) {
            for (std::size_t p : {mid + d, mid - d}) {
                if (p > a && p < b && build(p)) {
                    return p;
                }
                if (d == 0) {
                    break;
                }
            }
        }
        return std::nullopt;
    }

    void segment(std::size_t good, std::size_t bad) {
        std::vector<std::size_t> tested = {good, bad};
        std::map<std::pair<std::size_t, std::size_t>, PairState> pairs;
        bool progress = true;
        while (progress) {
            progress = false;
            for (std::size_t i = 0; i + 1 < tested.size(); ++i) {
                const std::size_t a = tested[i];
                const std::size_t b = tested[i + 1];
                if (pairs.count({a, b}) != 0) {
                    continue;
                }
                if (!compare(a, b, m_magnitude)) {
                    pairs[{a, b}] = PairState::same;
                    continue;
                }
                if (b == a + 1) {
                    pairs[{a, b}] = PairState::differs;
                    continue;
                }
                const auto m = split_point(a, b);
                if (!m) {
                    pairs[{a, b}] = PairState::differs_unsplittable;
                    continue;
                }
                tested.insert(tested.begin() + static_cast<std::ptrdiff_t>(i) + 1, *m);
                progress = true;
            }
        }
        Outcome& outcome = m_result.outcome;
        for (std::size_t i = 0; i + 1 < tested.size(); ++i) {
            const std::size_t a = tested[i];
            const std::size_t b = tested[i + 1];
            const PairState state = pairs.at({a, b});
            if (state == PairState::same || median(b) <= median(a)) {
                continue;
            }
            if (state == PairState::differs) {
                // Pinpoint re-verifies each culprit: both sides are topped up to
                // k_pinpoint_verify_attempts and compared again; a pair that no
                // longer differs is dropped.
                top_up(a, k_pinpoint_verify_attempts);
                top_up(b, k_pinpoint_verify_attempts);
                if (pinpoint_p_value(m_samples[a], m_samples[b]) > k_pinpoint_low_threshold) {
                    continue;
                }
                CulpritEvidence e;
                e.position = b;
                e.parent = a;
                e.effect = median(b) / median(a) - 1;
                e.p_value = pinpoint_p_value(m_samples[a], m_samples[b]);
                e.confidence = 1 - e.p_value;
                outcome.culprits.push_back(e);
                outcome.candidates.push_back(b);
            } else {
                m_unsplittable = true;
                for (std::size_t p = a + 1; p <= b; ++p) {
                    outcome.candidates.push_back(p);
                }
            }
        }
        outcome.status = m_unsplittable             ? SessionStatus::ambiguous
                         : outcome.culprits.empty() ? SessionStatus::gradual
                                                    : SessionStatus::culprit_found;
    }

    const SimulatedHistory& m_history;
    double m_min_effect;
    const SameThresholds& m_thresholds;
    std::mt19937_64 m_rng;
    double m_time = 0;
    double m_magnitude = 0;
    bool m_unsplittable = false;
    std::map<std::size_t, bool> m_built;  // position -> builds
    std::map<std::size_t, std::vector<double>> m_samples;
    ReferenceResult m_result;
};

}  // namespace

ReferenceResult run_pinpoint(const SimulatedHistory& history, double min_effect,
                             const SameThresholds& thresholds, std::uint64_t seed) {
    return PinpointSearch(history, min_effect, thresholds, seed).run();
}

}  // namespace perfbisect::bench
