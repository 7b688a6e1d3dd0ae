// Repository on libgit2; the only translation unit that includes <git2.h>.

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/repository.h>

#include "bisect/repository.hpp"

namespace perfbisect {
namespace {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* handle) const {
        Free(handle);
    }
};

// Owns one libgit2 handle; null when the call that should fill it failed.
template <typename T, auto Free>
using Handle = std::unique_ptr<T, Deleter<Free>>;

using RepositoryHandle = Handle<git_repository, git_repository_free>;
using ObjectHandle = Handle<git_object, git_object_free>;
using CommitHandle = Handle<git_commit, git_commit_free>;
using RevwalkHandle = Handle<git_revwalk, git_revwalk_free>;
using IndexHandle = Handle<git_index, git_index_free>;
using TreeHandle = Handle<git_tree, git_tree_free>;
using OdbHandle = Handle<git_odb, git_odb_free>;
using DiffHandle = Handle<git_diff, git_diff_free>;
using TreeEntryHandle = Handle<git_tree_entry, git_tree_entry_free>;
using BlobHandle = Handle<git_blob, git_blob_free>;

// libgit2 keeps global state; initialised once per process, never shut down.
void ensure_libgit2_initialised() {
    static const int k_init = git_libgit2_init();
    static_cast<void>(k_init);
}

std::string last_git_error() {
    const git_error* error = git_error_last();
    return error != nullptr && error->message != nullptr ? error->message : "unknown libgit2 error";
}

std::string to_hex(const git_oid& id) {
    std::array<char, GIT_OID_HEXSZ + 1> buffer{};
    git_oid_tostr(buffer.data(), buffer.size(), &id);
    return buffer.data();
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view k_space = " \t\r\n";
    std::size_t begin = text.find_first_not_of(k_space);
    if (begin == std::string_view::npos) {
        return {};
    }
    return text.substr(begin, text.find_last_not_of(k_space) - begin + 1);
}

CommitInfo describe(const git_commit* commit) {
    std::string_view message = git_commit_message(commit);
    const git_signature* author = git_commit_author(commit);
    return CommitInfo{
        .id = to_hex(*git_commit_id(commit)),
        .subject = std::string(trim(message.substr(0, message.find('\n')))),
        .author = fmt::format("{} <{}>", author->name, author->email),
        .time = author->when.time,
    };
}

// Whether inner is outer or lies below it (both absolute, normalised).
bool is_within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
    auto relative = inner.lexically_relative(outer);
    return !relative.empty() && *relative.begin() != "..";
}


// Submodules nested deeper than this are not checked out (a cycle guard).
constexpr int k_max_submodule_depth = 8;

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

// The name .gitmodules (in tree) gives the submodule at path; path itself
// when it says nothing (git's default name).
std::string submodule_name(git_repository* repository, const git_tree* tree,
                           const std::string& path) {
    git_tree_entry* raw_entry = nullptr;
    if (git_tree_entry_bypath(&raw_entry, tree, ".gitmodules") != 0) {
        return path;
    }
    TreeEntryHandle entry(raw_entry);
    git_blob* raw_blob = nullptr;
    if (git_blob_lookup(&raw_blob, repository, git_tree_entry_id(entry.get())) != 0) {
        return path;
    }
    BlobHandle blob(raw_blob);
    std::istringstream lines(std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                         static_cast<std::size_t>(git_blob_rawsize(blob.get()))));
    std::string line;
    std::string name;
    while (std::getline(lines, line)) {
        const std::string_view t = trim(line);
        if (t.starts_with("[submodule \"") && t.ends_with("\"]")) {
            name = std::string(t.substr(12, t.size() - 14));
        } else if (t.starts_with("path") && !name.empty()) {
            const auto eq = t.find('=');
            if (eq != std::string_view::npos && trim(t.substr(4, eq - 4)).empty() &&
                trim(t.substr(eq + 1)) == path) {
                return name;
            }
        }
    }
    return path;
}

