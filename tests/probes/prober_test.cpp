// CommandProber and the metrics on real runs of small programs: sh, the
// probe_helper program (allocates, spins), valgrind, perf and hyperfine.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>

#include "probes/metric.hpp"
#include "probes/prober.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/text.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

const std::string k_helper = PERFBISECT_PROBE_HELPER;

bool have_program(const std::string& name) {
    RealProcessRunner runner;
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", "command -v " + name};
    return runner.run(spec).succeeded();
}

struct ProbeSetup {
    TempDir dir;
    RealProcessRunner runner;
    ProbeConfig config;
    CommitInfo commit{"0123456789abcdef0123456789abcdef01234567", "s", "a", 0};

    ProbeSetup() {
        config.timeout = Seconds(60);
        std::filesystem::create_directories(dir / "artifacts");
        std::filesystem::create_directories(dir / "worktree");
    }

    CommandProber prober() { return CommandProber(runner, config, dir / "scratch"); }

    ProbeRun run() {
        CommandProber p = prober();
        return p.run(ProbeTarget{&commit, dir / "artifacts", dir / "worktree"});
    }

    ProbeRun run(const std::string& script, const std::string& metric = "regex:value=([0-9.]+)") {
        config.command = Command{true, {script}};
        config.metric = metric;
        return run();
    }

    ProbeRun run_argv(std::vector<std::string> argv, const std::string& metric) {
        config.command = Command{false, std::move(argv)};
        config.metric = metric;
        return run();
    }
};

}  // namespace

TEST_CASE("regex metric reads every match of its group, or the first", "[metric]") {
    auto spec = parse_metric("regex:time: ([0-9.eE+-]+) ms");
    REQUIRE(spec.has_value());
    ProcessResult process;
    auto values = extract_metric(*spec, process, "warmup\ntime: 12.5 ms\ntime: 1e2 ms\n");
    REQUIRE(values.has_value());
    CHECK(*values == std::vector<double>{12.5, 100.0});
    auto first = extract_metric(*parse_metric("regex-first:time: ([0-9.eE+-]+) ms"), process,
                                "time: 12.5 ms\ntime: 1e2 ms\n");
    CHECK(*first == std::vector<double>{12.5});

    auto none = extract_metric(*spec, process, "nothing here\n");
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().message.find("no match") != std::string::npos);

    auto nan = extract_metric(*parse_metric("regex:t=(\\S+)"), process, "t=nan\n");
    REQUIRE_FALSE(nan.has_value());
    CHECK(nan.error().message.find("not finite") != std::string::npos);
    auto garbage = extract_metric(*parse_metric("regex:t=(\\S+)"), process, "t=12abc\n");
    REQUIRE_FALSE(garbage.has_value());
    CHECK(garbage.error().message.find("not a number") != std::string::npos);
}

TEST_CASE("regex metric survives outputs that overflowed std::regex's stack", "[metric]") {
    ProcessResult process;
    // std::regex recursed once per character of the group: 100,000 digits
    // after "time: " crashed perfbisect with the demo's own pattern.
    const std::string digits(100000, '1');
    auto huge = extract_metric(*parse_metric("regex:time: ([0-9.]+) ms"), process,
                               "time: " + digits + " ms\ntime: 2.5 ms\n");
    REQUIRE_FALSE(huge.has_value());
    CHECK(huge.error().message == "metric value '" + digits.substr(0, 40) +
                                      "… (100000 bytes)' is not a number");
    auto long_line = extract_metric(*parse_metric("regex:time: (.*) ms"), process,
                                    std::string(1000000, 'x') + "\ntime: 2.5 ms\n");
    REQUIRE(long_line.has_value());
    CHECK(*long_line == std::vector<double>{2.5});
    // A pattern that backtracks without bound is a failed run, not a crash.
    auto runaway = extract_metric(*parse_metric("regex:(?:a|1)*x(1)"), process, digits);
    REQUIRE_FALSE(runaway.has_value());
    CHECK(runaway.error().message.find("metric pattern '(?:a|1)*x(1)' on the probe's output: ") == 0);
}

