#include "report/report.hpp"

#include <algorithm>

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "bisect/session_driver.hpp"
#include "config/config.hpp"
#include "probes/metric.hpp"
#include "stats/summary.hpp"
#include "util/text.hpp"

namespace perfbisect {

std::string nodes_text(const SessionReport& report) {
    if (report.nodes.empty()) {
        return {};
    }
    std::string text =
        fmt::format("Measured on {} nodes (offsets against their mean):", report.nodes.size());
    for (std::size_t i = 0; i < report.nodes.size(); ++i) {
        const NodeReport& node = report.nodes[i];
        text += fmt::format("{} {} {} probe run{} {}", i == 0 ? "" : ",", node.node,
                            node.probe_runs, node.probe_runs == 1 ? "" : "s",
                            node.offset ? percent_text(*node.offset) : "(offset unknown)");
    }
    return text;
}

namespace {

// The nodes of a session's samples, with each node's offset (NodeReport).
std::vector<NodeReport> node_reports(const std::vector<SampleRecord>& samples) {
    std::map<std::string, NodeReport> nodes;
    std::map<std::string, std::set<std::int64_t>> runs;
    // commit -> node -> (sum, count) of its values there
    std::map<std::string, std::map<std::string, std::pair<double, int>>> sums;
    for (const auto& s : samples) {
        if (s.node.empty()) {
            continue;
        }
        auto& node = nodes[s.node];
        node.node = s.node;
        runs[s.node].insert(s.run);
        if (s.ok) {
            ++node.samples;
            auto& sum = sums[s.commit][s.node];
            sum.first += s.value;
            ++sum.second;
        }
    }
    std::map<std::string, std::pair<double, double>> offsets;  // node -> (weighted sum, weight)
    for (const auto& [commit, on] : sums) {
        if (on.size() < 2) {
            continue;
        }
        double centre = 0;
        for (const auto& [node, sum] : on) {
            centre += sum.first / sum.second;
        }
        centre /= static_cast<double>(on.size());
        if (centre == 0) {
            continue;
        }
        for (const auto& [node, sum] : on) {
            offsets[node].first += (sum.first / sum.second / centre - 1) * sum.second;
            offsets[node].second += sum.second;
        }
    }
    std::vector<NodeReport> out;
    for (auto& [name, node] : nodes) {
        node.probe_runs = static_cast<int>(runs[name].size());
        if (const auto it = offsets.find(name); it != offsets.end()) {
            node.offset = it->second.first / it->second.second;
        }
        out.push_back(node);
    }
    return out;
}

}  // namespace

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
    report.unit = config.decision_unit();
    report.config_path = session.config_path;
    report.direction = to_string(config.probe.direction);
    report.min_effect = config.decide.min_effect;

    // A report needs no artifacts: builds count even when gc has removed theirs.
    const Observations obs =
        load_observations(cache, session_id, range, config.build_fingerprint(), false);
    const Plan plan = plan_next(planner_settings(config), obs, session.wall_seconds);
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
                                                    range.commits[evidence.parent], evidence,
                                                    std::nullopt});
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
    if (config.executor.nodes > 1) {
        report.nodes = node_reports(cache.load_samples(session_id));
    }
    report.events = cache.load_events(session_id);
    for (const auto& event : report.events) {
        if (event.kind != "profile") {
            continue;
        }
        if (auto record = parse_profile_record(event.data)) {
            for (auto& c : report.culprits) {
                if (c.commit.id == record->culprit) {
                    c.profile = *record;  // the latest, when profiled again
                }
            }
        }
    }

    // What to run next: the same session again, and a closer look.
    const std::string db = shell_quote(report.database);
    const std::string config_file = shell_quote(report.config_path);
    report.rerun_command =
        fmt::format("perfbisect run --config {} --good {} --bad {} --db {}", config_file,
                    shell_quote(session.good), shell_quote(session.bad), db);
    if (!report.culprits.empty()) {
        const auto& c = report.culprits.front();
        report.narrow_command = fmt::format("perfbisect compare --config {} {} {} --db {}",
                                            config_file, c.parent.short_id(), c.commit.short_id(), db);
    } else if ((report.status == "ambiguous" || report.status == "budget_exhausted") &&
               !report.candidates.empty()) {
        std::size_t first = range.size();
        std::size_t last = 0;
        for (std::size_t p = 0; p < range.size(); ++p) {
            for (const auto& c : report.candidates) {
                if (c.id == range.commits[p].id) {
                    first = std::min(first, p);
                    last = std::max(last, p);
                }
            }
        }
        if (first > 0 && first < range.size()) {
            report.narrow_command = fmt::format(
                "perfbisect run --config {} --good {} --bad {} --db {}", config_file,
                range.commits[first - 1].short_id(), range.commits[last].short_id(), db);
        }
    }
    return report;
}

