#include "tests/support/git_fixture.hpp"

#include <utility>

#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

namespace perfbisect::testing {

GitFixture::GitFixture(std::filesystem::path directory) : m_path(std::move(directory)) {
    std::filesystem::create_directories(m_path);
    git("init -q -b main");
}

std::string GitFixture::environment() {
    m_clock += 60;
    std::string date = shell_quote("@" + std::to_string(m_clock) + " +0000");
    return std::string("GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null") +
           " GIT_AUTHOR_NAME=" + shell_quote(k_author_name) +
           " GIT_AUTHOR_EMAIL=" + shell_quote(k_author_email) + " GIT_AUTHOR_DATE=" + date +
           " GIT_COMMITTER_NAME=" + shell_quote(k_author_name) +
           " GIT_COMMITTER_EMAIL=" + shell_quote(k_author_email) + " GIT_COMMITTER_DATE=" + date;
}

std::string GitFixture::git(const std::string& arguments) {
    return sh_ok(environment() + " git " + arguments, m_path);
}

std::string GitFixture::commit(const std::string& message,
                               const std::map<std::string, std::string>& files) {
    for (const auto& [file, content] : files) {
        write_file(m_path / file, content);
    }
    git("add -A");
    git("commit -q --allow-empty -m " + shell_quote(message));
    return rev_parse("HEAD");
}

void GitFixture::remove_file(const std::string& file) {
    std::filesystem::remove(m_path / file);
}

void GitFixture::make_executable(const std::string& file) {
    using std::filesystem::perms;
    std::filesystem::permissions(m_path / file,
                                 perms::owner_exec | perms::group_exec | perms::others_exec,
                                 std::filesystem::perm_options::add);
}

void GitFixture::tag(const std::string& name, const std::string& message) {
    git("tag " + (message.empty() ? "" : "-a -m " + shell_quote(message) + " ") +
        shell_quote(name));
}

void GitFixture::branch(const std::string& name, const std::string& start) {
    git("branch " + shell_quote(name) + " " + shell_quote(start));
}

void GitFixture::checkout(const std::string& name) {
    git("checkout -q " + shell_quote(name));
}

std::string GitFixture::merge(const std::string& branch, const std::string& message) {
    git("merge -q --no-ff -m " + shell_quote(message) + " " + shell_quote(branch));
    return rev_parse("HEAD");
}

std::string GitFixture::rev_parse(const std::string& revision) {
    std::string id = git("rev-parse --verify " + shell_quote(revision));
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) {
        id.pop_back();
    }
    return id;
}

}  // namespace perfbisect::testing
