#include "report/comparison.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "bisect/session_driver.hpp"
#include "util/text.hpp"

namespace perfbisect {

const char* to_string(CompareVerdict verdict) {
    switch (verdict) {
        case CompareVerdict::regression:
            return "regression";
        case CompareVerdict::no_regression:
            return "no_regression";
        case CompareVerdict::improvement:
            return "improvement";
        default:
            return "inconclusive";
    }
}

const char* to_string(CheckStatus status) {
    switch (status) {
        case CheckStatus::pass:
            return "pass";
        case CheckStatus::fail:
            return "fail";
        default:
            return "error";
    }
}

Comparison build_comparison(Cache& cache, const std::string& session) {
    Comparison c;
    c.report = build_report(cache, session);
    if (!c.report.culprits.empty()) {
        c.evidence = c.report.culprits.front().evidence;
    } else {
        const Config config = session_config(c.report.session);
        const CommitRange range = cache.load_range(session);
        const Observations obs =
            load_observations(cache, session, range, config.build_fingerprint());
        c.evidence = step_evidence(planner_settings(config), obs, 0, range.size() - 1);
    }
    const std::string& status = c.report.status;
    if (status == "culprit_found") {
        c.verdict = CompareVerdict::regression;
    } else if (status == "running" || status == "budget_exhausted" || status == "ambiguous") {
        c.verdict = CompareVerdict::inconclusive;
    } else if (c.evidence.ci_high < 0 && -c.evidence.effect >= c.report.min_effect) {
        c.verdict = CompareVerdict::improvement;
    } else {
        c.verdict = CompareVerdict::no_regression;
    }
    return c;
}

namespace {

const TestedCommit* tested_at(const SessionReport& r, std::size_t position) {
    for (const auto& t : r.tested) {
        if (t.position == position) {
            return &t;
        }
    }
    return nullptr;
}

std::string with_unit(double value, const std::string& unit) {
    return fmt::format("{:.6g}{}", value, unit.empty() ? "" : " " + unit);
}

std::string median_text(const TestedCommit* t, const std::string& unit) {
    return t != nullptr && t->median ? with_unit(*t->median, unit) : "-";
}

std::size_t samples_of(const TestedCommit* t) {
    return t != nullptr ? t->values.size() : 0;
}

std::string verdict_title(CompareVerdict verdict) {
    switch (verdict) {
        case CompareVerdict::regression:
            return "regression";
        case CompareVerdict::no_regression:
            return "no regression";
        case CompareVerdict::improvement:
            return "improvement";
        default:
            return "inconclusive";
    }
}

std::string compare_effect(const Comparison& c) {
    return effect_text(c.evidence);
}

// Table cells: a pipe would end the cell.
std::string md_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string render_comparison_text(const Comparison& c) {
    const SessionReport& r = c.report;
    const TestedCommit* base = tested_at(r, 0);
    const TestedCommit* head = tested_at(r, r.range_size - 1);
    std::string out = fmt::format("perfbisect compare: {}\n", verdict_title(c.verdict));
    out += fmt::format("  base  {} ({}) {}\n", r.session.good, r.good.short_id(), r.good.subject);
    out += fmt::format("  head  {} ({}) {}\n", r.session.bad, r.bad.short_id(), r.bad.subject);
    out += fmt::format("  metric {} ({} is better); a regression of {} or more fails\n", r.metric,
                       r.direction, percent_text(r.min_effect));
    out += fmt::format("  head vs base: {}, confidence {:.4g}%\n", compare_effect(c),
                       c.evidence.confidence * 100);
    out += fmt::format("  median {} -> {} ({} and {} samples)\n", median_text(base, r.unit),
                       median_text(head, r.unit), samples_of(base), samples_of(head));
    if (!r.summary.empty() && c.verdict != CompareVerdict::regression) {
        out += "  " + r.summary + "\n";  // why not: the reproduce step's numbers
    }
    for (const auto& culprit : r.culprits) {
        if (culprit.profile) {
            out += profile_text(*culprit.profile, "  ");
        }
    }
    out += fmt::format("  cost: {} build(s), {} probe runs, {}\n", r.cost.builds, r.cost.probe_runs,
                       format_seconds(r.cost.wall_seconds));
    out += fmt::format("Details: perfbisect report {} --db {} --format html -o report.html\n",
                       r.session.id, r.database);
    return out;
}

std::string render_comparison_markdown(const Comparison& c) {
    const SessionReport& r = c.report;
    const TestedCommit* base = tested_at(r, 0);
    const TestedCommit* head = tested_at(r, r.range_size - 1);
    std::string out = fmt::format("### perfbisect compare: **{}**: `{}` {}\n\n",
                                  verdict_title(c.verdict), md_escape(r.metric), compare_effect(c));
    out += "| | revision | commit | samples | median |\n|---|---|---|---|---|\n";
    out += fmt::format("| base | `{}` | `{}` {} | {} | {} |\n", md_escape(r.session.good),
                       r.good.short_id(), md_escape(r.good.subject), samples_of(base),
                       median_text(base, r.unit));
    out += fmt::format("| head | `{}` | `{}` {} | {} | {} |\n\n", md_escape(r.session.bad),
                       r.bad.short_id(), md_escape(r.bad.subject), samples_of(head),
                       median_text(head, r.unit));
    out += fmt::format(
        "{} is better; a regression of {} or more fails this comparison "
        "(`[decide] min_effect`).\n\n",
        r.direction == "lower" ? "Lower" : "Higher", percent_text(r.min_effect));
    if (base != nullptr && head != nullptr && !base->values.empty() && !head->values.empty()) {
        // One scale for both, so the lines compare at a glance.
        std::vector<double> both = base->values;
        both.insert(both.end(), head->values.begin(), head->values.end());
        const std::string line = sparkline(both);
        std::size_t cut = 0;
        for (std::size_t i = 0; i < base->values.size(); ++i) {
            cut += std::string_view("▁").size();  // every block is 3 bytes of UTF-8
        }
        out += "<details><summary>Samples, in the order taken</summary>\n\n";
        out += fmt::format("```\nbase {}\nhead {}\n```\n\n", line.substr(0, cut), line.substr(cut));
        if (c.verdict != CompareVerdict::regression) {
            out += r.summary + "\n\n";
        }
        out += "</details>\n\n";
    }
    for (const auto& culprit : r.culprits) {
        if (culprit.profile) {
            out += profile_markdown(*culprit.profile, "Profile of head vs base");
        }
    }
    return out;
}

Result<std::string> render_comparison(const Comparison& c, const std::string& format) {
    if (format == "text") {
        return render_comparison_text(c);
    }
    if (format == "md") {
        return render_comparison_markdown(c);
    }
    if (format == "json") {
        return render_comparison_json(c);
    }
    return usage_error(fmt::format("unknown format '{}' (use text, md or json)", format));
}

int GateResult::failures() const {
    return static_cast<int>(std::count_if(checks.begin(), checks.end(), [](const GateCheck& c) {
        return c.status == CheckStatus::fail;
    }));
}

int GateResult::errors() const {
    return static_cast<int>(std::count_if(checks.begin(), checks.end(), [](const GateCheck& c) {
        return c.status == CheckStatus::error;
    }));
}

namespace {

std::string gate_title(const GateResult& g) {
    if (g.failures() > 0) {
        return fmt::format("FAIL ({} of {} checks failed)", g.failures(), g.checks.size());
    }
    if (g.errors() > 0) {
        return fmt::format("ERROR ({} of {} checks could not be decided)", g.errors(),
                           g.checks.size());
    }
    return fmt::format("PASS ({} check{})", g.checks.size(), g.checks.size() == 1 ? "" : "s");
}

const char* status_word(CheckStatus status) {
    switch (status) {
        case CheckStatus::pass:
            return "PASS";
        case CheckStatus::fail:
            return "FAIL";
        default:
            return "ERROR";
    }
}

}  // namespace

std::string render_gate_text(const GateResult& g) {
    std::string out = fmt::format("perfbisect gate {} ({}): {}\n", g.revision, g.commit.short_id(),
                                  gate_title(g));
    for (const auto& check : g.checks) {
        out +=
            fmt::format("  {:<5}  {}: {}\n", status_word(check.status), check.name, check.message);
    }
    if (g.comparison) {
        out += fmt::format("Details: perfbisect report {} --db {} --format html -o report.html\n",
                           g.comparison->report.session.id, g.comparison->report.database);
    }
    return out;
}

std::string render_gate_markdown(const GateResult& g) {
    std::string out = fmt::format("### perfbisect gate `{}` (`{}`): **{}**\n\n",
                                  md_escape(g.revision), g.commit.short_id(), gate_title(g));
    out += "| check | result | found |\n|---|---|---|\n";
    for (const auto& check : g.checks) {
        out += fmt::format("| {} | **{}** | {} |\n", md_escape(check.name),
                           status_word(check.status), md_escape(check.message));
    }
    out += "\n";
    if (g.comparison) {
        for (const auto& culprit : g.comparison->report.culprits) {
            if (culprit.profile) {
                out += profile_markdown(*culprit.profile,
                                        fmt::format("Profile of `{}` vs `{}`", g.commit.short_id(),
                                                    md_escape(g.baseline)));
            }
        }
    }
    return out;
}

Result<std::string> render_gate(const GateResult& g, const std::string& format) {
    if (format == "text") {
        return render_gate_text(g);
    }
    if (format == "md") {
        return render_gate_markdown(g);
    }
    if (format == "json") {
        return render_gate_json(g);
    }
    return usage_error(fmt::format("unknown format '{}' (use text, md or json)", format));
}

namespace {

// Text for XML character data and attribute values: markup escaped, and the
// control characters XML 1.0 does not allow replaced.
std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                if (u < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                    out += '?';
                } else {
                    out += c;
                }
        }
    }
    return out;
}

}  // namespace