TEST_CASE("regex metric refuses recursive calls and comments, which hung Boost.Regex",
          "[metric]") {
    // Found by fuzzing: `(a|(?1)*x:%.]+)` over a short output ran for more than 10 s.
    for (const char* pattern : {"(a|(?1)*x:%.]+)", "(a(?R)?b)", "(?<n>a(?&n)?)(1)", "(a(?-1)?)",
                                "(?P<n>x(?P>n)?)", "(a(?+1))(b)"}) {
        const auto spec = parse_metric(std::string("regex:") + pattern);
        REQUIRE_FALSE(spec.has_value());
        CHECK(spec.error().kind == ErrorKind::usage);
        CHECK(spec.error().message.find("is a recursive call") != std::string::npos);
    }
    CHECK(parse_metric("regex:(a|(?1)*x)").error().message.find("'(?1)' is a recursive call") !=
          std::string::npos);
    // Boost 1.74's parser looped forever on a possessive repeat, a comment and
    // one more character (found by fuzzing): comments are refused too.
    CHECK(parse_metric("regex:a*+(?#c)b(1)").error().message.find("'(?#c)' is a comment") !=
          std::string::npos);
    // The same characters where they are not a call: escaped, in a class, modifiers.
    for (const char* pattern : {"\\(?1 ([0-9]+)", "[(?1)]x([0-9]+)", "[]?(1]y([0-9]+)",
                                "(?i)time: ([0-9]+)", "(?-i:T)ime ([0-9]+)", "(?:a|b)([0-9]+)"}) {
        INFO(pattern);
        CHECK(parse_metric(std::string("regex:") + pattern).has_value());
    }
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

TEST_CASE("CommandProber runs the probe with its placeholders and reads the metric", "[prober]") {
    ProbeSetup s;
    auto run = s.run(
        "test -d {out} && test -z \"$(ls -A {out})\" && test \"$PWD\" = {worktree} && "
        "test {artifacts} = " + shell_quote((s.dir / "artifacts").string()) + " && echo value=4.25 {short}");
    INFO(run.failure);
    REQUIRE(run.ok);
    CHECK(run.values == std::vector<double>{4.25});
    CHECK(std::filesystem::is_empty(s.dir / "scratch"));  // {out} is removed afterwards
}

TEST_CASE("CommandProber turns failures into reasons and keeps the output", "[prober]") {
    ProbeSetup s;
    s.config.command = Command{true, {"x"}};
    SECTION("non-zero exit, naming the probe, with the end of stderr") {
        auto run = s.run("echo 'result: partial'; echo 'segfault in bench' >&2; exit 4");
        CHECK_FALSE(run.ok);
        CHECK(run.failure.find("probe `echo 'result: partial';") == 0);
        CHECK(run.failure.find("exit code 4: segfault in bench") != std::string::npos);
        CHECK(run.output == "stdout:\nresult: partial\nstderr:\nsegfault in bench\n");
    }
    SECTION("no metric in the output, quoting its end") {
        auto run = s.run("echo hello");
        CHECK_FALSE(run.ok);
        CHECK(run.failure.find("no match for metric pattern 'value=([0-9.]+)' in the probe's "
                               "stdout (its output ends: hello)") != std::string::npos);
        CHECK(run.output == "stdout:\nhello\n");
    }
    SECTION("an unparsable value and NaN") {
        CHECK(s.run("echo value=1.2.3").failure.find("'1.2.3' is not a number") != std::string::npos);
        CHECK(s.run("echo t=NaN", "regex:t=(\\S+)").failure.find("not finite") != std::string::npos);
    }
    SECTION("timeout") {
        s.config.timeout = Seconds(0.3);
        auto run = s.run("sleep 30", "wall");
        CHECK_FALSE(run.ok);
        CHECK(run.failure.find("timed out") != std::string::npos);
    }
    SECTION("the kept output is bounded") {
        auto run = s.run("head -c 100000 /dev/zero | tr '\\0' x; exit 1");
        CHECK_FALSE(run.ok);
        CHECK(run.output.size() < 4200);
    }
}

TEST_CASE("wall and cpu of real runs", "[prober]") {
    ProbeSetup s;
    auto wall = s.run("sleep 0.2", "wall");
    REQUIRE(wall.ok);
    CHECK(wall.values.front() >= 0.2);
    // A spinning loop uses CPU; sleeping does not.
    auto spin = s.run_argv({k_helper, "spin", "200000000"}, "cpu");
    REQUIRE(spin.ok);
    auto idle = s.run("sleep 0.2", "cpu");
    REQUIRE(idle.ok);
    INFO("spin " << spin.values.front() << " s, sleep " << idle.values.front() << " s of CPU");
    CHECK(spin.values.front() > 3 * idle.values.front());
}

TEST_CASE("maxrss of a program that allocates a known amount", "[prober]") {
    ProbeSetup s;
    // 64 MiB more between two runs that both allocate: a run that allocates
    // nothing reports the spawner's resident size before exec (vfork), a
    // floor of a few MiB, not the program's own. The peak of three runs each:
    // the machine's proactive reclaim (DAMON) may page out a little of a run.
    double small_kib = 0;
    double big_kib = 0;
    for (int i = 0; i < 3; ++i) {
        auto small = s.run_argv({k_helper, "alloc", "64"}, "maxrss");
        auto big = s.run_argv({k_helper, "alloc", "128"}, "maxrss");
        REQUIRE(small.ok);
        REQUIRE(big.ok);
        small_kib = std::max(small_kib, small.values.front());
        big_kib = std::max(big_kib, big.values.front());
    }
    const double grown_kib = big_kib - small_kib;
    INFO("with 64 MiB " << small_kib << " KiB, with 128 MiB " << big_kib << " KiB");
    CHECK(small_kib >= 64 * 1024);
    CHECK(grown_kib >= 0.97 * 64 * 1024);
    CHECK(grown_kib <= 1.03 * 64 * 1024);
}

TEST_CASE("several metrics per run; each failing one names itself", "[prober]") {
    ProbeSetup s;
    s.config.metrics = {"maxrss", "regex:allocated=(\\d+)", "wall"};
    auto run = s.run_argv({k_helper, "alloc", "16"}, "cpu");
    INFO(run.failure);
    REQUIRE(run.ok);
    REQUIRE(run.values.size() == 1);
    REQUIRE(run.extra.size() == 3);
    CHECK(run.extra[0].first == "maxrss");
    CHECK(run.extra[0].second.front() > 16 * 1024);
    CHECK(run.extra[1].second == std::vector<double>{16});
    CHECK(run.extra[2].first == "wall");

    s.config.metrics = {"regex:missing=(\\d+)"};
    auto failed = s.run_argv({k_helper, "alloc", "1"}, "wall");
    CHECK_FALSE(failed.ok);
    CHECK(failed.failure.find("metric 'regex:missing=(\\d+)': no match") != std::string::npos);
}

TEST_CASE("json metrics read stdout or the output file the probe writes", "[prober]") {
    ProbeSetup s;
        // (`}}` would be an escaped brace in a command; hence the space.)
    auto from_stdout = s.run(R"(printf '{"r": {"t": [1.5, 2.5]} }')", "json:/r/t");
    INFO(from_stdout.failure);
    REQUIRE(from_stdout.ok);
    CHECK(from_stdout.values == std::vector<double>{1.5, 2.5});

    s.config.output = "{out}/result.json";
    auto from_file = s.run(R"(echo noise; printf '{"t": 7}' > {out}/result.json)", "json:/t");
    INFO(from_file.failure);
    REQUIRE(from_file.ok);
    CHECK(from_file.values == std::vector<double>{7});

    auto missing = s.run("echo noise", "json:/t");
    CHECK_FALSE(missing.ok);
    CHECK(missing.failure.find("result.json ([probe] output)") != std::string::npos);
}

TEST_CASE("controls: env, cwd, cpus, warmup, runs_per_sample", "[prober]") {
    ProbeSetup s;
    SECTION("env and cwd") {
        s.config.env = {{"PROBE_VALUE", "3.5"}};
        s.config.cwd = "{artifacts}";
        auto run = s.run("test \"$PWD\" = {artifacts} && echo value=$PROBE_VALUE");
        INFO(run.failure);
        REQUIRE(run.ok);
        CHECK(run.values == std::vector<double>{3.5});
        std::filesystem::create_directories(s.dir / "worktree" / "sub");
        s.config.cwd = "sub";  // relative to the worktree
        auto relative = s.run("test \"$PWD\" = {worktree}/sub && echo value=1");
        INFO(relative.failure);
        CHECK(relative.ok);
    }
    SECTION("cpus pins the probe with sched_setaffinity") {
        const auto available = available_cpus();
        REQUIRE_FALSE(available.empty());
        const int cpu = available.back();
        s.config.cpus = {cpu};
        auto run = s.run("grep Cpus_allowed_list /proc/self/status",
                         "regex:Cpus_allowed_list:\\s*(\\d+)");
        INFO(run.failure);
        REQUIRE(run.ok);
        CHECK(run.values == std::vector<double>{static_cast<double>(cpu)});
        CHECK(s.prober().check_machine().has_value());

        s.config.cpus = {1000};
        auto check = s.prober().check_machine();
        REQUIRE_FALSE(check.has_value());
        CHECK(check.error().kind == ErrorKind::usage);
        CHECK(check.error().message.find("CPU 1000 is not available") != std::string::npos);
    }
    SECTION("warmup runs are discarded, once per commit") {
        // Each run appends a line and prints how many lines there are.
        const std::string count = (s.dir / "count").string();
        s.config.command = Command{true, {"echo x >> " + count + " && echo value=$(wc -l < " + count + ")"}};
        s.config.metric = "regex:value=(\\d+)";
        s.config.warmup = 2;
        CommandProber prober = s.prober();
        const ProbeTarget target{&s.commit, s.dir / "artifacts", s.dir / "worktree"};
        CHECK(prober.run(target).values == std::vector<double>{3});
        CHECK(prober.run(target).values == std::vector<double>{4});
    }
    SECTION("runs_per_sample averages several runs into one sample") {
        const std::string count = (s.dir / "count").string();
        s.config.runs_per_sample = 3;
        s.config.metrics = {"wall"};
        auto run = s.run("echo x >> " + count + " && echo value=$(wc -l < " + count + ")");
        INFO(run.failure);
        REQUIRE(run.ok);
        CHECK(run.values == std::vector<double>{2});  // mean of 1, 2, 3
        REQUIRE(run.extra.size() == 1);
        CHECK(run.extra[0].second.size() == 1);
        CHECK(perfbisect::testing::read_file(count) == "x\nx\nx\n");
        // A failure in any run fails the sample and says which.
        const std::string second = (s.dir / "second").string();
        auto failing = s.run("echo x >> " + second + " && test $(wc -l < " + second +
                             ") -lt 2 && echo value=1");
        CHECK_FALSE(failing.ok);
        CHECK(failing.failure.find("run 2 of 3: probe") == 0);
    }
}

TEST_CASE("callgrind counts instructions: twice the loop, twice the count", "[prober][callgrind]") {
    if (!have_program("valgrind")) {
        // scripts/deps.sh installs valgrind; a machine without it cannot run this metric.
        WARN("valgrind is not installed (scripts/deps.sh installs it): callgrind not tested");
        return;
    }
    ProbeSetup s;
    REQUIRE(s.prober().check_machine().has_value());
    auto once = s.run_argv({k_helper, "spin", "2000000"}, "callgrind");
    auto twice = s.run_argv({k_helper, "spin", "4000000"}, "callgrind");
    INFO(once.failure << twice.failure);
    REQUIRE(once.ok);
    REQUIRE(twice.ok);
    INFO("instructions: " << once.values.front() << " and " << twice.values.front());
    CHECK(once.values.front() > 2000000);
    CHECK(twice.values.front() / once.values.front() == Approx(2.0).epsilon(0.02));
    // Deterministic: the same run counts the same.
    auto again = s.run_argv({k_helper, "spin", "2000000"}, "callgrind");
    CHECK(again.values.front() == Approx(once.values.front()).epsilon(0.001));

    // A shell probe is counted with the programs it starts.
    auto shell = s.run(k_helper + " spin 2000000", "callgrind");
    REQUIRE(shell.ok);
    CHECK(shell.values.front() > once.values.front());
}

TEST_CASE("perf-stat reads software events and says clearly when counters are absent",
          "[prober][perf]") {
    if (!have_program("perf")) {
        WARN("perf is not installed (scripts/deps.sh installs linux-perf): perf-stat not tested");
        return;
    }
    ProbeSetup s;
    s.config.command = Command{false, {k_helper, "spin", "3000000"}};
    s.config.metric = "perf-stat:task-clock";
    auto check = s.prober().check_machine();
    if (!check) {
        // perf_event_paranoid can forbid even software events.
        WARN("perf stat cannot run here: " << check.error().message);
        return;
    }
    auto run = s.run();
    INFO(run.failure);
    REQUIRE(run.ok);
    CHECK(run.values.front() > 0);  // milliseconds of task clock

    // Hardware counters: counted where they exist, a clear usage error where not.
    s.config.metric = "perf-stat:instructions";
    auto hardware = s.prober().check_machine();
    if (hardware) {
        auto counted = s.run();
        REQUIRE(counted.ok);
        CHECK(counted.values.front() > 3000000);
    } else {
        CHECK(hardware.error().kind == ErrorKind::usage);
        CHECK(hardware.error().message.find("cannot count 'instructions' on this machine") !=
              std::string::npos);
        CHECK(hardware.error().message.find("callgrind") != std::string::npos);
        auto failed = s.run();
        CHECK_FALSE(failed.ok);
        CHECK(failed.failure.find("<not supported>") != std::string::npos);
    }
}

TEST_CASE("hyperfine's JSON export, from a real hyperfine run", "[prober][hyperfine]") {
    if (!have_program("hyperfine")) {
        WARN("hyperfine is not installed (scripts/deps.sh installs it): hyperfine not run");
        return;
    }
    ProbeSetup s;
    s.config.output = "{out}/hyperfine.json";
    auto run = s.run_argv({"hyperfine", "--runs", "3", "-N", "--export-json", "{out}/hyperfine.json",
                           k_helper + " spin 1000"},
                          "hyperfine");
    INFO(run.failure);
    REQUIRE(run.ok);
    CHECK(run.values.size() == 3);
    for (double v : run.values) {
        CHECK(v > 0);
    }
}
