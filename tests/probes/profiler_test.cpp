// CommandProfiler on real runs of profile_helper under perf and callgrind,
// and of profiler commands of a user's: the diff of a "parent" and a
// "culprit" whose extra_work() got longer names extra_work().
#include <catch2/catch.hpp>

#include "probes/profiler.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

const std::string k_helper = PERFBISECT_PROFILE_HELPER;

struct ProfileSetup {
    TempDir dir;
    RealProcessRunner runner;
    CommitInfo commit{"0123456789abcdef0123456789abcdef01234567", "s", "a", 0};
    ProfileConfig profile;

    ProfileSetup() {
        std::filesystem::create_directories(dir / "artifacts");
        profile.timeout = Seconds(120);
    }

    // A probe running profile_helper with these iteration counts.
    ProbeConfig probe(unsigned long steady, unsigned long extra) const {
        ProbeConfig config;
        config.command = Command{false, {k_helper, std::to_string(steady), std::to_string(extra)}};
        config.timeout = Seconds(60);
        return config;
    }

    ProfileRun run(const ProbeConfig& probe_config, const std::string& name) {
        CommandProfiler profiler(runner, probe_config, profile);
        return profiler.profile(ProbeTarget{&commit, dir / "artifacts", dir / "artifacts"},
                                dir / "profiles" / name);
    }
};

std::string name_of(const ProfileDiff& diff) {
    return diff.grew.empty() ? "" : short_function_name(diff.grew.front().function);
}

}  // namespace

TEST_CASE("callgrind profiles: the function that got longer grew most", "[profiler][callgrind]") {
    ProfileSetup s;
    s.profile.tool = ProfileTool::callgrind;
    CommandProfiler check(s.runner, s.probe(1, 1), s.profile);
    REQUIRE(check.check_machine(s.dir / "scratch").has_value());
    const ProfileRun parent = s.run(s.probe(2'000'000, 200'000), "parent");
    const ProfileRun culprit = s.run(s.probe(2'000'000, 2'000'000), "culprit");
    REQUIRE(parent.ok);
    REQUIRE(culprit.ok);
    REQUIRE_FALSE(parent.files.empty());
    for (const auto& file : parent.files) {
        CHECK(std::filesystem::exists(file));  // kept for callgrind_annotate
    }
    const ProfileDiff diff = diff_profiles(parent.profile, culprit.profile, 5);
    CHECK(name_of(diff) == "extra_work");
    // Instruction counts are exact: extra_work's share is about 2/22 -> 2/4 of the loops.
    CHECK(diff.grew.front().parent_share == Approx(0.09).margin(0.03));
    CHECK(diff.grew.front().culprit_share == Approx(0.5).margin(0.05));
    CHECK(diff.total_change == Approx(0.8).margin(0.1));
}

TEST_CASE("perf profiles: cpu-clock samples with call graphs name the same function",
          "[profiler][perf]") {
    ProfileSetup s;
    s.profile.tool = ProfileTool::perf;
    s.profile.runs = 2;
    CommandProfiler check(s.runner, s.probe(1, 1), s.profile);
    if (auto usable = check.check_machine(s.dir / "scratch"); !usable) {
        WARN("perf cannot run here: " << usable.error().message);
        return;
    }
    const ProfileRun parent = s.run(s.probe(60'000'000, 6'000'000), "parent");
    const ProfileRun culprit = s.run(s.probe(60'000'000, 60'000'000), "culprit");
    REQUIRE(parent.ok);
    REQUIRE(culprit.ok);
    CHECK(parent.profile.runs == 2);
    CHECK(parent.files.size() == 2);  // perf-1.data, perf-2.data
    const ProfileDiff diff = diff_profiles(parent.profile, culprit.profile, 5);
    CHECK(name_of(diff) == "extra_work");
    CHECK(diff.grew.front().change() > 0.2);  // about 9 % -> 50 % of the samples
}

TEST_CASE("a profiler command prints folded stacks; its failures are reasons", "[profiler]") {
    ProfileSetup s;
    s.profile.tool = ProfileTool::command;
    s.profile.command = Command{true, {"printf 'main;parse {short} 10\\nmain;report 30\\n'"}};
    const ProfileRun run = s.run(s.probe(1, 1), "command");
    REQUIRE(run.ok);
    CHECK(run.profile.total == Approx(40));
    CHECK(run.profile.functions.at("parse 0123456789").inclusive == Approx(10));
    REQUIRE(run.files.size() == 1);
    CHECK(std::filesystem::exists(run.files[0]));

    s.profile.command = Command{true, {"echo 'no such profiler' >&2; exit 3"}};
    const ProfileRun failed = s.run(s.probe(1, 1), "failed");
    CHECK_FALSE(failed.ok);
    CHECK(failed.failure.find("exit code 3") != std::string::npos);
    CHECK(failed.failure.find("no such profiler") != std::string::npos);

    s.profile.command = Command{true, {"echo not folded"}};
    const ProfileRun garbage = s.run(s.probe(1, 1), "garbage");
    CHECK_FALSE(garbage.ok);
    CHECK(garbage.failure.find("folded") != std::string::npos);
}
