// Repository on libgit2; the only translation unit that includes <git2.h>.

#include <array>
#include <string_view>

#include <git2.h>

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