// Opens a repository's git directory (or a working tree holding .git) as
// bare: its own idea of a working tree (core.worktree, which for a
// submodule's clone may name a directory that is gone) does not matter.
int open_git_dir(git_repository** out, const char* path) {
    return git_repository_open_ext(out, path,
                                   GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
                                   nullptr);
}

// libgit2 parses only git-style patches: a plain unified diff (`diff -u`,
// `--- a/f` / `+++ b/f` with no `diff --git` line) gets that line added.
std::string git_style_patch(const std::string& text) {
    if (text.find("diff --git ") != std::string::npos) {
        return text;
    }
    std::istringstream in(text);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    auto path_of = [](const std::string& header) {
        std::string path = header.substr(4);
        path = path.substr(0, path.find('\t'));  // diff -u appends a timestamp after a tab
        return path.size() > 2 && path[1] == '/' ? path.substr(2) : path;
    };
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].starts_with("--- ") && i + 1 < lines.size() &&
            lines[i + 1].starts_with("+++ ")) {
            const std::string path = lines[i + 1].substr(4).starts_with("/dev/null")
                                         ? path_of(lines[i])
                                         : path_of(lines[i + 1]);
            out += fmt::format("diff --git a/{} b/{}\n", path, path);
            // Without the timestamps `diff -u` appends after a tab.
            lines[i] = lines[i].substr(0, lines[i].find('\t'));
            lines[i + 1] = lines[i + 1].substr(0, lines[i + 1].find('\t'));
        }
        out += lines[i] + "\n";
    }
    return out;
}

// The commit's tree with the patches applied, built in the in-memory object
// store of repository (nothing is written to the repository on disk).
Result<TreeHandle> patched_tree(git_repository* repository, TreeHandle tree,
                                const std::vector<Patch>& patches, const std::string& commit) {
    for (const auto& patch : patches) {
        const std::string text = git_style_patch(patch.text);
        git_diff* raw_diff = nullptr;
        int status = git_diff_from_buffer(&raw_diff, text.data(), text.size());
        DiffHandle diff(raw_diff);
        git_index* raw_index = nullptr;
        if (status == 0) {
            status = git_apply_to_tree(&raw_index, repository, tree.get(), diff.get(), nullptr);
        }
        IndexHandle patched(raw_index);
        git_oid tree_id;
        if (status == 0) {
            status = git_index_write_tree_to(&tree_id, patched.get(), repository);
        }
        git_tree* raw_tree = nullptr;
        if (status == 0) {
            status = git_tree_lookup(&raw_tree, repository, &tree_id);
        }
        if (status != 0) {
            return runtime_error(fmt::format("patch {} does not apply to {}: {}", patch.name,
                                             commit.substr(0, 10), last_git_error()));
        }
        tree.reset(raw_tree);
    }
    return tree;
}

