#include "bisect/planner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "stats/distributions.hpp"
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

double decision_alpha(const DecideConfig& decide, std::size_t commits) {
    const double steps = std::ceil(std::log2(std::max<double>(2, static_cast<double>(commits))));
    return decide.alpha / (steps + 2);
}

namespace {

using stats::Alternative;

constexpr double k_inf = std::numeric_limits<double>::infinity();

// A value farther than this many robust standard deviations from its commit's
// median is an outlier and left out of levels (it stays in the database and
// in the rank tests of the evidence).
constexpr double k_outlier_cut = 4.0;
// The machine is taken to drift when the within-commit trend of values over
// rounds has |t| at least this; levels are then corrected for the trend.
constexpr double k_drift_t = 3.0;
// A gap between two levels is searched while its step is at least this
// fraction of min_effect; a narrower step cannot hide a culprit of min_effect.
constexpr double k_open_fraction = 0.75;
// One-sided confidence of the upper bound that rules a culprit out at its
// confirmation ("not a culprit").
constexpr double k_rule_out_confidence = 0.95;
// The same for "not reproduced", which ends the session.
constexpr double k_reproduce_rule_out = 0.99;
// The same for a side of a commit on a slope (a creep): lower, because a
// creep is costly to rule out at any confidence (bench_suite, gradual rows:
// 0.90 -> 630 probe runs per search, 0.70 -> 369) and a culprit hidden this
// way is still looked for by the check of the levels on both sides.
constexpr double k_slope_confidence = 0.70;
// The same in a gap next to a level of its own, where a creep is already in
// evidence (bench_suite, gradual row: 0.70 -> 259 probe runs per search,
// 0.60 -> 196; "1 culprit +2%" 80.6% -> 78.1% right, still above 76.9%
// before the references were halved). Between the good and the bad level,
// where most single culprits are searched, it stays at k_slope_confidence.
constexpr double k_creep_confidence = 0.60;
// The fewest values of a commit before its sides can be ruled out that way.
constexpr std::size_t k_slope_min_values = 8;
// The fewest rounds a culprit and its parent share before it is confirmed: a
// step of many sigma, the common case, needs no more (bench_suite: 4 -> 3
// saved 0.9 probe runs per search).
constexpr std::size_t k_confirm_min_rounds = 3;
// A confirmation's rounds vary more than the pooled noise says when the
// variance of their differences exceeds 2 sigma^2 by an F test at this
// confidence; it then uses their own variance (a load that comes and goes).
constexpr double k_paired_confidence = 0.99;
// A commit the search has moved on from is checked for a level of its own at
// this fraction of the threshold (hysteresis).
constexpr double k_settled = 0.75;
// The most one value can add to the log-likelihood ratio of "at the right
// level" vs "at the left level" (a factor of e^3 = 20): a single outlier
// cannot outweigh two ordinary values.
constexpr double k_value_evidence = 3.0;
// How much farther from even odds a built commit may be than an unbuilt one
// and still be measured instead (a build costs more than a probe run).
constexpr double k_build_cost = 0.3;

// The number of values of the look after one with n values: about 1.4 n.
std::size_t next_look(std::size_t n) {
    return std::max(n + 1, static_cast<std::size_t>(std::lround(static_cast<double>(n) * 1.4)));
}

// A run of tested commits judged to perform alike; its pool is the values of
// all its members.
struct Segment {
    std::vector<std::size_t> members;  // sorted positions
    std::size_t first() const { return members.front(); }
    std::size_t last() const { return members.back(); }
};

// The level of a pool of values: oriented, drift-corrected, outliers left out.
struct Level {
    double mean = 0;
    double se = k_inf;
    std::size_t n = 0;
};

// The answer of reproduce(): right = reproduced, left = not, unknown = look again.
enum class Side { unknown, left, right };

class Search {
public:
    Search(const PlannerSettings& settings, const Observations& observations, double elapsed)
        : m_settings(settings),
          m_decide(settings.decide),
          m_obs(observations),
          m_elapsed(elapsed),
          m_alpha(decision_alpha(settings.decide, observations.size())) {
        m_plan.verdicts.assign(observations.size(), Verdict::untested);
        analyse();
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

    // The noise model shared by every decision of this call: the values of
    // each commit minus outliers, corrected for drift, and the pooled
    // standard deviation of one value around its commit's level.
    void analyse() {
        const std::size_t count = m_obs.size();
        const double sign = orientation();
        m_values.assign(count, {});
        m_rounds.assign(count, {});
        centre_nodes();
        // 1. A robust scale: the median absolute deviation from each commit's
        // median, pooled, scaled up for the few values per commit.
        // (Buffers are reserved and selections done in place: a session may
        // hold a million values, and this runs before every step.)
        std::size_t total = 0;
        for (const auto& o : m_obs) {
            total += o.values.size();
        }
        std::vector<double> deviations;
        deviations.reserve(total);
        std::vector<double> buffer;
        std::vector<double> medians(count, 0);
        for (std::size_t p = 0; p < count; ++p) {
            const auto& v = raw(p);
            if (v.empty()) {
                continue;
            }
            buffer.assign(v.begin(), v.end());
            medians[p] = sign * stats::median_in_place(buffer);
            if (v.size() < 2) {
                continue;
            }
            const double inflate = std::sqrt(static_cast<double>(v.size()) /
                                              static_cast<double>(v.size() - 1));
            bool dropped_zero = v.size() % 2 == 0;
            for (double x : v) {
                const double d = std::abs(sign * x - medians[p]);
                if (d == 0 && !dropped_zero) {
                    dropped_zero = true;  // the median value itself
                    continue;
                }
                deviations.push_back(d * inflate);
            }
        }
        const double scale = std::abs(medians[0]);
        m_floor = std::max(scale * 1e-4, std::numeric_limits<double>::min());
        const double robust =
            deviations.empty() ? 0 : 1.4826 * stats::median_in_place(deviations);
        const double cut = k_outlier_cut * std::max(robust, m_floor);
        std::int64_t first_round = std::numeric_limits<std::int64_t>::max();
        for (const auto& o : m_obs) {
            for (std::int64_t r : o.rounds) {
                first_round = std::min(first_round, r);
            }
        }
        // With W > 1 nodes a batch measures many commits once, and a single
        // outlier in a level's pool can shrink a gap's step below what is
        // searched (bench_parallel, W = 16: 97.9 % right without this, 98.4 %
        // with it). So there a value of a commit with fewer than 3 values is
        // an outlier too when it lies farther than the cut outside the span
        // of the medians of the commits that have 3 or more (the ends among
        // them). A commit at a level outside that span (an improvement
        // before the regression) loses its first values so, and counts once
        // it has 3. (On one node the rule is not applied: W = 1 unchanged.)
        double low = k_inf;
        double high = -k_inf;
        if (m_settings.parallel > 1) {
            for (std::size_t p = 0; p < count; ++p) {
                if (m_obs[p].values.size() >= 3) {
                    low = std::min(low, medians[p]);
                    high = std::max(high, medians[p]);
                }
            }
        }
        for (std::size_t p = 0; p < count; ++p) {
            const auto& o = m_obs[p];
            m_values[p].reserve(o.values.size());
            m_rounds[p].reserve(o.values.size());
            const auto& v = raw(p);
            for (std::size_t i = 0; i < v.size(); ++i) {
                const double y = sign * v[i];
                if (o.values.size() >= 3 && std::abs(y - medians[p]) > cut) {
                    continue;
                }
                if (o.values.size() < 3 && low <= high && (y < low - cut || y > high + cut)) {
                    continue;
                }
                m_values[p].push_back(y);
                m_rounds[p].push_back(
                    i < o.rounds.size() ? static_cast<double>(o.rounds[i] - first_round) : 0);
            }
        }
        std::int64_t latest = std::numeric_limits<std::int64_t>::min();
        for (std::size_t p = 1; p + 1 < count; ++p) {
            for (std::int64_t r : m_obs[p].rounds) {
                if (r > latest) {
                    latest = r;
                    m_latest_candidate = p;
                }
            }
        }
        // 2. Drift: the common trend of values over rounds within commits.
        double sxy = 0;
        double sxx = 0;
        for (std::size_t p = 0; p < count; ++p) {
            const auto& y = m_values[p];
            if (y.size() < 2) {
                continue;
            }
            const double ybar = stats::mean(y);
            const double rbar = stats::mean(m_rounds[p]);
            for (std::size_t i = 0; i < y.size(); ++i) {
                sxy += (m_rounds[p][i] - rbar) * (y[i] - ybar);
                sxx += (m_rounds[p][i] - rbar) * (m_rounds[p][i] - rbar);
            }
        }
        const double slope = sxx > 0 ? sxy / sxx : 0;
        // 3. The pooled standard deviation, with and without the trend.
        const auto pooled = [&](double b) {
            double ss = 0;
            double df = 0;
            for (std::size_t p = 0; p < count; ++p) {
                const auto& y = m_values[p];
                if (y.size() < 2) {
                    continue;
                }
                double mean = 0;
                for (std::size_t i = 0; i < y.size(); ++i) {
                    mean += y[i] - b * m_rounds[p][i];
                }
                mean /= static_cast<double>(y.size());
                for (std::size_t i = 0; i < y.size(); ++i) {
                    const double e = y[i] - b * m_rounds[p][i] - mean;
                    ss += e * e;
                }
                df += static_cast<double>(y.size() - 1);
            }
            return std::pair{ss, df};
        };
        auto [ss, df] = pooled(0);
        if (sxx > 0 && df > 2) {
            const auto [ss_b, df_b] = pooled(slope);
            const double sd_b = std::sqrt(ss_b / (df_b - 1));
            const double t = slope / (sd_b / std::sqrt(sxx));
            if (std::abs(t) >= k_drift_t) {
                ss = ss_b;
                df = df_b - 1;
                for (std::size_t p = 0; p < count; ++p) {
                    for (std::size_t i = 0; i < m_values[p].size(); ++i) {
                        m_values[p][i] -= slope * m_rounds[p][i];
                    }
                }
            }
        }
        m_df = std::max(df, 1.0);
        m_sigma = std::max(df > 0 ? std::sqrt(ss / df) : 0.0, m_floor);
        m_t_step = stats::student_t_quantile(1 - m_decide.alpha, m_df);
        m_t_between = stats::student_t_quantile(1 - m_alpha, m_df);
        m_t_confirm = stats::student_t_quantile(
            1 - m_decide.alpha / static_cast<double>(confirm_looks()), m_df);
        m_t_rule_out = stats::student_t_quantile(k_rule_out_confidence, m_df);
        m_t_slope = stats::student_t_quantile(k_slope_confidence, m_df);
        m_t_creep = stats::student_t_quantile(k_creep_confidence, m_df);
    }

    // How many times a confirmation may look: at k_confirm_min_rounds shared
    // rounds, then at each next_look() up to confirm_samples (3, 4, 6, 8 …
    // 96: 12 looks at the defaults). Each look runs at alpha / looks, so all
    // of them together err at most alpha (Bonferroni).
    std::size_t confirm_looks() const {
        const auto cap = std::max<std::size_t>(static_cast<std::size_t>(m_decide.confirm_samples),
                                               k_confirm_min_rounds);
        std::size_t looks = 1;
        for (std::size_t n = k_confirm_min_rounds; n < cap; n = std::min(next_look(n), cap)) {
            ++looks;
        }
        return looks;
    }

    // The values of p as measured, or, with node blocking, with their
    // node's offset taken out (not oriented).
    const std::vector<double>& raw(std::size_t p) const {
        return m_centred.empty() ? m_obs[p].values : m_centred[p];
    }

    // Node blocking: each node's offset is the mean, over the commits
    // measured on more than one node, of that commit's mean on the node
    // minus the mean of its per-node means, weighted by the node's values
    // of the commit. Values of commits measured on one node only say
    // nothing of the node (its offset and the commit's level cannot be told
    // apart) and do not enter the estimate, but are corrected too. Leaves
    // m_centred empty when blocking is off or no commit was measured on two
    // nodes: the values are then used as measured.
    void centre_nodes() {
        m_centred.clear();
        if (!m_settings.node_blocking) {
            return;
        }
        std::map<int, std::pair<double, double>> offsets;  // node -> (weighted sum, weight)
        for (const auto& o : m_obs) {
            if (o.nodes.size() != o.values.size() || o.values.empty()) {
                continue;
            }
            std::map<int, std::pair<double, double>> on;  // node -> (sum, count)
            for (std::size_t i = 0; i < o.values.size(); ++i) {
                on[o.nodes[i]].first += o.values[i];
                on[o.nodes[i]].second += 1;
            }
            if (on.size() < 2) {
                continue;
            }
            double centre = 0;
            for (const auto& [node, sums] : on) {
                centre += sums.first / sums.second;
            }
            centre /= static_cast<double>(on.size());
            for (const auto& [node, sums] : on) {
                offsets[node].first += (sums.first / sums.second - centre) * sums.second;
                offsets[node].second += sums.second;
            }
        }
        if (offsets.size() < 2) {
            return;
        }
        m_centred.resize(m_obs.size());
        for (std::size_t p = 0; p < m_obs.size(); ++p) {
            const auto& o = m_obs[p];
            m_centred[p] = o.values;
            for (std::size_t i = 0; i < o.values.size() && i < o.nodes.size(); ++i) {
                const auto it = offsets.find(o.nodes[i]);
                if (it != offsets.end()) {
                    m_centred[p][i] -= it->second.first / it->second.second;
                }
            }
        }
    }

    Level level(const std::vector<std::size_t>& positions) const {
        Level l;
        double sum = 0;
        for (std::size_t p : positions) {
            for (double y : m_values[p]) {
                sum += y;
                ++l.n;
            }
        }
        if (l.n > 0) {
            l.mean = sum / static_cast<double>(l.n);
            l.se = m_sigma / std::sqrt(static_cast<double>(l.n));
        }
        return l;
    }
    Level level(std::size_t p) const { return level(std::vector<std::size_t>{p}); }
    Level level(const Segment& s) const { return level(s.members); }

    // The good end's level: the unit of relative effects.
    double scale() const {
        const double s = std::abs(level(0).mean);
        return s == 0 ? 1 : s;
    }

    std::size_t values(std::size_t p) const { return m_obs[p].values.size(); }

    bool probe_failing(std::size_t p) const {
        return values(p) < static_cast<std::size_t>(m_decide.samples) &&
               m_obs[p].failed_runs >= m_decide.samples;
    }

    bool skipped(std::size_t p) const {
        return m_obs[p].build == BuildState::failed || probe_failing(p);
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

    void set_open(std::size_t a, std::size_t b) {
        m_open_positions.clear();
        for (std::size_t p = a + 1; p <= b; ++p) {
            m_open_positions.push_back(p);
        }
    }

    Action next() {
        const std::size_t last = m_obs.size() - 1;
        m_open_positions = {0, last};
        for (std::size_t end : {std::size_t{0}, last}) {
            if (m_obs[end].build == BuildState::unknown) {
                m_plan.why = fmt::format("the {} end is built first", end == 0 ? "good" : "bad");
                return build(end);
            }
        }
        for (std::size_t end : {std::size_t{0}, last}) {
            if (m_obs[end].build == BuildState::failed || probe_failing(end)) {
                return FailAction{end_failure(end, end == 0 ? "good" : "bad")};
            }
        }
        set_open(0, last - 1);

        // 1. Reproduce.
        const Side reproduced = reproduce();
        if (reproduced == Side::left) {
            return DoneAction{m_not_reproduced};
        }
        if (reproduced == Side::unknown) {
            const std::size_t n = std::min(values(0), values(last));
            const auto cap = static_cast<std::size_t>(m_decide.max_samples);
            const std::size_t target =
                n < static_cast<std::size_t>(m_decide.samples)
                    ? static_cast<std::size_t>(m_decide.samples)
                    : std::min(next_look(n), cap);
            if (m_plan.why.empty()) {
                m_plan.why = fmt::format("reproduce: a first look at good and bad, {} values each, "
                                         "in interleaved rounds",
                                         target);
            }
            return measure({0, last}, static_cast<int>(target - n));
        }
        m_plan.verdicts[0] = Verdict::good;
        m_plan.verdicts[last] = Verdict::bad;
        m_segments = {Segment{{0}}, Segment{{last}}};
        m_total_shift = level(last).mean - level(0).mean;

        while (true) {
            // 2. Segmentation.
            while (const auto gap = first_open_gap()) {
                if (auto action = search_gap(*gap)) {
                    return *action;
                }
            }
            // 3. Confirmation of the culprits.
            m_open_positions.clear();
            for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
                const std::size_t a = m_segments[i].last();
                const std::size_t b = m_segments[i + 1].first();
                if (b == a + 1 && regression_gap(i) && !m_confirmed.contains(b) &&
                    !m_rejected.contains(b)) {
                    if (auto action = confirm(a, b)) {
                        return *action;
                    }
                }
            }
            // 4. A level that still spans a regression of its own is split.
            bool split = false;
            if (auto action = split_mixed_segment(split)) {
                return *action;
            }
            if (!split) {
                break;
            }
        }
        return DoneAction{finish()};
    }

    // Good vs bad with all their values: right = reproduced, left = not,
    // unknown = look again.
    Side reproduce() {
        const std::size_t last = m_obs.size() - 1;
        const std::size_t n = std::min(values(0), values(last));
        if (n < static_cast<std::size_t>(m_decide.samples)) {
            return Side::unknown;
        }
        const double sign = orientation();
        std::vector<double> good;
        std::vector<double> bad;
        for (double x : raw(0)) {
            good.push_back(sign * x);
        }
        for (double x : raw(last)) {
            bad.push_back(sign * x);
        }
        const double s = scale();
        const double p = stats::mann_whitney_u(good, bad, Alternative::less).p_value;
        const auto shift = stats::hodges_lehmann(good, bad, 2 * k_reproduce_rule_out - 1);
        const double effect = shift.estimate / s;
        const double high = shift.high / s;
        const bool last_look = n >= static_cast<std::size_t>(m_decide.max_samples);
        const double min_effect = m_decide.min_effect;
        const double alpha = m_decide.alpha / 8;
        if (p <= alpha && effect >= min_effect) {
            return Side::right;
        }
        // At the cap, a shift that is significant at alpha and nearly as
        // large as min_effect is searched rather than dismissed.
        if (last_look && p <= m_decide.alpha && effect >= k_open_fraction * min_effect) {
            return Side::right;
        }
        m_plan.why = fmt::format(
            "reproduce: bad vs good {:+.1f}% (upper bound {:+.1f}%), p = {:.2g} after {} values "
            "each: neither reproduced (p <= {:.2g} and at least {:+.1f}%) nor ruled out yet",
            effect * 100, high * 100, p, n, alpha, min_effect * 100);
        if (high < min_effect || last_look) {
            m_not_reproduced.status = SessionStatus::not_reproduced;
            m_not_reproduced.summary = fmt::format(
                "regression not reproduced: bad is {:+.1f}% vs good (upper {:.0f}% bound "
                "{:+.1f}%), p = {:.2g} after {} samples each; needs at least {:+.1f}%",
                effect * 100, k_reproduce_rule_out * 100, high * 100, p, n, min_effect * 100);
            return Side::left;
        }
        return Side::unknown;
    }

    // The step of gap i (between segments i and i+1) in oriented units.
    double gap_step(std::size_t i) const {
        return level(m_segments[i + 1]).mean - level(m_segments[i]).mean;
    }

    // Gap i is a regression large enough to hold a culprit.
    bool regression_gap(std::size_t i) const {
        return gap_step(i) >= k_open_fraction * m_decide.min_effect * scale() &&
               !ruled_out(m_segments[i].last(), m_segments[i + 1].first());
    }

    std::optional<std::size_t> first_open_gap() {
        for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
            if (!regression_gap(i)) {
                continue;
            }
            const std::size_t a = m_segments[i].last();
            const std::size_t b = m_segments[i + 1].first();
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

    // Searches gap i for the commit where the level steps from the left
    // segment's to the right one's: an action to build or measure, or nullopt
    // once the gap changed (split by a commit at neither level, or narrowed
    // to the step's location).
    //
    // Every commit measured inside the gap contributes the log-likelihood
    // ratio of its values being at the right level rather than the left
    // (each value's term clipped, so an outlier cannot decide alone). With a
    // prior uniform over the commits, that gives the posterior of where the
    // step is; the next value goes to the commit whose side is most in doubt
    // (probabilistic bisection), and the gap is narrowed once one location
    // holds 1 - alpha of the posterior.
    std::optional<Action> search_gap(std::size_t i) {
        const std::size_t a = m_segments[i].last();
        const std::size_t b = m_segments[i + 1].first();
        set_open(a, b);
        const std::size_t cap = candidate_cap(i);
        // A measured commit at neither level splits the gap.
        for (std::size_t c = a + 1; c < b; ++c) {
            if (skipped(c) || values(c) == 0) {
                continue;
            }
            if (own_level(c, i, values(c) >= cap)) {
                split_gap(i, c);
                return std::nullopt;
            }
        }
        // Commits on a creep that, taken in order, leave no room for a culprit.
        if (const auto chain = creep_chain(i)) {
            m_ruled_out.emplace_back(a, b);
            m_plan.why = *chain;
            return std::nullopt;
        }
        const Level left = level(m_segments[i]);
        const Level right = level(m_segments[i + 1]);
        const double step = right.mean - left.mean;
        const double middle = (left.mean + right.mean) / 2;
        // A step not yet told from noise: more values of the end that rests
        // on fewer, before any inside the gap.
        {
            const auto most = static_cast<std::size_t>(m_decide.max_samples);
            const std::size_t thin = left.n <= right.n ? a : b;
            if (step / std::hypot(left.se, right.se) < m_t_step && values(thin) < most) {
                const std::size_t more = std::min(next_look(values(thin)), most) - values(thin);
                return measure(std::vector<std::size_t>(more, thin), 1);
            }
        }
        // Locations: a location is the first commit at the right level,
        // together with the skipped commits just before it, which no value
        // can tell apart from it.
        struct Location {
            std::size_t first = 0;
            std::size_t commit = 0;  // the measurable commit (or b)
            double log_weight = 0;
        };
        std::vector<Location> locations;
        std::size_t first = a + 1;
        for (std::size_t c = a + 1; c <= b; ++c) {
            if (c < b && skipped(c)) {
                continue;
            }
            locations.push_back(Location{first, c, std::log(static_cast<double>(c - first + 1))});
            first = c + 1;
        }
        // Log-likelihood of each location, relative to "all at the left level".
        const double clip = k_value_evidence;
        double suffix = 0;
        for (std::size_t l = locations.size(); l-- > 0;) {
            const std::size_t c = locations[l].commit;
            if (c < b) {
                for (double y : m_values[c]) {
                    suffix += std::clamp((y - middle) * step / (m_sigma * m_sigma), -clip, clip);
                }
            }
            locations[l].log_weight += suffix;
        }
        double top = -k_inf;
        for (const auto& l : locations) {
            top = std::max(top, l.log_weight);
        }
        double total = 0;
        std::vector<double> posterior;
        for (const auto& l : locations) {
            posterior.push_back(std::exp(l.log_weight - top));
            total += posterior.back();
        }
        std::size_t best = 0;
        for (std::size_t l = 0; l < locations.size(); ++l) {
            posterior[l] /= total;
            if (posterior[l] > posterior[best]) {
                best = l;
            }
        }
        // The commit whose side is most in doubt: P(at the right level) =
        // P(the location is at or before it), nearest 1/2, among those below
        // their cap.
        std::optional<std::size_t> next;
        double doubt = 2;
        double at_or_before = 0;
        for (std::size_t l = 0; l + 1 < locations.size(); ++l) {
            at_or_before += posterior[l];
            const std::size_t c = locations[l].commit;
            if (values(c) >= cap) {
                continue;
            }
            // A commit not built yet costs a build: it has to be clearly
            // more in doubt than one that is.
            const double d = std::abs(at_or_before - 0.5) +
                             (m_obs[c].build == BuildState::unknown ? k_build_cost : 0);
            if (d < doubt) {
                doubt = d;
                next = c;
            }
        }
        // The commits still open: the shortest stretch of locations around
        // the most likely one that holds 1 - alpha of the posterior.
        {
            std::size_t lo = best;
            std::size_t hi = best;
            double mass = posterior[best];
            while (mass < 1 - m_decide.alpha && (lo > 0 || hi + 1 < locations.size())) {
                const double below = lo > 0 ? posterior[lo - 1] : -1;
                const double above = hi + 1 < locations.size() ? posterior[hi + 1] : -1;
                if (below >= above) {
                    mass += posterior[--lo];
                } else {
                    mass += posterior[++hi];
                }
            }
            m_open_positions.clear();
            for (std::size_t c = locations[lo].first; c <= locations[hi].commit; ++c) {
                m_open_positions.push_back(c);
            }
        }
        if (posterior[best] >= 1 - m_decide.alpha || !next) {
            narrow_gap(i, locations[best].first, locations[best].commit, posterior[best]);
            return std::nullopt;
        }
        const std::size_t c = *next;
        {
            double at_right = 0;  // P(c is already at the right level)
            for (std::size_t l = 0; l < locations.size() && locations[l].commit <= c; ++l) {
                at_right += posterior[l];
            }
            m_plan.why = fmt::format(
                "position {} is the commit most in doubt between positions {} and {}: P(at the "
                "level of position {}) = {:.2f}; the step is most likely at position {} (p = {:.2f})",
                c, a, b, b, at_right, locations[best].commit, posterior[best]);
        }
        // On W > 1 nodes: up to W candidates at once (k-section).
        std::vector<std::size_t> batch{c};
        if (m_settings.parallel > 1) {
            // Next to a level of its own (the shift is spread, a creep), a
            // commit takes many values before a chain can close the gap
            // (creep_chain): each commit of the batch gets about the values
            // a commit at one of the two levels needs to be told from their
            // midpoint, (2 t sigma / step)^2, up to W, and the batch has W /
            // that many commits. Elsewhere one value each (k-section).
            std::size_t per = 1;
            if (creep_gap(i)) {
                const double need = std::pow(2 * m_t_step * m_sigma / step, 2);
                per = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(need)), 1,
                                              m_settings.parallel);
            }
            const std::size_t width = std::max<std::size_t>(1, m_settings.parallel / per);
            const auto picks = parallel_batch(locations_cdf(locations, posterior, cap), c, width);
            batch.clear();
            for (std::size_t p : picks) {
                const std::size_t room = cap - std::min(cap, values(p));
                batch.insert(batch.end(), std::max<std::size_t>(1, std::min(per, room)), p);
            }
            m_plan.why += fmt::format(
                "; on {} nodes, {} of the gap at once (k-section), {} "
                "value(s) each: {}",
                m_settings.parallel, picks.size(), per, fmt::join(picks, ","));
        }
        for (std::size_t p : batch) {
            if (m_obs[p].build == BuildState::unknown) {
                return build(p);
            }
        }
        // One more value of each, in one shuffled round with their
        // references: the first time with one run of the end whose level
        // rests on fewer values (on W > 1 nodes, one per commit of the batch
        // measured for the first time, see below), while that level
        // rests on fewer values than a candidate of this gap may get (its
        // cap: beyond it, one more value of the end moves the midpoint by
        // little against the candidate's own uncertainty); and a level
        // resting on fewer than half the values a commit of the batch will
        // have gets its end run too. The commit is judged against the
        // midpoint of the two levels, whose variance is sigma^2 (1/n +
        // 1/(4 n_left) + 1/(4 n_right)): for a given number of runs it is
        // smallest with each end at half the commit's values, and the ends
        // serve every commit of the gap, not this one only.
        std::size_t target = 0;
        bool first_values = false;
        for (std::size_t p : batch) {
            const auto times = static_cast<std::size_t>(std::count(batch.begin(), batch.end(), p));
            target = std::max(target, values(p) + times);
            first_values = first_values || values(p) == 0;
        }
        const std::size_t reference_target = (target + 1) / 2;
        std::vector<std::size_t> positions = batch;
        if (m_settings.parallel > 1) {
            // On W > 1 nodes, one run of an end for each commit measured for
            // the first time, as on one node, where each such commit comes
            // with one: to the end commit with fewer values of its own. One
            // run per batch left the two end commits thin while the pools of
            // their levels grew with commits measured once; the check of a
            // level's two ends (split_mixed_segment) and the confirmation
            // rest on those end commits, and the second, smaller culprit of
            // two was missed more often than on one node (bench_parallel,
            // docs/how-it-decides.md, "Parallel search").
            std::set<std::size_t> fresh;
            for (std::size_t p : batch) {
                if (values(p) == 0) {
                    fresh.insert(p);
                }
            }
            std::size_t more_a = 0;
            std::size_t more_b = 0;
            for (std::size_t k = 0;
                 k < fresh.size() && std::min(left.n + more_a, right.n + more_b) < cap; ++k) {
                const bool to_a = values(a) + more_a <= values(b) + more_b;
                positions.push_back(to_a ? a : b);
                ++(to_a ? more_a : more_b);
            }
        } else if (first_values && std::min(left.n, right.n) < cap) {
            positions.push_back(left.n <= right.n ? a : b);
        }
        for (const auto& [end, pool] : {std::pair{a, left.n}, std::pair{b, right.n}}) {
            for (std::size_t k = pool; k < reference_target; ++k) {
                positions.push_back(end);
            }
        }
        return measure(std::move(positions), 1);
    }

