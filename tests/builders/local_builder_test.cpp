#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include "builders/builder.hpp"
#include "tests/support/git_fixture.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::GitFixture;
using perfbisect::testing::read_file;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

namespace fs = std::filesystem;

// A real repository, a real SQLite cache and real processes; RUNS counts the
// build and setup commands that ran (outside the worktree, so it survives it).
struct Setup {
    TempDir dir;
    GitFixture git{dir / "repo"};
    std::unique_ptr<Repository> repo;
    RealProcessRunner runner;
    Cache cache = Cache::open(dir / "db/p.db");
    BuildConfig config;
    std::uint64_t max_bytes = 0;
    std::vector<std::string> keep;

    Setup() {
        config.command = Command{true, {"sh build.sh {short}"}};
        config.artifacts = {"out/tool", "out/data"};
        config.timeout = Seconds(20);
        config.env = {{"RUNS", (dir / "runs").string()}};
        config.ccache = false;
    }

    CommitInfo commit(const std::map<std::string, std::string>& files,
                      const std::string& message = "change") {
        const std::string id = git.commit(message, files);
        repo = value_or_throw(open_git_repository(git.path()));
        return value_or_throw(repo->resolve(id));
    }
    // A commit whose build.sh is script.
    CommitInfo script(const std::string& text) { return commit({{"build.sh", text}}); }

    BuildOutcome build(const CommitInfo& c) {
        ArtifactStore store(cache, dir / "work/artifacts", max_bytes);
        LocalBuilder builder(*repo, runner, store, config, "fp1",
                             BuildPlace{dir / "work", "s1", keep});
        return builder.build(c);
    }

    // The lines RUNS received: one per command that ran.
    std::string runs() const { return read_file(dir / "runs"); }
};

// Builds out/tool from the commit's files and counts itself.
const char* const k_build_script =
    "echo build >> \"$RUNS\"; mkdir -p out/data && cat *.txt > out/tool && echo d > out/data/x\n";

}  // namespace

TEST_CASE("LocalBuilder builds in its worktree and saves the artifacts by tree", "[builder]") {
    Setup s;
    const auto c = s.script(
        "mkdir -p out/data && echo \"tool $1\" > out/tool && echo d > out/data/x && echo built\n");
    const auto outcome = s.build(c);
    INFO(outcome.reason);
    REQUIRE(outcome.ok);
    CHECK_FALSE(outcome.reused);
    CHECK(outcome.tree == *s.repo->tree_id(c.id));
    CHECK(outcome.artifacts_dir == s.dir / "work/artifacts/fp1" / outcome.tree);
    CHECK(outcome.worktree == outcome.artifacts_dir);  // where the probe runs
    CHECK(read_file(outcome.artifacts_dir / "tool") == "tool " + c.short_id() + "\n");
    CHECK(read_file(outcome.artifacts_dir / "data/x") == "d\n");
    CHECK(read_file(outcome.log_path).find("built") != std::string::npos);
    CHECK(read_file(s.dir / "work/worktrees/s1/out/tool") == "tool " + c.short_id() + "\n");
    CHECK_FALSE(fs::exists(s.git.path() / "out"));  // the user's tree is untouched
    CHECK(s.cache.find_artifact("fp1", outcome.tree).has_value());
}

TEST_CASE("LocalBuilder records a failing build with the end of its log", "[builder]") {
    Setup s;
    const auto c = s.script("echo 'error: no such member' >&2; exit 3\n");
    const auto outcome = s.build(c);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.reason.find("build command exit code 3") != std::string::npos);
    CHECK(outcome.reason.find("no such member") != std::string::npos);
    CHECK(outcome.log_path == s.dir / "work/logs" / ("build-" + c.id + ".log"));
    CHECK_FALSE(s.cache.find_artifact("fp1", outcome.tree).has_value());
}

