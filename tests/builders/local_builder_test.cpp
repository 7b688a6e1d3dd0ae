#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include "builders/builder.hpp"
#include "tests/support/git_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::GitFixture;
using perfbisect::testing::read_file;
using perfbisect::testing::TempDir;

namespace {

struct Setup {
    TempDir dir;
    GitFixture git{dir / "repo"};
    std::unique_ptr<Repository> repo;
    RealProcessRunner runner;
    BuildConfig config;

    Setup() {
        config.command.shell = true;
        config.artifacts = {"out/tool", "out/data"};
        config.timeout = Seconds(20);
    }

    CommitInfo commit(const std::string& script) {
        const std::string id = git.commit("build script", {{"build.sh", script}});
        repo = value_or_throw(open_git_repository(git.path()));
        return value_or_throw(repo->resolve(id));
    }

    BuildOutcome build(const CommitInfo& c, const std::string& command = "sh build.sh {short}") {
        config.command.words = {command};
        LocalBuilder builder(*repo, runner, config, "fp1", dir / "work");
        return builder.build(c);
    }
};

}  // namespace

TEST_CASE("LocalBuilder builds in its own checkout and saves the artifacts", "[builder]") {
    Setup s;
    const auto c = s.commit(
        "mkdir -p out/data && echo \"tool $1\" > out/tool && echo d > out/data/x && echo built\n");
    const auto outcome = s.build(c);
    INFO(outcome.reason);
    REQUIRE(outcome.ok);
    CHECK(outcome.worktree == s.dir / "work/worktrees" / c.id);
    CHECK(outcome.artifacts_dir == s.dir / "work/artifacts/fp1" / c.id);
    CHECK(read_file(outcome.artifacts_dir / "tool") == "tool " + c.short_id() + "\n");
    CHECK(read_file(outcome.artifacts_dir / "data/x") == "d\n");
    CHECK(read_file(outcome.log_path).find("built") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(s.git.path() / "out"));  // the user's tree is untouched
}

TEST_CASE("LocalBuilder records a failing build with the end of its log", "[builder]") {
    Setup s;
    const auto c = s.commit("echo 'error: no such member' >&2; exit 3\n");
    const auto outcome = s.build(c);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.reason.find("exit code 3") != std::string::npos);
    CHECK(outcome.reason.find("no such member") != std::string::npos);
}

TEST_CASE("LocalBuilder fails a build whose declared artifact is missing", "[builder]") {
    Setup s;
    const auto c = s.commit("mkdir -p out/data && echo x > out/data/y\n");
    const auto outcome = s.build(c);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.reason.find("'out/tool' is missing") != std::string::npos);
}

TEST_CASE("LocalBuilder timeout kills the build's grandchildren", "[builder]") {
    Setup s;
    s.config.timeout = Seconds(0.5);
    const auto c = s.commit("sh -c 'sleep 60 & echo $! > grandchild.pid; wait' \n");
    const auto outcome = s.build(c);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.reason.find("timed out") != std::string::npos);
    const auto pid_text = read_file(outcome.worktree / "grandchild.pid");
    REQUIRE_FALSE(pid_text.empty());
    const pid_t pid = std::stoi(pid_text);
    // The grandchild is gone (or a zombie awaiting its reaper).
    bool alive = false;
    for (int i = 0; i < 50; ++i) {
        const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        alive = !stat.empty() && stat.find(") Z") == std::string::npos;
        if (!alive) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK_FALSE(alive);
}

TEST_CASE("command_argv quotes placeholders for the shell and not for argv", "[builder]") {
    Command shell{true, {"run {worktree}/x"}};
    CHECK(command_argv(shell, {{"worktree", "/a b"}}) ==
          std::vector<std::string>{"/bin/sh", "-c", "run '/a b'/x"});
    Command argv{false, {"{worktree}/x", "--flag"}};
    CHECK(command_argv(argv, {{"worktree", "/a b"}}) ==
          std::vector<std::string>{"/a b/x", "--flag"});
}