    // A candidate of a gap: a measurable commit and P(it is at the right
    // level), the posterior mass of the locations at or before it.
    struct CandidateSide {
        std::size_t commit = 0;
        double at_right = 0;
    };

    // The candidates of a gap below their cap of values, in order, from its
    // locations and their posterior.
    template <typename Locations>
    std::vector<CandidateSide> locations_cdf(const Locations& locations,
                                             const std::vector<double>& posterior,
                                             std::size_t cap) const {
        std::vector<CandidateSide> out;
        double at_or_before = 0;
        for (std::size_t l = 0; l + 1 < locations.size(); ++l) {
            at_or_before += posterior[l];
            if (values(locations[l].commit) < cap) {
                out.push_back(CandidateSide{locations[l].commit, at_or_before});
            }
        }
        return out;
    }

    // The commits of a k-section round of `width` (W) commits: for each
    // quantile q = j / (W + 1) of the posterior, the candidate whose P(at the
    // right level) is nearest q, if it lies within half a quantile step of
    // it. Spread over the posterior, W candidates cut the gap into W + 1
    // parts of about equal probability, so N commits take about
    // log_{W+1}(N) rounds; once the posterior has gathered on a few commits,
    // several quantiles fall on the same commit or between commits, and
    // fewer than W are measured: a commit whose side is already as good as
    // known would add a probe run and no information. When no candidate is
    // near any quantile, the commit most in doubt (`first`, the one-node
    // choice). Sorted by position.
    std::vector<std::size_t> parallel_batch(const std::vector<CandidateSide>& sides,
                                            std::size_t first, std::size_t width) const {
        std::vector<std::size_t> batch;
        const double half_step = 0.5 / static_cast<double>(width + 1);
        for (std::size_t j = 1; j <= width; ++j) {
            const double q = static_cast<double>(j) / static_cast<double>(width + 1);
            const CandidateSide* nearest = nullptr;
            for (const auto& side : sides) {
                if (!nearest || std::abs(side.at_right - q) < std::abs(nearest->at_right - q)) {
                    nearest = &side;
                }
            }
            if (nearest && std::abs(nearest->at_right - q) <= half_step &&
                std::find(batch.begin(), batch.end(), nearest->commit) == batch.end()) {
                batch.push_back(nearest->commit);
            }
        }
        if (batch.empty()) {
            batch.push_back(first);
        }
        std::sort(batch.begin(), batch.end());
        return batch;
    }