std::string percent_text(double fraction) { return fmt::format("{:+.1f}%", fraction * 100); }

std::string p_value_text(double p) {
    if (!(p > 0)) {
        return "p < 1e-300";
    }
    if (p >= 0.001) {
        return fmt::format("p = {:.2g}", p);
    }
    int exponent = static_cast<int>(std::floor(std::log10(p)));
    double mantissa = std::round(p / std::pow(10.0, exponent));
    if (mantissa >= 10) {
        mantissa = 1;
        ++exponent;
    }
    return fmt::format("p = {:.0f}e{}", mantissa, exponent);
}

std::string p_value_cell(double p) {
    const std::string text = p_value_text(p);
    return text.starts_with("p = ") ? text.substr(4) : text.substr(2);
}

std::string effect_text(const CulpritEvidence& e) {
    return fmt::format("{} (95% CI {:+.1f}…{:+.1f}%), {}", percent_text(e.effect), e.ci_low * 100,
                       e.ci_high * 100, p_value_text(e.p_value));
}

std::string sparkline(const std::vector<double>& values) {
    static const char* const k_blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    if (values.empty()) {
        return "";
    }
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    std::string out;
    for (double v : values) {
        const double t = *hi > *lo ? (v - *lo) / (*hi - *lo) : 0;
        out += k_blocks[std::clamp(static_cast<int>(std::lround(t * 7)), 0, 7)];
    }
    return out;
}

namespace {

std::string percent(double fraction) { return percent_text(fraction); }

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

// The function's name for a table: shortened, and cut at max characters.
std::string function_text(const std::string& function, std::size_t max = 70) {
    std::string name = short_function_name(function);
    if (name.size() > max) {
        name = name.substr(0, max - 1) + "…";
    }
    return name;
}

// Names for the rows of a profile table: short names, except where two rows
// would read the same (overloads), which keep their parameter lists.
std::vector<std::string> row_names(const std::vector<FunctionChange>& rows) {
    std::map<std::string, int> uses;
    for (const auto& f : rows) {
        ++uses[short_function_name(f.function)];
    }
    std::vector<std::string> names;
    for (const auto& f : rows) {
        std::string name = short_function_name(f.function);
        if (uses[name] > 1) {
            name = f.function;
        }
        names.push_back(name.size() > 70 ? name.substr(0, 69) + "…" : name);
    }
    return names;
}

const char* cost_unit(const ProfileRecord& p) {
    return p.tool == "callgrind" ? "instructions" : p.tool == "perf" ? "CPU time" : "samples";
}

// The medians of the tested commits in range order, for the sparkline, and
// the index among them of the first culprit (or -1).
std::pair<std::vector<double>, int> medians_for_sparkline(const SessionReport& r) {
    std::vector<double> medians;
    int culprit = -1;
    for (const auto& t : r.tested) {
        if (!t.median) {
            continue;
        }
        if (!r.culprits.empty() && t.position == r.culprits.front().evidence.position) {
            culprit = static_cast<int>(medians.size());
        }
        medians.push_back(*t.median);
    }
    return {medians, culprit};
}

}  // namespace

