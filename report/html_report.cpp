// The HTML report: one self-contained page (inline CSS and SVG, no network).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "report/report.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// Pooled values of the commits with one verdict: the level drawn for it.
std::optional<double> level_of(const SessionReport& r, Verdict verdict) {
    std::vector<double> values;
    for (const auto& t : r.tested) {
        if (t.verdict == verdict) {
            values.insert(values.end(), t.values.begin(), t.values.end());
        }
    }
    if (values.empty()) {
        return std::nullopt;
    }
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// A strip plot: x is the position in the range, y the metric; every sample is
// a dot (class "sample", spread a little sideways so that equal values stay
// visible), each tested commit's median a dash, the good and bad levels
// dashed lines, and the culprit a shaded column with a marker
// (id "culprit-marker").
std::string strip_plot(const SessionReport& r) {
    constexpr double k_width = 940, k_height = 340, k_left = 70, k_right = 120, k_top = 30,
                     k_bottom = 40;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (const auto& t : r.tested) {
        for (double v : t.values) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (!std::isfinite(lo)) {
        return "<p>No samples yet.</p>";
    }
    if (hi == lo) {
        hi = lo + 1;
    }
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const double last = std::max<double>(1, static_cast<double>(r.range_size) - 1);
    const double column = (k_width - k_left - k_right) / last;
    auto x = [&](double position) { return k_left + column * position; };
    auto y = [&](double value) {
        return k_top + (k_height - k_top - k_bottom) * (1 - (value - lo) / (hi - lo));
    };
    const std::string unit = r.unit.empty() ? "" : " " + r.unit;
    std::string svg = fmt::format(
        R"(<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="every sample of every tested commit, in range order">)",
        k_width, k_height, k_width, k_height);
    for (const auto& c : r.culprits) {
        const double x0 = x(static_cast<double>(c.evidence.parent));
        const double x1 = x(static_cast<double>(c.evidence.position));
        const double mid = (x0 + x1) / 2;
        svg += fmt::format(
            R"(<g id="culprit-marker" class="culprit-marker" data-commit="{}"><rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="#fde2e2"/><line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" stroke="#b22222" stroke-dasharray="4 3"/><text x="{:.1f}" y="{}" font-size="12" fill="#b22222" text-anchor="middle">culprit {} {}</text><title>culprit {}: {}</title></g>)",
            escape(c.commit.id), mid, k_top, std::max(4.0, x1 - mid + 4), k_height - k_top - k_bottom,
            mid, mid, k_top, k_height - k_bottom, mid, k_top - 8, escape(c.commit.short_id()),
            escape(percent_text(c.evidence.effect)), escape(c.commit.short_id()),
            escape(effect_text(c.evidence)));
    }
    for (int i = 0; i <= 4; ++i) {
        const double value = lo + (hi - lo) * i / 4;
        svg += fmt::format(
            R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#eee"/><text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{:.4g}</text>)",
            k_left, k_width - k_right, y(value), y(value), k_left - 6, y(value) + 4, value);
    }
    svg += fmt::format(
        R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">position in range (good = 0, bad = {}){}</text>)",
        (k_left + k_width - k_right) / 2, k_height - 8, r.range_size - 1,
        unit.empty() ? "" : "; values in" + unit);
    for (auto [verdict, name, colour] :
         {std::tuple{Verdict::good, "good", "#2b7a2b"}, std::tuple{Verdict::bad, "bad", "#b22222"}}) {
        if (const auto level = level_of(r, verdict)) {
            svg += fmt::format(
                R"(<g class="level {}"><line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="{}" stroke-dasharray="6 4" stroke-opacity="0.7"/><text x="{}" y="{:.1f}" font-size="11" fill="{}">{} level {:.4g}</text></g>)",
                name, k_left, k_width - k_right, y(*level), y(*level), colour,
                k_width - k_right + 4, y(*level) + 4, colour, name, *level);
        }
    }
    for (const auto& t : r.tested) {
        const char* colour = t.verdict == Verdict::good   ? "#2b7a2b"
                             : t.verdict == Verdict::bad  ? "#b22222"
                                                          : "#777777";
        const double cx = x(static_cast<double>(t.position));
        const double spread = std::min(6.0, column * 0.3);
        for (std::size_t i = 0; i < t.values.size(); ++i) {
            const double jitter = spread * (static_cast<double>(i % 7) - 3) / 3;
            svg += fmt::format(
                R"(<circle class="sample" data-commit="{}" cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}" fill-opacity="0.55"/>)",
                escape(t.commit.short_id()), cx + jitter, y(t.values[i]), colour);
        }
        if (t.median) {
            svg += fmt::format(
                R"(<line class="median" x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="2"><title>{} {}: median {:.6g}{} of {} samples</title></line>)",
                cx - spread - 4, cx + spread + 4, y(*t.median), y(*t.median), colour,
                escape(t.commit.short_id()), to_string(t.verdict), *t.median, escape(unit),
                t.values.size());
        }
    }
    svg += "</svg>";
    return svg;
}

std::string percent(double fraction) { return percent_text(fraction); }

std::string profile_section(const CulpritReport& c, const ProfileRecord& p) {
    std::string html = fmt::format(
        "<h2>Profile of <code>{}</code> vs its parent <code>{}</code> ({})</h2>\n",
        escape(c.commit.short_id()), escape(c.parent.short_id()), escape(p.tool));
    if (!p.ok) {
        return html + "<p>Profiling failed: " + escape(p.error) + "</p>\n";
    }
    html += fmt::format(
        "<p>{} per run: {} ({} run(s) of each). Functions whose share of the program's cost, "
        "callees included, grew most:</p>\n",
        p.tool == "callgrind" ? "Instructions" : p.tool == "perf" ? "CPU time" : "Samples",
        percent(p.diff.total_change), p.runs);
    html += "<table class=profile><tr><th>change</th><th>parent</th><th>culprit</th>"
            "<th>self (parent → culprit)</th><th>function</th></tr>\n";
    for (const auto& f : p.diff.grew) {
        html += fmt::format(
            "<tr><td class=num>{:+.1f} pt</td><td class=num>{:.1f}%</td><td class=num>{:.1f}%</td>"
            "<td class=num>{:.1f}% → {:.1f}%</td><td><code title=\"{}\">{}</code></td></tr>\n",
            f.change() * 100, f.parent_share * 100, f.culprit_share * 100, f.parent_self * 100,
            f.culprit_self * 100, escape(f.function), escape(short_function_name(f.function)));
    }
    for (const auto& f : p.diff.appeared) {
        html += fmt::format(
            "<tr><td class=num>new</td><td class=num>–</td><td class=num>{:.1f}%</td>"
            "<td class=num>{:.1f}%</td><td><code title=\"{}\">{}</code></td></tr>\n",
            f.culprit_share * 100, f.culprit_self * 100, escape(f.function),
            escape(short_function_name(f.function)));
    }
    html += "</table>\n<p>Profiles: ";
    for (const auto& file : p.parent_files) {
        html += "<code>" + escape(file) + "</code> ";
    }
    for (const auto& file : p.culprit_files) {
        html += "<code>" + escape(file) + "</code> ";
    }
    return html + "</p>\n";
}

}  // namespace

