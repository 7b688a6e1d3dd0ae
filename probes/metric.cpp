#include "probes/metric.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace perfbisect {

std::string MetricSpec::unit() const {
    switch (kind) {
        case MetricKind::wall:
        case MetricKind::cpu:
            return "s";
        case MetricKind::maxrss:
            return "KiB";
        case MetricKind::regex:
            return "";
    }
    return "";
}

Result<MetricSpec> parse_metric(const std::string& text) {
    MetricSpec spec;
    spec.text = text;
    if (text == "wall") {
        spec.kind = MetricKind::wall;
    } else if (text == "cpu") {
        spec.kind = MetricKind::cpu;
    } else if (text == "maxrss") {
        spec.kind = MetricKind::maxrss;
    } else if (text.starts_with("regex:")) {
        spec.kind = MetricKind::regex;
        spec.pattern = text.substr(6);
        try {
            spec.compiled = std::regex(spec.pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            return usage_error(fmt::format("metric '{}': invalid regular expression ({})", text,
                                           e.what()));
        }
        if (spec.compiled.mark_count() != 1) {
            return usage_error(fmt::format(
                "metric '{}': the pattern needs exactly one capture group around the number, "
                "it has {}",
                text, spec.compiled.mark_count()));
        }
    } else {
        return usage_error(fmt::format(
            "unknown metric '{}' (use wall, cpu, maxrss or regex:<pattern with one group>)", text));
    }
    return spec;
}

Result<std::vector<double>> extract_metric(const MetricSpec& metric, const ProcessResult& process,
                                           const std::string& stdout_text) {
    switch (metric.kind) {
        case MetricKind::wall:
            return std::vector<double>{process.wall_seconds};
        case MetricKind::cpu:
            return std::vector<double>{process.user_seconds + process.system_seconds};
        case MetricKind::maxrss:
            return std::vector<double>{static_cast<double>(process.max_rss_kib)};
        case MetricKind::regex:
            break;
    }
    std::vector<double> values;
    for (auto it = std::sregex_iterator(stdout_text.begin(), stdout_text.end(), metric.compiled);
         it != std::sregex_iterator(); ++it) {
        const std::string captured = (*it)[1].str();
        errno = 0;
        char* end = nullptr;
        const double value = std::strtod(captured.c_str(), &end);
        if (captured.empty() || end != captured.c_str() + captured.size() || errno == ERANGE) {
            return runtime_error(fmt::format("metric value '{}' is not a number", captured));
        }
        if (!std::isfinite(value)) {
            return runtime_error(fmt::format("metric value '{}' is not finite", captured));
        }
        values.push_back(value);
    }
    if (values.empty()) {
        return runtime_error(
            fmt::format("no match for metric pattern '{}' in the probe's output", metric.pattern));
    }
    return values;
}

}  // namespace perfbisect
