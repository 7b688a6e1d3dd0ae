#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "config/placeholders.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/text.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

const char* const k_minimal = R"(
[build]
command = "make"
[probe]
command = ["{artifacts}/bench", "--quick"]
)";

Result<Config> parse(const std::string& text) { return parse_config(text, "/base", "c.toml"); }

std::string error_of(const std::string& text) {
    auto config = parse(text);
    REQUIRE_FALSE(config.has_value());
    CHECK(config.error().kind == ErrorKind::usage);
    CHECK(config.error().message.find('\n') == std::string::npos);
    return config.error().message;
}

}  // namespace

TEST_CASE("a minimal config gets the documented defaults", "[config]") {
    auto config = parse(k_minimal);
    REQUIRE(config.has_value());
    CHECK(config->repo.path == "/base");
    CHECK(config->repo.first_parent);
    CHECK(config->build.command.shell);
    CHECK(config->build.command.words == std::vector<std::string>{"make"});
    CHECK_FALSE(config->probe.command.shell);
    CHECK(config->probe.command.words.size() == 2);
    CHECK(config->probe.metric == "wall");
    CHECK(config->probe.direction == Direction::lower_is_better);
    CHECK(config->build.timeout.count() == Approx(1200));
    CHECK(config->probe.timeout.count() == Approx(300));
    CHECK(config->decide.min_effect == Approx(0.02));
    CHECK(config->decide.samples == 6);
    CHECK(config->decide.max_samples == 96);
    CHECK(config->decide.confirm_samples == 96);
    CHECK(config->budget.max_builds == 0);
    CHECK(config->budget.max_seconds == 0);
    CHECK(config->build.strategy == BuildStrategy::incremental);
    CHECK(config->build.setup.empty());
    CHECK(config->build.fetch.empty());
    CHECK(config->build.patches.empty());
    CHECK(config->build.ccache);
    CHECK(config->cache.max_artifacts_size == 0);
    CHECK(config->cache.reuse == ReuseScope::same_machine);
}