    // Whether the commits measured inside gap i cut it into links none of
    // which can hold a culprit: a chain a = p0 < p1 < ... < pk = b of the
    // gap's ends and commits with at least k_slope_min_values values each,
    // where the upper bound (k_creep_confidence) of every link's step
    // level(p_j+1) - level(p_j) is below min_effect. A step of min_effect
    // at any commit of the gap lies inside one link and would show in its
    // step, so the gap cannot hold one. This is the "on a slope" rule with
    // more than one commit in between: a creep is closed once a few of its
    // commits are known well enough, wherever they are. Only on a gap next
    // to a level of its own (the evidence that the shift is spread): on a
    // gap between the good and the bad level, the commits the search
    // samples most sit around a real step, and some chain through them
    // would too often hide it (bench_suite, "1 culprit +2%": 38 searches
    // ended gradual instead of 28). Returns the reason.
    std::optional<std::string> creep_chain(std::size_t i) const {
        const std::size_t a = m_segments[i].last();
        const std::size_t b = m_segments[i + 1].first();
        const double min_effect = m_decide.min_effect * scale();
        if (!creep_gap(i)) {
            return std::nullopt;
        }
        // Nodes in order: the left level, the measured commits, the right level.
        std::vector<std::size_t> nodes{a};
        std::vector<Level> levels{level(m_segments[i])};
        for (std::size_t c = a + 1; c < b; ++c) {
            if (!skipped(c) && values(c) >= k_slope_min_values) {
                nodes.push_back(c);
                levels.push_back(level(c));
            }
        }
        nodes.push_back(b);
        levels.push_back(level(m_segments[i + 1]));
        const auto upper = [&](std::size_t j, std::size_t k) {
            return levels[k].mean - levels[j].mean +
                   m_t_creep * std::hypot(levels[j].se, levels[k].se);
        };
        // reach[k]: the node before k on a chain from the left level, if any.
        constexpr std::size_t k_none = std::numeric_limits<std::size_t>::max();
        std::vector<std::size_t> reach(nodes.size(), k_none);
        reach[0] = 0;
        for (std::size_t k = 1; k < nodes.size(); ++k) {
            for (std::size_t j = 0; j < k && reach[k] == k_none; ++j) {
                if (reach[j] != k_none && upper(j, k) < min_effect) {
                    reach[k] = j;
                }
            }
        }
        if (reach.back() == k_none) {
            return std::nullopt;
        }
        std::vector<std::size_t> chain;
        for (std::size_t k = nodes.size() - 1; k != 0; k = reach[k]) {
            chain.push_back(k);
        }
        double widest = 0;
        std::string path = fmt::format("{}", a);
        std::size_t previous = 0;
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            widest = std::max(widest, upper(previous, *it));
            path += fmt::format(" -> {}", nodes[*it]);
            previous = *it;
        }
        return fmt::format("positions {} to {} hold no culprit: the steps along {} all have upper "
                           "bounds below {:+.2f}% (widest {:+.2f}%)",
                           a, b, path, m_decide.min_effect * 100, widest / scale() * 100);
    }