// The incremental checkout of Repository::checkout, for a repository and
// (recursively) its submodules. source is only read; a private handle on the
// same git directory gets the worktree and index_file, so libgit2's checkout
// compares the target with that index (stat data included) instead of the
// user's.
Result<void> checkout_into(git_repository* source, const std::string& location,
                           const git_oid& commit_id, const std::filesystem::path& directory,
                           const std::filesystem::path& index_file,
                           const std::vector<Patch>& patches, int depth) {
    namespace fs = std::filesystem;
    const std::string commit = to_hex(commit_id);
    auto fail = [&](const std::string& action) {
        return runtime_error(fmt::format("{} {} into {}: {} (in {})", action, commit.substr(0, 10),
                                         directory.string(), last_git_error(), location));
    };
    std::error_code ec;
    // A worktree whose last checkout did not finish is rebuilt from scratch: its
    // index no longer says what is on disk. A process killed inside libgit2's
    // checkout also leaves the index's lock file, and every later checkout would
    // fail with "the index is locked": the caller holds the worktree's lock, so
    // no one else is writing this index and the lock file is stale.
    const fs::path busy = index_file.string() + ".busy";
    const bool fresh = !fs::exists(index_file, ec) || !fs::is_directory(directory, ec) ||
                       fs::exists(busy, ec);
    if (fresh) {
        fs::remove_all(directory, ec);
        fs::remove(index_file, ec);
        fs::remove(index_file.string() + ".lock", ec);
        fs::remove_all(index_file.string() + ".modules", ec);
    }
    fs::create_directories(directory, ec);
    if (!ec) {
        fs::create_directories(index_file.parent_path(), ec);
    }
    if (ec) {
        return runtime_error(
            fmt::format("cannot create {}: {}", directory.string(), ec.message()));
    }
    write_text(busy, commit + "\n");

    git_repository* raw_repository = nullptr;
    if (open_git_dir(&raw_repository, git_repository_path(source)) != 0) {
        return fail("cannot open the repository to check out");
    }
    RepositoryHandle repository(raw_repository);
    git_odb* raw_odb = nullptr;
    git_odb_backend* memory = nullptr;
    int status = git_repository_odb(&raw_odb, repository.get());
    OdbHandle odb(raw_odb);
    if (status == 0 && !patches.empty()) {
        status = git_mempack_new(&memory);  // owned by the odb once added
        if (status == 0) {
            status = git_odb_add_backend(odb.get(), memory, 1000);
        }
    }
    if (status == 0) {
        status = git_repository_set_workdir(repository.get(), directory.c_str(), 0);
    }
    git_index* raw_index = nullptr;
    if (status == 0) {
        status = git_index_open(&raw_index, index_file.c_str());
    }
    IndexHandle index(raw_index);
    if (status == 0) {
        status = git_repository_set_index(repository.get(), index.get());
    }
    git_commit* raw_commit = nullptr;
    if (status == 0) {
        status = git_commit_lookup(&raw_commit, repository.get(), &commit_id);
    }
    CommitHandle commit_handle(raw_commit);
    git_tree* raw_tree = nullptr;
    if (status == 0) {
        status = git_commit_tree(&raw_tree, commit_handle.get());
    }
    if (status != 0) {
        return fail("cannot check out");
    }
    auto tree = patched_tree(repository.get(), TreeHandle(raw_tree), patches, commit);
    if (!tree) {
        fs::remove(busy, ec);  // nothing was written
        return std::unexpected(tree.error());
    }

    git_checkout_options options;
    git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
    // FORCE: make every tracked file match the target, restoring files the
    // last build modified; untracked files (build outputs) stay.
    options.checkout_strategy = GIT_CHECKOUT_FORCE;
    options.baseline_index = index.get();
    if (git_checkout_tree(repository.get(), reinterpret_cast<const git_object*>(tree->get()),
                          &options) != 0) {
        return fail("cannot check out");
    }

    // Submodules: every gitlink of the tree, at its recorded commit.
    std::vector<std::pair<std::string, git_oid>> gitlinks;
    git_tree_walk(
        tree->get(), GIT_TREEWALK_PRE,
        [](const char* root, const git_tree_entry* entry, void* payload) {
            if (git_tree_entry_filemode(entry) == GIT_FILEMODE_COMMIT) {
                static_cast<std::vector<std::pair<std::string, git_oid>>*>(payload)->emplace_back(
                    std::string(root) + git_tree_entry_name(entry), *git_tree_entry_id(entry));
            }
            return 0;
        },
        &gitlinks);
    const fs::path modules_state = index_file.string() + ".modules";
    std::set<std::string> now;
    for (const auto& [path, id] : gitlinks) {
        now.insert(path);
        if (depth >= k_max_submodule_depth) {
            continue;
        }
        const std::string name = submodule_name(repository.get(), tree->get(), path);
        const char* workdir = git_repository_workdir(source);
        std::vector<fs::path> candidates = {fs::path(git_repository_path(source)) / "modules" / name,
                                            fs::path(git_repository_path(source)) / "modules" / path};
        if (workdir != nullptr) {
            candidates.push_back(fs::path(workdir) / path);
        }
        RepositoryHandle module;
        for (const auto& candidate : candidates) {
            git_repository* raw_module = nullptr;
            if (!fs::exists(candidate, ec) || open_git_dir(&raw_module, candidate.c_str()) != 0) {
                continue;
            }
            RepositoryHandle opened(raw_module);
            git_commit* raw_sub_commit = nullptr;
            if (git_commit_lookup(&raw_sub_commit, opened.get(), &id) == 0) {
                git_commit_free(raw_sub_commit);
                module = std::move(opened);
                break;
            }
        }
        if (!module) {
            return runtime_error(fmt::format(
                "submodule {} of {} needs commit {}, which no local clone of it has (run `git "
                "submodule update --init --recursive` in {})",
                path, commit.substr(0, 10), to_hex(id).substr(0, 10), location));
        }
        std::string state_name = path;
        std::replace(state_name.begin(), state_name.end(), '/', '%');
        auto checked =
            checkout_into(module.get(), fmt::format("{}/{}", location, path), id, directory / path,
                          modules_state / (state_name + ".index"), {}, depth + 1);
        if (!checked) {
            return checked;
        }
    }
    // Submodules the previous commit had and this one has not.
    if (fs::is_directory(modules_state, ec)) {
        for (const auto& entry : fs::directory_iterator(modules_state, ec)) {
            const std::string file = entry.path().filename().string();
            if (!file.ends_with(".index")) {
                continue;
            }
            std::string path = file.substr(0, file.size() - 6);
            std::replace(path.begin(), path.end(), '%', '/');
            if (now.count(path) == 0) {
                fs::remove_all(directory / path, ec);
                fs::remove(entry.path(), ec);
                fs::remove(entry.path().string() + ".busy", ec);
                fs::remove_all(entry.path().string() + ".modules", ec);
            }
        }
    }
    fs::remove(busy, ec);
    return {};
}

