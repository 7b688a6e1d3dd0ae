#include "probes/metric.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <optional>
#include <cstdlib>

#include <boost/regex.hpp>
#include <fmt/format.h>

#include "util/text.hpp"

namespace perfbisect {

struct CompiledPattern {
    boost::regex regex;
};

namespace {

constexpr const char* k_known_metrics =
    "wall, cpu, maxrss, regex:<pattern>, regex-first:<pattern>, json:<pointer>, "
    "google-benchmark:<name>, hyperfine, pyperf, callgrind, perf-stat:<event>";

// Parses a whole string as a finite-or-not double; nullopt when it is not a number.
std::optional<double> to_number(const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
        return std::nullopt;
    }
    return value;
}

// A Perl construct that Boost.Regex accepts beyond ECMAScript and that has
// hurt us, found by fuzzing: the construct and what it is, or nullopt.
//  - a recursion or subroutine call ((?R), (?1), (?+1), (?-1), (?&name),
//    (?P>name)): a repeated call, `(a|(?1)*x)`, kept one match busy for minutes;
//  - a comment, (?#...): Boost 1.74's parser loops forever on a possessive
//    repeat followed by a comment and another character, `a*+(?#c)b`.
// A metric pattern has no use for either.
struct PerlConstruct {
    std::string text;
    const char* what;
};
std::optional<PerlConstruct> refused_construct(std::string_view pattern) {
    bool in_class = false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;  // an escaped character, whatever it is
        } else if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = true;
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') {
                ++i;
            }
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') {
                ++i;  // a leading ']' is a member, not the end
            }
        } else if (c == '(' && pattern.substr(i + 1, 1) == "?" && i + 2 < pattern.size()) {
            const char k = pattern[i + 2];
            const bool digit_after_sign =
                (k == '+' || k == '-') && i + 3 < pattern.size() &&
                std::isdigit(static_cast<unsigned char>(pattern[i + 3])) != 0;
            const bool call = k == 'R' || k == '&' || digit_after_sign ||
                              pattern.substr(i + 2, 2) == "P>" ||
                              std::isdigit(static_cast<unsigned char>(k)) != 0;
            if (call || k == '#') {
                const std::size_t end = pattern.find(')', i);
                return PerlConstruct{
                    std::string(pattern.substr(i, end == std::string_view::npos ? 3 : end - i + 1)),
                    call ? "a recursive call" : "a comment"};
            }
        }
    }
    return std::nullopt;
}

Result<MetricSpec> parse_regex(MetricSpec spec, const std::string& prefix) {
    spec.kind = MetricKind::regex;
    spec.argument = spec.text.substr(prefix.size());
    if (const auto refused = refused_construct(spec.argument)) {
        return usage_error(fmt::format(
            "metric '{}': '{}' is {}, which metric patterns do not allow (they are ECMAScript "
            "syntax); write the pattern without it",
            one_line(spec.text), one_line(refused->text), refused->what));
    }
    try {
        spec.compiled = std::make_shared<const CompiledPattern>(
            CompiledPattern{boost::regex(spec.argument, boost::regex::ECMAScript)});
    } catch (const boost::regex_error& e) {
        return usage_error(
            fmt::format("metric '{}': invalid regular expression ({})", spec.text, e.what()));
    }
    if (spec.compiled->regex.mark_count() != 1) {
        return usage_error(fmt::format(
            "metric '{}': the pattern needs exactly one capture group around the number, it has {}",
            spec.text, spec.compiled->regex.mark_count()));
    }
    return spec;
}

// RFC 6901: "" (the whole document) or "/"-separated tokens where '~' is only
// followed by 0 or 1.
bool valid_json_pointer(const std::string& pointer) {
    if (pointer.empty()) {
        return true;
    }
    if (pointer.front() != '/') {
        return false;
    }
    for (std::size_t i = 0; i < pointer.size(); ++i) {
        if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
            return false;
        }
    }
    return true;
}

Result<std::vector<double>> extract_regex(const MetricSpec& metric, const RunOutput& output) {
    std::vector<double> values;
    const std::string& text = output.text;
    try {
        for (auto it = boost::sregex_iterator(text.begin(), text.end(), metric.compiled->regex);
             it != boost::sregex_iterator(); ++it) {
            const std::string captured = (*it)[1].str();
            const auto value = to_number(captured);
            if (!value) {
                return runtime_error(
                    fmt::format("metric value '{}' is not a number", shorten(captured)));
            }
            if (!std::isfinite(*value)) {
                return runtime_error(
                    fmt::format("metric value '{}' is not finite", shorten(captured)));
            }
            values.push_back(*value);
            if (metric.first_only) {
                break;
            }
        }
    } catch (const std::runtime_error& e) {
        // Boost.Regex gives up on a match too complex for its limits (a
        // pattern that backtracks without bound over a long output).
        return runtime_error(fmt::format("metric pattern '{}' on the probe's {}: {}",
                                         metric.argument, output.text_origin, e.what()));
    }
    if (values.empty()) {
        return runtime_error(fmt::format("no match for metric pattern '{}' in the probe's {}",
                                         metric.argument, output.text_origin));
    }
    return values;
}