TEST_CASE("the [build] strategy, setup, fetch, patches, ccache and [cache] keys", "[config]") {
    TempDir dir;
    write_file(dir / "patches/fix.patch",
               "--- a/x.h\n+++ b/x.h\n@@ -1 +1 @@\n-old\n+new\n");
    write_file(dir / "notes.txt", "not a diff\n");
    const std::string head = "[probe]\ncommand = \"x\"\n[build]\ncommand = \"make\"\n";
    auto read = [&](const std::string& text) { return parse_config(head + text, dir.path(), "c.toml"); };

    auto config = read(
        "strategy = \"fetch\"\nfetch = \"get {commit} {out}\"\nartifacts = [\"bench\"]\n"
        "setup = [\"cmake\", \"-S\", \".\", \"-B\", \"build\"]\npatches = [\"patches/fix.patch\"]\n"
        "ccache = false\n[cache]\nmax_artifacts_size = \"1.5G\"\n");
    REQUIRE(config.has_value());
    CHECK(config->build.strategy == BuildStrategy::fetch);
    CHECK(config->build.fetch.words == std::vector<std::string>{"get {commit} {out}"});
    CHECK(config->build.setup.words.size() == 5);
    REQUIRE(config->build.patches.size() == 1);
    CHECK(config->build.patches[0].name == "patches/fix.patch");
    CHECK(config->build.patches[0].text.find("+new") != std::string::npos);
    CHECK_FALSE(config->build.ccache);
    CHECK(config->cache.max_artifacts_size == 1536ull * 1024 * 1024);
    CHECK(read("strategy = \"clean\"\n")->build.strategy == BuildStrategy::clean);
    CHECK(read("[cache]\nmax_artifacts_size = 4096\n")->cache.max_artifacts_size == 4096);
    CHECK(read("[cache]\nreuse = \"any-machine\"\n")->cache.reuse == ReuseScope::any_machine);
    CHECK(read("[cache]\nreuse = \"none\"\n")->cache.reuse == ReuseScope::none);
    CHECK(read("[cache]\nreuse = \"same-machine\"\n")->cache.reuse == ReuseScope::same_machine);
    // Not part of what a sample depends on: reuse never changes a fingerprint.
    CHECK(read("[cache]\nreuse = \"none\"\n")->probe_fingerprint() == read("")->probe_fingerprint());

    auto error = [&](const std::string& text) {
        auto bad = read(text);
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().kind == ErrorKind::usage);
        CHECK(bad.error().message.find('\n') == std::string::npos);
        return bad.error().message;
    };
    CHECK(error("strategy = \"fast\"\n").find("build.strategy: 'fast' is not a strategy") !=
          std::string::npos);
    CHECK(error("strategy = \"fetch\"\nartifacts = [\"b\"]\n").find("build.fetch: missing") !=
          std::string::npos);
    CHECK(error("fetch = \"get {commit}\"\n").find("set strategy = \"fetch\"") != std::string::npos);
    CHECK(error("strategy = \"fetch\"\nfetch = \"get {worktree}\"\nartifacts = [\"b\"]\n")
              .find("{worktree}") != std::string::npos);
    CHECK(error("patches = [\"missing.patch\"]\n").find("cannot read the patch") !=
          std::string::npos);
    CHECK(error("patches = [\"notes.txt\"]\n").find("not a unified diff") != std::string::npos);
    CHECK(error("setup = \"\"\n").find("build.setup") != std::string::npos);
    CHECK(error("[cache]\nmax_artifacts_size = \"lots\"\n").find("cache.max_artifacts_size") !=
          std::string::npos);
    CHECK(error("[cache]\nmax_artifacts_size = 0\n").find("leave it out") != std::string::npos);
    CHECK(error("[cache]\nreuse = \"always\"\n")
              .find("cache.reuse: 'always' is not a reuse scope (use \"same-machine\"") !=
          std::string::npos);
    CHECK(error("[cache]\nmax_size = \"1G\"\n").find("cache.max_size: unknown key") !=
          std::string::npos);
}

TEST_CASE("every documented key is read", "[config]") {
    auto config = parse(R"toml(
[repo]
path = "../repo"
first_parent = false
[build]
command = ["make", "-j2"]
artifacts = ["build/bench", "data"]
timeout = "1h30m"
env = { CC = "gcc" }
[probe]
command = "{artifacts}/bench > {out}/x"
metric = "regex:time: ([0-9.]+)"
direction = "higher"
timeout = 90
env = { OMP_NUM_THREADS = "1" }
[decide]
min_effect = "5%"
samples = 12
max_samples = 48
confirm_samples = 30
alpha = 0.05
[budget]
max_builds = 20
max_probe_runs = 500
max_time = "2h"
)toml");
    REQUIRE(config.has_value());
    CHECK(config->repo.path == "/repo");
    CHECK_FALSE(config->repo.first_parent);
    CHECK(config->build.command.words == std::vector<std::string>{"make", "-j2"});
    CHECK(config->build.artifacts.size() == 2);
    CHECK(config->build.timeout.count() == Approx(5400));
    CHECK(config->build.env.at("CC") == "gcc");
    CHECK(config->probe.direction == Direction::higher_is_better);
    CHECK(config->probe.timeout.count() == Approx(90));
    CHECK(config->probe.env.at("OMP_NUM_THREADS") == "1");
    CHECK(config->decide.min_effect == Approx(0.05));
    CHECK(config->decide.samples == 12);
    CHECK(config->decide.alpha == Approx(0.05));
    CHECK(config->decide.max_samples == 48);
    CHECK(config->decide.confirm_samples == 30);
    CHECK(config->budget.max_builds == 20);
    CHECK(config->budget.max_probe_runs == 500);
    CHECK(config->budget.max_seconds == Approx(7200));
}

