#include "report/report.hpp"

#include <algorithm>

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "bisect/session_driver.hpp"
#include "config/config.hpp"
#include "probes/metric.hpp"
#include "stats/summary.hpp"
#include "util/text.hpp"

namespace perfbisect {

SessionReport build_report(Cache& cache, const std::string& session_id) {
    const SessionRecord session = cache.session(session_id);
    const Config config = session_config(session);

    SessionReport report;
    report.session = session;
    report.status = session.status;
    report.summary = session.stop_reason;
    report.database = cache.path().string();
    const CommitRange range = cache.load_range(session_id);
    report.range_size = range.size();
    report.good = range.good();
    report.bad = range.bad();
    report.metric = config.probe.metric;
    if (auto metric = parse_metric(config.probe.metric)) {
        report.unit = metric->unit();
    }
    report.direction = to_string(config.probe.direction);
    report.min_effect = config.decide.min_effect;

    // A report needs no artifacts: builds count even when gc has removed theirs.
    const Observations obs =
        load_observations(cache, session_id, range, config.build_fingerprint(), false);
    const Plan plan = plan_next(
        PlannerSettings{config.decide, config.budget, config.probe.direction}, obs,
        session.wall_seconds);
    std::map<std::size_t, std::string> notes;
    for (const auto& decision : plan.decisions) {
        if (decision.verdict == Verdict::skipped) {
            notes[decision.position] = decision.reason;
        }
    }
    if (const auto* done = std::get_if<DoneAction>(&plan.next);
        done != nullptr && session.status != "running") {
        for (const auto& evidence : done->outcome.culprits) {
            report.culprits.push_back(CulpritReport{range.commits[evidence.position],
                                                    range.commits[evidence.parent], evidence});
        }
        for (std::size_t p : done->outcome.candidates) {
            report.candidates.push_back(range.commits[p]);
        }
    }

    for (std::size_t p = 0; p < range.size(); ++p) {
        const auto& o = obs[p];
        if (o.build == BuildState::unknown && o.values.empty() && o.failed_runs == 0) {
            continue;
        }
        TestedCommit t;
        t.position = p;
        t.commit = range.commits[p];
        t.values = o.values;
        t.failed_runs = o.failed_runs;
        if (!o.values.empty()) {
            t.median = stats::median(o.values);
        }
        t.verdict = p < plan.verdicts.size() ? plan.verdicts[p] : Verdict::untested;
        if (o.build == BuildState::failed) {
            t.verdict = Verdict::skipped;
            t.note = "build failed: " + o.build_failure;
        } else if (auto it = notes.find(p); it != notes.end()) {
            t.note = it->second;
        }
        report.tested.push_back(std::move(t));
    }

    // The other metrics of each run, grouped by commit, in config order.
    const auto metric_values = cache.load_metric_values(session_id);
    if (!metric_values.empty()) {
        std::map<std::string, TestedCommit*> by_commit;
        for (auto& t : report.tested) {
            by_commit[t.commit.id] = &t;
        }
        for (const auto& v : metric_values) {
            auto it = by_commit.find(v.commit);
            if (it == by_commit.end()) {
                continue;
            }
            auto& metrics = it->second->metrics;
            auto m = std::find_if(metrics.begin(), metrics.end(),
                                  [&](const MetricSummary& s) { return s.metric == v.metric; });
            if (m == metrics.end()) {
                MetricSummary summary;
                summary.metric = v.metric;
                if (auto spec = parse_metric(v.metric)) {
                    summary.unit = spec->unit();
                }
                metrics.push_back(std::move(summary));
                m = metrics.end() - 1;
            }
            m->values.push_back(v.value);
        }
        const auto order = probe_metric_texts(config.probe);
        for (auto& t : report.tested) {
            for (auto& m : t.metrics) {
                m.median = stats::median(m.values);
            }
            std::stable_sort(t.metrics.begin(), t.metrics.end(), [&](const auto& a, const auto& b) {
                return std::find(order.begin(), order.end(), a.metric) <
                       std::find(order.begin(), order.end(), b.metric);
            });
        }
    }

    for (const auto& build : cache.builds_by_session(session_id)) {
        if (build.reused) {
            continue;  // nothing was built: another commit's artifacts of the same tree
        }
        ++report.cost.builds;
        report.cost.build_seconds += build.seconds;
    }
    const SampleTotals totals = cache.sample_totals(session_id);
    report.cost.probe_runs = static_cast<int>(totals.runs - totals.reused_runs);
    report.cost.probe_runs_reused = static_cast<int>(totals.reused_runs);
    report.cost.samples = static_cast<int>(totals.values);
    report.cost.samples_reused = static_cast<int>(totals.reused_values);
    report.cost.wall_seconds = session.wall_seconds;
    report.events = cache.load_events(session_id);
    return report;
}

namespace {

std::string percent(double fraction) { return fmt::format("{:+.1f}%", fraction * 100); }

std::string status_title(const std::string& status) {
    if (status == "culprit_found") return "culprit found";
    if (status == "not_reproduced") return "regression not reproduced";
    if (status == "ambiguous") return "ambiguous (skipped commits hide the culprit)";
    if (status == "gradual") return "gradual regression";
    if (status == "budget_exhausted") return "stopped by a budget";
    if (status == "aborted") return "aborted (`perfbisect abort`); the samples are kept";
    return "running (interrupted or in progress; `perfbisect resume` continues it)";
}

std::string value_text(const std::optional<double>& value, const std::string& unit) {
    if (!value) {
        return "-";
    }
    return fmt::format("{:.6g}{}", *value, unit.empty() ? "" : " " + unit);
}

std::string effect_text(const CulpritEvidence& e) {
    return fmt::format("{} (95% CI {} to {}), p = {:.2g}", percent(e.effect), percent(e.ci_low),
                       percent(e.ci_high), e.p_value);
}

}  // namespace

std::string render_text(const SessionReport& r, bool verbose) {
    std::string out;
    out += fmt::format("perfbisect session {}: {}\n", r.session.id, status_title(r.status));
    out += fmt::format("  good {} ({})  bad {} ({})  {} commits\n", r.session.good,
                       r.good.short_id(), r.session.bad, r.bad.short_id(), r.range_size);
    out += fmt::format("  metric {} ({} is better), min effect {}\n", r.metric, r.direction,
                       percent(r.min_effect));
    if (!r.summary.empty()) {
        out += "  " + r.summary + "\n";
    }
    for (const auto& c : r.culprits) {
        out += fmt::format("\nCulprit: {} {}\n", c.commit.id, c.commit.subject);
        out += fmt::format("  author  {}, {}\n", c.commit.author, format_utc(c.commit.time));
        out += fmt::format("  effect  {}, confidence {:.4g}%\n", effect_text(c.evidence),
                           c.evidence.confidence * 100);
        out += fmt::format("  share   {:.0f}% of the good -> bad shift\n", c.evidence.share * 100);
        out += fmt::format("  parent  {} {}\n", c.parent.short_id(), c.parent.subject);
    }
    if (r.status == "ambiguous" && !r.candidates.empty()) {
        out += "\nCandidates (one of these is the culprit):\n";
        for (const auto& c : r.candidates) {
            out += fmt::format("  {} {}\n", c.short_id(), c.subject);
        }
    }
    out += "\nTested commits, in range order:\n";
    out += fmt::format("  {:>4}  {:<10}  {:>7}  {:>14}  {:<8}  {}\n", "pos", "commit", "samples",
                       "median", "verdict", "subject");
    for (const auto& t : r.tested) {
        out += fmt::format("  {:>4}  {:<10}  {:>7}  {:>14}  {:<8}  {}\n", t.position,
                           t.commit.short_id(), t.values.size(), value_text(t.median, r.unit),
                           to_string(t.verdict), t.commit.subject);
        if (!t.note.empty()) {
            out += fmt::format("        ^ {}\n", t.note);
        }
        if (t.failed_runs > 0) {
            out += fmt::format("        ^ {} failed probe run(s)\n", t.failed_runs);
        }
        for (const auto& m : t.metrics) {
            out += fmt::format("        ^ {}: median {} of {} value(s)\n", m.metric,
                               value_text(m.median, m.unit), m.values.size());
        }
    }
    out += fmt::format("\nCost: {} build(s) ({}), {} probe runs, {} samples, {} in all\n",
                       r.cost.builds, format_seconds(r.cost.build_seconds), r.cost.probe_runs,
                       r.cost.samples, format_seconds(r.cost.wall_seconds));
    if (r.cost.samples_reused > 0) {
        out += fmt::format("  {} of the samples ({} probe runs) reused from earlier sessions\n",
                           r.cost.samples_reused, r.cost.probe_runs_reused);
    }
    if (verbose) {
        out += "\nEvents:\n";
        for (const auto& e : r.events) {
            out += fmt::format("  {} {:<8} {}\n", format_utc(static_cast<std::int64_t>(e.timestamp)),
                               e.kind, e.message);
        }
    }
    out += fmt::format("\nDetails: perfbisect report {} --db {} --format html -o report.html\n",
                       r.session.id, r.database);
    return out;
}

std::string render_markdown(const SessionReport& r) {
    std::string out;
    if (!r.culprits.empty()) {
        const auto& c = r.culprits.front();
        out += fmt::format("### perfbisect: `{}` {} made `{}` {}\n\n", c.commit.short_id(),
                           c.commit.subject, r.metric, effect_text(c.evidence));
    } else {
        out += fmt::format("### perfbisect: {}\n\n", status_title(r.status));
    }
    out += fmt::format("Range `{}` (`{}`) .. `{}` (`{}`), {} commits; metric `{}`, {} is better.",
                       r.session.good, r.good.short_id(), r.session.bad, r.bad.short_id(),
                       r.range_size, r.metric, r.direction);
    if (!r.summary.empty()) {
        out += " " + r.summary;
    }
    out += "\n\n";
    if (!r.culprits.empty()) {
        out += "| culprit | subject | author | effect | 95% CI | p-value | share |\n";
        out += "|---|---|---|---|---|---|---|\n";
        for (const auto& c : r.culprits) {
            out += fmt::format("| `{}` | {} | {} | {} | {} to {} | {:.2g} | {:.0f}% |\n",
                               c.commit.short_id(), c.commit.subject, c.commit.author,
                               percent(c.evidence.effect), percent(c.evidence.ci_low),
                               percent(c.evidence.ci_high), c.evidence.p_value,
                               c.evidence.share * 100);
        }
        out += "\n";
    }
    if (r.status == "ambiguous") {
        out += "Candidates: ";
        for (const auto& c : r.candidates) {
            out += fmt::format("`{}` ", c.short_id());
        }
        out += "\n\n";
    }
    out += "<details><summary>Tested commits</summary>\n\n";
    out += "| pos | commit | samples | median | verdict | subject |\n|---|---|---|---|---|---|\n";
    for (const auto& t : r.tested) {
        out += fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", t.position, t.commit.short_id(),
                           t.values.size(), value_text(t.median, r.unit), to_string(t.verdict),
                           t.commit.subject);
    }
    out += fmt::format("\nCost: {} builds, {} probe runs, {} samples, {}.\n\n</details>\n",
                       r.cost.builds, r.cost.probe_runs, r.cost.samples,
                       format_seconds(r.cost.wall_seconds));
    return out;
}

Result<std::string> render(const SessionReport& report, const std::string& format) {
    if (format == "text") return render_text(report);
    if (format == "md") return render_markdown(report);
    if (format == "json") return render_json(report);
    if (format == "html") return render_html(report);
    return usage_error(fmt::format("unknown format '{}' (use text, md, json or html)", format));
}

}  // namespace perfbisect