// Not thread-safe: one call at a time (a git_repository may not be shared
// between threads).
class GitRepository final : public Repository {
  public:
    explicit GitRepository(RepositoryHandle repository) : m_repository(std::move(repository)) {
        const char* workdir = git_repository_workdir(m_repository.get());
        m_location = std::filesystem::path(
                         workdir != nullptr ? workdir : git_repository_path(m_repository.get()))
                         .lexically_normal()
                         .string();
        if (m_location.size() > 1 && m_location.back() == '/') {
            m_location.pop_back();
        }
    }

    Result<CommitInfo> resolve(const std::string& revision) override {
        auto commit = lookup(revision);
        if (!commit) {
            return std::unexpected(commit.error());
        }
        return describe(commit->get());
    }

    // With first_parent, bad's first-parent chain is walked back until it
    // reaches a commit that is good or an ancestor of good. When good is
    // reachable from bad only through a second parent (good sits on a merged
    // side branch), the range is good followed by the mainline commits since
    // the fork point, up to bad: those mainline commits are not descendants of
    // good, and the side branch's other commits are not in the range. (This is
    // what `git rev-list --first-parent good..bad` lists.)
    Result<CommitRange> range(const std::string& good, const std::string& bad,
                              bool first_parent) override {
        auto good_commit = lookup(good);
        if (!good_commit) {
            return std::unexpected(good_commit.error());
        }
        auto bad_commit = lookup(bad);
        if (!bad_commit) {
            return std::unexpected(bad_commit.error());
        }
        const git_oid* good_id = git_commit_id(good_commit->get());
        const git_oid* bad_id = git_commit_id(bad_commit->get());
        CommitRange range;
        range.commits.push_back(describe(good_commit->get()));
        std::string good_short = range.good().short_id();
        std::string bad_short = describe(bad_commit->get()).short_id();
        if (git_oid_equal(good_id, bad_id) != 0) {
            return usage_error(fmt::format(
                "good and bad are the same commit {} (give two different revisions)", good_short));
        }
        int descends = git_graph_descendant_of(m_repository.get(), bad_id, good_id);
        if (descends < 0 && git_repository_is_shallow(m_repository.get()) == 1) {
            return usage_error(fmt::format(
                "cannot relate {} and {} in {}: the clone is shallow and lacks the commits "
                "between them ({}); fetch them with `git fetch --unshallow`",
                good, bad, m_location, last_git_error()));
        }
        if (descends < 0) {
            return git_failure(fmt::format("cannot relate {} and {}", good, bad));
        }
        if (descends == 0) {
            return usage_error(fmt::format(
                "good {} ({}) is not an ancestor of bad {} ({}); swap them or pick a good commit "
                "from bad's history",
                good, good_short, bad, bad_short));
        }

        git_revwalk* raw_walk = nullptr;
        int status = git_revwalk_new(&raw_walk, m_repository.get());
        RevwalkHandle walk(raw_walk);
        if (status == 0) {
            status = git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
        }
        if (status == 0 && first_parent) {
            status = git_revwalk_simplify_first_parent(walk.get());
        }
        if (status == 0) {
            status = git_revwalk_push(walk.get(), bad_id);
        }
        if (status == 0) {
            status = git_revwalk_hide(walk.get(), good_id);
        }
        git_oid id;
        while (status == 0 && (status = git_revwalk_next(&id, walk.get())) == 0) {
            git_commit* raw_commit = nullptr;
            status = git_commit_lookup(&raw_commit, m_repository.get(), &id);
            CommitHandle commit(raw_commit);
            if (status == 0) {
                range.commits.push_back(describe(commit.get()));
            }
        }
        if (status != GIT_ITEROVER && git_repository_is_shallow(m_repository.get()) == 1) {
            return usage_error(fmt::format(
                "cannot list the commits {}..{} in {}: the clone is shallow and lacks some of "
                "them ({}); fetch them with `git fetch --unshallow`",
                good, bad, m_location, last_git_error()));
        }
        if (status != GIT_ITEROVER) {
            return git_failure(fmt::format("cannot list the commits {}..{}", good, bad));
        }
        return range;
    }