TEST_CASE("config errors name the key and the file", "[config]") {
    SECTION("unknown key") {
        auto message = error_of(std::string(k_minimal) + "[decide]\nmin_efect = \"2%\"\n");
        CHECK(message.find("c.toml") != std::string::npos);
        CHECK(message.find("decide.min_efect") != std::string::npos);
        CHECK(message.find("unknown key") != std::string::npos);
    }
    SECTION("unknown section") {
        CHECK(error_of(std::string(k_minimal) + "[bulid]\n").find("bulid") != std::string::npos);
    }
    SECTION("wrong type") {
        auto message = error_of("[build]\ncommand = 42\n[probe]\ncommand = \"x\"\n");
        CHECK(message.find("build.command") != std::string::npos);
        CHECK(message.find("an integer") != std::string::npos);
    }
    SECTION("missing build section") {
        CHECK(error_of("[probe]\ncommand = \"x\"\n").find("[build]") != std::string::npos);
    }
    SECTION("empty command") {
        CHECK(error_of("[build]\ncommand = \"  \"\n[probe]\ncommand = \"x\"\n").find("empty") !=
              std::string::npos);
        CHECK(error_of("[build]\ncommand = []\n[probe]\ncommand = \"x\"\n").find("empty") !=
              std::string::npos);
    }
    SECTION("unknown placeholder") {
        auto message = error_of("[build]\ncommand = \"make {artifacts}\"\n[probe]\ncommand = \"x\"\n");
        CHECK(message.find("{artifacts}") != std::string::npos);
        CHECK(message.find("build.command") != std::string::npos);
    }
    SECTION("bad duration") {
        auto message = error_of("[build]\ncommand = \"make\"\ntimeout = \"ten minutes\"\n"
                                "[probe]\ncommand = \"x\"\n");
        CHECK(message.find("build.timeout") != std::string::npos);
        CHECK(error_of("[build]\ncommand = \"make\"\ntimeout = \"-5m\"\n[probe]\ncommand = \"x\"\n")
                  .find("build.timeout") != std::string::npos);
    }
    SECTION("bad metric and direction") {
        CHECK(error_of("[build]\ncommand = \"m\"\n[probe]\ncommand = \"x\"\nmetric = \"speed\"\n")
                  .find("unknown metric") != std::string::npos);
        CHECK(error_of("[build]\ncommand = \"m\"\n[probe]\ncommand = \"x\"\nmetric = \"regex:[0-9]+\"\n")
                  .find("capture group") != std::string::npos);
        CHECK(error_of("[build]\ncommand = \"m\"\n[probe]\ncommand = \"x\"\ndirection = \"up\"\n")
                  .find("probe.direction") != std::string::npos);
    }
    SECTION("budget and decide bounds") {
        CHECK(error_of(std::string(k_minimal) + "[decide]\nsamples = 12\nmax_samples = 8\n")
                  .find("decide.max_samples") != std::string::npos);
        CHECK(error_of(std::string(k_minimal) + "[budget]\nmax_builds = 1\n")
                  .find("budget.max_builds") != std::string::npos);
        CHECK(error_of(std::string(k_minimal) + "[budget]\nmax_tme = \"1h\"\n")
                  .find("budget.max_tme: unknown key") != std::string::npos);
    }
    SECTION("invalid TOML is one line with the location") {
        auto message = error_of("[build\ncommand = \"make\"\n");
        CHECK(message.find("invalid TOML") != std::string::npos);
        CHECK(message.find("c.toml") != std::string::npos);
    }
    SECTION("bytes that are not UTF-8 are refused before toml11 sees them") {
        // Found by fuzzing: toml11 3.7 read past its buffer on `'\xdfp'` (ASan).
        const std::string text = std::string(k_minimal) + "# caf\xc3\xa9\nname = '\xdfp'\n";
        const auto message = error_of(text);
        CHECK(message.find("not UTF-8 text (line ") != std::string::npos);
        CHECK(message.find("byte 0xdf at offset") != std::string::npos);
    }
}

