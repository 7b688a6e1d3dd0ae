// Every report format rendered from a session stored in a real SQLite file:
// the session runs through the real driver and planner on fakes at the side
// effects (builds, probe runs, profiles), then build_report reads it back.
#include <catch2/catch.hpp>

#include "bisect/session_driver.hpp"
#include "report/report.hpp"
#include "tests/support/fake_session.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::FakeProfiler;
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

// A range of 24 commits; 15 is the culprit (+20 %), 7 does not build.
struct StoredSession {
    TempDir dir;
    CommitRange range;
    std::map<std::string, double> levels;
    std::string id;
    SessionReport report;
    int profiles = 0;

    StoredSession() {
        for (std::size_t i = 0; i < 24; ++i) {
            const std::string id_text = std::string(36, 'a') + std::to_string(1000 + i);
            std::string subject = "Change " + std::to_string(i);
            if (i == 7)
                subject = "Try a broken thing";
            if (i == 15)
                subject = "Use <vector> & a | pipe";
            range.commits.push_back({id_text, subject, "Ada <ada@example.com>",
                                     1700000000 + 60 * static_cast<std::int64_t>(i)});
            levels[id_text] = i >= 15 ? 120.0 : 100.0;
        }
        Cache cache = Cache::open(dir / "p.db");
        FakeProfiler profiler(range.commits[15].id);
        id = testing::run_stored_session(cache, range, levels, k_config, dir.path(), &profiler);
        REQUIRE(cache.session(id).status == "culprit_found");
        profiles = profiler.calls;
        report = build_report(cache, id);
    }
};

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++n;
    }
    return n;
}

// "+19.8%", "+17.2…+22.4%": the effect and its bounds as every format writes them.
std::string effect_of(const CulpritEvidence& e) {
    return percent_text(e.effect);
}
std::string bounds_of(const CulpritEvidence& e) {
    return fmt::format("{:+.1f}…{:+.1f}%", e.ci_low * 100, e.ci_high * 100);
}

}  // namespace

TEST_CASE("numbers read the same in every format", "[report]") {
    CHECK(percent_text(0.124) == "+12.4%");
    CHECK(percent_text(-0.031) == "-3.1%");
    CHECK(p_value_text(3e-9) == "p = 3e-9");
    CHECK(p_value_text(2.6e-12) == "p = 3e-12");
    CHECK(p_value_text(9.7e-5) == "p = 1e-4");
    CHECK(p_value_text(0.0123) == "p = 0.012");
    CHECK(p_value_text(0) == "p < 1e-300");
    CHECK(p_value_cell(3e-9) == "3e-9");
    CHECK(p_value_cell(0) == "< 1e-300");
    CulpritEvidence e;
    e.effect = 0.124;
    e.ci_low = 0.118;
    e.ci_high = 0.131;
    e.p_value = 3e-9;
    CHECK(effect_text(e) == "+12.4% (95% CI +11.8…+13.1%), p = 3e-9");
    CHECK(sparkline({1, 1, 2, 8, 8}) == "▁▁▂██");
    CHECK(sparkline({5, 5}) == "▁▁");
    CHECK(sparkline({}).empty());
}

TEST_CASE("every format shows the culprit, its effect and bounds, and every tested commit",
          "[report]") {
    StoredSession s;
    const SessionReport& r = s.report;
    REQUIRE(r.status == "culprit_found");
    REQUIRE(r.culprits.size() == 1);
    const CulpritReport& c = r.culprits.front();
    CHECK(c.commit.id == s.range.commits[15].id);
    CHECK(r.unit == "ms");
    CHECK(s.profiles == 2);  // the culprit and its parent, once each
    REQUIRE(c.profile);
    CHECK(c.profile->ok);
    REQUIRE_FALSE(c.profile->diff.grew.empty());
    CHECK(c.profile->diff.grew.front().function == "slow_path(int)");
    CHECK(r.narrow_command.find("perfbisect compare --config") != std::string::npos);
    CHECK(r.narrow_command.find(c.parent.short_id() + " " + c.commit.short_id()) !=
          std::string::npos);
    bool skipped = false;
    for (const auto& t : r.tested) {
        skipped = skipped || (t.position == 7 && t.verdict == Verdict::skipped);
    }
    // Whether 7 was tested depends on the search; when it was, it is a skip.

    const std::string text = render_text(r);
    CHECK(text.find("Culprit: " + c.commit.id) != std::string::npos);
    CHECK(text.find("effect  " + effect_text(c.evidence)) != std::string::npos);
    CHECK(text.find(bounds_of(c.evidence)) != std::string::npos);
    CHECK(text.find("author  Ada <ada@example.com>, 2023-11-14T") != std::string::npos);
    CHECK(text.find("slow_path") != std::string::npos);
    CHECK(text.find("Re-run: perfbisect run --config") != std::string::npos);
    CHECK(text.find("Narrow: perfbisect compare") != std::string::npos);
    if (skipped) {
        CHECK(text.find("Skipped:\n  " + s.range.commits[7].short_id()) != std::string::npos);
    }

    const std::string md = render_markdown(r);
    CHECK(md.find("| `" + c.commit.short_id() + "` | Use <vector> & a \\| pipe |") !=
          std::string::npos);
    CHECK(md.find(effect_of(c.evidence)) != std::string::npos);
    CHECK(md.find(bounds_of(c.evidence)) != std::string::npos);
    CHECK(md.find("<details><summary>Tested commits") != std::string::npos);
    CHECK(md.find("</details>") != std::string::npos);
    CHECK(md.find("▁") != std::string::npos);  // the sparkline
    CHECK(md.find("█") != std::string::npos);
    CHECK(md.find("`slow_path`") != std::string::npos);

    const std::string json = render_json(r);
    CHECK(json.find("\"commit\": \"" + c.commit.id + "\"") != std::string::npos);
    CHECK(json.find(fmt::format("\"ci_low\": {}", c.evidence.ci_low).substr(0, 16)) !=
          std::string::npos);
    CHECK(json.find("\"function\": \"slow_path(int)\"") != std::string::npos);
    CHECK(json.find("\"narrow\": \"perfbisect compare") != std::string::npos);

    const std::string html = render_html(r);
    CHECK(html.find(c.commit.id) != std::string::npos);
    CHECK(html.find(effect_of(c.evidence)) != std::string::npos);
    CHECK(html.find(bounds_of(c.evidence)) != std::string::npos);
    CHECK(html.find("Use &lt;vector&gt; &amp; a | pipe") != std::string::npos);
    CHECK(html.find("<vector>") == std::string::npos);
    CHECK(count(html, "id=\"culprit-marker\"") == 1);
    CHECK(count(html, "class=\"level good\"") == 1);
    CHECK(count(html, "class=\"level bad\"") == 1);
    CHECK(html.find("slow_path") != std::string::npos);
    // One chart point per stored sample.
    int samples = 0;
    for (const auto& t : r.tested) {
        samples += static_cast<int>(t.values.size());
    }
    CHECK(samples == r.cost.samples);
    CHECK(count(html, "<circle class=\"sample\"") == static_cast<std::size_t>(samples));
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // no network

    for (const auto& t : r.tested) {
        const std::string short_id = t.commit.short_id();
        CHECK(text.find("  " + short_id + "  ") != std::string::npos);
        CHECK(md.find("| `" + short_id + "` |") != std::string::npos);
        CHECK(json.find("\"commit\": \"" + t.commit.id + "\"") != std::string::npos);
        CHECK(html.find("<code>" + short_id + "</code>") != std::string::npos);
    }
}

