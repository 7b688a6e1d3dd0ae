#pragma once

// Metric sources: how numbers are read from one probe run. docs/probes.md has a
// config for each; the syntax of `[probe] metric`:
//   wall                 elapsed seconds of the probe process (spawn to reap)
//   cpu                  user + system CPU seconds of the probe and its waited-for children
//   maxrss               peak resident set size, KiB
//   regex:<pattern>      every match of the pattern's single capture group is one value
//   regex-first:<pattern>  only the first match
//   json:<pointer>       the number (or array of numbers) at an RFC 6901 JSON pointer
//   google-benchmark:<name>[:real_time|:cpu_time]  each repetition of one benchmark, seconds
//   hyperfine[:<command>]  every entry of results[].times, seconds
//   pyperf[:<name>]      every value of every run of one benchmark (warmups ignored)
//   callgrind            total instructions (Ir), the probe run under valgrind
//   perf-stat:<event>    the event's count from `perf stat`, the probe run under it
// Text sources (regex, json, google-benchmark, hyperfine, pyperf) read the
// probe's stdout, or the file `[probe] output` names.

#include <memory>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/process.hpp"

namespace perfbisect {

enum class MetricKind {
    wall,
    cpu,
    maxrss,
    regex,
    json,
    google_benchmark,
    hyperfine,
    pyperf,
    callgrind,
    perf_stat,
};

struct MetricSpec {
    MetricKind kind = MetricKind::wall;
    std::string text;        // as written in the config, e.g. "regex:time: ([0-9.]+)"
    std::string argument;    // regex: the pattern; json: the pointer; google-benchmark,
                             // hyperfine, pyperf: the benchmark's name ("" = the only one);
                             // perf-stat: the event
    bool first_only = false;      // regex-first
    bool cpu_time = false;        // google-benchmark: cpu_time instead of real_time
    // regex only: the compiled pattern (Boost.Regex, whose matcher keeps its
    // state on the heap: std::regex recursed per character and overflowed the
    // stack on a 100,000-digit number)
    std::shared_ptr<const struct CompiledPattern> compiled;

    std::string unit() const;  // "s", "KiB", "instructions", or "" when the probe defines it
    // Whether the value comes from the probe's output text (stdout or `output`).
    bool reads_output() const;
    // Whether the probe must run under a tool (valgrind, perf) for this metric.
    bool wraps_command() const { return kind == MetricKind::callgrind || kind == MetricKind::perf_stat; }
};

// Usage error for an unknown source, a bad pattern or pointer, naming both and
// the fix.
Result<MetricSpec> parse_metric(const std::string& text);

// What a probe run left behind for the metrics to read.
struct RunOutput {
    const ProcessResult* process = nullptr;
    std::string text;              // stdout, or the `output` file when configured
    std::string text_origin;       // "stdout" or the output file's path, for messages
    std::vector<std::string> tool_files;  // callgrind: its out files; perf-stat: its CSV file
};

// Values of one probe run. Failure (no match, unparsable number, NaN, an error
// the benchmark reported) is an Error whose message becomes the failed
// sample's reason.
Result<std::vector<double>> extract_metric(const MetricSpec& metric, const RunOutput& output);

// Convenience for resource and text metrics: stdout_text as the output.
Result<std::vector<double>> extract_metric(const MetricSpec& metric, const ProcessResult& process,
                                           const std::string& stdout_text);

// Parsers of the tools' formats, exposed for tests. Text is the whole file.
Result<double> parse_callgrind_total(const std::string& text);
Result<double> parse_perf_stat_csv(const std::string& text, const std::string& event);

// The JSON sources (json_formats.cpp, the only probes file with nlohmann-json).
// Bare NaN, Infinity and -Infinity tokens (Google Benchmark and Python write
// them) are accepted and give "not finite" failures where they are the value.
Result<std::vector<double>> extract_json_metric(const MetricSpec& metric, const std::string& text,
                                                const std::string& origin);

}  // namespace perfbisect