std::string read_whole_file(const std::string& path) {
    return read_file_tail(path, std::size_t{64} * 1024 * 1024);
}

}  // namespace

std::string MetricSpec::unit() const {
    switch (kind) {
        case MetricKind::wall:
        case MetricKind::cpu:
        case MetricKind::google_benchmark:
        case MetricKind::hyperfine:
            return "s";
        case MetricKind::maxrss:
            return "KiB";
        case MetricKind::callgrind:
            return "instructions";
        case MetricKind::regex:
        case MetricKind::json:
        case MetricKind::pyperf:  // seconds for time benchmarks, but pyperf also tracks memory
        case MetricKind::perf_stat:
            return "";
    }
    return "";
}

bool MetricSpec::reads_output() const {
    switch (kind) {
        case MetricKind::regex:
        case MetricKind::json:
        case MetricKind::google_benchmark:
        case MetricKind::hyperfine:
        case MetricKind::pyperf:
            return true;
        default:
            return false;
    }
}

Result<MetricSpec> parse_metric(const std::string& text) {
    MetricSpec spec;
    spec.text = text;
    auto argument_after = [&](const std::string& prefix) { return text.substr(prefix.size()); };
    if (text == "wall") {
        spec.kind = MetricKind::wall;
    } else if (text == "cpu") {
        spec.kind = MetricKind::cpu;
    } else if (text == "maxrss") {
        spec.kind = MetricKind::maxrss;
    } else if (text == "callgrind") {
        spec.kind = MetricKind::callgrind;
    } else if (text.starts_with("regex:")) {
        return parse_regex(std::move(spec), "regex:");
    } else if (text.starts_with("regex-first:")) {
        spec.first_only = true;
        return parse_regex(std::move(spec), "regex-first:");
    } else if (text.starts_with("json:")) {
        spec.kind = MetricKind::json;
        spec.argument = argument_after("json:");
        if (!valid_json_pointer(spec.argument)) {
            return usage_error(fmt::format(
                "metric '{}': '{}' is not a JSON pointer (write it as /key/0/field, e.g. "
                "json:/results/0/mean; ~0 and ~1 escape '~' and '/')",
                text, spec.argument));
        }
    } else if (text.starts_with("google-benchmark:")) {
        spec.kind = MetricKind::google_benchmark;
        spec.argument = argument_after("google-benchmark:");
        // Benchmark names may hold ':' themselves (BM_x/threads:2), so only a
        // known suffix selects the field.
        if (spec.argument.ends_with(":cpu_time")) {
            spec.cpu_time = true;
            spec.argument.resize(spec.argument.size() - 9);
        } else if (spec.argument.ends_with(":real_time")) {
            spec.argument.resize(spec.argument.size() - 10);
        }
        if (spec.argument.empty()) {
            return usage_error(fmt::format(
                "metric '{}': name the benchmark, e.g. google-benchmark:BM_Sort/1024 "
                "(add :cpu_time for its CPU time)",
                text));
        }
    } else if (text == "hyperfine" || text.starts_with("hyperfine:")) {
        spec.kind = MetricKind::hyperfine;
        spec.argument = text.size() > 10 ? argument_after("hyperfine:") : "";
    } else if (text == "pyperf" || text.starts_with("pyperf:")) {
        spec.kind = MetricKind::pyperf;
        spec.argument = text.size() > 7 ? argument_after("pyperf:") : "";
    } else if (text.starts_with("perf-stat:")) {
        spec.kind = MetricKind::perf_stat;
        spec.argument = argument_after("perf-stat:");
        if (spec.argument.empty() ||
            spec.argument.find_first_of(", \t'\"") != std::string::npos) {
            return usage_error(fmt::format(
                "metric '{}': give one perf event, e.g. perf-stat:instructions or "
                "perf-stat:task-clock (list them with `perf list`)",
                text));
        }
    } else {
        return usage_error(fmt::format("unknown metric '{}' (use {})", text, k_known_metrics));
    }
    return spec;
}

