// The JSON metric sources: json:<pointer>, Google Benchmark, hyperfine and
// pyperf. The only probes file that includes nlohmann-json.
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "probes/metric.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

using nlohmann::json;

// Google Benchmark and Python's json module write bare NaN, Infinity and
// -Infinity, which are not JSON. Outside strings they become the strings
// "NaN", "Infinity" and "-Infinity", so the document parses and a value that is
// one of them fails as "not finite" where it is read.
std::string quote_non_finite_tokens(const std::string& text) {
    std::string out;
    out.reserve(text.size() + 16);
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            out += c;
            continue;
        }
        bool replaced = false;
        for (std::string_view token : {"NaN", "Infinity", "-Infinity"}) {
            if (text.compare(i, token.size(), token) == 0) {
                out += '"';
                out += token;
                out += '"';
                i += token.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            out += c;
        }
    }
    return out;
}

Result<json> parse_document(const std::string& text, const std::string& origin) {
    if (trim(text).empty()) {
        return runtime_error(fmt::format("the probe's {} is empty; expected JSON", origin));
    }
    try {
        return json::parse(quote_non_finite_tokens(text));
    } catch (const json::exception& e) {
        const std::string start = one_line(text.substr(0, 60));
        return runtime_error(fmt::format(
            "the probe's {} is not JSON ({}; it starts with '{}'); make the probe write JSON, or "
            "set [probe] output to the file it writes",
            origin, e.what(), start));
    }
}

// A number, or one of the quoted non-finite tokens (an error), or anything else (an error).
Result<double> number_of(const json& value, const std::string& what) {
    if (value.is_number()) {
        const double v = value.get<double>();
        if (!std::isfinite(v)) {
            return runtime_error(fmt::format("{} is not finite", what));
        }
        return v;
    }
    if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        if (s == "NaN" || s == "Infinity" || s == "-Infinity") {
            return runtime_error(fmt::format("{} is {}, not a finite number", what, s));
        }
        return runtime_error(fmt::format("{} is the string \"{}\", not a number", what, one_line(s)));
    }
    if (value.is_null()) {
        return runtime_error(fmt::format("{} is null, not a number", what));
    }
    return runtime_error(fmt::format("{} is {}, not a number", what, value.type_name()));
}

std::string list_of(const std::vector<std::string>& names) {
    std::string out;
    const std::size_t shown = std::min<std::size_t>(names.size(), 12);
    for (std::size_t i = 0; i < shown; ++i) {
        out += (i == 0 ? "" : ", ") + names[i];
    }
    if (names.size() > shown) {
        out += fmt::format(", … ({} in all)", names.size());
    }
    return out.empty() ? "none" : out;
}

Result<std::vector<double>> json_pointer_values(const MetricSpec& metric, const json& doc) {
    const json* value = nullptr;
    try {
        const json::json_pointer pointer(metric.argument);
        if (!doc.contains(pointer)) {
            return runtime_error(
                fmt::format("no value at JSON pointer '{}' in the probe's output", metric.argument));
        }
        value = &doc.at(pointer);
    } catch (const json::exception& e) {
        return runtime_error(fmt::format("JSON pointer '{}': {}", metric.argument, e.what()));
    }
    std::vector<double> values;
    if (value->is_array()) {
        for (std::size_t i = 0; i < value->size(); ++i) {
            auto v = number_of((*value)[i], fmt::format("the value at {}/{}", metric.argument, i));
            if (!v) {
                return std::unexpected(v.error());
            }
            values.push_back(*v);
        }
        if (values.empty()) {
            return runtime_error(fmt::format("the array at {} is empty", metric.argument));
        }
        return values;
    }
    auto v = number_of(*value, fmt::format("the value at {}", metric.argument));
    if (!v) {
        return std::unexpected(v.error());
    }
    values.push_back(*v);
    return values;
}

