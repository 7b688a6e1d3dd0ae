#include "bisect/planner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
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

double worse_change(double from, double to, Direction direction) {
    if (from == 0) {
        return 0;
    }
    const double change = (to - from) / std::abs(from);
    return direction == Direction::lower_is_better ? change : -change;
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

// A run of tested commits at one level. Each member contributes the prefix of
// its values that its own decision used, so replaying the search on later
// observations (with confirmation samples added) decides exactly as before.
struct Segment {
    std::size_t first = 0;
    std::size_t last = 0;
    std::vector<double> pool;  // oriented values: larger is worse
    double median = 0;         // of pool

    void add(std::size_t position, std::span<const double> values) {
        first = std::min(first, position);
        last = std::max(last, position);
        pool.insert(pool.end(), values.begin(), values.end());
        median = stats::median(pool);
    }
};

Segment make_segment(std::size_t position, std::span<const double> values) {
    Segment s;
    s.first = s.last = position;
    s.add(position, values);
    return s;
}

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
    // Values oriented so that larger is worse.
    std::vector<double> oriented(std::size_t p, std::size_t n) const {
        const auto& v = m_obs[p].values;
        std::vector<double> out(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())));
        if (m_settings.direction == Direction::higher_is_better) {
            for (double& x : out) {
                x = -x;
            }
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
        m_segments.push_back(make_segment(0, oriented(0, n)));
        m_segments.push_back(make_segment(last, oriented(last, n)));
        m_total_shift = m_segments.back().median - m_segments.front().median;

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
            std::size_t looked = static_cast<std::size_t>(m_decide.samples);
            Side side = Side::unknown;
            while (true) {
                if (values(mid) < looked) {
                    set_open(a, b);
                    return measure({mid}, static_cast<int>(looked - values(mid)));
                }
                const bool last_look = looked >= static_cast<std::size_t>(m_decide.max_samples);
                side = classify(mid, *gap, looked, last_look);
                if (side != Side::unknown) {
                    break;
                }
                looked = std::min<std::size_t>(looked * 2,
                                               static_cast<std::size_t>(m_decide.max_samples));
            }
            const auto v = oriented(mid, looked);
            if (side == Side::left) {
                m_segments[*gap].add(mid, v);
            } else if (side == Side::right) {
                m_segments[*gap + 1].add(mid, v);
            } else {
                m_segments.insert(m_segments.begin() + static_cast<std::ptrdiff_t>(*gap) + 1,
                                  make_segment(mid, v));
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
            if (values(a) < confirm || values(b) < confirm) {
                m_open_positions = {b};
                return measure({a, b}, static_cast<int>(confirm - std::min(values(a), values(b))));
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

    // The segment gap i (between segments i and i+1) is a regression worth searching.
    bool regression_gap(std::size_t i) const {
        return step(m_segments[i].median, m_segments[i + 1].median) >= m_decide.min_effect;
    }

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

    // The candidate's first n values against the levels of segments gap, gap+1.
    Side classify(std::size_t p, std::size_t gap, std::size_t n, bool last_look) {
        const Segment& left = m_segments[gap];
        const Segment& right = m_segments[gap + 1];
        const auto x = oriented(p, n);
        const double half = (right.median - left.median) / 2;
        // The midpoint level, with the noise of both references: each pool
        // shifted half the step towards the other.
        std::vector<double> middle;
        middle.reserve(left.pool.size() + right.pool.size());
        for (double v : left.pool) {
            middle.push_back(v + half);
        }
        for (double v : right.pool) {
            middle.push_back(v - half);
        }
        const double p_below = stats::mann_whitney_u(x, middle, Alternative::less).p_value;
        const double p_above = stats::mann_whitney_u(x, middle, Alternative::greater).p_value;
        const double p_over_left = stats::mann_whitney_u(x, left.pool, Alternative::greater).p_value;
        const double p_under_right = stats::mann_whitney_u(x, right.pool, Alternative::less).p_value;
        const double median = stats::median(x);
        const double min_step = m_decide.min_effect / 2;
        const double strict = m_alpha / 4;

        Side side = Side::unknown;
        std::string rule;
        if (p_over_left <= strict && p_under_right <= strict &&
            step(left.median, median) >= min_step && step(median, right.median) >= min_step) {
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
            side = median <= left.median + half ? Side::left : Side::right;
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
                                : side == Side::left  ? level_verdict(left)
                                                      : level_verdict(right);
        const double sign = m_settings.direction == Direction::lower_is_better ? 1 : -1;
        decide(p, verdict,
               fmt::format("{} ({}); median {:.6g} vs levels {:.6g} and {:.6g}, {} samples",
                           to_string(verdict), rule, sign * median, sign * left.median,
                           sign * right.median, n));
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
        const double sign = m_settings.direction == Direction::lower_is_better ? 1 : -1;
        for (const auto& s : m_segments) {
            levels += fmt::format("{}{}{}: {:.6g}", levels.empty() ? "" : ", ", s.first,
                                  s.first == s.last ? "" : fmt::format("-{}", s.last),
                                  sign * s.median);
        }
        outcome.summary = fmt::format(
            "gradual: no single commit explains the shift of {:+.1f}%; levels by position: {}",
            step(m_segments.front().median, m_segments.back().median) * 100, levels);
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
        e.p_value = stats::mann_whitney_u(
                        before, after,
                        m_settings.direction == Direction::lower_is_better ? Alternative::less
                                                                           : Alternative::greater)
                        .p_value;
        e.confidence = 1 - e.p_value;
        const double sign = m_settings.direction == Direction::lower_is_better ? 1 : -1;
        e.share = m_total_shift == 0 ? 0
                                     : sign * (stats::median(after) - parent_median) / m_total_shift;
        return e;
    }

    const PlannerSettings& m_settings;
    const DecideConfig& m_decide;
    const Observations& m_obs;
    double m_elapsed;
    double m_alpha;  // per look of one decision
    Plan m_plan;
    std::vector<Segment> m_segments;
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
