#include "bisect/planner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "stats/rank_tests.hpp"
#include "stats/summary.hpp"

namespace perfbisect {

const char* to_string(Verdict verdict) {
    switch (verdict) {
        case Verdict::untested: return "untested";
        case Verdict::good: return "good";
        case Verdict::bad: return "bad";
        case Verdict::skipped: return "skipped";
    }
    return "untested";
}

const char* to_string(SessionStatus status) {
    switch (status) {
        case SessionStatus::running: return "running";
        case SessionStatus::culprit_found: return "culprit_found";
        case SessionStatus::not_reproduced: return "not_reproduced";
        case SessionStatus::ambiguous: return "ambiguous";
        case SessionStatus::gradual: return "gradual";
        case SessionStatus::budget_exhausted: return "budget_exhausted";
    }
    return "running";
}

double worse_change(double from, double to, Direction direction) {
    if (from == 0) {
        return 0;
    }
    const double change = (to - from) / std::abs(from);
    return direction == Direction::lower_is_better ? change : -change;
}

namespace {

using stats::Alternative;

// The alternative under which `later` is worse than `earlier`.
Alternative worse_alternative(Direction direction) {
    // mann_whitney_u(x = earlier, y = later, less): earlier tends to be smaller.
    return direction == Direction::lower_is_better ? Alternative::less : Alternative::greater;
}

class Search {
public:
    Search(const PlannerSettings& settings, const Observations& observations)
        : m_settings(settings), m_obs(observations) {
        m_plan.verdicts.assign(observations.size(), Verdict::untested);
    }

    Plan run() {
        m_plan.next = next();
        return std::move(m_plan);
    }

private:
    int samples_wanted() const { return m_settings.decide.samples; }

    std::size_t values(std::size_t p) const { return m_obs[p].values.size(); }

    bool enough(std::size_t p) const {
        return values(p) >= static_cast<std::size_t>(samples_wanted());
    }

    // Too many probe runs failed to reach the wanted number of values.
    bool probe_failing(std::size_t p) const {
        return !enough(p) && m_obs[p].failed_runs >= samples_wanted();
    }

    int missing(std::size_t p) const {
        return std::max(0, samples_wanted() - static_cast<int>(values(p)));
    }

    void decide(std::size_t p, Verdict verdict, std::string reason) {
        m_plan.verdicts[p] = verdict;
        m_plan.decisions.push_back(Decision{p, verdict, std::move(reason)});
    }

    std::string end_failure(std::size_t p, const char* name) const {
        const auto& o = m_obs[p];
        if (o.build == BuildState::failed) {
            return fmt::format("the {} commit failed to build: {}", name, o.build_failure);
        }
        return fmt::format("the probe failed {} times on the {} commit (last: {}); fix the probe "
                           "with `perfbisect measure` and start again",
                           o.failed_runs, name, o.last_probe_failure);
    }