    // Gap i is next to a level of its own: the evidence that the shift is
    // spread, where a creep's stretches are ruled out at k_creep_confidence.
    bool creep_gap(std::size_t i) const {
        return level_verdict(m_segments[i]) == Verdict::between ||
               level_verdict(m_segments[i + 1]) == Verdict::between;
    }

    // Commit c of gap i becomes a level of its own.
    void split_gap(std::size_t i, std::size_t c) {
        const std::size_t a = m_segments[i].last();
        const std::size_t b = m_segments[i + 1].first();
        if (m_pending_rule_out.first) {
            m_ruled_out.emplace_back(a, c);
        }
        if (m_pending_rule_out.second) {
            m_ruled_out.emplace_back(c, b);
        }
        m_pending_rule_out = {};
        m_segments.insert(m_segments.begin() + static_cast<std::ptrdiff_t>(i) + 1, Segment{{c}});
    }

    // The step of gap i is at `commit` (or at one of the skipped commits from
    // `first` on): the commits measured before join the left level, those
    // from `commit` on the right one.
    void narrow_gap(std::size_t i, std::size_t first, std::size_t commit, double probability) {
        const std::size_t a = m_segments[i].last();
        const std::size_t b = m_segments[i + 1].first();
        auto& left = m_segments[i];
        auto& right = m_segments[i + 1];
        const Level l = level(left);
        const Level r = level(right);
        const double sign = orientation();
        std::vector<std::size_t> to_right;
        for (std::size_t c = a + 1; c < b; ++c) {
            if (skipped(c) || values(c) == 0) {
                continue;
            }
            const bool is_right = c >= commit;
            const Level x = level(c);
            const Segment& joined = is_right ? right : left;
            const Verdict verdict = level_verdict(joined);
            decide(c, verdict,
                   fmt::format("{}: the step is at {} with probability {:.4f}; level {:.6g} vs "
                               "{:.6g} and {:.6g}, {} values, sd {:.3g}",
                               to_string(verdict), commit == first ? fmt::format("position {}", commit)
                                                                   : fmt::format("positions {}-{}", first, commit),
                               probability, sign * x.mean, sign * l.mean, sign * r.mean, x.n,
                               m_sigma));
            if (is_right) {
                to_right.push_back(c);
            } else {
                left.members.push_back(c);
            }
        }
        right.members.insert(right.members.begin(), to_right.begin(), to_right.end());
    }

