// The HTML report: one self-contained page (inline CSS and SVG, no network).
#include <algorithm>
#include <cmath>
#include <limits>

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

// A strip plot: x is the position in the range, y the metric; every sample is
// a dot, each tested commit's median a dash; the culprit column is shaded.
std::string strip_plot(const SessionReport& r) {
    constexpr double k_width = 900, k_height = 320, k_left = 70, k_right = 20, k_top = 20,
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
    auto x = [&](double position) {
        return k_left + (k_width - k_left - k_right) * position / last;
    };
    auto y = [&](double value) {
        return k_top + (k_height - k_top - k_bottom) * (1 - (value - lo) / (hi - lo));
    };
    std::string svg = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="samples per commit">)",
        k_width, k_height, k_width, k_height);
    for (const auto& c : r.culprits) {
        const double x0 = x(static_cast<double>(c.evidence.parent));
        const double x1 = x(static_cast<double>(c.evidence.position));
        svg += fmt::format(
            R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="#fde2e2"><title>culprit {}</title></rect>)",
            (x0 + x1) / 2, k_top, std::max(4.0, x1 - (x0 + x1) / 2 + 4), k_height - k_top - k_bottom,
            escape(c.commit.short_id()));
    }
    for (int i = 0; i <= 4; ++i) {
        const double value = lo + (hi - lo) * i / 4;
        svg += fmt::format(
            R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#eee"/><text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{:.4g}</text>)",
            k_left, k_width - k_right, y(value), y(value), k_left - 6, y(value) + 4, value);
    }
    svg += fmt::format(
        R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">position in range (good = 0, bad = {})</text>)",
        (k_left + k_width) / 2, k_height - 8, r.range_size - 1);
    for (const auto& t : r.tested) {
        const char* colour = t.verdict == Verdict::good   ? "#2b7a2b"
                             : t.verdict == Verdict::bad  ? "#b22222"
                                                          : "#777777";
        const double cx = x(static_cast<double>(t.position));
        for (double v : t.values) {
            svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}" fill-opacity="0.55"/>)",
                               cx, y(v), colour);
        }
        if (t.median) {
            svg += fmt::format(
                R"(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="2"><title>{} {}: median {:.6g}</title></line>)",
                cx - 7, cx + 7, y(*t.median), y(*t.median), colour, escape(t.commit.short_id()),
                to_string(t.verdict), *t.median);
        }
    }
    svg += "</svg>";
    return svg;
}

std::string percent(double fraction) { return fmt::format("{:+.1f}%", fraction * 100); }

}  // namespace

std::string render_html(const SessionReport& r) {
    std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>perfbisect )" +
                       escape(r.session.id) + R"(</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}
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
        html += "<h2>Culprit</h2><table><tr><th>commit</th><th>subject</th><th>author</th>"
                "<th>effect</th><th>95% CI</th><th>p-value</th><th>share</th></tr>\n";
        for (const auto& c : r.culprits) {
            html += fmt::format(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=num>{}</td>"
                "<td class=num>{} to {}</td><td class=num>{:.2g}</td><td class=num>{:.0f}%</td></tr>\n",
                escape(c.commit.id), escape(c.commit.subject), escape(c.commit.author),
                percent(c.evidence.effect), percent(c.evidence.ci_low),
                percent(c.evidence.ci_high), c.evidence.p_value, c.evidence.share * 100);
        }
        html += "</table>\n";
    }
    html += "<h2>Samples</h2>\n" + strip_plot(r) + "\n";
    html += "<h2>Tested commits</h2><table><tr><th>pos</th><th>commit</th><th>subject</th>"
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
    html += fmt::format("<p>Cost: {} builds ({}), {} probe runs, {} samples, {} in all.</p>\n",
                        r.cost.builds, format_seconds(r.cost.build_seconds), r.cost.probe_runs,
                        r.cost.samples, format_seconds(r.cost.wall_seconds));
    html += "<h2>Event log</h2><table><tr><th>time</th><th>kind</th><th>event</th></tr>\n";
    for (const auto& e : r.events) {
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            format_utc(static_cast<std::int64_t>(e.timestamp)), escape(e.kind),
                            escape(e.message));
    }
    html += "</table>\n</body></html>\n";
    return html;
}

}  // namespace perfbisect
