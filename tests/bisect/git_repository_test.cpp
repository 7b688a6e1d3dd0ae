#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <catch2/catch.hpp>

#include "bisect/repository.hpp"
#include "tests/support/git_fixture.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::GitFixture;
using perfbisect::testing::read_file;
using perfbisect::testing::TempDir;

namespace {

std::unique_ptr<Repository> open(const std::filesystem::path& path) {
    return value_or_throw(open_git_repository(path));
}

std::vector<std::string> ids(const CommitRange& range) {
    std::vector<std::string> result;
    for (const CommitInfo& commit : range.commits) {
        result.push_back(commit.id);
    }
    return result;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> result;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        result.push_back(line);
    }
    return result;
}

// Every commit of ordered comes after those of its parents that are in it.
void check_parents_first(GitFixture& git, const std::vector<std::string>& ordered) {
    for (auto commit = ordered.begin(); commit != ordered.end(); ++commit) {
        for (const std::string& parent : lines(git.git("rev-parse " + *commit + "^@"))) {
            INFO("commit " << *commit << ", parent " << parent);
            CHECK(std::find(commit, ordered.end(), parent) == ordered.end());
        }
    }
}

bool is_executable(const std::filesystem::path& path) {
    return (std::filesystem::status(path).permissions() & std::filesystem::perms::owner_exec) !=
           std::filesystem::perms::none;
}

}  // namespace

TEST_CASE("open_git_repository rejects what is not a repository", "[git]") {
    TempDir temp;
    for (const auto& path : {temp.path(), temp / "missing"}) {
        auto repository = open_git_repository(path);
        REQUIRE_FALSE(repository);
        CHECK(repository.error().kind == ErrorKind::usage);
        CHECK_THAT(repository.error().message,
                   Catch::Contains("not a git repository: " + path.string()));
    }
}

TEST_CASE("open_git_repository finds the repository above a subdirectory", "[git]") {
    TempDir temp;
    GitFixture git(temp.path());
    std::string id = git.commit("first", {{"src/main.cpp", "int main() {}\n"}});
    CHECK(open(temp / "src")->resolve("HEAD")->id == id);
}

TEST_CASE("resolve fills the commit info from a full sha", "[git]") {
    TempDir temp;
    GitFixture git(temp.path());
    std::string id = git.commit("  Speed up the parser  \n\nLonger body.\n", {{"a.txt", "1"}});
    git.commit("later", {{"a.txt", "2"}});

    auto commit = open(temp.path())->resolve(id);
    REQUIRE(commit);
    CHECK(commit->id == id);
    CHECK(commit->subject == "Speed up the parser");
    CHECK(commit->author == "Ada Tester <ada@example.com>");
    CHECK(commit->time == std::stoll(git.git("log -1 --format=%at " + id)));
    CHECK(commit->short_id() == id.substr(0, 10));
}

TEST_CASE("resolve understands short shas, branches, tags and ancestry", "[git]") {
    TempDir temp;
    GitFixture git(temp.path());
    std::string first = git.commit("first", {{"a.txt", "1"}});
    git.tag("v-light");
    std::string second = git.commit("second", {{"a.txt", "2"}});
    git.tag("v-annotated", "release");
    git.branch("feature");
    git.checkout("feature");
    std::string feature = git.commit("feature work", {{"b.txt", "1"}});
    git.checkout("main");
    std::string third = git.commit("third", {{"a.txt", "3"}});
    std::string fourth = git.commit("fourth", {{"a.txt", "4"}});
    auto repository = open(temp.path());

    CHECK(repository->resolve(second.substr(0, 7))->id == second);
    CHECK(repository->resolve("feature")->id == feature);
    CHECK(repository->resolve("main")->id == fourth);
    CHECK(repository->resolve("v-light")->id == first);
    // The annotated tag is peeled to its commit, not the tag object.
    REQUIRE(git.rev_parse("v-annotated") != second);
    CHECK(repository->resolve("v-annotated")->id == second);
    CHECK(repository->resolve("HEAD~2")->id == second);
    CHECK(repository->resolve("HEAD~1")->id == third);
}

