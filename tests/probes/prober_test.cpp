#include <catch2/catch.hpp>

#include "probes/metric.hpp"
#include "probes/prober.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

TEST_CASE("regex metric reads every match of its group", "[metric]") {
    auto spec = parse_metric("regex:time: ([0-9.eE+-]+) ms");
    REQUIRE(spec.has_value());
    ProcessResult process;
    auto values = extract_metric(*spec, process, "warmup\ntime: 12.5 ms\ntime: 1e2 ms\n");
    REQUIRE(values.has_value());
    CHECK(*values == std::vector<double>{12.5, 100.0});

    auto none = extract_metric(*spec, process, "nothing here\n");
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().message.find("no match") != std::string::npos);

    auto nan = extract_metric(*parse_metric("regex:t=(\\S+)"), process, "t=nan\n");
    REQUIRE_FALSE(nan.has_value());
    auto garbage = extract_metric(*parse_metric("regex:t=(\\S+)"), process, "t=12abc\n");
    REQUIRE_FALSE(garbage.has_value());
    CHECK(garbage.error().message.find("not a number") != std::string::npos);
}

TEST_CASE("resource metrics come from the process result", "[metric]") {
    ProcessResult process;
    process.wall_seconds = 1.5;
    process.user_seconds = 0.75;
    process.system_seconds = 0.25;
    process.max_rss_kib = 2048;
    CHECK(extract_metric(*parse_metric("wall"), process, "")->front() == 1.5);
    CHECK(extract_metric(*parse_metric("cpu"), process, "")->front() == 1.0);
    CHECK(extract_metric(*parse_metric("maxrss"), process, "")->front() == 2048);
    CHECK_FALSE(parse_metric("regex:(a)(b)").has_value());
    CHECK_FALSE(parse_metric("regex:(").has_value());
    CHECK_FALSE(parse_metric("walltime").has_value());
}

namespace {

struct ProbeSetup {
    TempDir dir;
    RealProcessRunner runner;
    ProbeConfig config;
    CommitInfo commit{"0123456789abcdef0123456789abcdef01234567", "s", "a", 0};

    ProbeRun run(const std::string& script, const std::string& metric = "regex:value=([0-9.]+)") {
        config.command = Command{true, {script}};
        config.timeout = Seconds(10);
        std::filesystem::create_directories(dir / "artifacts");
        std::filesystem::create_directories(dir / "worktree");
        CommandProber prober(runner, config, value_or_throw(parse_metric(metric)), dir / "scratch");
        return prober.run(ProbeTarget{&commit, dir / "artifacts", dir / "worktree"});
    }
};

}  // namespace

TEST_CASE("CommandProber runs the probe with its placeholders and reads the metric", "[prober]") {
    ProbeSetup s;
    auto run = s.run(
        "test -d {out} && test -z \"$(ls -A {out})\" && test \"$PWD\" = {worktree} && "
        "test {artifacts} = " + (s.dir / "artifacts").string() + " && echo value=4.25 {short}");
    INFO(run.failure);
    REQUIRE(run.ok);
    CHECK(run.values == std::vector<double>{4.25});
    CHECK(std::filesystem::is_empty(s.dir / "scratch"));  // {out} is removed afterwards
}

TEST_CASE("CommandProber turns failures into reasons", "[prober]") {
    ProbeSetup s;
    SECTION("non-zero exit, with the end of stderr") {
        auto run = s.run("echo 'segfault in bench' >&2; exit 4");
        CHECK_FALSE(run.ok);
        CHECK(run.failure.find("exit code 4") != std::string::npos);
        CHECK(run.failure.find("segfault in bench") != std::string::npos);
    }
    SECTION("no metric in the output") {
        auto run = s.run("echo hello");
        CHECK_FALSE(run.ok);
        CHECK(run.failure.find("no match") != std::string::npos);
    }
    SECTION("timeout") {
        s.config.timeout = Seconds(0.3);
        ProbeConfig& c = s.config;
        c.command = Command{true, {"sleep 30"}};
        CommandProber prober(s.runner, c, value_or_throw(parse_metric("wall")), s.dir / "scratch");
        std::filesystem::create_directories(s.dir / "worktree");
        auto run = prober.run(ProbeTarget{&s.commit, s.dir / "artifacts", s.dir / "worktree"});
        CHECK_FALSE(run.ok);
        CHECK(run.failure.find("timed out") != std::string::npos);
    }
    SECTION("wall metric of a real run") {
        auto run = s.run("sleep 0.2", "wall");
        REQUIRE(run.ok);
        CHECK(run.values.front() >= 0.2);
    }
}