TEST_CASE("LocalBuilder fails a build whose declared artifact is missing", "[builder]") {
    Setup s;
    const auto c = s.script("mkdir -p out/data && echo x > out/data/y\n");
    const auto outcome = s.build(c);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.reason.find("'out/tool' is missing") != std::string::npos);
    CHECK_FALSE(fs::exists(s.dir / "work/artifacts/fp1" / outcome.tree));
}

TEST_CASE("LocalBuilder timeout kills the build's grandchildren", "[builder]") {
    Setup s;
    s.config.timeout = Seconds(0.5);
    const auto c = s.script("sh -c 'sleep 60 & echo $! > grandchild.pid; wait' \n");
    const auto outcome = s.build(c);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.reason.find("timed out") != std::string::npos);
    CHECK(outcome.reason.find("[build] timeout") != std::string::npos);
    const auto pid_text = read_file(s.dir / "work/worktrees/s1/grandchild.pid");
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

TEST_CASE("incremental builds keep build outputs and leave no stale files", "[builder]") {
    Setup s;
    // The build fails on a stale file, and keeps a counter in the worktree
    // that only an incremental worktree carries from one build to the next.
    const std::string script =
        "test ! -e gone.txt || { echo 'stale gone.txt' >&2; exit 1; }\n"
        "n=$(cat obj/count 2>/dev/null || echo 0); mkdir -p obj out/data; echo $((n+1)) > obj/count\n"
        "cat *.txt > out/tool; cp obj/count out/data/count\n";
    const auto a = s.commit({{"build.sh", script}, {"a.txt", "a\n"}});
    s.git.remove_file("a.txt");
    const auto b = s.commit({{"b.txt", "b\n"}});
    s.git.remove_file("b.txt");
    const auto c = s.commit({{"gone.txt", "g\n"}});
    s.git.remove_file("gone.txt");
    const auto d = s.commit({{"d.txt", "d\n"}});
    for (const auto& commit : {a, b, c}) {
        REQUIRE(s.build(commit).ok == (commit.id != c.id));
    }
    const auto outcome = s.build(d);
    INFO(outcome.reason);
    REQUIRE(outcome.ok);
    CHECK(read_file(outcome.artifacts_dir / "tool") == "d\n");  // a.txt and b.txt are gone too
    CHECK(read_file(outcome.artifacts_dir / "data/count") == "3\n");  // c failed before counting
}

TEST_CASE("the clean strategy builds each commit in a fresh worktree it then removes",
          "[builder]") {
    Setup s;
    s.config.strategy = BuildStrategy::clean;
    const std::string script =
        "n=$(cat obj/count 2>/dev/null || echo 0); mkdir -p obj out/data; echo $((n+1)) > obj/count\n"
        "cat *.txt > out/tool; cp obj/count out/data/count\n";
    const auto a = s.commit({{"build.sh", script}, {"a.txt", "a\n"}});
    const auto b = s.commit({{"a.txt", "b\n"}});
    REQUIRE(s.build(a).ok);
    const auto outcome = s.build(b);
    REQUIRE(outcome.ok);
    CHECK(read_file(outcome.artifacts_dir / "data/count") == "1\n");
    CHECK(read_file(outcome.artifacts_dir / "tool") == "b\n");
    CHECK_FALSE(fs::exists(s.dir / "work/worktrees/s1-clean"));
}

TEST_CASE("commits with identical trees share one build", "[builder]") {
    Setup s;
    const auto a = s.commit({{"build.sh", k_build_script}, {"v.txt", "1\n"}});
    const auto b = s.commit({{"v.txt", "2\n"}});
    const auto c = s.commit({{"v.txt", "1\n"}}, "Revert the change");
    const auto built_a = s.build(a);
    const auto built_b = s.build(b);
    const auto built_c = s.build(c);
    REQUIRE((built_a.ok && built_b.ok && built_c.ok));
    CHECK(built_c.reused);
    CHECK(built_c.artifacts_dir == built_a.artifacts_dir);
    CHECK(built_b.artifacts_dir != built_a.artifacts_dir);
    CHECK(s.runs() == "build\nbuild\n");
    CHECK(s.cache.list_artifacts().size() == 2);
    // Building a again (another session, say) runs nothing either.
    CHECK(s.build(a).reused);
    CHECK(s.runs() == "build\nbuild\n");
}