std::string profile_text(const ProfileRecord& p, const std::string& indent) {
    if (!p.ok) {
        return fmt::format("{}profile ({}) failed: {}\n", indent, p.tool, p.error);
    }
    std::string out = fmt::format("{}profile ({}, {} run(s) each; {} per run {}): functions whose "
                                  "share grew most\n",
                                  indent, p.tool, p.runs, cost_unit(p), percent(p.diff.total_change));
    const auto names = row_names(p.diff.grew);
    for (std::size_t i = 0; i < p.diff.grew.size(); ++i) {
        const auto& f = p.diff.grew[i];
        out += fmt::format("{}  {:+6.1f} pt  {:5.1f}% -> {:5.1f}%  {}\n", indent, f.change() * 100,
                           f.parent_share * 100, f.culprit_share * 100, names[i]);
    }
    if (p.diff.grew.empty()) {
        out += indent + "  (none)\n";
    }
    if (!p.diff.appeared.empty()) {
        out += indent + "  only in the culprit's profile (new code, or inlined in the parent's):\n";
        for (const auto& f : p.diff.appeared) {
            out += fmt::format("{}  {:>9}  {:5.1f}%  {}\n", indent, "", f.culprit_share * 100,
                               function_text(f.function));
        }
    }
    if (!p.directory.empty()) {
        out += fmt::format("{}  files: {}\n", indent, p.directory);
    }
    return out;
}