TEST_CASE("a report rendered again from the cache profiles nothing and reads the same",
          "[report]") {
    StoredSession s;
    Cache cache = Cache::open(s.dir / "p.db");
    const SessionReport again = build_report(cache, s.id);
    CHECK(render_text(again) == render_text(s.report));
    CHECK(render_json(again) == render_json(s.report));
    std::size_t profile_events = 0;
    for (const auto& e : cache.load_events(s.id)) {
        profile_events += e.kind == "profile" ? 1 : 0;
    }
    CHECK(profile_events == 1);
}

TEST_CASE("a session measured on several nodes reports each node's runs and offset", "[report]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "p.db");
    CommitRange range;
    for (const char* id : {"aaaa", "bbbb", "cccc"}) {
        range.commits.push_back({std::string(36, id[0]) + id, "c", "A <a@x>", 0});
    }
    SessionRecord record;
    record.config_path = (dir / "c.toml").string();
    record.config_text =
        std::string(k_config) + "[executor]\nkind = \"slurm\"\npartition = \"p\"\nnodes = 3\n";
    record.metric = "regex:t=([0-9.]+)";
    record.direction = "lower";
    const std::string id = cache.create_session(record, range).id;
    // n2 measures 10 % higher than n1 on both ends; n3 measured one commit only.
    std::vector<SampleRecord> samples;
    std::int64_t run = 0;
    auto add = [&](const CommitInfo& commit, const std::string& node, double value) {
        SampleRecord s;
        s.commit = commit.id;
        s.round = ++run;
        s.run = run;
        s.value = value;
        s.node = node;
        samples.push_back(s);
    };
    for (int i = 0; i < 2; ++i) {
        add(range.good(), "n1", 100);
        add(range.good(), "n2", 110);
        add(range.bad(), "n1", 120);
        add(range.bad(), "n2", 132);
    }
    add(range.commits[1], "n3", 100);
    cache.store_samples(id, samples);

    const SessionReport report = build_report(cache, id);
    REQUIRE(report.nodes.size() == 3);
    CHECK(report.nodes[0].node == "n1");
    CHECK(report.nodes[0].probe_runs == 4);
    CHECK(report.nodes[0].samples == 4);
    REQUIRE(report.nodes[0].offset.has_value());
    CHECK(*report.nodes[0].offset == Approx(100.0 / 105 - 1));
    REQUIRE(report.nodes[1].offset.has_value());
    CHECK(*report.nodes[1].offset == Approx(110.0 / 105 - 1));
    CHECK_FALSE(report.nodes[2].offset.has_value());
    const std::string line =
        "Measured on 3 nodes (offsets against their mean): n1 4 probe runs -4.8%, n2 4 probe "
        "runs +4.8%, n3 1 probe run (offset unknown)";
    CHECK(nodes_text(report) == line);
    CHECK_THAT(render_text(report), Catch::Contains(line));
    CHECK_THAT(render_markdown(report), Catch::Contains("Measured on 3 nodes"));
    CHECK_THAT(render_html(report), Catch::Contains("n2 4 probe runs +4.8%"));
    CHECK_THAT(render_json(report), Catch::Contains(R"("node": "n3")"));
}
