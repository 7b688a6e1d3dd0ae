#pragma once

// The results of `perfbisect compare` (two commits, the same statistics as a
// bisect) and `perfbisect gate` (limits on a commit's metrics and on its
// regression against a baseline), and their renderings: text, Markdown for a
// pull-request comment, JSON (docs/report-json.md), JUnit XML for CI.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/report.hpp"

namespace perfbisect {

enum class CompareVerdict {
    regression,     // head is worse than base by min_effect or more (significantly)
    no_regression,  // not worse by min_effect
    improvement,    // significantly better, by min_effect or more
    inconclusive,   // a budget stopped the measurement first
};
const char* to_string(CompareVerdict verdict);

struct Comparison {
    SessionReport report;  // the session of the two commits: base is position 0, head 1
    CompareVerdict verdict = CompareVerdict::inconclusive;
    CulpritEvidence evidence;  // head vs base, as a culprit's evidence is computed
};

// From the cache: the session's report and the evidence of head vs base.
Comparison build_comparison(Cache& cache, const std::string& session);

std::string render_comparison_text(const Comparison& comparison);
std::string render_comparison_markdown(const Comparison& comparison);
std::string render_comparison_json(const Comparison& comparison);
// "text", "md", "json"; another: usage error.
Result<std::string> render_comparison(const Comparison& comparison, const std::string& format);

enum class CheckStatus { pass, fail, error };
const char* to_string(CheckStatus status);

// One limit of [gate], checked.
struct GateCheck {
    std::string name;    // "median of wall <= 120ms", "no regression of +5.0% or more vs v1.0"
    std::string kind;    // "max", "min" or "max_regression"
    std::string metric;  // the metric it is on
    CheckStatus status = CheckStatus::error;
    std::string message;          // one line: what was found against the limit
    std::optional<double> value;  // the median (max, min) or the effect (max_regression)
    double limit = 0;             // in the metric's unit, or a fraction for max_regression
    std::string unit;
    int samples = 0;     // values it was decided on
    double seconds = 0;  // time spent measuring for it
};

struct GateResult {
    std::string revision;  // as given
    CommitInfo commit;
    std::string baseline;  // the baseline revision ("" without max_regression)
    std::vector<GateCheck> checks;
    std::optional<Comparison> comparison;  // of baseline and revision, with max_regression
    double seconds = 0;
    std::int64_t timestamp = 0;  // unix seconds, when the gate started

    int failures() const;
    int errors() const;
};

std::string render_gate_text(const GateResult& result);
std::string render_gate_markdown(const GateResult& result);
std::string render_gate_json(const GateResult& result);
Result<std::string> render_gate(const GateResult& result, const std::string& format);
// JUnit XML (testsuites > testsuite > testcase with failure or error), which
// Jenkins, GitLab and GitHub test reporters display: one test case per check.
std::string render_junit(const GateResult& result, const std::string& hostname);

}  // namespace perfbisect