    // Clears directory and checks the commit's tree out into it, without
    // touching the repository's index, HEAD or working tree. The repository's
    // attributes apply (eol conversion), but libgit2 runs no external filter
    // drivers: Git LFS files come out as pointer files. Submodules come out as
    // empty directories.
    Result<void> export_tree(const std::string& commit,
                             const std::filesystem::path& directory) override {
        git_oid id;
        if (commit.size() != GIT_OID_HEXSZ ||
            git_oid_fromstrn(&id, commit.data(), commit.size()) != 0) {
            return runtime_error(fmt::format("cannot export '{}': not a full commit id", commit));
        }
        git_object* raw_object = nullptr;
        int status = git_object_lookup(&raw_object, m_repository.get(), &id, GIT_OBJECT_COMMIT);
        ObjectHandle object(raw_object);
        if (status != 0) {
            return git_failure(fmt::format("cannot export {}", commit));
        }

        std::error_code error;
        auto target =
            std::filesystem::weakly_canonical(std::filesystem::absolute(directory), error);
        if (error) {
            return runtime_error(
                fmt::format("cannot export into {}: {}", directory.string(), error.message()));
        }
        for (const char* own : {git_repository_path(m_repository.get()),
                                git_repository_workdir(m_repository.get())}) {
            if (own != nullptr &&
                is_within(std::filesystem::weakly_canonical(own, error), target)) {
                return usage_error(fmt::format(
                    "refusing to export into {}: it holds the repository {} (pick a separate "
                    "work directory)",
                    directory.string(), m_location));
            }
        }
        std::filesystem::remove_all(target, error);
        if (!error) {
            std::filesystem::create_directories(target, error);
        }
        if (error) {
            return runtime_error(
                fmt::format("cannot clear {}: {}", directory.string(), error.message()));
        }

        git_checkout_options options;
        git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
        // FORCE writes every file of the tree (the directory is empty); the
        // DONT_* flags keep the repository's index as it is on disk.
        options.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
                                    GIT_CHECKOUT_DONT_WRITE_INDEX | GIT_CHECKOUT_NO_REFRESH;
        std::string target_string = target.string();
        options.target_directory = target_string.c_str();
        if (git_checkout_tree(m_repository.get(), object.get(), &options) != 0) {
            return git_failure(fmt::format("cannot export {} into {}", commit, directory.string()));
        }
        return {};
    }

