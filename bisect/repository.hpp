#pragma once

// The git history seen by perfbisect: resolving revisions, enumerating the
// range good..bad, and exporting a commit's tree into a directory. Abstract so
// that the session driver can be tested without git; GitRepository (libgit2) is
// the real one and is tested against throwaway repositories.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"  // Patch
#include "util/error.hpp"

namespace perfbisect {

struct CommitInfo {
    std::string id;       // full 40-hex object id
    std::string subject;  // first line of the message
    std::string author;   // "Name <email>"
    std::int64_t time = 0;  // author time, seconds since the epoch (UTC)

    std::string short_id() const { return id.substr(0, 10); }
};

// The commits of a bisect, oldest first: front() is good, back() is bad, and
// each commit's position is its index.
struct CommitRange {
    std::vector<CommitInfo> commits;

    const CommitInfo& good() const { return commits.front(); }
    const CommitInfo& bad() const { return commits.back(); }
    std::size_t size() const { return commits.size(); }
};

class Repository {
public:
    virtual ~Repository() = default;

    // A revision as git understands it (sha, short sha, branch, tag, HEAD~3, …)
    // to a commit. Unknown revision: usage error naming it.
    virtual Result<CommitInfo> resolve(const std::string& revision) = 0;

    // good..bad inclusive of both ends, oldest first. With first_parent, only
    // the first-parent chain of bad is walked (merges count as one commit).
    // Usage errors: good == bad, good not an ancestor of bad.
    virtual Result<CommitRange> range(const std::string& good, const std::string& bad,
                                      bool first_parent) = 0;

    // Writes the tree of commit (a full id) into directory, which is created if
    // missing. The repository's own working tree, index and HEAD are untouched.
    virtual Result<void> export_tree(const std::string& commit,
                                     const std::filesystem::path& directory) = 0;

    // The id of the commit's (root) tree: commits with the same tree build the
    // same program. Submodule revisions are part of it.
    virtual Result<std::string> tree_id(const std::string& commit) = 0;

    // Moves a worktree that perfbisect owns to commit, writing only the files
    // that differ from what index_file says is there (so a build tool sees
    // unchanged files with unchanged timestamps), deleting the files the
    // commit does not have, and leaving untracked files (build outputs) alone.
    // A missing index_file (or directory) means a new worktree: the directory
    // is emptied and the whole tree written. Tracked files the build modified
    // are restored. patches (unified diffs, applied in order in memory before
    // anything is written) make a patched tree the target; a patch that does
    // not apply is a runtime error saying which, and nothing is written.
    // Submodules are checked out at the commit's recorded revision from the
    // repository's clones of them (.git/modules). The repository's own
    // working tree, index and HEAD are untouched.
    virtual Result<void> checkout(const std::string& commit, const std::filesystem::path& directory,
                                  const std::filesystem::path& index_file,
                                  const std::vector<Patch>& patches) = 0;
};

// Opens the repository at path (or a parent of it). Not a repository: usage
// error naming the path.
Result<std::unique_ptr<Repository>> open_git_repository(const std::filesystem::path& path);

}  // namespace perfbisect