TEST_CASE("load_config resolves the repository against the file's directory", "[config]") {
    TempDir dir;
    write_file(dir / "sub/perfbisect.toml", std::string("[repo]\npath = \"../repo\"\n") + k_minimal);
    auto config = load_config(dir / "sub/perfbisect.toml");
    REQUIRE(config.has_value());
    CHECK(config->repo.path == dir.path() / "repo");
    CHECK(config->file == dir.path() / "sub/perfbisect.toml");

    auto missing = load_config(dir / "nope.toml");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().kind == ErrorKind::usage);
    CHECK(missing.error().message.find("nope.toml") != std::string::npos);
}

TEST_CASE("durations and fractions", "[config]") {
    CHECK(parse_duration("90s")->count() == Approx(90));
    CHECK(parse_duration("20m")->count() == Approx(1200));
    CHECK(parse_duration("1h30m")->count() == Approx(5400));
    CHECK(parse_duration("500ms")->count() == Approx(0.5));
    CHECK(parse_duration("2.5")->count() == Approx(2.5));
    CHECK_FALSE(parse_duration("").has_value());
    CHECK_FALSE(parse_duration("5 parsecs").has_value());
    CHECK_FALSE(parse_duration("0s").has_value());
    CHECK_FALSE(parse_duration("m").has_value());
    CHECK(*parse_fraction("2%") == Approx(0.02));
    CHECK(*parse_fraction(" 0.5 % ") == Approx(0.005));
    CHECK(*parse_fraction("0.1") == Approx(0.1));
    CHECK_FALSE(parse_fraction("two").has_value());
}

TEST_CASE("fingerprints change with what a build or probe depends on", "[config]") {
    auto a = parse(k_minimal);
    auto b = parse(std::string(k_minimal) + "\n# a comment only\n");
    auto c = parse("[build]\ncommand = \"make -j2\"\n[probe]\ncommand = [\"{artifacts}/bench\", \"--quick\"]\n");
    REQUIRE((a && b && c));
    CHECK(a->build_fingerprint() == b->build_fingerprint());
    CHECK(a->build_fingerprint() != c->build_fingerprint());
    CHECK(a->probe_fingerprint() == c->probe_fingerprint());

    // setup and patches are part of what is built; strategy and ccache are not.
    Config d = *a;
    d.build.strategy = BuildStrategy::clean;
    d.build.ccache = false;
    CHECK(d.build_fingerprint() == a->build_fingerprint());
    d.build.setup = Command{true, {"cmake -S . -B build"}};
    CHECK(d.build_fingerprint() != a->build_fingerprint());
    Config e = *a;
    e.build.patches = {Patch{"p", "@@ -1 +1 @@\n-a\n+b\n"}};
    CHECK(e.build_fingerprint() != a->build_fingerprint());
}

TEST_CASE("sizes", "[config]") {
    CHECK(*parse_size("2048") == 2048);
    CHECK(*parse_size("500M") == 500ull * 1024 * 1024);
    CHECK(*parse_size("10G") == 10ull * 1024 * 1024 * 1024);
    CHECK(*parse_size("1.5GiB") == 1536ull * 1024 * 1024);
    CHECK(*parse_size("64 kB") == 64 * 1024);
    CHECK_FALSE(parse_size("").has_value());
    CHECK_FALSE(parse_size("ten").has_value());
    CHECK_FALSE(parse_size("5X").has_value());
    CHECK_FALSE(parse_size("-1G").has_value());
}

TEST_CASE("placeholders are found and expanded, braces of the shell pass through", "[config]") {
    CHECK(find_placeholders("{artifacts}/bench --out {out}/r.json") ==
          std::vector<std::string>{"artifacts", "out"});
    CHECK(find_placeholders("echo ${HOME} | awk '{print $1}' {{literal}}").empty());
    const std::map<std::string, std::string> values = {{"artifacts", "/a b/c"}, {"commit", "abc"}};
    CHECK(expand_placeholders("{artifacts}/bench {commit}", values, false) == "/a b/c/bench abc");
    CHECK(expand_placeholders("{artifacts}/bench {commit}", values, true) ==
          "'/a b/c'/bench 'abc'");
    CHECK(expand_placeholders("{{x}} ${y}", values, true) == "{x} ${y}");
    CHECK(expand_placeholders("{{x}}", values, false) == "{x}");
}

