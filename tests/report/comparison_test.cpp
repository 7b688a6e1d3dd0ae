// compare and gate results, rendered: two-commit sessions stored by the real
// driver and planner (fakes at the side effects), and gate results as data.
#include <catch2/catch.hpp>

#include "report/comparison.hpp"
#include "tests/support/fake_session.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

const char* const k_config = R"toml(
[build]
command = "make"
[probe]
command = ["bench"]
metric = "regex:t=([0-9.]+)"
unit = "ms"
[decide]
min_effect = "5%"
samples = 8
)toml";

// base at level 100, head at head_level.
Comparison compare_levels(const TempDir& dir, double head_level) {
    CommitRange range;
    range.commits = {{std::string(40, 'b'), "Base commit", "Ada <a@x>", 1700000000},
                     {std::string(40, 'c'), "Head commit", "Ada <a@x>", 1700000600}};
    Cache cache = Cache::open(dir / "p.db");
    const std::string id = testing::run_stored_session(
        cache, range, {{range.commits[0].id, 100.0}, {range.commits[1].id, head_level}}, k_config,
        dir.path(), nullptr, "main", "pr-42");
    return build_comparison(cache, id);
}

}  // namespace

TEST_CASE("compare: a regression, none, and an improvement, with the evidence each time",
          "[compare]") {
    TempDir dir;
    const Comparison worse = compare_levels(dir, 115);
    CHECK(worse.verdict == CompareVerdict::regression);
    CHECK(worse.evidence.effect == Approx(0.15).margin(0.03));
    CHECK(worse.evidence.ci_low > 0.05);
    CHECK(worse.evidence.p_value < 0.001);

    const Comparison same = compare_levels(dir, 100);
    CHECK(same.verdict == CompareVerdict::no_regression);
    CHECK(std::abs(same.evidence.effect) < 0.03);
    CHECK(same.evidence.ci_low < same.evidence.effect);
    CHECK(same.evidence.ci_high > same.evidence.effect);

    const Comparison better = compare_levels(dir, 80);
    CHECK(better.verdict == CompareVerdict::improvement);
    CHECK(better.evidence.effect < -0.15);

    const std::string text = render_comparison_text(worse);
    CHECK(text.starts_with("perfbisect compare: regression\n"));
    CHECK(text.find("base  main (bbbbbbbbbb) Base commit") != std::string::npos);
    CHECK(text.find("head  pr-42 (cccccccccc) Head commit") != std::string::npos);
    CHECK(text.find("head vs base: " + effect_text(worse.evidence)) != std::string::npos);
    CHECK(text.find(" ms -> ") != std::string::npos);

    const std::string md = render_comparison_markdown(worse);
    CHECK(md.starts_with("### perfbisect compare: **regression**"));
    CHECK(md.find("| head | `pr-42` | `cccccccccc` Head commit |") != std::string::npos);
    CHECK(md.find("<details>") != std::string::npos);
    CHECK(render_comparison_markdown(same).find("**no regression**") != std::string::npos);

    const std::string json = render_comparison_json(worse);
    CHECK(json.find("\"kind\": \"compare\"") != std::string::npos);
    CHECK(json.find("\"verdict\": \"regression\"") != std::string::npos);
    CHECK(render_comparison_json(better).find("\"verdict\": \"improvement\"") != std::string::npos);
    CHECK_FALSE(render_comparison(worse, "html"));
}

TEST_CASE("gate results: text, Markdown, JSON and JUnit XML say which check failed", "[gate]") {
    GateResult g;
    g.revision = "v1.1";
    g.commit = CommitInfo{std::string(40, 'd'), "Release", "Ada <a@x>", 0};
    g.timestamp = 1700000000;
    g.seconds = 12.5;
    GateCheck pass;
    pass.name = "median of maxrss <= 300MiB";
    pass.kind = "max";
    pass.status = CheckStatus::pass;
    pass.message = "median 2300 KiB over 8 samples is within the maximum 300MiB";
    GateCheck fail;
    fail.name = "median of regex:t=<([0-9.]+)> <= 120ms";
    fail.kind = "max";
    fail.status = CheckStatus::fail;
    fail.message = "median 131 ms over 8 samples is above the maximum 120ms & more";
    fail.seconds = 2.25;
    g.checks = {pass, fail};
    CHECK(g.failures() == 1);
    CHECK(g.errors() == 0);

    const std::string text = render_gate_text(g);
    CHECK(text.starts_with("perfbisect gate v1.1 (dddddddddd): FAIL (1 of 2 checks failed)"));
    CHECK(text.find("  FAIL   median of regex") != std::string::npos);
    CHECK(text.find("  PASS   median of maxrss") != std::string::npos);
    CHECK(render_gate_markdown(g).find("| **FAIL** |") != std::string::npos);
    CHECK(render_gate_json(g).find("\"passed\": false") != std::string::npos);

    const std::string xml = render_junit(g, "ci-runner");
    CHECK(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    CHECK(xml.find("tests=\"2\" failures=\"1\" errors=\"0\"") != std::string::npos);
    CHECK(xml.find("timestamp=\"2023-11-14T22:13:20\"") != std::string::npos);
    CHECK(xml.find("hostname=\"ci-runner\"") != std::string::npos);
    CHECK(xml.find("name=\"median of regex:t=&lt;([0-9.]+)&gt; &lt;= 120ms\" time=\"2.250\"") !=
          std::string::npos);
    CHECK(xml.find("<failure message=\"median 131 ms over 8 samples is above the maximum 120ms "
                   "&amp; more\" type=\"max\">") != std::string::npos);
    CHECK(xml.find("<error") == std::string::npos);
    CHECK(xml.ends_with("</testsuites>\n"));

    g.checks[1].status = CheckStatus::error;
    CHECK(render_junit(g, "").find("<error message=") != std::string::npos);
    CHECK(render_junit(g, "").find("hostname=\"localhost\"") != std::string::npos);
    CHECK(render_gate_text(g).find("ERROR (1 of 2 checks could not be decided)") !=
          std::string::npos);
}