TEST_CASE("resolve reports unknown and ambiguous revisions as usage errors", "[git]") {
    TempDir temp;
    GitFixture git(temp.path());
    std::map<std::string, std::string> files;
    for (int i = 0; i < 1000; ++i) {
        files["file" + std::to_string(i)] = std::to_string(i);
    }
    git.commit("many objects", files);
    auto repository = open(temp.path());

    for (const std::string revision : {"no-such-branch", "HEAD~5", "deadbeefdeadbeef"}) {
        auto commit = repository->resolve(revision);
        REQUIRE_FALSE(commit);
        CHECK(commit.error().kind == ErrorKind::usage);
        CHECK_THAT(commit.error().message, Catch::Contains("unknown revision '" + revision + "'"));
        CHECK_THAT(commit.error().message, Catch::Contains(temp.path().string()));
    }

    // 1000 blobs: some two share their first four hex digits.
    std::map<std::string, int> prefixes;
    for (const std::string& line : lines(git.git("rev-list --objects --all"))) {
        ++prefixes[line.substr(0, 4)];
    }
    auto shared = std::find_if(prefixes.begin(), prefixes.end(),
                               [](const auto& entry) { return entry.second > 1; });
    REQUIRE(shared != prefixes.end());
    auto commit = repository->resolve(shared->first);
    REQUIRE_FALSE(commit);
    CHECK(commit.error().kind == ErrorKind::usage);
    CHECK_THAT(commit.error().message, Catch::Contains("ambiguous revision '" + shared->first));
}

TEST_CASE("range rejects good == bad and a good that is not an ancestor", "[git]") {
    TempDir temp;
    GitFixture git(temp.path());
    git.commit("base", {{"a.txt", "0"}});
    git.branch("left");
    git.branch("right");
    git.checkout("left");
    std::string left = git.commit("left", {{"a.txt", "l"}});
    git.checkout("right");
    git.commit("right", {{"a.txt", "r"}});
    auto repository = open(temp.path());

    auto same = repository->range("left", left, false);
    REQUIRE_FALSE(same);
    CHECK(same.error().kind == ErrorKind::usage);
    CHECK(same.error().message == "good and bad are the same commit " + left.substr(0, 10) +
                                      " (give two different revisions)");

    auto siblings = repository->range("left", "right", false);
    REQUIRE_FALSE(siblings);
    CHECK(siblings.error().kind == ErrorKind::usage);
    CHECK_THAT(siblings.error().message, Catch::StartsWith("good left (" + left.substr(0, 10) +
                                                           ") is not an ancestor of bad right ("));

    auto swapped = repository->range("left", "main", true);
    REQUIRE_FALSE(swapped);
    CHECK_THAT(swapped.error().message, Catch::Contains("is not an ancestor"));

    auto unknown = repository->range("left", "nope", false);
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains("unknown revision 'nope'"));
}

TEST_CASE("range of a linear history lists good to bad, oldest first", "[git]") {
    TempDir temp;
    GitFixture git(temp.path());
    std::vector<std::string> commits;
    for (int i = 0; i < 6; ++i) {
        commits.push_back(
            git.commit("commit " + std::to_string(i), {{"a.txt", std::to_string(i)}}));
    }
    git.tag("good", "known good");
    auto repository = open(temp.path());
    std::vector<std::string> expected(commits.begin() + 1, commits.begin() + 5);

    for (bool first_parent : {false, true}) {
        auto range = repository->range(commits[1], "HEAD~1", first_parent);
        REQUIRE(range);
        CHECK(ids(*range) == expected);
        CHECK(range->good().subject == "commit 1");
        CHECK(range->bad().subject == "commit 4");
    }
    auto adjacent = repository->range("HEAD~1", "main", false);
    REQUIRE(adjacent);
    CHECK(ids(*adjacent) == std::vector<std::string>{commits[4], commits[5]});
}

