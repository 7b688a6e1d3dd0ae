// Repository::checkout: the incremental worktree of the builders, against real
// repositories (submodules included) made with the git CLI.

#include <chrono>

#include <catch2/catch.hpp>

#include "bisect/repository.hpp"
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

std::unique_ptr<Repository> open(const fs::path& path) {
    return value_or_throw(open_git_repository(path));
}

// A time far in the past: a file that still has it was not written again.
const fs::file_time_type k_old_time = fs::file_time_type::clock::now() - std::chrono::hours(24 * 365);

}  // namespace

TEST_CASE("checkout moves a worktree between commits writing only what differs", "[git][checkout]") {
    TempDir temp;
    GitFixture git(temp / "repo");
    const std::string a = git.commit("a", {{"kept.txt", "same\n"},
                                           {"changed.txt", "one\n"},
                                           {"gone.txt", "deleted next\n"},
                                           {"dir/gone_too.txt", "x\n"}});
    git.remove_file("gone.txt");
    git.remove_file("dir/gone_too.txt");
    const std::string b = git.commit("b", {{"changed.txt", "two\n"}, {"added.txt", "new\n"}});
    const std::string head_before = git.rev_parse("HEAD");
    auto repository = open(git.path());
    const fs::path wt = temp / "work/wt";
    const fs::path index = temp / "work/wt.index";

    REQUIRE(repository->checkout(a, wt, index, {}));
    CHECK(read_file(wt / "gone.txt") == "deleted next\n");
    // What a build leaves: an untracked output, and a tracked file it modified.
    write_file(wt / "build/out.o", "object");
    write_file(wt / "changed.txt", "modified by the build\n");
    fs::last_write_time(wt / "kept.txt", k_old_time);

    auto moved = repository->checkout(b, wt, index, {});
    INFO((moved ? "" : moved.error().message));
    REQUIRE(moved);
    CHECK_FALSE(fs::exists(wt / "gone.txt"));           // no stale files
    CHECK_FALSE(fs::exists(wt / "dir/gone_too.txt"));
    CHECK(read_file(wt / "changed.txt") == "two\n");
    CHECK(read_file(wt / "added.txt") == "new\n");
    CHECK(read_file(wt / "build/out.o") == "object");   // build outputs stay
    CHECK(fs::last_write_time(wt / "kept.txt") == k_old_time);  // unchanged: not rewritten

    // Back to a: the build's modification of a tracked file does not survive.
    write_file(wt / "kept.txt", "modified by the build\n");
    REQUIRE(repository->checkout(a, wt, index, {}));
    CHECK(read_file(wt / "kept.txt") == "same\n");
    CHECK(read_file(wt / "gone.txt") == "deleted next\n");
    CHECK_FALSE(fs::exists(wt / "added.txt"));
    CHECK_FALSE(fs::exists(wt / ".git"));

    // The user's repository is as it was.
    CHECK(git.git("status --porcelain") == "");
    CHECK(git.rev_parse("HEAD") == head_before);
    CHECK(read_file(git.path() / "changed.txt") == "two\n");
}

TEST_CASE("checkout starts over when its index is missing or a checkout was cut short",
          "[git][checkout]") {
    TempDir temp;
    GitFixture git(temp / "repo");
    const std::string a = git.commit("a", {{"a.txt", "a\n"}});
    auto repository = open(git.path());
    const fs::path wt = temp / "wt";
    write_file(wt / "leftover.txt", "from before");
    REQUIRE(repository->checkout(a, wt, temp / "wt.index", {}));
    CHECK_FALSE(fs::exists(wt / "leftover.txt"));
    write_file(wt / "stray.txt", "x");
    write_file(temp / "wt.index.busy", a);  // as a kill during a checkout leaves it
    REQUIRE(repository->checkout(a, wt, temp / "wt.index", {}));
    CHECK_FALSE(fs::exists(wt / "stray.txt"));
    CHECK_FALSE(fs::exists(temp / "wt.index.busy"));

    // A kill inside libgit2's checkout also leaves the index's lock file
    // (e2e.sigkill once failed every later build with "the index is locked").
    const std::string b = git.commit("b", {{"a.txt", "b\n"}});
    write_file(temp / "wt.index.busy", a);
    write_file(temp / "wt.index.lock", "");
    const auto checked_out = repository->checkout(b, wt, temp / "wt.index", {});
    REQUIRE(checked_out.has_value());
    CHECK(read_file(wt / "a.txt") == "b\n");
    CHECK_FALSE(fs::exists(temp / "wt.index.lock"));
}