    Result<std::string> tree_id(const std::string& commit) override {
        auto found = lookup(commit);
        if (!found) {
            return std::unexpected(found.error());
        }
        return to_hex(*git_commit_tree_id(found->get()));
    }

    Result<void> checkout(const std::string& commit, const std::filesystem::path& directory,
                          const std::filesystem::path& index_file,
                          const std::vector<Patch>& patches) override {
        git_oid id;
        if (commit.size() != GIT_OID_HEXSZ ||
            git_oid_fromstrn(&id, commit.data(), commit.size()) != 0) {
            return runtime_error(fmt::format("cannot check out '{}': not a full commit id", commit));
        }
        std::error_code error;
        const auto target =
            std::filesystem::weakly_canonical(std::filesystem::absolute(directory), error);
        for (const char* own : {git_repository_path(m_repository.get()),
                                git_repository_workdir(m_repository.get())}) {
            if (own != nullptr &&
                is_within(std::filesystem::weakly_canonical(own, error), target)) {
                return usage_error(fmt::format(
                    "refusing to check out into {}: it holds the repository {} (pick a separate "
                    "work directory)",
                    directory.string(), m_location));
            }
        }
        return checkout_into(m_repository.get(), m_location, id, target,
                             std::filesystem::absolute(index_file), patches, 0);
    }

  private:
    // The commit a revision names; tags are peeled.
    Result<CommitHandle> lookup(const std::string& revision) {
        git_object* raw_object = nullptr;
        int status = git_revparse_single(&raw_object, m_repository.get(), revision.c_str());
        ObjectHandle object(raw_object);
        if (status == GIT_EAMBIGUOUS) {
            return usage_error(fmt::format(
                "ambiguous revision '{}' in {}: several objects start with it (give more digits "
                "of the sha)",
                revision, m_location));
        }
        if (status == GIT_ENOTFOUND || status == GIT_EINVALIDSPEC) {
            return usage_error(
                fmt::format("unknown revision '{}' in {} (check the sha, branch or tag name)",
                            revision, m_location));
        }
        if (status != 0) {
            return git_failure(fmt::format("cannot resolve '{}'", revision));
        }
        git_object* raw_peeled = nullptr;
        status = git_object_peel(&raw_peeled, object.get(), GIT_OBJECT_COMMIT);
        ObjectHandle peeled(raw_peeled);
        git_commit* raw_commit = nullptr;
        if (status == 0) {
            status =
                git_commit_lookup(&raw_commit, m_repository.get(), git_object_id(peeled.get()));
        }
        CommitHandle commit(raw_commit);
        if (status != 0) {
            return usage_error(fmt::format("revision '{}' in {} is not a commit ({})", revision,
                                           m_location, last_git_error()));
        }
        return commit;
    }

    // A runtime error for the libgit2 call that just failed.
    std::unexpected<Error> git_failure(const std::string& action) const {
        return runtime_error(fmt::format("{} in {}: {}", action, m_location, last_git_error()));
    }

    RepositoryHandle m_repository;
    std::string m_location;  // working tree (git dir when bare), for messages
};

}  // namespace

Result<std::unique_ptr<Repository>> open_git_repository(const std::filesystem::path& path) {
    ensure_libgit2_initialised();
    std::error_code error;
    git_repository* raw = nullptr;
    int status = std::filesystem::exists(path, error)
                     ? git_repository_open_ext(&raw, path.c_str(), 0, nullptr)
                     : GIT_ENOTFOUND;
    RepositoryHandle repository(raw);
    if (status == GIT_ENOTFOUND) {
        return usage_error(fmt::format(
            "not a git repository: {} (set [repo] path in the config to a git checkout)",
            path.string()));
    }
    if (status == GIT_EOWNER) {
        return usage_error(
            fmt::format("{} (if you trust it: git config --global --add safe.directory <its path>)",
                        last_git_error()));
    }
    if (status != 0) {
        return runtime_error(
            fmt::format("cannot open the git repository {}: {}", path.string(), last_git_error()));
    }
    return std::make_unique<GitRepository>(std::move(repository));
}

}  // namespace perfbisect