TEST_CASE("the [probe] controls and extra metrics are read and checked", "[config][probe]") {
    auto config = parse(R"(
[build]
command = "make"
[probe]
command = ["{artifacts}/bench"]
metric = "google-benchmark:BM_Sort/1024:cpu_time"
metrics = ["maxrss", "wall", "maxrss"]
output = "{out}/gb.json"
cwd = "{artifacts}"
cpus = [1, 0]
warmup = 2
runs_per_sample = 10
)");
    REQUIRE(config.has_value());
    const ProbeConfig& p = config->probe;
    CHECK(p.metrics == std::vector<std::string>{"maxrss", "wall", "maxrss"});
    CHECK(probe_metric_texts(p) ==
          std::vector<std::string>{"google-benchmark:BM_Sort/1024:cpu_time", "maxrss", "wall"});
    CHECK(p.output == "{out}/gb.json");
    CHECK(p.cwd == "{artifacts}");
    CHECK(p.cpus == std::vector<int>{1, 0});
    CHECK(p.warmup == 2);
    CHECK(p.runs_per_sample == 10);

    auto defaults = parse(k_minimal);
    CHECK(defaults->probe.metrics.empty());
    CHECK(defaults->probe.output.empty());
    CHECK(defaults->probe.cpus.empty());
    CHECK(defaults->probe.warmup == 0);
    CHECK(defaults->probe.runs_per_sample == 1);

    const std::string head = "[build]\ncommand = \"make\"\n[probe]\ncommand = \"b\"\n";
    CHECK(error_of(head + "metrics = [\"walls\"]") ==
          "c.toml: probe.metrics: unknown metric 'walls' (use wall, cpu, maxrss, regex:<pattern>, "
          "regex-first:<pattern>, json:<pointer>, google-benchmark:<name>, hyperfine, pyperf, "
          "callgrind, perf-stat:<event>)");
    CHECK(error_of(head + "metric = \"callgrind\"\nmetrics = [\"perf-stat:cycles\"]")
              .find("callgrind and perf-stat cannot be measured in the same run") != std::string::npos);
    CHECK(error_of(head + "output = \"{outdir}/x.json\"").find("probe.output: unknown placeholder {outdir}") !=
          std::string::npos);
    CHECK(error_of(head + "cpus = [-1]").find("probe.cpus: -1 is not a CPU number") != std::string::npos);
    CHECK(error_of(head + "cpus = 1").find("expected an array of CPU numbers") != std::string::npos);
    CHECK(error_of(head + "cpus = []").find("is empty") != std::string::npos);
    CHECK(error_of(head + "warmup = -1") == "c.toml: probe.warmup: must be between 0 and 1000");
    CHECK(error_of(head + "runs_per_sample = 0") ==
          "c.toml: probe.runs_per_sample: must be between 1 and 100000");
    CHECK(error_of(head + "metric = \"json:results\"").find("is not a JSON pointer") != std::string::npos);
}

TEST_CASE("new probe keys change the probe fingerprint only when set", "[config][probe]") {
    auto base = parse(k_minimal);
    const std::string fingerprint = base->probe_fingerprint();
    CHECK(fingerprint == fnv1a_hex("probe\n0\n{artifacts}/bench\n--quick\nmetric wall"));
    // A config without the new keys keeps the fingerprint it had before they
    // existed (computed from command, metric and env only), so its samples stay reusable.
    auto same = parse(std::string(k_minimal) + "metrics = [\"maxrss\"]\n");
    CHECK(same->probe_fingerprint() == fingerprint);
    for (const char* key : {"warmup = 1", "runs_per_sample = 3", "cpus = [0]", "cwd = \"x\"",
                            "output = \"{out}/r.json\""}) {
        auto changed = parse(std::string(k_minimal) + key + "\n");
        REQUIRE(changed.has_value());
        CHECK(changed->probe_fingerprint() != fingerprint);
    }
}

