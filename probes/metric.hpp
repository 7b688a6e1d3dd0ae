#pragma once

// Metric sources: how a number is read from one probe run.
//   wall    elapsed seconds of the probe process
//   cpu     user + system CPU seconds of the probe process and its children
//   maxrss  peak resident set size, KiB
//   regex:<pattern>  every match of the pattern's single capture group in the
//                    probe's stdout is one value

#include <regex>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/process.hpp"

namespace perfbisect {

enum class MetricKind { wall, cpu, maxrss, regex };

struct MetricSpec {
    MetricKind kind = MetricKind::wall;
    std::string text;     // as written in the config, e.g. "regex:time: ([0-9.]+)"
    std::string pattern;  // regex only
    std::regex compiled;  // regex only

    std::string unit() const;  // "s", "KiB", or "" when the probe defines it
};

// Usage error for an unknown source or a bad pattern, naming both.
Result<MetricSpec> parse_metric(const std::string& text);

// Values of one probe run. Failure (no match, unparsable number, NaN) is an
// Error whose message becomes the failed sample's reason.
Result<std::vector<double>> extract_metric(const MetricSpec& metric, const ProcessResult& process,
                                           const std::string& stdout_text);

}  // namespace perfbisect
