// The metric sources on real-format outputs saved under tests/data/probes
// (see the README there for how each was made).
#include <catch2/catch.hpp>

#include "probes/metric.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::read_file;

namespace {

std::string data(const std::string& name) {
    return read_file(std::filesystem::path(PERFBISECT_SOURCE_DIR) / "tests/data/probes" / name);
}

Result<std::vector<double>> json_values(const std::string& metric, const std::string& file) {
    return extract_json_metric(value_or_throw(parse_metric(metric)), data(file), "output file");
}

}  // namespace

TEST_CASE("Google Benchmark: each repetition is a sample, aggregates ignored, time_unit honoured",
          "[formats]") {
    const std::string file = "google-benchmark-repetitions.json";
    auto real = json_values("google-benchmark:BM_sum/1024", file);
    REQUIRE(real.has_value());
    // The three repetitions, in µs in the file, as seconds; not the four aggregates.
    REQUIRE(real->size() == 3);
    CHECK((*real)[0] == Approx(1.4570778007651171e-06));
    CHECK((*real)[1] == Approx(2.4037709636997837e-06));
    CHECK((*real)[2] == Approx(1.9481960881050873e-06));

    auto cpu = json_values("google-benchmark:BM_sum/1024:cpu_time", file);
    REQUIRE(cpu.has_value());
    REQUIRE(cpu->size() == 3);
    CHECK((*cpu)[0] == Approx(4.0872704252408532e-07));

    // Its counters are NaN and Infinity (bare tokens, not JSON): the file still
    // parses and the times, in ns, are read.
    auto with_nan_counters = json_values("google-benchmark:BM_nan_counter", file);
    REQUIRE(with_nan_counters.has_value());
    CHECK(with_nan_counters->size() == 3);
    for (double v : *with_nan_counters) {
        CHECK(v > 0);
        CHECK(v < 1e-6);  // a few ns
    }
    // A NaN where the value is read is a failure, not a number.
    auto nan = json_values("json:/benchmarks/10/ratio", file);
    REQUIRE_FALSE(nan.has_value());
    CHECK(nan.error().message.find("NaN, not a finite number") != std::string::npos);
    auto inf = json_values("json:/benchmarks/10/inf", file);
    REQUIRE_FALSE(inf.has_value());
    CHECK(inf.error().message.find("Infinity") != std::string::npos);
}

TEST_CASE("Google Benchmark: errors, unknown names and aggregates-only output fail clearly",
          "[formats]") {
    auto failed = json_values("google-benchmark:BM_fails", "google-benchmark-repetitions.json");
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error().message ==
          "benchmark 'BM_fails' reported an error: could not open the input file");

    auto unknown = json_values("google-benchmark:BM_nope", "google-benchmark-repetitions.json");
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().message ==
          "no benchmark named 'BM_nope' in the output (it has: BM_sum/1024, BM_fails, "
          "BM_nan_counter)");

    auto aggregates = json_values("google-benchmark:BM_sum/1024",
                                  "google-benchmark-aggregates-only.json");
    REQUIRE_FALSE(aggregates.has_value());
    CHECK(aggregates.error().message.find("--benchmark_report_aggregates_only") !=
          std::string::npos);

    auto single = json_values("google-benchmark:BM_sum/1024", "google-benchmark-single.json");
    REQUIRE(single.has_value());
    CHECK(single->size() == 1);

    auto not_gb = json_values("google-benchmark:BM_sum/1024", "hyperfine-one-command.json");
    REQUIRE_FALSE(not_gb.has_value());
    CHECK(not_gb.error().message.find("not Google Benchmark JSON") != std::string::npos);
}

TEST_CASE("hyperfine: every entry of results[].times is a sample", "[formats]") {
    auto one = json_values("hyperfine", "hyperfine-one-command.json");
    REQUIRE(one.has_value());
    CHECK(one->size() == 4);

    auto ambiguous = json_values("hyperfine", "hyperfine-two-commands.json");
    REQUIRE_FALSE(ambiguous.has_value());
    CHECK(ambiguous.error().message.find("hyperfine:<command>") != std::string::npos);
    CHECK(ambiguous.error().message.find("sleep 0.01, sleep 0.02") != std::string::npos);

    auto chosen = json_values("hyperfine:sleep 0.02", "hyperfine-two-commands.json");
    REQUIRE(chosen.has_value());
    REQUIRE(chosen->size() == 5);
    CHECK(chosen->front() == Approx(0.06447564800000001));

    // A command that failed in some runs (hyperfine -i keeps going) fails the sample.
    auto failing = extract_json_metric(
        value_or_throw(parse_metric("hyperfine")),
        R"({"results":[{"command":"x","times":[0.1,0.2],"exit_codes":[0,3]}]})", "stdout");
    REQUIRE_FALSE(failing.has_value());
    CHECK(failing.error().message == "'x' exited with code 3 in 1 of 2 hyperfine runs");

    auto console = extract_json_metric(value_or_throw(parse_metric("hyperfine")),
                                       "Benchmark 1: true\n  Time (mean ± σ): 1.2 ms\n", "stdout");
    REQUIRE_FALSE(console.has_value());
    CHECK(console.error().message.find("is not JSON") != std::string::npos);
}