TEST_CASE("quantities convert to the metric's unit", "[config][gate]") {
    CHECK(*parse_quantity("120ms", "s") == Approx(0.12));
    CHECK(*parse_quantity("1.5 s", "ms") == Approx(1500));
    CHECK(*parse_quantity("2min", "s") == Approx(120));
    CHECK(*parse_quantity("250us", "ms") == Approx(0.25));
    CHECK(*parse_quantity("300MiB", "KiB") == Approx(300 * 1024));
    CHECK(*parse_quantity("2G", "KiB") == Approx(2 * 1024 * 1024));
    CHECK(*parse_quantity("1.5G", "instructions") == Approx(1.5e9));
    CHECK(*parse_quantity("42", "") == Approx(42));
    CHECK(*parse_quantity("3k", "") == Approx(3000));
    CHECK(*parse_quantity("7 ops/s", "ops/s") == Approx(7));  // the unit itself, written out
    auto wrong_kind = parse_quantity("120ms", "KiB");
    REQUIRE_FALSE(wrong_kind);
    CHECK(wrong_kind.error().message.find("a time") != std::string::npos);
    CHECK(wrong_kind.error().message.find("KiB") != std::string::npos);
    auto unknown_unit = parse_quantity("120ms", "");
    REQUIRE_FALSE(unknown_unit);
    CHECK(unknown_unit.error().message.find("[probe] unit") != std::string::npos);
    CHECK_FALSE(parse_quantity("fast", "s"));
    CHECK_FALSE(parse_quantity("12 parsecs", "s"));
}

TEST_CASE("[probe] unit names the unit of a metric the probe defines", "[config][gate]") {
    auto config = parse(std::string(k_minimal) + "metric = \"regex:t=([0-9.]+)\"\nunit = \"ms\"\n");
    REQUIRE(config.has_value());
    CHECK(config->probe.unit == "ms");
    CHECK(config->decision_unit() == "ms");
    CHECK(parse(k_minimal)->decision_unit() == "s");  // wall
    CHECK(error_of(std::string(k_minimal) + "unit = \"ms\"\n").find("always in s") !=
          std::string::npos);
    // The unit changes no value: samples stay reusable.
    CHECK(config->probe_fingerprint() ==
          parse(std::string(k_minimal) + "metric = \"regex:t=([0-9.]+)\"\n")->probe_fingerprint());
}

TEST_CASE("[profile]: a tool by name, a table, or a command", "[config][profile]") {
    CHECK_FALSE(parse(k_minimal)->profile.enabled());
    auto perf = parse("profile = \"perf\"\n" + std::string(k_minimal));
    REQUIRE(perf.has_value());
    CHECK(perf->profile.tool == ProfileTool::perf);
    CHECK(perf->profile.effective_runs() == 5);
    CHECK(perf->profile.top == 10);

    auto table = parse(std::string(k_minimal) + R"(
[profile]
tool = "callgrind"
runs = 2
top = 5
timeout = "30m"
)");
    REQUIRE(table.has_value());
    CHECK(table->profile.tool == ProfileTool::callgrind);
    CHECK(table->profile.effective_runs() == 2);
    CHECK(table->profile.top == 5);
    CHECK(table->profile.timeout.count() == Approx(1800));
    CHECK(parse(std::string(k_minimal) + "[profile]\ntool = \"callgrind\"\n")
              ->profile.effective_runs() == 1);

    auto command = parse(std::string(k_minimal) +
                         "[profile]\ncommand = \"my-profiler {artifacts}/bench > {out}/x\"\n");
    REQUIRE(command.has_value());
    CHECK(command->profile.tool == ProfileTool::command);
    CHECK(command->profile.command.shell);

    CHECK(error_of("profile = \"gprof\"\n" + std::string(k_minimal)).find("not a profiler") !=
          std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[profile]\nruns = 3\n").find("profile") !=
          std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[profile]\ntool = \"perf\"\ncommand = \"x\"\n")
              .find("not both") != std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[profile]\ntool = \"perf\"\nfrequency = 0\n")
              .find("profile.frequency") != std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[profile]\ncommand = \"x {nope}\"\n")
              .find("{nope}") != std::string::npos);
}