double time_unit_seconds(const std::string& unit) {
    if (unit == "ns") return 1e-9;
    if (unit == "us") return 1e-6;
    if (unit == "ms") return 1e-3;
    if (unit == "s") return 1;
    return 0;
}

// Google Benchmark's JSON (--benchmark_format=json or --benchmark_out): every
// entry of "benchmarks" named like the metric that is not an aggregate is one
// value, in seconds.
Result<std::vector<double>> google_benchmark_values(const MetricSpec& metric, const json& doc) {
    if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
        return runtime_error(
            "the probe's output is not Google Benchmark JSON (no \"benchmarks\" array); run it "
            "with --benchmark_format=json, or --benchmark_out={out}/result.json with [probe] "
            "output = \"{out}/result.json\"");
    }
    const char* field = metric.cpu_time ? "cpu_time" : "real_time";
    std::vector<double> values;
    std::vector<std::string> names;
    std::set<std::string> listed;
    bool aggregates_only = false;
    for (const auto& entry : doc["benchmarks"]) {
        const std::string name = entry.value("name", "");
        const std::string run_name = entry.value("run_name", name);
        const bool aggregate = entry.value("run_type", "iteration") == "aggregate";
        if (!aggregate && listed.insert(name).second) {
            names.push_back(name);
        }
        if (aggregate) {
            aggregates_only = aggregates_only || run_name == metric.argument;
            continue;
        }
        if (name != metric.argument) {
            continue;
        }
        if (entry.value("error_occurred", false)) {
            return runtime_error(fmt::format("benchmark '{}' reported an error: {}", name,
                                             one_line(entry.value("error_message", "(no message)"))));
        }
        const std::string unit = entry.value("time_unit", "ns");
        const double scale = time_unit_seconds(unit);
        if (scale == 0) {
            return runtime_error(
                fmt::format("benchmark '{}' has an unknown time_unit '{}'", name, unit));
        }
        if (!entry.contains(field)) {
            return runtime_error(fmt::format("benchmark '{}' has no {}", name, field));
        }
        auto v = number_of(entry[field], fmt::format("{} of benchmark '{}'", field, name));
        if (!v) {
            return std::unexpected(v.error());
        }
        values.push_back(*v * scale);
    }
    if (values.empty()) {
        if (aggregates_only) {
            return runtime_error(fmt::format(
                "only aggregates of benchmark '{}' in the output; run it without "
                "--benchmark_report_aggregates_only so that each repetition is a sample",
                metric.argument));
        }
        return runtime_error(fmt::format("no benchmark named '{}' in the output (it has: {})",
                                         metric.argument, list_of(names)));
    }
    return values;
}

// hyperfine --export-json: every entry of results[].times of one command.
Result<std::vector<double>> hyperfine_values(const MetricSpec& metric, const json& doc) {
    if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
        return runtime_error(
            "the probe's output is not hyperfine JSON (no \"results\" array); run hyperfine with "
            "--export-json {out}/hyperfine.json and set [probe] output = \"{out}/hyperfine.json\"");
    }
    const auto& results = doc["results"];
    std::vector<std::string> commands;
    for (const auto& r : results) {
        commands.push_back(r.value("command", ""));
    }
    const json* chosen = nullptr;
    if (metric.argument.empty()) {
        if (results.size() != 1) {
            return runtime_error(fmt::format(
                "hyperfine measured {} commands; choose one with metric = \"hyperfine:<command>\" "
                "(commands: {})",
                results.size(), list_of(commands)));
        }
        chosen = &results[0];
    } else {
        for (const auto& r : results) {
            if (r.value("command", "") == metric.argument) {
                chosen = &r;
            }
        }
        if (chosen == nullptr) {
            return runtime_error(fmt::format("hyperfine measured no command '{}' (commands: {})",
                                             metric.argument, list_of(commands)));
        }
    }
    const std::string command = chosen->value("command", "");
    if (!chosen->contains("times") || !(*chosen)["times"].is_array() ||
        (*chosen)["times"].empty()) {
        return runtime_error(fmt::format("hyperfine result of '{}' has no times", command));
    }
    if (chosen->contains("exit_codes") && (*chosen)["exit_codes"].is_array()) {
        int failed = 0;
        int code = 0;
        for (const auto& c : (*chosen)["exit_codes"]) {
            if (c.is_number_integer() && c.get<int>() != 0) {
                ++failed;
                code = c.get<int>();
            }
        }
        if (failed > 0) {
            return runtime_error(fmt::format("'{}' exited with code {} in {} of {} hyperfine runs",
                                             command, code, failed,
                                             (*chosen)["exit_codes"].size()));
        }
    }
    std::vector<double> values;
    for (const auto& t : (*chosen)["times"]) {
        auto v = number_of(t, fmt::format("a time of '{}'", command));
        if (!v) {
            return std::unexpected(v.error());
        }
        values.push_back(*v);
    }
    return values;
}