TEST_CASE("checkout applies patches in memory; one that does not apply writes nothing",
          "[git][checkout]") {
    TempDir temp;
    GitFixture git(temp / "repo");
    const std::string old_commit = git.commit("old", {{"src/version.h", "#define V 1\n"}});
    write_file(git.path() / "src/version.h", "#define V 1\n#define FIXED 1\n");
    const Patch fix{"fix.patch", git.git("diff")};
    git.git("checkout -- src/version.h");
    const std::string new_commit = git.commit("new", {{"src/version.h", "#define V 2\n"}});
    const std::size_t objects_before = testing::sh_ok("git count-objects -v", git.path()).size();
    auto repository = open(git.path());
    const fs::path wt = temp / "wt";

    REQUIRE(repository->checkout(old_commit, wt, temp / "wt.index", {fix}));
    CHECK(read_file(wt / "src/version.h") == "#define V 1\n#define FIXED 1\n");

    auto refused = repository->checkout(new_commit, wt, temp / "wt.index", {fix});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("patch fix.patch does not apply to " +
                                       new_commit.substr(0, 10)) != std::string::npos);
    CHECK(read_file(wt / "src/version.h") == "#define V 1\n#define FIXED 1\n");
    // Without the patch the same worktree moves on.
    REQUIRE(repository->checkout(new_commit, wt, temp / "wt.index", {}));
    CHECK(read_file(wt / "src/version.h") == "#define V 2\n");
    // A plain `diff -u` patch (no `diff --git` line) applies too.
    const Patch plain{"plain.patch",
                      "--- a/src/version.h\t2024-01-01 00:00:00\n+++ b/src/version.h\t2024-01-01 "
                      "00:00:00\n@@ -1 +1,2 @@\n #define V 2\n+#define PLAIN 1\n"};
    REQUIRE(repository->checkout(new_commit, wt, temp / "wt.index", {plain}));
    CHECK(read_file(wt / "src/version.h") == "#define V 2\n#define PLAIN 1\n");
    // The patched trees lived in memory only.
    CHECK(testing::sh_ok("git count-objects -v", git.path()).size() == objects_before);
    CHECK(git.git("status --porcelain") == "");
}

TEST_CASE("checkout puts each submodule at the commit's recorded revision", "[git][checkout]") {
    TempDir temp;
    GitFixture lib(temp / "lib");
    const std::string lib1 = lib.commit("lib 1", {{"lib.txt", "lib v1\n"}});
    const std::string lib2 = lib.commit("lib 2", {{"lib.txt", "lib v2\n"}, {"more.txt", "m\n"}});
    GitFixture app(temp / "app");
    app.commit("app", {{"app.txt", "app\n"}});
    app.git("-c protocol.file.allow=always submodule add -q " +
            shell_quote((temp / "lib").string()) + " third_party/lib");
    app.git("-C third_party/lib checkout -q " + lib1);
    app.git("add third_party/lib");
    const std::string with_lib1 = app.commit("add lib at v1");
    app.git("-C third_party/lib checkout -q " + lib2);
    app.git("add third_party/lib");
    const std::string with_lib2 = app.commit("lib to v2");
    app.git("rm -q -r --cached third_party/lib");
    app.git("rm -q .gitmodules");
    fs::remove_all(app.path() / "third_party");
    const std::string without = app.commit("drop lib");

    auto repository = open(app.path());
    const fs::path wt = temp / "wt";
    const fs::path index = temp / "wt.index";
    auto first = repository->checkout(with_lib1, wt, index, {});
    INFO((first ? "" : first.error().message));
    REQUIRE(first);
    CHECK(read_file(wt / "third_party/lib/lib.txt") == "lib v1\n");
    CHECK_FALSE(fs::exists(wt / "third_party/lib/more.txt"));

    auto moved = repository->checkout(with_lib2, wt, index, {});
    INFO((moved ? "" : moved.error().message));
    REQUIRE(moved);
    CHECK(read_file(wt / "third_party/lib/lib.txt") == "lib v2\n");
    CHECK(read_file(wt / "third_party/lib/more.txt") == "m\n");

    REQUIRE(repository->checkout(with_lib1, wt, index, {}));
    CHECK(read_file(wt / "third_party/lib/lib.txt") == "lib v1\n");
    CHECK_FALSE(fs::exists(wt / "third_party/lib/more.txt"));

    REQUIRE(repository->checkout(without, wt, index, {}));
    CHECK_FALSE(fs::exists(wt / "third_party/lib/lib.txt"));
    CHECK(read_file(wt / "app.txt") == "app\n");
}

TEST_CASE("checkout names a submodule whose commit is not available", "[git][checkout]") {
    TempDir temp;
    GitFixture lib(temp / "lib");
    lib.commit("lib 1", {{"lib.txt", "lib v1\n"}});
    GitFixture app(temp / "app");
    app.commit("app", {{"app.txt", "app\n"}});
    app.git("-c protocol.file.allow=always submodule add -q " +
            shell_quote((temp / "lib").string()) + " lib");
    const std::string with_lib = app.commit("add lib");
    fs::remove_all(app.path() / ".git/modules");
    fs::remove_all(app.path() / "lib");

    auto result = open(app.path())->checkout(with_lib, temp / "wt", temp / "wt.index", {});
    REQUIRE_FALSE(result);
    CHECK(result.error().message.find("submodule lib") != std::string::npos);
    CHECK(result.error().message.find("git submodule update --init") != std::string::npos);
}

TEST_CASE("tree_id is shared by commits with the same content", "[git][checkout]") {
    TempDir temp;
    GitFixture git(temp / "repo");
    const std::string a = git.commit("a", {{"f.txt", "1\n"}});
    const std::string b = git.commit("b", {{"f.txt", "2\n"}});
    const std::string c = git.commit("revert b", {{"f.txt", "1\n"}});
    auto repository = open(git.path());
    CHECK(*repository->tree_id(a) == *repository->tree_id(c));
    CHECK(*repository->tree_id(a) != *repository->tree_id(b));
    CHECK(*repository->tree_id(a) == testing::sh_ok("git rev-parse " + a + "^{tree}", git.path()).substr(0, 40));
}