TEST_CASE("pyperf: every value of every run, warmups and calibration ignored", "[formats]") {
    auto single = json_values("pyperf", "pyperf-single.json");
    REQUIRE(single.has_value());
    // Three runs of three values; the calibration run and the warmups are not samples.
    REQUIRE(single->size() == 9);
    CHECK(single->front() == Approx(2.351e-06));
    CHECK(single->back() == Approx(2.352e-06));
    CHECK(json_values("pyperf:sorted(list(range(1000)))", "pyperf-single.json")->size() == 9);

    auto suite = json_values("pyperf", "pyperf-suite.json");
    REQUIRE_FALSE(suite.has_value());
    CHECK(suite.error().message.find("json_dumps, json_loads") != std::string::npos);

    auto loads = json_values("pyperf:json_loads", "pyperf-suite.json");
    REQUIRE(loads.has_value());
    CHECK(loads->size() == 6);

    // Python writes NaN for a broken value: that run is a failed sample.
    auto dumps = json_values("pyperf:json_dumps", "pyperf-suite.json");
    REQUIRE_FALSE(dumps.has_value());
    CHECK(dumps.error().message.find("NaN") != std::string::npos);
}

TEST_CASE("json pointers read numbers and arrays of numbers", "[formats]") {
    const std::string doc = R"({"a/b": {"x~y": [1.5, 2, 3e2]}, "s": "12", "n": null, "e": []})";
    auto parse = [&](const std::string& metric) {
        return extract_json_metric(value_or_throw(parse_metric(metric)), doc, "stdout");
    };
    CHECK(*parse("json:/a~1b/x~0y") == std::vector<double>{1.5, 2, 300});
    CHECK(*parse("json:/a~1b/x~0y/1") == std::vector<double>{2});
    CHECK(parse("json:/s").error().message == "the value at /s is the string \"12\", not a number");
    CHECK(parse("json:/n").error().message == "the value at /n is null, not a number");
    CHECK(parse("json:/e").error().message == "the array at /e is empty");
    CHECK(parse("json:/missing").error().message ==
          "no value at JSON pointer '/missing' in the probe's output");
    auto not_json = extract_json_metric(value_or_throw(parse_metric("json:/a")), "time: 3\n",
                                        "stdout");
    REQUIRE_FALSE(not_json.has_value());
    CHECK(not_json.error().message.find("the probe's stdout is not JSON") == 0);

    CHECK_FALSE(parse_metric("json:a/b").has_value());
    CHECK_FALSE(parse_metric("json:/a~2").has_value());
    CHECK(parse_metric("json:").has_value());  // the whole document
}

TEST_CASE("callgrind: the total instruction count of a real output file", "[formats]") {
    auto total = parse_callgrind_total(data("callgrind.out.true"));
    REQUIRE(total.has_value());
    CHECK(*total == 129486);
    // Without the summary line, the totals line at the end.
    auto totals_only = parse_callgrind_total("# callgrind format\nevents: Ir\nfn=main\n0 5\ntotals: 77\n");
    REQUIRE(totals_only.has_value());
    CHECK(*totals_only == 77);
    CHECK_FALSE(parse_callgrind_total("hello\n").has_value());
    CHECK_FALSE(parse_callgrind_total("# callgrind format\nevents: Ir\n").has_value());
}

TEST_CASE("perf stat: counts from its CSV, a clear error where counters are absent",
          "[formats]") {
    const std::string csv = data("perf-stat-no-counters.csv");
    auto task_clock = parse_perf_stat_csv(csv, "task-clock");
    REQUIRE(task_clock.has_value());
    CHECK(*task_clock == Approx(5.54));

    auto cycles = parse_perf_stat_csv(csv, "cycles");
    REQUIRE_FALSE(cycles.has_value());
    CHECK(cycles.error().message.find("cannot count 'cycles' on this machine") !=
          std::string::npos);
    CHECK(cycles.error().message.find("callgrind") != std::string::npos);

    auto missing = parse_perf_stat_csv(csv, "branches");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().message ==
          "perf stat reported no 'branches' (it reported cycles, instructions, task-clock)");
}

TEST_CASE("metric syntax errors name the metric and the fix", "[formats]") {
    CHECK(parse_metric("walltime").error().message.find("unknown metric 'walltime' (use wall, ") == 0);
    CHECK(parse_metric("google-benchmark:").error().message.find("name the benchmark") !=
          std::string::npos);
    CHECK(parse_metric("perf-stat:").error().message.find("perf list") != std::string::npos);
    CHECK(parse_metric("perf-stat:cycles,instructions").error().message.find("one perf event") !=
          std::string::npos);
    // Benchmark names may contain ':'; only the known suffixes select a field.
    auto threads = parse_metric("google-benchmark:BM_x/threads:2");
    REQUIRE(threads.has_value());
    CHECK(threads->argument == "BM_x/threads:2");
    CHECK_FALSE(threads->cpu_time);
    auto cpu = parse_metric("google-benchmark:BM_x/threads:2:cpu_time");
    CHECK(cpu->argument == "BM_x/threads:2");
    CHECK(cpu->cpu_time);
    CHECK(parse_metric("regex-first:t=(\\d+)")->first_only);
}