// pyperf JSON (-o file.json): benchmarks[].runs[].values of one benchmark;
// warmups and calibration runs (runs without values) are ignored.
Result<std::vector<double>> pyperf_values(const MetricSpec& metric, const json& doc) {
    if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
        return runtime_error(
            "the probe's output is not pyperf JSON (no \"benchmarks\" array); run it with "
            "-o {out}/pyperf.json and set [probe] output = \"{out}/pyperf.json\"");
    }
    std::string common_name;
    if (doc.contains("metadata") && doc["metadata"].is_object()) {
        common_name = doc["metadata"].value("name", "");
    }
    const auto& benchmarks = doc["benchmarks"];
    std::vector<std::string> names;
    const json* chosen = nullptr;
    for (const auto& b : benchmarks) {
        std::string name = common_name;
        if (b.contains("metadata") && b["metadata"].is_object()) {
            name = b["metadata"].value("name", common_name);
        }
        names.push_back(name);
        if (metric.argument.empty() ? benchmarks.size() == 1 : name == metric.argument) {
            chosen = &b;
        }
    }
    if (chosen == nullptr) {
        if (metric.argument.empty()) {
            return runtime_error(fmt::format(
                "the pyperf file holds {} benchmarks; choose one with metric = \"pyperf:<name>\" "
                "(benchmarks: {})",
                benchmarks.size(), list_of(names)));
        }
        return runtime_error(fmt::format("no pyperf benchmark named '{}' (benchmarks: {})",
                                         metric.argument, list_of(names)));
    }
    std::vector<double> values;
    if (chosen->contains("runs") && (*chosen)["runs"].is_array()) {
        for (const auto& run : (*chosen)["runs"]) {
            if (!run.contains("values") || !run["values"].is_array()) {
                continue;  // a calibration run: warmups only
            }
            for (const auto& value : run["values"]) {
                auto v = number_of(value, "a pyperf value");
                if (!v) {
                    return std::unexpected(v.error());
                }
                values.push_back(*v);
            }
        }
    }
    if (values.empty()) {
        return runtime_error("the pyperf benchmark has no values (only warmups or calibration)");
    }
    return values;
}

}  // namespace

Result<std::vector<double>> extract_json_metric(const MetricSpec& metric, const std::string& text,
                                                const std::string& origin) {
    auto doc = parse_document(text, origin);
    if (!doc) {
        return std::unexpected(doc.error());
    }
    try {
        switch (metric.kind) {
            case MetricKind::json:
                return json_pointer_values(metric, *doc);
            case MetricKind::google_benchmark:
                return google_benchmark_values(metric, *doc);
            case MetricKind::hyperfine:
                return hyperfine_values(metric, *doc);
            case MetricKind::pyperf:
                return pyperf_values(metric, *doc);
            default:
                break;
        }
    } catch (const json::exception& e) {
        // A document of the right shape with a field of the wrong type.
        return runtime_error(fmt::format("unexpected JSON in the probe's {}: {}", origin, e.what()));
    }
    return runtime_error("not a JSON metric: " + metric.text);
}

}  // namespace perfbisect