TEST_CASE("eviction keeps the store within its budget and never evicts good and bad",
          "[builder]") {
    Setup s;
    // Each build saves 1000 bytes (out/tool) plus 2 (out/data/x).
    const std::string script =
        "mkdir -p out/data && head -c 1000 /dev/zero > out/tool && echo d > out/data/x\n";
    std::vector<CommitInfo> commits;
    for (int i = 0; i < 5; ++i) {
        commits.push_back(s.commit({{"build.sh", script}, {"n.txt", std::to_string(i)}}));
    }
    s.max_bytes = 3500;  // three builds fit
    s.keep = {commits[0].id, commits[4].id};
    std::vector<fs::path> dirs;
    for (int i : {0, 4, 1, 2, 3}) {  // good, bad, then the middle, in bisect order
        const auto outcome = s.build(commits[i]);
        REQUIRE(outcome.ok);
        dirs.push_back(outcome.artifacts_dir);
        ArtifactStore store(s.cache, s.dir / "work/artifacts", s.max_bytes);
        CHECK(store.total_bytes() <= s.max_bytes);
    }
    CHECK(fs::exists(dirs[0]));       // good: the least recently used, yet kept
    CHECK(fs::exists(dirs[1]));       // bad
    CHECK_FALSE(fs::exists(dirs[2]));  // 1 and 2 were evicted, oldest first
    CHECK_FALSE(fs::exists(dirs[3]));
    CHECK(fs::exists(dirs[4]));       // the newest
    CHECK(s.cache.list_artifacts().size() == 3);
    // An evicted commit builds again.
    const auto again = s.build(commits[1]);
    CHECK(again.ok);
    CHECK_FALSE(again.reused);
}

TEST_CASE("a patch applies to every checkout; one that does not apply fails that commit",
          "[builder]") {
    Setup s;
    const std::string script =
        "mkdir -p out/data && cp version.h out/tool && echo d > out/data/x\n";
    const auto old_commit = s.commit({{"build.sh", script}, {"version.h", "int v = 1;\n"}});
    write_file(s.git.path() / "version.h", "int v = 1;\nint fixed = 1;\n");
    s.config.patches = {Patch{"fix-old-gcc.patch", s.git.git("diff")}};
    s.git.git("checkout -- version.h");
    const auto rewritten = s.commit({{"version.h", "int v = 2;\n"}});

    const auto patched = s.build(old_commit);
    INFO(patched.reason);
    REQUIRE(patched.ok);
    CHECK(read_file(patched.artifacts_dir / "tool") == "int v = 1;\nint fixed = 1;\n");
    const auto refused = s.build(rewritten);
    CHECK_FALSE(refused.ok);
    CHECK(refused.reason.find("patch fix-old-gcc.patch does not apply to " +
                              rewritten.short_id()) != std::string::npos);
    CHECK(s.git.git("status --porcelain") == "");
}