TEST_CASE("range over a merge: first-parent mainline or the whole topology", "[git]") {
    // A - B - C - M - D   (main; M merges side)
    //      \     /
    //       S1 - S2       (side; dated before B, so date order is not topological)
    TempDir temp;
    GitFixture git(temp.path());
    std::string a = git.commit("A", {{"main.txt", "a"}});
    std::string b = git.commit("B", {{"main.txt", "b"}});
    git.branch("side");
    git.checkout("side");
    git.set_clock(1'600'000'000);
    std::string s1 = git.commit("S1", {{"side.txt", "1"}});
    std::string s2 = git.commit("S2", {{"side.txt", "2"}});
    git.checkout("main");
    git.set_clock(1'800'000'000);
    std::string c = git.commit("C", {{"main.txt", "c"}});
    std::string m = git.merge("side", "M");
    std::string d = git.commit("D", {{"main.txt", "d"}});
    auto repository = open(temp.path());

    auto mainline = repository->range(a, d, true);
    REQUIRE(mainline);
    CHECK(ids(*mainline) == std::vector<std::string>{a, b, c, m, d});

    auto full = repository->range(a, d, false);
    REQUIRE(full);
    std::vector<std::string> all = ids(*full);
    CHECK(std::set<std::string>(all.begin(), all.end()) ==
          std::set<std::string>{a, b, c, s1, s2, m, d});
    CHECK(all.size() == 7);
    CHECK(all.front() == a);
    CHECK(all.back() == d);
    check_parents_first(git, all);

    // good reachable only through M's second parent: the first-parent chain
    // runs back to B (an ancestor of S1), so C is in and S2 is not; this
    // matches git rev-list --first-parent.
    auto from_side = repository->range(s1, d, true);
    REQUIRE(from_side);
    std::vector<std::string> side_ids = ids(*from_side);
    CHECK(side_ids == std::vector<std::string>{s1, c, m, d});
    side_ids.erase(side_ids.begin());
    CHECK(side_ids == lines(git.git("rev-list --first-parent --reverse " + s1 + ".." + d)));

    auto from_side_full = repository->range(s1, d, false);
    REQUIRE(from_side_full);
    std::vector<std::string> side_full = ids(*from_side_full);
    CHECK(std::set<std::string>(side_full.begin(), side_full.end()) ==
          std::set<std::string>{s1, s2, c, m, d});
    CHECK(side_full.size() == 5);
    CHECK(side_full.front() == s1);
    CHECK(side_full.back() == d);
    check_parents_first(git, side_full);
}

TEST_CASE("export_tree writes an old commit without touching the repository", "[git]") {
    TempDir temp;
    TempDir out;
    GitFixture git(temp.path());
    std::string old = git.commit("old", {{"a.txt", "old\n"}, {"src/deep/b.txt", "b1\n"}});
    git.commit("new", {{"a.txt", "new\n"}, {"src/deep/b.txt", "b2\n"}});
    std::string head = git.rev_parse("HEAD");
    auto repository = open(temp.path());

    REQUIRE(repository->export_tree(old, out / "tree"));
    CHECK(read_file(out / "tree/a.txt") == "old\n");
    CHECK(read_file(out / "tree/src/deep/b.txt") == "b1\n");
    CHECK_FALSE(std::filesystem::exists(out / "tree/.git"));
    CHECK(read_file(temp / "a.txt") == "new\n");
    CHECK(git.git("status --porcelain") == "");
    CHECK(git.rev_parse("HEAD") == head);
}

TEST_CASE("export_tree leaves a dirty index and working tree alone", "[git]") {
    TempDir temp;
    TempDir out;
    GitFixture git(temp.path());
    std::string old = git.commit("old", {{"a.txt", "old\n"}});
    git.commit("new", {{"a.txt", "new\n"}});
    testing::write_file(temp / "staged.txt", "staged");
    git.git("add staged.txt");
    testing::write_file(temp / "a.txt", "edited\n");
    std::string status = git.git("status --porcelain");
    REQUIRE(status == " M a.txt\nA  staged.txt\n");

    REQUIRE(open(temp.path())->export_tree(old, out.path()));
    CHECK(read_file(out / "a.txt") == "old\n");
    CHECK_FALSE(std::filesystem::exists(out / "staged.txt"));
    CHECK(git.git("status --porcelain") == status);
    CHECK(read_file(temp / "a.txt") == "edited\n");
}

TEST_CASE("export_tree preserves the executable bit", "[git]") {
    TempDir temp;
    TempDir out;
    GitFixture git(temp.path());
    testing::write_file(temp / "run.sh", "#!/bin/sh\necho hi\n");
    git.make_executable("run.sh");
    std::string id = git.commit("script", {{"data.txt", "x"}});
    REQUIRE(git.git("ls-files -s run.sh").starts_with("100755"));

    REQUIRE(open(temp.path())->export_tree(id, out.path()));
    CHECK(is_executable(out / "run.sh"));
    CHECK_FALSE(is_executable(out / "data.txt"));
    CHECK(testing::sh_ok("./run.sh", out.path()) == "hi\n");
}

TEST_CASE("export_tree replaces an earlier export", "[git]") {
    TempDir temp;
    TempDir out;
    GitFixture git(temp.path());
    std::string first = git.commit("first", {{"keep.txt", "1"}, {"gone.txt", "bye"}});
    git.remove_file("gone.txt");
    std::string second = git.commit("second", {{"keep.txt", "2"}});
    auto repository = open(temp.path());

    REQUIRE(repository->export_tree(first, out.path()));
    REQUIRE(std::filesystem::exists(out / "gone.txt"));
    testing::write_file(out / "build/artifact.o", "stale");

    REQUIRE(repository->export_tree(second, out.path()));
    CHECK(read_file(out / "keep.txt") == "2");
    CHECK_FALSE(std::filesystem::exists(out / "gone.txt"));
    CHECK_FALSE(std::filesystem::exists(out / "build"));
}

TEST_CASE("export_tree works from a bare repository", "[git]") {
    TempDir temp;
    TempDir bare;
    TempDir out;
    GitFixture git(temp.path());
    std::string id = git.commit("first", {{"a.txt", "bare\n"}});
    testing::sh_ok("git clone -q --bare " + perfbisect::shell_quote(temp.path().string()) + " " +
                   perfbisect::shell_quote((bare / "repo.git").string()));
    auto repository = open(bare / "repo.git");

    REQUIRE(repository->resolve("main")->id == id);
    REQUIRE(repository->export_tree(id, out / "tree"));
    CHECK(read_file(out / "tree/a.txt") == "bare\n");
}

TEST_CASE("export_tree errors", "[git]") {
    TempDir temp;
    GitFixture git(temp / "repo");
    std::string id = git.commit("first", {{"a.txt", "1"}});
    auto repository = open(git.path());

    for (const auto& holder : {git.path(), temp.path()}) {
        auto result = repository->export_tree(id, holder);
        REQUIRE_FALSE(result);
        CHECK(result.error().kind == ErrorKind::usage);
        CHECK_THAT(result.error().message, Catch::Contains("refusing to export"));
    }
    CHECK(std::filesystem::exists(git.path() / ".git/HEAD"));
    CHECK(read_file(git.path() / "a.txt") == "1");

    TempDir out;
    REQUIRE(
        repository->export_tree(id, git.path() / "sub/export"));  // inside the working tree is fine
    CHECK(read_file(git.path() / "sub/export/a.txt") == "1");

    auto missing = repository->export_tree(std::string(40, 'a'), out.path());
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::runtime);
    CHECK_THAT(missing.error().message, Catch::Contains(std::string(40, 'a')));
    auto not_an_id = repository->export_tree("main", out.path());
    REQUIRE_FALSE(not_an_id);
    CHECK(not_an_id.error().kind == ErrorKind::runtime);
}