std::string render_junit(const GateResult& g, const std::string& hostname) {
    const std::string suite = fmt::format("perfbisect gate {}", g.revision);
    const std::string time = fmt::format("{:.3f}", g.seconds);
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    xml += fmt::format(
        "<testsuites name=\"perfbisect gate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
        "time=\"{}\">\n",
        g.checks.size(), g.failures(), g.errors(), time);
    std::string stamp = format_utc(g.timestamp);
    if (stamp.ends_with("Z")) {
        stamp.pop_back();  // JUnit's timestamps are ISO 8601 without a zone
    }
    xml += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" "
        "time=\"{}\" timestamp=\"{}\" hostname=\"{}\">\n",
        xml_escape(suite), g.checks.size(), g.failures(), g.errors(), time, stamp,
        xml_escape(hostname.empty() ? "localhost" : hostname));
    xml += "    <properties>\n";
    xml +=
        fmt::format("      <property name=\"revision\" value=\"{}\"/>\n", xml_escape(g.revision));
    xml += fmt::format("      <property name=\"commit\" value=\"{}\"/>\n", xml_escape(g.commit.id));
    if (!g.baseline.empty()) {
        xml += fmt::format("      <property name=\"baseline\" value=\"{}\"/>\n",
                           xml_escape(g.baseline));
    }
    xml += "    </properties>\n";
    for (const auto& check : g.checks) {
        xml +=
            fmt::format("    <testcase classname=\"perfbisect.gate\" name=\"{}\" time=\"{:.3f}\"",
                        xml_escape(check.name), check.seconds);
        if (check.status == CheckStatus::pass) {
            xml += ">\n";
            xml += fmt::format("      <system-out>{}</system-out>\n", xml_escape(check.message));
            xml += "    </testcase>\n";
            continue;
        }
        const char* element = check.status == CheckStatus::fail ? "failure" : "error";
        xml += ">\n";
        xml += fmt::format("      <{} message=\"{}\" type=\"{}\">{}</{}>\n", element,
                           xml_escape(check.message), xml_escape(check.kind),
                           xml_escape(check.name + ": " + check.message), element);
        xml += "    </testcase>\n";
    }
    std::string summary = render_gate_text(g);
    xml += fmt::format("    <system-out>{}</system-out>\n", xml_escape(summary));
    xml += "    <system-err></system-err>\n";
    xml += "  </testsuite>\n</testsuites>\n";
    return xml;
}

}  // namespace perfbisect