TEST_CASE("setup runs in a new worktree and again when a reused worktree fails", "[builder]") {
    Setup s;
    s.config.setup = Command{true, {"echo setup >> \"$RUNS\"; cp config.txt configured"}};
    // The build needs the configuration of its own commit.
    const std::string script =
        "echo build >> \"$RUNS\"; cmp -s configured config.txt || { echo 'stale config' >&2; "
        "exit 1; }\ntest ! -e BROKEN || exit 2\nmkdir -p out/data && cp config.txt out/tool && "
        "echo d > out/data/x\n";
    const auto a = s.commit({{"build.sh", script}, {"config.txt", "one\n"}});
    const auto b = s.commit({{"other.txt", "x\n"}});
    const auto c = s.commit({{"config.txt", "two\n"}});
    const auto broken = s.commit({{"BROKEN", "\n"}});

    REQUIRE(s.build(a).ok);
    REQUIRE(s.build(b).ok);
    CHECK(s.runs() == "setup\nbuild\nbuild\n");
    const auto reconfigured = s.build(c);
    INFO(reconfigured.reason);
    REQUIRE(reconfigured.ok);
    CHECK(read_file(reconfigured.artifacts_dir / "tool") == "two\n");
    CHECK(reconfigured.note.find("set up again") != std::string::npos);
    CHECK(s.runs() == "setup\nbuild\nbuild\nbuild\nsetup\nbuild\n");
    // A commit that is broken whatever the setup fails after one retry.
    const auto failed = s.build(broken);
    CHECK_FALSE(failed.ok);
    CHECK(failed.reason.find("exit code 2") != std::string::npos);
}

TEST_CASE("the fetch strategy uses prebuilt artifacts and builds when fetching fails",
          "[builder]") {
    Setup s;
    s.config.strategy = BuildStrategy::fetch;
    s.config.fetch = Command{
        true, {"test -e $STORE/{commit} && mkdir -p {out}/data && cp $STORE/{commit} {out}/tool && "
               "echo fetched > {out}/data/x"}};
    const auto a = s.commit({{"build.sh", k_build_script}, {"v.txt", "built a\n"}});
    const auto b = s.commit({{"v.txt", "built b\n"}});
    write_file(s.dir / "store" / a.id, "prebuilt a\n");
    s.config.env["STORE"] = (s.dir / "store").string();

    const auto fetched = s.build(a);
    REQUIRE(fetched.ok);
    CHECK(read_file(fetched.artifacts_dir / "tool") == "prebuilt a\n");
    CHECK(s.runs().empty());
    const auto fallback = s.build(b);
    INFO(fallback.reason);
    REQUIRE(fallback.ok);
    CHECK(read_file(fallback.artifacts_dir / "tool").find("built b") != std::string::npos);
    CHECK(fallback.note.find("fetch failed") != std::string::npos);
    CHECK(s.runs() == "build\n");
}

TEST_CASE("ccache is pointed at the worktree when it is installed", "[builder]") {
    Setup s;
    s.config.ccache = true;
    const auto c = s.script(
        "mkdir -p out/data && echo \"$CCACHE_BASEDIR|$CCACHE_NOHASHDIR|$CMAKE_CXX_COMPILER_LAUNCHER\" "
        "> out/tool && echo d > out/data/x\n");
    const auto outcome = s.build(c);
    REQUIRE(outcome.ok);
    const auto ccache = find_program("ccache");
    const bool user_set = std::getenv("CCACHE_BASEDIR") != nullptr ||
                          std::getenv("CCACHE_NOHASHDIR") != nullptr ||
                          std::getenv("CMAKE_CXX_COMPILER_LAUNCHER") != nullptr;
    if (ccache && !user_set) {
        CHECK(read_file(outcome.artifacts_dir / "tool") ==
              (s.dir / "work/worktrees/s1").string() + "|true|" + ccache->string() + "\n");
    } else if (!ccache && !user_set) {
        CHECK(read_file(outcome.artifacts_dir / "tool") == "||\n");
    }
}

TEST_CASE("command_argv quotes placeholders for the shell and not for argv", "[builder]") {
    Command shell{true, {"run {worktree}/x"}};
    CHECK(command_argv(shell, {{"worktree", "/a b"}}) ==
          std::vector<std::string>{"/bin/sh", "-c", "run '/a b'/x"});
    Command argv{false, {"{worktree}/x", "--flag"}};
    CHECK(command_argv(argv, {{"worktree", "/a b"}}) ==
          std::vector<std::string>{"/a b/x", "--flag"});
}