    Action next() {
        const std::size_t last = m_obs.size() - 1;
        const std::size_t good = 0;
        m_plan.lo = good;
        m_plan.hi = last;

        for (std::size_t end : {good, last}) {
            if (m_obs[end].build == BuildState::unknown) {
                return BuildAction{end};
            }
        }
        for (std::size_t end : {good, last}) {
            if (m_obs[end].build == BuildState::failed || probe_failing(end)) {
                return FailAction{end_failure(end, end == good ? "good" : "bad")};
            }
        }
        if (!enough(good) || !enough(last)) {
            return MeasureAction{{good, last}, std::max(missing(good), missing(last))};
        }

        const auto& good_values = m_obs[good].values;
        const auto& bad_values = m_obs[last].values;
        const double good_median = stats::median(good_values);
        const double bad_median = stats::median(bad_values);
        const double effect = worse_change(good_median, bad_median, m_settings.direction);
        const double p_reproduce =
            stats::mann_whitney_u(good_values, bad_values, worse_alternative(m_settings.direction))
                .p_value;
        m_plan.verdicts[good] = Verdict::good;
        m_plan.verdicts[last] = Verdict::bad;
        if (!(p_reproduce <= m_settings.decide.alpha && effect >= m_settings.decide.min_effect)) {
            Outcome outcome;
            outcome.status = SessionStatus::not_reproduced;
            outcome.summary = fmt::format(
                "regression not reproduced: bad is {:+.1f}% vs good (medians {:.6g} -> {:.6g}), "
                "p = {:.2g}; needs at least {:+.1f}% with p <= {}",
                effect * 100, good_median, bad_median, p_reproduce,
                m_settings.decide.min_effect * 100, m_settings.decide.alpha);
            return DoneAction{outcome};
        }

        std::size_t lo = good;
        std::size_t hi = last;
        while (true) {
            m_plan.lo = lo;
            m_plan.hi = hi;
            std::vector<std::size_t> inner;
            for (std::size_t p = lo + 1; p < hi; ++p) {
                if (m_obs[p].build == BuildState::failed || probe_failing(p)) {
                    if (m_plan.verdicts[p] != Verdict::skipped) {
                        decide(p, Verdict::skipped,
                               m_obs[p].build == BuildState::failed
                                   ? "build failed: " + m_obs[p].build_failure
                                   : fmt::format("probe failed {} times (last: {})",
                                                 m_obs[p].failed_runs,
                                                 m_obs[p].last_probe_failure));
                    }
                } else {
                    inner.push_back(p);
                }
            }
            if (inner.empty()) {
                return DoneAction{finish(lo, hi)};
            }
            // The commit nearest the midpoint (lower on a tie) splits the interval.
            const double middle = (static_cast<double>(lo) + static_cast<double>(hi)) / 2;
            const std::size_t mid = *std::min_element(
                inner.begin(), inner.end(), [middle](std::size_t a, std::size_t b) {
                    return std::abs(static_cast<double>(a) - middle) <
                           std::abs(static_cast<double>(b) - middle);
                });
            if (m_obs[mid].build == BuildState::unknown) {
                return BuildAction{mid};
            }
            if (!enough(mid)) {
                return MeasureAction{{mid}, missing(mid)};
            }
            if (classify(mid, good_values, bad_values) == Verdict::good) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }

    Verdict classify(std::size_t p, const std::vector<double>& good_values,
                     const std::vector<double>& bad_values) {
        const auto& v = m_obs[p].values;
        const double p_good = stats::mann_whitney_u(v, good_values).p_value;
        const double p_bad = stats::mann_whitney_u(v, bad_values).p_value;
        const double alpha = m_settings.decide.alpha;
        const double median = stats::median(v);
        const double good_median = stats::median(good_values);
        const double bad_median = stats::median(bad_values);
        Verdict verdict;
        std::string rule;
        if (p_good > alpha && p_bad <= alpha) {
            verdict = Verdict::good;
            rule = "differs from bad only";
        } else if (p_bad > alpha && p_good <= alpha) {
            verdict = Verdict::bad;
            rule = "differs from good only";
        } else {
            verdict = std::abs(median - good_median) <= std::abs(median - bad_median) ? Verdict::good
                                                                                     : Verdict::bad;
            rule = "unclear, nearest median";
        }
        decide(p, verdict,
               fmt::format("{} ({}): median {:.6g} (good {:.6g}, bad {:.6g}); p vs good {:.2g}, "
                           "p vs bad {:.2g}",
                           to_string(verdict), rule, median, good_median, bad_median, p_good,
                           p_bad));
        return verdict;
    }

    Outcome finish(std::size_t lo, std::size_t hi) {
        Outcome outcome;
        if (hi != lo + 1) {
            outcome.status = SessionStatus::ambiguous;
            for (std::size_t p = lo + 1; p <= hi; ++p) {
                outcome.candidates.push_back(p);
            }
            outcome.summary = fmt::format(
                "ambiguous: the regression is in one of {} commits between positions {} and {}; "
                "the others could not be built or measured",
                outcome.candidates.size(), lo + 1, hi);
            return outcome;
        }
        outcome.status = SessionStatus::culprit_found;
        outcome.culprits.push_back(evidence(lo, hi));
        outcome.candidates.push_back(hi);
        const auto& c = outcome.culprits.front();
        outcome.summary = fmt::format("culprit at position {}: {:+.1f}% (95% CI {:+.1f}% to {:+.1f}%), "
                                      "p = {:.2g}",
                                      hi, c.effect * 100, c.ci_low * 100, c.ci_high * 100, c.p_value);
        return outcome;
    }

    CulpritEvidence evidence(std::size_t parent, std::size_t culprit) const {
        const auto& before = m_obs[parent].values;
        const auto& after = m_obs[culprit].values;
        CulpritEvidence e;
        e.position = culprit;
        e.parent = parent;
        const double parent_median = stats::median(before);
        e.effect = worse_change(parent_median, stats::median(after), m_settings.direction);
        const auto shift = stats::hodges_lehmann(before, after, 0.95);
        const double scale = parent_median == 0 ? 1 : std::abs(parent_median);
        if (m_settings.direction == Direction::lower_is_better) {
            e.ci_low = shift.low / scale;
            e.ci_high = shift.high / scale;
        } else {
            e.ci_low = -shift.high / scale;
            e.ci_high = -shift.low / scale;
        }
        e.p_value = stats::mann_whitney_u(before, after).p_value;
        e.confidence = 1 - e.p_value;
        const double total =
            stats::median(m_obs.back().values) - stats::median(m_obs.front().values);
        e.share = total == 0 ? 0 : (stats::median(after) - parent_median) / total;
        return e;
    }

    const PlannerSettings& m_settings;
    const Observations& m_obs;
    Plan m_plan;
};

}  // namespace

Plan plan_next(const PlannerSettings& settings, const Observations& observations) {
    if (observations.size() < 2) {
        return Plan{FailAction{"the range needs at least a good and a bad commit"}, {}, {}, 0, 0};
    }
    return Search(settings, observations).run();
}

}  // namespace perfbisect