std::string profile_markdown(const ProfileRecord& p, const std::string& title) {
    std::string out = fmt::format("<details><summary>{} ({})</summary>\n\n", title, p.tool);
    if (!p.ok) {
        return out + fmt::format("Profiling failed: {}\n\n</details>\n\n", p.error);
    }
    std::string unit = cost_unit(p);
    unit[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
    out += fmt::format("{} per run: {}. Functions whose share (with callees) grew most:\n\n", unit,
                       percent(p.diff.total_change));
    out += "| change | parent | culprit | function |\n|---|---|---|---|\n";
    auto cell = [](std::string_view text) {
        std::string escaped;
        for (char c : text) {
            if (c == '|') {
                escaped += '\\';
            }
            escaped += c;
        }
        return escaped;
    };
    const auto names = row_names(p.diff.grew);
    for (std::size_t i = 0; i < p.diff.grew.size(); ++i) {
        const auto& f = p.diff.grew[i];
        out += fmt::format("| {:+.1f} pt | {:.1f}% | {:.1f}% | `{}` |\n", f.change() * 100,
                           f.parent_share * 100, f.culprit_share * 100, cell(names[i]));
    }
    for (const auto& f : p.diff.appeared) {
        out += fmt::format("| new | – | {:.1f}% | `{}` |\n", f.culprit_share * 100,
                           cell(function_text(f.function)));
    }
    return out + fmt::format("\nFiles: `{}`\n\n</details>\n\n", p.directory);
}

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
        if (c.profile) {
            out += profile_text(*c.profile, "  ");
        }
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
    std::string skipped;
    for (const auto& t : r.tested) {
        if (t.verdict == Verdict::skipped) {
            skipped += fmt::format("  {} {}: {}\n", t.commit.short_id(), t.commit.subject,
                                   t.note.empty() ? "could not be built or measured" : t.note);
        }
    }
    if (!skipped.empty()) {
        out += "\nSkipped:\n" + skipped;
    }
    out += fmt::format("\nCost: {} build(s) ({}), {} probe runs, {} samples, {} in all\n",
                       r.cost.builds, format_seconds(r.cost.build_seconds), r.cost.probe_runs,
                       r.cost.samples, format_seconds(r.cost.wall_seconds));
    if (r.cost.samples_reused > 0) {
        out += fmt::format("  {} of the samples ({} probe runs) reused from earlier sessions\n",
                           r.cost.samples_reused, r.cost.probe_runs_reused);
    }
    if (!r.nodes.empty()) {
        out += "  " + nodes_text(r) + "\n";
    }
    out += fmt::format("\nRe-run: {}\n", r.rerun_command);
    if (!r.narrow_command.empty()) {
        out += fmt::format("Narrow: {}\n", r.narrow_command);
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

namespace {

// Table cells: a pipe would end the cell, a newline the row.
std::string md_cell(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '\n') {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string render_markdown(const SessionReport& r) {
    std::string out;
    if (!r.culprits.empty()) {
        const auto& c = r.culprits.front();
        out += fmt::format("### perfbisect: `{}` {} made `{}` {} worse\n\n", c.commit.short_id(),
                           md_cell(c.commit.subject), md_cell(r.metric), effect_text(c.evidence));
    } else {
        out += fmt::format("### perfbisect: {}\n\n", status_title(r.status));
    }
    out += fmt::format("Range `{}` (`{}`) .. `{}` (`{}`), {} commits; metric `{}`, {} is better.",
                       r.session.good, r.good.short_id(), r.session.bad, r.bad.short_id(),
                       r.range_size, md_cell(r.metric), r.direction);
    if (!r.summary.empty()) {
        out += " " + r.summary;
    }
    out += "\n\n";
    if (!r.culprits.empty()) {
        out += "| culprit | subject | author | date | effect | 95% CI | p-value | share |\n";
        out += "|---|---|---|---|---|---|---|---|\n";
        for (const auto& c : r.culprits) {
            out += fmt::format("| `{}` | {} | {} | {} | {} | {:+.1f}…{:+.1f}% | {} | {:.0f}% |\n",
                               c.commit.short_id(), md_cell(c.commit.subject),
                               md_cell(c.commit.author), format_utc(c.commit.time),
                               percent(c.evidence.effect), c.evidence.ci_low * 100,
                               c.evidence.ci_high * 100,
                               p_value_cell(c.evidence.p_value),
                               c.evidence.share * 100);
        }
        out += "\n";
    }
    if (r.status == "ambiguous" || (r.status == "budget_exhausted" && !r.candidates.empty())) {
        out += "Candidates: ";
        for (const auto& c : r.candidates) {
            out += fmt::format("`{}` ", c.short_id());
        }
        out += "\n\n";
    }
    const auto [medians, culprit_index] = medians_for_sparkline(r);
    if (medians.size() >= 2) {
        out += fmt::format("`{}` median of each tested commit, good → bad ({} commits{})\n\n",
                           sparkline(medians), medians.size(),
                           culprit_index >= 0
                               ? fmt::format("; the culprit is number {}", culprit_index + 1)
                               : "");
    }
    for (const auto& c : r.culprits) {
        if (c.profile) {
            out += profile_markdown(
                *c.profile, fmt::format("Profile of `{}` vs its parent", c.commit.short_id()));
        }
    }
    out += fmt::format("<details><summary>Tested commits ({})</summary>\n\n", r.tested.size());
    out += "| pos | commit | samples | median | verdict | subject |\n|---|---|---|---|---|---|\n";
    for (const auto& t : r.tested) {
        out += fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", t.position, t.commit.short_id(),
                           t.values.size(), value_text(t.median, r.unit), to_string(t.verdict),
                           md_cell(t.note.empty() ? t.commit.subject
                                                  : t.commit.subject + " (" + t.note + ")"));
    }
    out += fmt::format("\nCost: {} builds, {} probe runs, {} samples, {}.{}\n\n", r.cost.builds,
                       r.cost.probe_runs, r.cost.samples, format_seconds(r.cost.wall_seconds),
                       r.nodes.empty() ? "" : " " + nodes_text(r) + ".");
    out += fmt::format("Re-run: `{}`\n", r.rerun_command);
    if (!r.narrow_command.empty()) {
        out += fmt::format("\nNarrow: `{}`\n", r.narrow_command);
    }
    out += "\n</details>\n";
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