std::string render_html(const SessionReport& r) {
    std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>perfbisect )" +
                       escape(r.session.id) + R"(</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}
p.culprit{font-size:110%;border-left:4px solid #b22222;padding-left:.6em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:95%}
.good{color:#2b7a2b}.bad{color:#b22222}.skipped,.untested{color:#777}
</style></head><body>
)";
    html += fmt::format("<h1>perfbisect session {}: {}</h1>\n", escape(r.session.id),
                        escape(r.status));
    html += fmt::format(
        "<p>Range <code>{}</code> ({}) .. <code>{}</code> ({}), {} commits. Metric <code>{}</code>, "
        "{} is better; minimum effect {}.</p>\n",
        escape(r.session.good), escape(r.good.short_id()), escape(r.session.bad),
        escape(r.bad.short_id()), r.range_size, escape(r.metric), escape(r.direction),
        percent(r.min_effect));
    if (!r.summary.empty()) {
        html += "<p>" + escape(r.summary) + "</p>\n";
    }
    if (!r.culprits.empty()) {
        html += fmt::format("<h2>Culprit{}</h2>\n", r.culprits.size() > 1 ? "s" : "");
        for (const auto& c : r.culprits) {
            html += fmt::format(
                "<p class=culprit><code>{}</code> {}<br>{}, {}: <b>{}</b>, confidence {:.4g}%, "
                "{:.0f}% of the good → bad shift; parent <code>{}</code></p>\n",
                escape(c.commit.id), escape(c.commit.subject), escape(c.commit.author),
                format_utc(c.commit.time), escape(effect_text(c.evidence)),
                c.evidence.confidence * 100, c.evidence.share * 100, escape(c.parent.short_id()));
        }
        html += "<table id=culprits><tr><th>commit</th><th>subject</th><th>author</th>"
                "<th>date</th><th>effect</th><th>95% CI</th><th>p-value</th><th>share</th></tr>\n";
        for (const auto& c : r.culprits) {
            html += fmt::format(
                "<tr><td><code title=\"{}\">{}</code></td><td>{}</td><td>{}</td><td>{}</td>"
                "<td class=num>{}</td><td class=num>{:+.1f}…{:+.1f}%</td><td class=num>{}</td>"
                "<td class=num>{:.0f}%</td></tr>\n",
                escape(c.commit.id), escape(c.commit.short_id()), escape(c.commit.subject),
                escape(c.commit.author), format_utc(c.commit.time).substr(0, 10),
                percent(c.evidence.effect), c.evidence.ci_low * 100, c.evidence.ci_high * 100,
                escape(p_value_cell(c.evidence.p_value)), c.evidence.share * 100);
        }
        html += "</table>\n";
    }
    html += "<h2>Samples</h2>\n" + strip_plot(r) + "\n";
    for (const auto& c : r.culprits) {
        if (c.profile) {
            html += profile_section(c, *c.profile);
        }
    }
    html += "<h2>Tested commits</h2><table id=tested><tr><th>pos</th><th>commit</th><th>subject</th>"
            "<th>samples</th><th>median</th><th>verdict</th><th>note</th></tr>\n";
    for (const auto& t : r.tested) {
        html += fmt::format(
            "<tr><td class=num>{}</td><td><code>{}</code></td><td>{}</td><td class=num>{}</td>"
            "<td class=num>{}</td><td class={}>{}</td><td>{}</td></tr>\n",
            t.position, escape(t.commit.short_id()), escape(t.commit.subject), t.values.size(),
            t.median ? fmt::format("{:.6g}", *t.median) : "-", to_string(t.verdict),
            to_string(t.verdict), escape(t.note));
    }
    html += "</table>\n";
    html += fmt::format("<p>Cost: {} builds ({}), {} probe runs, {} samples, {} in all.{}</p>\n",
                        r.cost.builds, format_seconds(r.cost.build_seconds), r.cost.probe_runs,
                        r.cost.samples, format_seconds(r.cost.wall_seconds),
                        r.nodes.empty() ? "" : "<br>" + escape(nodes_text(r)));
    html += fmt::format("<p>Re-run: <code>{}</code>{}</p>\n", escape(r.rerun_command),
                        r.narrow_command.empty()
                            ? ""
                            : "<br>Narrow: <code>" + escape(r.narrow_command) + "</code>");
    html += "<h2>Event log</h2><table id=events><tr><th>time</th><th>kind</th><th>event</th></tr>\n";
    for (const auto& e : r.events) {
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            format_utc(static_cast<std::int64_t>(e.timestamp)), escape(e.kind),
                            escape(e.message));
    }
    html += "</table>\n</body></html>\n";
    return html;
}

}  // namespace perfbisect
