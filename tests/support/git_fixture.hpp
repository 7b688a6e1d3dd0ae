#pragma once

// A throwaway git repository driven through the real `git` CLI, for tests of
// code that reads git histories. Every command runs with a fixed author and
// committer, a clock that advances one minute per command, and no global or
// system git config, so ids are reproducible and independent of the machine.

#include <filesystem>
#include <map>
#include <string>

namespace perfbisect::testing {

class GitFixture {
  public:
    // Runs `git init` in directory (created if missing) on branch "main".
    explicit GitFixture(std::filesystem::path directory);

    const std::filesystem::path& path() const { return m_path; }

    // Writes files (relative path -> content) into the working tree, stages
    // every change (including earlier remove_file/make_executable) and commits.
    // Returns the full id of the new commit.
    std::string commit(const std::string& message,
                       const std::map<std::string, std::string>& files = {});

    // Changes for the next commit().
    void remove_file(const std::string& file);
    void make_executable(const std::string& file);

    // Tags HEAD: lightweight without a message, annotated with one.
    void tag(const std::string& name, const std::string& message = "");
    void branch(const std::string& name, const std::string& start = "HEAD");
    void checkout(const std::string& name);
    // Merges branch into the current branch with a merge commit (--no-ff).
    // Returns the merge commit's full id.
    std::string merge(const std::string& branch, const std::string& message);

    // The full id of the object revision names (an annotated tag stays the tag).
    std::string rev_parse(const std::string& revision);
    // Sets the clock: the next command runs at seconds since the epoch plus
    // one minute. Going back in time makes histories whose dates disagree with
    // their topology.
    void set_clock(long seconds) { m_clock = seconds; }

    // Runs `git <arguments>` (already shell-quoted as needed); returns its output.
    std::string git(const std::string& arguments);

    // Author and committer of every commit and tag.
    static constexpr const char* k_author_name = "Ada Tester";
    static constexpr const char* k_author_email = "ada@example.com";

  private:
    std::string environment();

    std::filesystem::path m_path;
    long m_clock = 1'700'000'000;
};

}  // namespace perfbisect::testing