TEST_CASE("[gate]: limits in the metric's unit, a regression limit, a baseline", "[config][gate]") {
    auto config = parse(std::string(k_minimal) + R"(metrics = ["maxrss"]
[gate]
max = "120ms"
max_regression = "5%"
baseline = "origin/main"
runs = 7
[gate.metrics]
maxrss = { max = "300MiB", min = 1024 }
)");
    REQUIRE(config.has_value());
    const GateConfig& gate = config->gate;
    CHECK_FALSE(gate.empty());
    REQUIRE(gate.limits.size() == 2);
    CHECK(gate.limits[0].metric == "wall");
    CHECK(gate.limits[0].unit == "s");
    CHECK(gate.limits[0].max->value == Approx(0.12));
    CHECK(gate.limits[0].max->text == "120ms");
    CHECK_FALSE(gate.limits[0].min);
    CHECK(gate.limits[1].metric == "maxrss");
    CHECK(gate.limits[1].max->value == Approx(300 * 1024));
    CHECK(gate.limits[1].min->value == Approx(1024));
    CHECK(gate.max_regression == Approx(0.05));
    CHECK(gate.baseline == "origin/main");
    CHECK(gate.runs == 7);
    CHECK(parse(k_minimal)->gate.empty());

    // A metric whose unit the probe defines takes a bare number, or [probe] unit.
    const std::string regex = std::string(k_minimal) + "metric = \"regex:t=([0-9.]+)\"\n";
    CHECK(parse(regex + "[gate]\nmax = 120\n")->gate.limits[0].max->value == Approx(120));
    CHECK(error_of(regex + "[gate]\nmax = \"120ms\"\n").find("[probe] unit") != std::string::npos);
    CHECK(parse(regex + "unit = \"ms\"\n[gate]\nmax = \"0.2s\"\n")->gate.limits[0].max->value ==
          Approx(200));

    CHECK(error_of(std::string(k_minimal) + "[gate]\nmax = \"120MiB\"\n").find("gate.max") !=
          std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[gate.metrics]\nmaxrss = { max = 1 }\n")
              .find("gate.metrics.maxrss") != std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[gate]\nmin = \"2s\"\nmax = \"1s\"\n")
              .find("above max") != std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[gate]\nmax_regression = \"-5%\"\n")
              .find("gate.max_regression") != std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[gate]\nmaximum = 3\n").find("unknown key") !=
          std::string::npos);
}

namespace {

const char* const k_slurm_probe = R"toml(
[build]
command = "make"
[probe]
command = ["{artifacts}/bench"]
metric = "regex:time: ([0-9.]+)"
)toml";

}  // namespace

