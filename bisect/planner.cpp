#include "bisect/planner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>

#include <fmt/format.h>

#include "stats/rank_tests.hpp"
#include "stats/summary.hpp"

namespace perfbisect {

const char* to_string(Verdict verdict) {
    switch (verdict) {
        case Verdict::untested: return "untested";
        case Verdict::good: return "good";
        case Verdict::bad: return "bad";
        case Verdict::between: return "between";
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

namespace {

using stats::Alternative;

int look_count(const DecideConfig& d) {
    int looks = 1;
    for (int n = d.samples; n < d.max_samples; n *= 2) {
        ++looks;
    }
    return looks;
}

}  // namespace

double decision_alpha(const DecideConfig& decide, std::size_t commits) {
    const double steps = std::ceil(std::log2(std::max<double>(2, static_cast<double>(commits))));
    return decide.alpha / (steps + 2) / look_count(decide);
}

namespace {

// A run of tested commits at one level: its first and last position. Levels
// are compared only through samples taken in the same rounds, so a machine
// that slows down for a while slows both sides of a comparison alike.
struct Segment {
    std::size_t first = 0;
    std::size_t last = 0;
};

enum class Side { unknown, left, right, between };

class Search {
public:
    Search(const PlannerSettings& settings, const Observations& observations, double elapsed)
        : m_settings(settings),
          m_decide(settings.decide),
          m_obs(observations),
          m_elapsed(elapsed),
          m_alpha(decision_alpha(settings.decide, observations.size())) {
        m_plan.verdicts.assign(observations.size(), Verdict::untested);
    }

    Plan run() {
        m_plan.next = next();
        if (!std::holds_alternative<DoneAction>(m_plan.next)) {
            m_plan.open = m_open_positions;
        }
        return std::move(m_plan);
    }

private:
    // +1 or -1: multiplying a value by it orients it so that larger is worse.
    double orientation() const {
        return m_settings.direction == Direction::lower_is_better ? 1 : -1;
    }

    // The first n values of p, oriented.
    std::vector<double> oriented(std::size_t p, std::size_t n) const {
        const auto& v = m_obs[p].values;
        std::vector<double> out(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())));
        for (double& x : out) {
            x *= orientation();
        }
        return out;
    }

    std::size_t values(std::size_t p) const { return m_obs[p].values.size(); }

    bool probe_failing(std::size_t p) const {
        return values(p) < static_cast<std::size_t>(m_decide.samples) &&
               m_obs[p].failed_runs >= m_decide.samples;
    }

    bool skipped(std::size_t p) const {
        return m_obs[p].build == BuildState::failed || probe_failing(p);
    }

    // Relative step between two oriented levels (+ = worse), against the left's magnitude.
    static double step(double left, double right) {
        return left == 0 ? 0 : (right - left) / std::abs(left);
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

    std::optional<Action> over_budget(bool building) const {
        const auto& b = m_settings.budget;
        std::string which;
        if (b.max_seconds > 0 && m_elapsed >= b.max_seconds) {
            which = fmt::format("budget.max_time ({:.0f}s)", b.max_seconds);
        } else if (building && b.max_builds > 0) {
            int builds = 0;
            for (const auto& o : m_obs) {
                builds += o.build != BuildState::unknown;
            }
            if (builds >= b.max_builds) {
                which = fmt::format("budget.max_builds ({})", b.max_builds);
            }
        } else if (!building && b.max_probe_runs > 0) {
            long runs = 0;
            for (const auto& o : m_obs) {
                runs += static_cast<long>(o.values.size()) + o.failed_runs;
            }
            if (runs >= b.max_probe_runs) {
                which = fmt::format("budget.max_probe_runs ({})", b.max_probe_runs);
            }
        }
        if (which.empty()) {
            return std::nullopt;
        }
        Outcome outcome;
        outcome.status = SessionStatus::budget_exhausted;
        outcome.candidates = m_open_positions;
        outcome.summary = fmt::format("stopped by {}; the culprit is among {} commit(s) still open",
                                      which, outcome.candidates.size());
        return DoneAction{outcome};
    }

    Action build(std::size_t p) {
        if (auto stop = over_budget(true)) {
            return *stop;
        }
        return BuildAction{p};
    }

    Action measure(std::vector<std::size_t> positions, int rounds) {
        if (auto stop = over_budget(false)) {
            return *stop;
        }
        return MeasureAction{std::move(positions), rounds};
    }

    Action next() {
        const std::size_t last = m_obs.size() - 1;
        for (std::size_t end : {std::size_t{0}, last}) {
            m_open_positions.push_back(end);
        }
        for (std::size_t end : {std::size_t{0}, last}) {
            if (m_obs[end].build == BuildState::unknown) {
                return build(end);
            }
        }
        for (std::size_t end : {std::size_t{0}, last}) {
            if (m_obs[end].build == BuildState::failed || probe_failing(end)) {
                return FailAction{end_failure(end, end == 0 ? "good" : "bad")};
            }
        }
        m_open_positions.clear();
        for (std::size_t p = 1; p < last; ++p) {
            m_open_positions.push_back(p);
        }

        // 1. Reproduce.
        std::size_t n = static_cast<std::size_t>(m_decide.samples);
        while (true) {
            if (values(0) < n || values(last) < n) {
                return measure({0, last}, static_cast<int>(n - std::min(values(0), values(last))));
            }
            const auto verdict = reproduce(n);
            if (verdict == Side::left) {
                return DoneAction{m_not_reproduced};
            }
            if (verdict == Side::right) {
                break;
            }
            n = std::min<std::size_t>(n * 2, static_cast<std::size_t>(m_decide.max_samples));
        }
        m_plan.verdicts[0] = Verdict::good;
        m_plan.verdicts[last] = Verdict::bad;
        m_segments = {Segment{0, 0}, Segment{last, last}};
        m_gap_horizon = {std::max(m_obs[0].rounds[n - 1], m_obs[last].rounds[n - 1])};
        m_total_shift = stats::median(oriented(last, n)) - stats::median(oriented(0, n));

        // 2. Segmentation.
        while (true) {
            const auto gap = first_open_gap();
            if (!gap) {
                break;
            }
            const std::size_t a = m_segments[*gap].last;
            const std::size_t b = m_segments[*gap + 1].first;
            const std::size_t mid = midpoint(a, b);
            if (m_obs[mid].build == BuildState::unknown) {
                set_open(a, b);
                return build(mid);
            }
            // The candidate is measured in rounds shared with both ends of its gap.
            std::size_t looked = static_cast<std::size_t>(m_decide.samples);
            Side side = Side::unknown;
            while (true) {
                if (values(mid) < looked) {
                    set_open(a, b);
                    return measure({a, mid, b}, static_cast<int>(looked - values(mid)));
                }
                const bool last_look = looked >= static_cast<std::size_t>(m_decide.max_samples);
                side = classify(mid, *gap, looked, last_look);
                if (side != Side::unknown) {
                    break;
                }
                if (last_look) {
                    // The references failed in every shared round: measure again.
                    set_open(a, b);
                    return measure({a, mid, b}, m_decide.samples);
                }
                looked = std::min<std::size_t>(looked * 2,
                                               static_cast<std::size_t>(m_decide.max_samples));
            }
            const std::int64_t horizon = m_obs[mid].rounds[looked - 1];
            const auto i = static_cast<std::ptrdiff_t>(*gap);
            if (side == Side::left) {
                m_segments[*gap].last = mid;
                m_gap_horizon[*gap] = horizon;
            } else if (side == Side::right) {
                m_segments[*gap + 1].first = mid;
                m_gap_horizon[*gap] = horizon;
            } else {
                m_segments.insert(m_segments.begin() + i + 1, Segment{mid, mid});
                m_gap_horizon[*gap] = horizon;
                m_gap_horizon.insert(m_gap_horizon.begin() + i + 1, horizon);
            }
        }

        // 3. Confirm the culprits; collect ambiguous gaps.
        std::vector<std::pair<std::size_t, std::size_t>> culprit_gaps;
        std::vector<std::pair<std::size_t, std::size_t>> hidden_gaps;
        for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
            if (!regression_gap(i)) {
                continue;
            }
            const std::size_t a = m_segments[i].last;
            const std::size_t b = m_segments[i + 1].first;
            (b == a + 1 ? culprit_gaps : hidden_gaps).emplace_back(a, b);
        }
        m_open_positions.clear();
        const auto confirm = static_cast<std::size_t>(m_decide.confirm_samples);
        for (const auto& [a, b] : culprit_gaps) {
            const std::size_t shared = joint(a, b).first.size();
            if (shared < confirm) {
                m_open_positions = {b};
                return measure({a, b}, static_cast<int>(confirm - shared));
            }
        }
        return DoneAction{finish(culprit_gaps, hidden_gaps)};
    }

    void set_open(std::size_t a, std::size_t b) {
        m_open_positions.clear();
        for (std::size_t p = a + 1; p <= b; ++p) {
            m_open_positions.push_back(p);
        }
    }

    // Good vs bad at look n: right = reproduced, left = not, unknown = look again.
    Side reproduce(std::size_t n) {
        const std::size_t last = m_obs.size() - 1;
        const auto good = oriented(0, n);
        const auto bad = oriented(last, n);
        const double scale = std::abs(stats::median(good));
        const double p = stats::mann_whitney_u(good, bad, Alternative::less).p_value;
        const auto shift = stats::hodges_lehmann(good, bad, 1 - 2 * m_alpha);
        const double effect = scale == 0 ? 0 : shift.estimate / scale;
        const double high = scale == 0 ? 0 : shift.high / scale;
        const bool last_look = n >= static_cast<std::size_t>(m_decide.max_samples);
        const double min_effect = m_decide.min_effect;
        if (p <= m_alpha && effect >= min_effect) {
            return Side::right;
        }
        if (high < min_effect || last_look) {
            m_not_reproduced.status = SessionStatus::not_reproduced;
            m_not_reproduced.summary = fmt::format(
                "regression not reproduced: bad is {:+.1f}% vs good (upper {:.0f}% bound "
                "{:+.1f}%), p = {:.2g} after {} samples each; needs at least {:+.1f}%",
                effect * 100, (1 - m_alpha) * 100, high * 100, p, n, min_effect * 100);
            return Side::left;
        }
        return Side::unknown;
    }

    // Oriented values of p and q from the rounds in which both were measured,
    // up to round horizon.
    std::pair<std::vector<double>, std::vector<double>> joint(
        std::size_t p, std::size_t q,
        std::int64_t horizon = std::numeric_limits<std::int64_t>::max()) const {
        std::map<std::int64_t, double> of_q;
        const auto& oq = m_obs[q];
        for (std::size_t i = 0; i < oq.values.size(); ++i) {
            if (oq.rounds[i] <= horizon) {
                of_q.emplace(oq.rounds[i], oq.values[i]);
            }
        }
        std::pair<std::vector<double>, std::vector<double>> out;
        const auto& op = m_obs[p];
        const double sign = orientation();
        for (std::size_t i = 0; i < op.values.size(); ++i) {
            auto it = of_q.find(op.rounds[i]);
            if (op.rounds[i] <= horizon && it != of_q.end()) {
                out.first.push_back(sign * op.values[i]);
                out.second.push_back(sign * it->second);
            }
        }
        return out;
    }

    // The step across gap i (between segments i and i+1), from the rounds its
    // two ends shared when the gap was formed.
    double gap_step(std::size_t i) const {
        const auto [left, right] =
            joint(m_segments[i].last, m_segments[i + 1].first, m_gap_horizon[i]);
        if (left.empty()) {
            return 0;
        }
        return step(stats::median(left), stats::median(right));
    }

    // The segment gap i is a regression worth searching.
    bool regression_gap(std::size_t i) const { return gap_step(i) >= m_decide.min_effect; }

    std::optional<std::size_t> first_open_gap() {
        for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
            if (!regression_gap(i)) {
                continue;
            }
            const std::size_t a = m_segments[i].last;
            const std::size_t b = m_segments[i + 1].first;
            bool any = false;
            for (std::size_t p = a + 1; p < b; ++p) {
                if (!skipped(p)) {
                    any = true;
                } else if (m_plan.verdicts[p] != Verdict::skipped) {
                    decide(p, Verdict::skipped,
                           m_obs[p].build == BuildState::failed
                               ? "build failed: " + m_obs[p].build_failure
                               : fmt::format("probe failed {} times (last: {})",
                                             m_obs[p].failed_runs, m_obs[p].last_probe_failure));
                }
            }
            if (any) {
                return i;
            }
        }
        return std::nullopt;
    }

    // The commit nearest the middle of (a, b) that is not skipped (lower on a tie).
    std::size_t midpoint(std::size_t a, std::size_t b) const {
        const double middle = (static_cast<double>(a) + static_cast<double>(b)) / 2;
        std::size_t best = b;
        double best_distance = 0;
        for (std::size_t p = a + 1; p < b; ++p) {
            if (skipped(p)) {
                continue;
            }
            const double distance = std::abs(static_cast<double>(p) - middle);
            if (best == b || distance < best_distance) {
                best = p;
                best_distance = distance;
            }
        }
        return best;
    }

    // The candidate's first n values against the two ends of its gap, measured
    // in the same rounds.
    Side classify(std::size_t p, std::size_t gap, std::size_t n, bool last_look) {
        const std::size_t a = m_segments[gap].last;
        const std::size_t b = m_segments[gap + 1].first;
        const auto x = oriented(p, n);
        const std::set<std::int64_t> rounds(m_obs[p].rounds.begin(),
                                            m_obs[p].rounds.begin() + static_cast<std::ptrdiff_t>(n));
        const auto left = in_rounds(a, rounds);
        const auto right = in_rounds(b, rounds);
        if (left.size() < 3 || right.size() < 3) {
            return Side::unknown;
        }
        const double left_median = stats::median(left);
        const double right_median = stats::median(right);
        const double half = (right_median - left_median) / 2;
        // The midpoint level, with the noise of both references: each shifted
        // half the step towards the other.
        std::vector<double> middle;
        middle.reserve(left.size() + right.size());
        for (double v : left) {
            middle.push_back(v + half);
        }
        for (double v : right) {
            middle.push_back(v - half);
        }
        const double p_below = stats::mann_whitney_u(x, middle, Alternative::less).p_value;
        const double p_above = stats::mann_whitney_u(x, middle, Alternative::greater).p_value;
        const double p_over_left = stats::mann_whitney_u(x, left, Alternative::greater).p_value;
        const double p_under_right = stats::mann_whitney_u(x, right, Alternative::less).p_value;
        const double median = stats::median(x);
        const double min_step = m_decide.min_effect / 2;
        const double strict = m_alpha / 4;

        Side side = Side::unknown;
        std::string rule;
        if (p_over_left <= strict && p_under_right <= strict &&
            step(left_median, median) >= min_step && step(median, right_median) >= min_step) {
            side = Side::between;
            rule = fmt::format("between both levels, p {:.2g} and {:.2g} <= {:.2g}", p_over_left,
                               p_under_right, strict);
        } else if (p_below <= m_alpha) {
            side = Side::left;
            rule = fmt::format("below the midpoint, p = {:.2g} <= {:.2g}", p_below, m_alpha);
        } else if (p_above <= m_alpha) {
            side = Side::right;
            rule = fmt::format("above the midpoint, p = {:.2g} <= {:.2g}", p_above, m_alpha);
        } else if (last_look) {
            side = median <= left_median + half ? Side::left : Side::right;
            rule = fmt::format("unclear after {} samples (p {:.2g} below, {:.2g} above the "
                               "midpoint); nearer median",
                               n, p_below, p_above);
        }
        if (side == Side::unknown) {
            return side;
        }
        const bool good_level = gap == 0 && side == Side::left;
        const bool bad_level = gap + 2 == m_segments.size() && side == Side::right;
        const Verdict verdict = side == Side::between ? Verdict::between
                                : good_level          ? Verdict::good
                                : bad_level           ? Verdict::bad
                                : side == Side::left  ? level_verdict(m_segments[gap])
                                                      : level_verdict(m_segments[gap + 1]);
        const double sign = orientation();
        decide(p, verdict,
               fmt::format("{} ({}); median {:.6g} vs {:.6g} and {:.6g} in the same {} rounds",
                           to_string(verdict), rule, sign * median, sign * left_median,
                           sign * right_median, n));
        return side;
    }

    // A segment's verdict: the level of the good end, of the bad end, or between.
    Verdict level_verdict(const Segment& s) const {
        if (s.first == 0) {
            return Verdict::good;
        }
        if (s.last == m_obs.size() - 1) {
            return Verdict::bad;
        }
        return Verdict::between;
    }

    Outcome finish(const std::vector<std::pair<std::size_t, std::size_t>>& culprit_gaps,
                   const std::vector<std::pair<std::size_t, std::size_t>>& hidden_gaps) {
        Outcome outcome;
        for (const auto& [a, b] : culprit_gaps) {
            CulpritEvidence e = evidence(a, b);
            // A step the confirmation samples do not support is not a culprit.
            if (e.p_value <= m_decide.alpha && e.effect >= m_decide.min_effect / 2) {
                outcome.culprits.push_back(e);
                outcome.candidates.push_back(b);
            }
        }
        for (const auto& [a, b] : hidden_gaps) {
            for (std::size_t p = a + 1; p <= b; ++p) {
                outcome.candidates.push_back(p);
            }
        }
        std::sort(outcome.candidates.begin(), outcome.candidates.end());
        if (!hidden_gaps.empty()) {
            outcome.status = SessionStatus::ambiguous;
            outcome.summary = fmt::format(
                "ambiguous: a regression lies among {} commit(s) that could not all be built or "
                "measured",
                outcome.candidates.size() - outcome.culprits.size());
            return outcome;
        }
        if (!outcome.culprits.empty()) {
            outcome.status = SessionStatus::culprit_found;
            std::string list;
            for (const auto& c : outcome.culprits) {
                list += fmt::format("{}position {}: {:+.1f}% (95% CI {:+.1f}% to {:+.1f}%), p = {:.2g}",
                                    list.empty() ? "" : "; ", c.position, c.effect * 100,
                                    c.ci_low * 100, c.ci_high * 100, c.p_value);
            }
            outcome.summary = fmt::format("{} at {}",
                                          outcome.culprits.size() == 1 ? "culprit" : "culprits",
                                          list);
            return outcome;
        }
        outcome.status = SessionStatus::gradual;
        std::string levels;
        const double sign = orientation();
        for (const auto& seg : m_segments) {
            levels += fmt::format("{}{}{}: {:.6g}", levels.empty() ? "" : ", ", seg.first,
                                  seg.first == seg.last ? "" : fmt::format("-{}", seg.last),
                                  stats::median(m_obs[seg.first].values));
        }
        const double good_median = sign * stats::median(m_obs.front().values);
        outcome.summary = fmt::format(
            "gradual: no single commit explains the shift of {:+.1f}%; levels by position: {}",
            good_median == 0 ? 0 : m_total_shift / std::abs(good_median) * 100, levels);
        return outcome;
    }

    // Parent vs culprit over the rounds they shared (confirmation included).
    CulpritEvidence evidence(std::size_t parent, std::size_t culprit) const {
        const auto [before, after] = joint(parent, culprit);  // oriented
        CulpritEvidence e;
        e.position = culprit;
        e.parent = parent;
        const double parent_median = stats::median(before);
        const double scale = parent_median == 0 ? 1 : std::abs(parent_median);
        e.effect = (stats::median(after) - parent_median) / scale;
        const auto shift = stats::hodges_lehmann(before, after, 0.95);
        e.ci_low = shift.low / scale;
        e.ci_high = shift.high / scale;
        e.p_value = stats::mann_whitney_u(before, after, Alternative::less).p_value;
        e.confidence = 1 - e.p_value;
        e.share = m_total_shift == 0 ? 0 : (stats::median(after) - parent_median) / m_total_shift;
        return e;
    }

    std::vector<double> in_rounds(std::size_t p, const std::set<std::int64_t>& rounds) const {
        std::vector<double> out;
        const auto& o = m_obs[p];
        const double sign = orientation();
        for (std::size_t i = 0; i < o.values.size(); ++i) {
            if (rounds.count(o.rounds[i]) != 0) {
                out.push_back(sign * o.values[i]);
            }
        }
        return out;
    }

    const PlannerSettings& m_settings;
    const DecideConfig& m_decide;
    const Observations& m_obs;
    double m_elapsed;
    double m_alpha;  // per look of one decision
    Plan m_plan;
    std::vector<Segment> m_segments;
    std::vector<std::int64_t> m_gap_horizon;  // gap i: its ends are compared up to this round
    std::vector<std::size_t> m_open_positions;
    Outcome m_not_reproduced;
    double m_total_shift = 0;  // oriented: bad level - good level
};

}  // namespace

Plan plan_next(const PlannerSettings& settings, const Observations& observations,
               double elapsed_seconds) {
    if (observations.size() < 2) {
        return Plan{FailAction{"the range needs at least a good and a bad commit"}, {}, {}, {}};
    }
    Plan plan = Search(settings, observations, elapsed_seconds).run();
    return plan;
}

}  // namespace perfbisect