    // How many values a candidate of gap i gets: four times what a candidate
    // at one of the two levels needs on average to be told from the midpoint
    // ((2 t sigma / step)^2), at least 8, at most max_samples. A candidate
    // still at neither level by then sits between them.
    std::size_t candidate_cap(std::size_t i) const {
        const auto most = static_cast<std::size_t>(m_decide.max_samples);
        const double step = gap_step(i);
        if (step <= 0) {
            return most;
        }
        const double need = std::pow(2 * m_t_step * m_sigma / step, 2);
        return std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(4 * need)),
                                       std::min<std::size_t>(8, most), most);
    }

    // Whether measured commit p of gap i sits at a level of its own, neither
    // the left nor the right one (recorded as a decision when it does).
    bool own_level(std::size_t p, std::size_t gap, bool last_look) {
        const Level left = level(m_segments[gap]);
        const Level right = level(m_segments[gap + 1]);
        const Level x = level(p);
        if (x.n == 0) {
            return false;
        }
        const double middle = (left.mean + right.mean) / 2;
        const double z_mid =
            (x.mean - middle) / std::sqrt(x.se * x.se + (left.se * left.se + right.se * right.se) / 4);
        const double z_left = (x.mean - left.mean) / std::hypot(x.se, left.se);
        const double z_right = (right.mean - x.mean) / std::hypot(x.se, right.se);
        // A commit the search has moved on from is re-judged at a lower
        // threshold, so more values of the references do not send the search
        // back for a marginal change.
        const double relax = p == m_latest_candidate ? 1.0 : k_settled;
        const double t_between = m_t_between * relax;

        std::string rule;
        const double min_step = m_decide.min_effect / 2 * scale();
        if (z_left >= t_between && z_right >= t_between && x.mean - left.mean >= min_step &&
            right.mean - x.mean >= min_step) {
            rule = fmt::format("between both levels, t {:.1f} and {:.1f} >= {:.1f}", z_left,
                               z_right, t_between);
        } else if (const auto flat =
                       flat_side(x, left, right, z_left, z_right, creep_gap(gap))) {
            rule = *flat;
        } else if (last_look && std::abs(z_mid) < m_t_step) {
            // Neither level after many times the values a step of this gap
            // needs: a level of its own, whose sides are judged by their size.
            rule = fmt::format("at neither level after {} values (t = {:.1f} from the midpoint)",
                               x.n, z_mid);
        } else {
            return false;
        }
        const double sign = orientation();
        decide(p, Verdict::between,
               fmt::format("between ({}); level {:.6g} vs {:.6g} and {:.6g}, {} values, sd {:.3g}",
                           rule, sign * x.mean, sign * left.mean, sign * right.mean, x.n, m_sigma));
        return true;
    }

    // A candidate on a slope (a gradual creep, or two small steps): a level
    // of its own when a side of it is too small to hold a culprit of
    // min_effect (its upper bound is below) and each side is either that or
    // clearly a step. The sides ruled out are never searched. The bound is at
    // k_creep_confidence in a gap next to a level of its own (creep), at
    // k_slope_confidence otherwise.
    std::optional<std::string> flat_side(const Level& x, const Level& left, const Level& right,
                                         double z_left, double z_right, bool creep) {
        if (x.n < k_slope_min_values) {
            return std::nullopt;  // a loose bound on a few values rules out nothing
        }
        const double min_effect = m_decide.min_effect * scale();
        const double t_slope = creep ? m_t_creep : m_t_slope;
        const double upper_left = x.mean - left.mean + t_slope * std::hypot(x.se, left.se);
        const double upper_right = right.mean - x.mean + t_slope * std::hypot(x.se, right.se);
        const bool left_out = upper_left < min_effect;
        const bool right_out = upper_right < min_effect;
        const bool left_step = z_left >= m_t_step;
        const bool right_step = z_right >= m_t_step;
        if (!((left_out && right_out) || (left_out && left_step && right_step) ||
              (right_out && right_step && left_step))) {
            return std::nullopt;
        }
        m_pending_rule_out = {left_out, right_out};
        return fmt::format("on a slope: upper bounds of the steps {:+.2f}% before and {:+.2f}% "
                           "after it{}{}",
                           upper_left / scale() * 100, upper_right / scale() * 100,
                           left_out ? "; nothing to find before it" : "",
                           right_out ? "; nothing to find after it" : "");
    }

    // Gap (a, b) lies inside a stretch ruled out of holding a culprit.
    bool ruled_out(std::size_t a, std::size_t b) const {
        return std::any_of(m_ruled_out.begin(), m_ruled_out.end(),
                           [&](const auto& r) { return r.first <= a && b <= r.second; });
    }

    // A segment's verdict: the level of the good end, of the bad end, or between.
    Verdict level_verdict(const Segment& s) const {
        if (s.first() == 0) {
            return Verdict::good;
        }
        if (s.last() == m_obs.size() - 1) {
            return Verdict::bad;
        }
        return Verdict::between;
    }

    // The values of p and q (oriented, outliers kept, node offsets out) from
    // the rounds in which both have one: per round, the mean of each one's
    // values in it.
    std::pair<std::vector<double>, std::vector<double>> joint(std::size_t p, std::size_t q) const {
        const double sign = orientation();
        const auto by_round = [&](std::size_t position) {
            std::map<std::int64_t, std::pair<double, int>> sums;
            const auto& o = m_obs[position];
            const auto& v = raw(position);  // node offsets out, with node blocking
            for (std::size_t i = 0; i < v.size() && i < o.rounds.size(); ++i) {
                auto& [sum, count] = sums[o.rounds[i]];
                sum += sign * v[i];
                ++count;
            }
            return sums;
        };
        const auto of_p = by_round(p);
        const auto of_q = by_round(q);
        std::pair<std::vector<double>, std::vector<double>> out;
        for (const auto& [round, sum_p] : of_p) {
            const auto it = of_q.find(round);
            if (it != of_q.end()) {
                out.first.push_back(sum_p.first / sum_p.second);
                out.second.push_back(it->second.first / it->second.second);
            }
        }
        return out;
    }

    // Parent a vs culprit b = a + 1 in shared rounds: an action for more
    // rounds, or nullopt once confirmed or rejected.
    std::optional<Action> confirm(std::size_t a, std::size_t b) {
        m_open_positions = {b};
        const Step step = confirmation_step(a, b);
        m_plan.why = fmt::format("confirming position {} against its parent {} on rounds both "
                                 "share: {} so far, at least {}",
                                 b, a, step.shared_rounds, k_confirm_min_rounds);
        const auto cap = std::max<std::size_t>(static_cast<std::size_t>(m_decide.confirm_samples),
                                               k_confirm_min_rounds);
        if (step.shared_rounds < k_confirm_min_rounds) {
            return measure({a, b}, static_cast<int>(k_confirm_min_rounds - step.shared_rounds));
        }
        const double s = scale();
        const double min_effect = m_decide.min_effect * s;
        const double t = step.diff / step.se;
        // The pooled noise's quantiles, or those of the rounds' own spread.
        const bool pooled = step.df == m_df;
        const double t_confirm =
            pooled ? m_t_confirm
                   : stats::student_t_quantile(
                         1 - m_decide.alpha / static_cast<double>(confirm_looks()), step.df);
        const double t_rule_out =
            pooled ? m_t_rule_out : stats::student_t_quantile(k_rule_out_confidence, step.df);
        const double upper = step.diff + t_rule_out * step.se;
        const bool last_look = step.shared_rounds >= cap;
        if (t >= t_confirm && step.diff >= k_open_fraction * min_effect) {
            m_confirmed.insert(b);
            return std::nullopt;
        }
        if (upper < min_effect || last_look) {
            m_rejected.insert(b);
            decide(b, m_plan.verdicts[b],
                   fmt::format("not a culprit: step {:+.2f}% (t = {:.1f}, upper bound {:+.2f}%) "
                               "over {} shared rounds",
                               step.diff / s * 100, t, upper / s * 100, step.shared_rounds));
            return std::nullopt;
        }
        m_plan.why = fmt::format(
            "confirming position {} against its parent {}: step {:+.2f}% (t = {:.1f}, needs "
            "{:.1f}; upper bound {:+.2f}%) over {} shared rounds: neither confirmed nor ruled out",
            b, a, step.diff / s * 100, t, t_confirm, upper / s * 100, step.shared_rounds);
        return measure({a, b},
                       static_cast<int>(std::min(next_look(step.shared_rounds), cap) -
                                        step.shared_rounds));
    }

    struct Step {
        double diff = 0;  // oriented: culprit - parent
        double se = k_inf;
        double df = 1;           // of se
        double parent_mean = 0;  // oriented, over the same rounds
        std::size_t shared_rounds = 0;
    };

    // The step from a to b on their shared rounds: values taken together,
    // after the search chose them, so neither the selection of the search
    // nor a change of the machine biases it. It is the mean of the rounds'
    // differences b - a, so a load that slows both runs of a round cancels.
    // Outliers are left out as differences (farther than k_outlier_cut
    // robust deviations from their median), never one side of a round: a
    // commit's own outlier cut keeps a loaded run of a commit measured
    // mostly under load and drops its parent's run of the same round, and
    // the step would then be the load's (a demo run on a loaded machine
    // named a wrong culprit so). The standard error is sqrt(2) sigma per
    // round, or the differences' own standard deviation when that is
    // clearly larger (F test at k_paired_confidence): a load that comes and
    // goes within rounds.
    Step confirmation_step(std::size_t a, std::size_t b) const {
        const auto [before, after] = joint(a, b);
        Step step;
        step.shared_rounds = before.size();
        step.df = m_df;
        std::vector<double> d(before.size());
        for (std::size_t i = 0; i < before.size(); ++i) {
            d[i] = after[i] - before[i];
        }
        std::vector<bool> kept(d.size(), true);
        if (d.size() >= 3) {
            std::vector<double> buffer = d;
            const double median = stats::median_in_place(buffer);
            for (double& x : buffer) {
                x = std::abs(x - median);
            }
            const double spread = std::max(1.4826 * stats::median_in_place(buffer),
                                           std::sqrt(2.0) * m_sigma);
            for (std::size_t i = 0; i < d.size(); ++i) {
                kept[i] = std::abs(d[i] - median) <= k_outlier_cut * spread;
            }
        }
        std::vector<double> parent;
        std::vector<double> diffs;
        for (std::size_t i = 0; i < d.size(); ++i) {
            if (kept[i]) {
                parent.push_back(before[i]);
                diffs.push_back(d[i]);
            }
        }
        if (diffs.empty()) {
            return step;
        }
        const double n = static_cast<double>(diffs.size());
        step.parent_mean = stats::mean(parent);
        step.diff = stats::mean(diffs);
        double variance = 2 * m_sigma * m_sigma;
        if (diffs.size() >= 3) {
            double ss = 0;
            for (double x : diffs) {
                ss += (x - step.diff) * (x - step.diff);
            }
            const double own = ss / (n - 1);
            if (own > variance * stats::fisher_f_quantile(k_paired_confidence, n - 1, m_df)) {
                variance = own;
                step.df = n - 1;
            }
        }
        step.se = std::sqrt(variance / n);
        return step;
    }

    // Splits the first segment whose first and last members differ by a
    // regression of a culprit's size (a second, smaller culprit that the
    // search put on one side). A difference of min_effect or more (on W > 1
    // nodes: one whose upper bound reaches it) that is not yet significant
    // gets more values of the end that rests on fewer, up to max_samples.
    std::optional<Action> split_mixed_segment(bool& split) {
        const auto cap = static_cast<std::size_t>(m_decide.max_samples);
        for (std::size_t i = 0; i < m_segments.size(); ++i) {
            const auto& seg = m_segments[i];
            if (seg.members.size() < 2) {
                continue;
            }
            const Level first = level(seg.first());
            const Level last = level(seg.last());
            const double step = last.mean - first.mean;
            const double t = step / std::hypot(first.se, last.se);
            const double min_effect = m_decide.min_effect * scale();
            if (step >= k_open_fraction * min_effect && t >= m_t_step) {
                const Segment left{{seg.first()}};
                const Segment right{{seg.last()}};
                m_segments[i] = right;
                m_segments.insert(m_segments.begin() + static_cast<std::ptrdiff_t>(i), left);
                split = true;
                return std::nullopt;
            }
            const std::size_t thin = first.n <= last.n ? seg.first() : seg.last();
            // On W > 1 nodes the ends of a level rest on fewer values (a
            // culprit often has only its batch's value and its confirmation
            // rounds), so a difference below min_effect says little: the
            // thinner end gets more values until the difference's upper
            // bound (k_slope_confidence) is below min_effect, as for a side
            // of a commit on a slope. On one node, until it is below
            // min_effect (W = 1 unchanged).
            const bool in_doubt =
                m_settings.parallel > 1
                    ? step + m_t_slope * std::hypot(first.se, last.se) >= min_effect
                    : step >= min_effect;
            if (in_doubt && values(thin) < cap) {
                m_open_positions = {seg.first(), seg.last()};
                const std::size_t more = std::min(next_look(values(thin)), cap) - values(thin);
                m_plan.why = fmt::format(
                    "positions {} and {}, on one level, differ by {:+.1f}% (t = {:.1f}): more "
                    "values of position {}, which has fewer",
                    seg.first(), seg.last(), step / scale() * 100, t, thin);
                return measure(std::vector<std::size_t>(more, thin), 1);
            }
        }
        return std::nullopt;
    }

    // Commits measured inside a gap that was closed before they were placed
    // (its step became too small to hold a culprit) get the verdict of the
    // nearer of its two levels, and say so.
    void place_leftovers() {
        const double sign = orientation();
        for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
            const Level left = level(m_segments[i]);
            const Level right = level(m_segments[i + 1]);
            for (std::size_t p = m_segments[i].last() + 1; p < m_segments[i + 1].first(); ++p) {
                if (m_plan.verdicts[p] != Verdict::untested || values(p) == 0) {
                    continue;
                }
                const Level x = level(p);
                const bool nearer_left =
                    std::abs(x.mean - left.mean) <= std::abs(right.mean - x.mean);
                const Verdict verdict = level_verdict(nearer_left ? m_segments[i] : m_segments[i + 1]);
                decide(p, verdict,
                       fmt::format("{}: between two levels too close to hold a culprit, nearer the "
                                   "{} one; level {:.6g} vs {:.6g} and {:.6g}, {} values",
                                   to_string(verdict), nearer_left ? "left" : "right",
                                   sign * x.mean, sign * left.mean, sign * right.mean, x.n));
            }
        }
    }

    Outcome finish() {
        place_leftovers();
        Outcome outcome;
        std::vector<std::pair<std::size_t, std::size_t>> hidden_gaps;
        for (std::size_t i = 0; i + 1 < m_segments.size(); ++i) {
            const std::size_t a = m_segments[i].last();
            const std::size_t b = m_segments[i + 1].first();
            if (b == a + 1) {
                if (m_confirmed.contains(b)) {
                    outcome.culprits.push_back(evidence(a, b));
                    outcome.candidates.push_back(b);
                }
            } else if (regression_gap(i)) {
                hidden_gaps.emplace_back(a, b);
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
            levels += fmt::format("{}{}{}: {:.6g}", levels.empty() ? "" : ", ", seg.first(),
                                  seg.first() == seg.last() ? "" : fmt::format("-{}", seg.last()),
                                  sign * level(seg).mean);
        }
        outcome.summary = fmt::format(
            "gradual: no single commit explains the shift of {:+.1f}%; levels by position: {}",
            m_total_shift / scale() * 100, levels);
        return outcome;
    }

public:
    // Parent vs culprit on the rounds they shared (the confirmation's data):
    // the relative step of the means, its 95 % confidence interval and the
    // one-sided p-value of the t statistic with the pooled standard deviation.
    CulpritEvidence evidence(std::size_t parent, std::size_t culprit) const {
        const Step step = confirmation_step(parent, culprit);
        CulpritEvidence e;
        e.position = culprit;
        e.parent = parent;
        const double scale = step.parent_mean == 0 ? 1 : std::abs(step.parent_mean);
        const double half = stats::student_t_quantile(0.975, step.df) * step.se;
        e.effect = step.diff / scale;
        e.ci_low = (step.diff - half) / scale;
        e.ci_high = (step.diff + half) / scale;
        e.p_value = stats::student_t_sf(step.diff / step.se, step.df);
        e.confidence = 1 - e.p_value;
        e.share = m_total_shift == 0 ? 0 : step.diff / m_total_shift;
        return e;
    }

private:

    const PlannerSettings& m_settings;
    const DecideConfig& m_decide;
    const Observations& m_obs;
    double m_elapsed;
    double m_alpha;  // of one classification
    Plan m_plan;
    // The noise model (analyse()).
    std::vector<std::vector<double>> m_centred;  // per position, node offsets out; empty: none
    std::vector<std::vector<double>> m_values;  // per position: oriented, corrected, no outliers
    std::vector<std::vector<double>> m_rounds;  // the round of each of m_values, from 0
    double m_sigma = 0;
    double m_df = 1;
    double m_floor = 0;
    std::size_t m_latest_candidate = 0;  // the inner commit measured last
    double m_t_step = 0;
    double m_t_confirm = 0;
    double m_t_between = 0;
    double m_t_rule_out = 0;
    double m_t_slope = 0;
    double m_t_creep = 0;

    std::vector<Segment> m_segments;
    std::set<std::size_t> m_confirmed;  // culprit positions confirmed against their parent
    std::set<std::size_t> m_rejected;   // adjacent steps the confirmation ruled out
    // Stretches (a, b) that cannot hold a culprit of min_effect.
    std::vector<std::pair<std::size_t, std::size_t>> m_ruled_out;
    std::pair<bool, bool> m_pending_rule_out;  // of the last flat_side() verdict
    std::vector<std::size_t> m_open_positions;
    Outcome m_not_reproduced;
    double m_total_shift = 0;  // oriented: bad level - good level
};

}  // namespace

CulpritEvidence step_evidence(const PlannerSettings& settings, const Observations& observations,
                              std::size_t parent, std::size_t culprit) {
    CulpritEvidence e;
    e.parent = parent;
    e.position = culprit;
    if (observations.size() < 2 || culprit >= observations.size() || parent >= culprit) {
        return e;
    }
    Search search(settings, observations, 0);
    e = search.evidence(parent, culprit);
    if (!std::isfinite(e.effect) || !std::isfinite(e.p_value)) {
        CulpritEvidence none;
        none.parent = parent;
        none.position = culprit;
        return none;
    }
    return e;
}

Plan plan_next(const PlannerSettings& settings, const Observations& observations,
               double elapsed_seconds) {
    if (observations.size() < 2) {
        return Plan{FailAction{"the range needs at least a good and a bad commit"}, {}, {}, {}, {}};
    }
    return Search(settings, observations, elapsed_seconds).run();
}

}  // namespace perfbisect