TEST_CASE("[executor] is local by default and reads every slurm key", "[config]") {
    auto local = parse(k_minimal);
    REQUIRE(local.has_value());
    CHECK(local->executor.kind == ExecutorKind::local);
    CHECK_FALSE(local->executor.slurm());

    auto explicit_local = parse(std::string(k_minimal) + "[executor]\nkind = \"local\"\n");
    REQUIRE(explicit_local.has_value());
    CHECK(explicit_local->executor.kind == ExecutorKind::local);
    CHECK(explicit_local->probe_fingerprint() == local->probe_fingerprint());

    auto minimal =
        parse(std::string(k_slurm_probe) + "[executor]\nkind = \"slurm\"\npartition = \"bench\"\n");
    REQUIRE(minimal.has_value());
    CHECK(minimal->executor.slurm());
    CHECK(minimal->executor.partition == "bench");
    CHECK(minimal->executor.nodes == 1);
    CHECK(minimal->executor.blocking == NodeBlocking::full);
    CHECK(minimal->executor.exclusive);
    CHECK(minimal->executor.time_limit.count() == 0);
    CHECK(minimal->executor.account.empty());
    CHECK(minimal->executor.extra_args.empty());
    CHECK(minimal->executor.shared_dir.empty());
    CHECK(minimal->executor.build_partition.empty());

    auto full = parse(std::string(k_slurm_probe) + R"(
[executor]
kind = "slurm"
partition = "bench"
nodes = 4
blocking = "rotate"
exclusive = false
time_limit = "1h30m"
account = "perf-team"
extra_args = ["--constraint=fast", "--qos=high"]
shared_dir = "shared/perfbisect"
build_partition = "build"
)");
    REQUIRE(full.has_value());
    CHECK(full->executor.nodes == 4);
    CHECK(full->executor.blocking == NodeBlocking::rotate);
    CHECK_FALSE(full->executor.exclusive);
    CHECK(full->executor.time_limit.count() == Approx(5400));
    CHECK(full->executor.account == "perf-team");
    CHECK(full->executor.extra_args == std::vector<std::string>{"--constraint=fast", "--qos=high"});
    CHECK(full->executor.shared_dir == "/base/shared/perfbisect");
    CHECK(full->executor.build_partition == "build");
    // Samples of a cluster's nodes are not those of this machine.
    auto here = parse(k_slurm_probe);
    REQUIRE(here.has_value());
    CHECK(full->probe_fingerprint() != here->probe_fingerprint());
    CHECK(full->build_fingerprint() == here->build_fingerprint());
}

TEST_CASE("[executor] errors are one line naming the key", "[config]") {
    const std::string slurm = std::string(k_slurm_probe) + "[executor]\nkind = \"slurm\"\n";
    CHECK(error_of(std::string(k_minimal) + "[executor]\nkind = \"k8s\"\n")
              .find("executor.kind: 'k8s' is not an executor") != std::string::npos);
    CHECK(error_of(slurm).find("executor.partition: missing") != std::string::npos);
    CHECK(error_of(slurm + "partition = \"a b\"\n").find("executor.partition") !=
          std::string::npos);
    CHECK(error_of(slurm + "partition = \"--all\"\n").find("not a Slurm name") !=
          std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nnodes = 0\n").find("executor.nodes") !=
          std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nnodes = 1000\n")
              .find("executor.nodes: must be between 1 and 256") != std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nblocking = \"some\"\n")
              .find("executor.blocking: 'some' is not a blocking scheme (use \"rotate\", "
                    "\"full\" or \"off\")") != std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nexclusive = \"yes\"\n").find("executor.exclusive") !=
          std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\ntime_limit = \"soon\"\n")
              .find("executor.time_limit") != std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nextra_args = \"--qos=x\"\n")
              .find("executor.extra_args: expected an array") != std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nshared_dir = \"\"\n").find("executor.shared_dir") !=
          std::string::npos);
    CHECK(error_of(slurm + "partition = \"p\"\nnode = 2\n").find("executor.node: unknown key") !=
          std::string::npos);
    CHECK(error_of(std::string(k_minimal) + "[executor]\npartition = \"p\"\n")
              .find("executor.partition: only used with kind = \"slurm\"") != std::string::npos);
    // What perfbisect measures of srun is not the probe on its node.
    CHECK(error_of(std::string(k_minimal) + "[executor]\nkind = \"slurm\"\npartition = \"p\"\n")
              .find("probe.metric: 'wall' cannot be measured") != std::string::npos);
    CHECK(error_of(
              "[build]\ncommand = \"m\"\n[probe]\ncommand = \"x\"\nmetric = \"regex:t ([0-9]+)\"\n"
              "metrics = [\"maxrss\"]\n[executor]\nkind = \"slurm\"\npartition = \"p\"\n")
              .find("probe.metrics: 'maxrss'") != std::string::npos);
    CHECK(error_of(
              "[build]\ncommand = \"m\"\n[probe]\ncommand = \"x\"\nmetric = \"regex:t ([0-9]+)\"\n"
              "cpus = [1]\n[executor]\nkind = \"slurm\"\npartition = \"p\"\n")
              .find("probe.cpus") != std::string::npos);
}