Result<double> parse_callgrind_total(const std::string& text) {
    // "summary: N" in the header, or "totals: N" at the end (older writers);
    // with several events the first column is the first event, Ir by default.
    std::optional<double> summary;
    std::optional<double> totals;
    bool format_seen = false;
    for (const auto& line : split_lines(text)) {
        if (line.starts_with("# callgrind format") || line.starts_with("events:")) {
            format_seen = true;
        }
        for (auto [key, target] : {std::pair{"summary:", &summary}, std::pair{"totals:", &totals}}) {
            if (line.starts_with(key)) {
                const std::string rest = trim(line.substr(std::string_view(key).size()));
                const auto value = to_number(rest.substr(0, rest.find(' ')));
                if (!value) {
                    return runtime_error(
                        fmt::format("callgrind output has an unreadable '{}' line", line));
                }
                *target = value;
            }
        }
    }
    if (!format_seen) {
        return runtime_error("callgrind output is not in callgrind format");
    }
    if (summary) {
        return *summary;
    }
    if (totals) {
        return *totals;
    }
    return runtime_error("callgrind output has no summary: or totals: line");
}

Result<double> parse_perf_stat_csv(const std::string& text, const std::string& event) {
    // `perf stat -x,` lines: value,unit,event,run time,percentage,…
    std::string seen;
    for (const auto& raw : split_lines(text)) {
        const std::string line = trim(raw);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::vector<std::string> fields;
        std::size_t begin = 0;
        while (true) {
            const std::size_t comma = line.find(',', begin);
            fields.push_back(line.substr(begin, comma - begin));
            if (comma == std::string::npos) {
                break;
            }
            begin = comma + 1;
        }
        if (fields.size() < 3) {
            continue;
        }
        seen += (seen.empty() ? "" : ", ") + fields[2];
        if (fields[2] != event) {
            continue;
        }
        if (fields[0] == "<not supported>") {
            return runtime_error(fmt::format(
                "perf stat cannot count '{}' on this machine (<not supported>: no hardware "
                "performance counters, as in most VMs and containers); use metric = \"callgrind\" "
                "for an instruction count without counters",
                event));
        }
        if (fields[0] == "<not counted>") {
            return runtime_error(fmt::format(
                "perf stat did not count '{}' (<not counted>: the counter was not scheduled; "
                "count fewer events at once)",
                event));
        }
        const auto value = to_number(fields[0]);
        if (!value || !std::isfinite(*value)) {
            return runtime_error(
                fmt::format("perf stat value '{}' for '{}' is not a number", fields[0], event));
        }
        return *value;
    }
    return runtime_error(fmt::format("perf stat reported no '{}'{}", event,
                                     seen.empty() ? std::string() : " (it reported " + seen + ")"));
}

Result<std::vector<double>> extract_metric(const MetricSpec& metric, const RunOutput& output) {
    const ProcessResult& process = *output.process;
    switch (metric.kind) {
        case MetricKind::wall:
            return std::vector<double>{process.wall_seconds};
        case MetricKind::cpu:
            return std::vector<double>{process.user_seconds + process.system_seconds};
        case MetricKind::maxrss:
            return std::vector<double>{static_cast<double>(process.max_rss_kib)};
        case MetricKind::regex:
            return extract_regex(metric, output);
        case MetricKind::json:
        case MetricKind::google_benchmark:
        case MetricKind::hyperfine:
        case MetricKind::pyperf:
            return extract_json_metric(metric, output.text, output.text_origin);
        case MetricKind::callgrind: {
            // One file per process valgrind followed (--trace-children): the
            // probe's instructions are their sum.
            if (output.tool_files.empty()) {
                return runtime_error("valgrind wrote no callgrind output (see the probe's stderr)");
            }
            double total = 0;
            for (const auto& file : output.tool_files) {
                auto value = parse_callgrind_total(read_whole_file(file));
                if (!value) {
                    return std::unexpected(value.error());
                }
                total += *value;
            }
            return std::vector<double>{total};
        }
        case MetricKind::perf_stat: {
            if (output.tool_files.empty()) {
                return runtime_error("perf stat wrote no output (see the probe's stderr)");
            }
            auto value = parse_perf_stat_csv(read_whole_file(output.tool_files.front()),
                                             metric.argument);
            if (!value) {
                return std::unexpected(value.error());
            }
            return std::vector<double>{*value};
        }
    }
    return runtime_error("unknown metric kind");
}

Result<std::vector<double>> extract_metric(const MetricSpec& metric, const ProcessResult& process,
                                           const std::string& stdout_text) {
    RunOutput output;
    output.process = &process;
    output.text = stdout_text;
    output.text_origin = "output";
    return extract_metric(metric, output);
}

}  // namespace perfbisect
