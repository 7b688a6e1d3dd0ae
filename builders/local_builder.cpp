#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include <spdlog/spdlog.h>

#include "builders/builder.hpp"
#include "config/placeholders.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

double steady_now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// An exclusive flock on a file, held while it lives: one builder per worktree.
class WorktreeLock {
public:
    explicit WorktreeLock(const std::filesystem::path& path)
        : m_fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
        if (m_fd >= 0 && ::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            spdlog::info("waiting for another perfbisect to finish building in {}",
                         path.parent_path().string());
            ::flock(m_fd, LOCK_EX);
        }
    }
    ~WorktreeLock() {
        if (m_fd >= 0) {
            ::close(m_fd);  // releases the lock
        }
    }
    WorktreeLock(const WorktreeLock&) = delete;
    WorktreeLock& operator=(const WorktreeLock&) = delete;

private:
    int m_fd;
};

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Copies the declared artifacts from worktree into a staging directory that
// becomes target; false with the reason when one is missing or cannot be copied.
bool save_artifacts(const std::vector<std::string>& artifacts, const std::filesystem::path& worktree,
                    const std::filesystem::path& target, std::string& reason) {
    namespace fs = std::filesystem;
    const fs::path staging = target.string() + ".saving";
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    if (ec) {
        reason = fmt::format("cannot create {}: {}", staging.string(), ec.message());
        return false;
    }
    for (const auto& artifact : artifacts) {
        const fs::path source = worktree / artifact;
        if (!fs::exists(source, ec)) {
            reason = fmt::format("artifact '{}' is missing after the build (check [build] artifacts)",
                                 artifact);
            fs::remove_all(staging, ec);
            return false;
        }
        fs::copy(source, staging / source.filename(),
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing |
                     fs::copy_options::copy_symlinks,
                 ec);
        if (ec) {
            reason = fmt::format("cannot save artifact '{}': {}", artifact, ec.message());
            fs::remove_all(staging, ec);
            return false;
        }
    }
    fs::remove_all(target, ec);
    fs::rename(staging, target, ec);
    if (ec) {
        reason = fmt::format("cannot save the artifacts in {}: {}", target.string(), ec.message());
        return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> command_argv(const Command& command,
                                      const std::map<std::string, std::string>& placeholders) {
    if (command.shell) {
        return {"/bin/sh", "-c", expand_placeholders(command.words.front(), placeholders, true)};
    }
    std::vector<std::string> argv;
    argv.reserve(command.words.size());
    for (const auto& word : command.words) {
        argv.push_back(expand_placeholders(word, placeholders, false));
    }
    return argv;
}

std::optional<std::filesystem::path> find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    const std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        std::filesystem::path candidate =
            std::filesystem::path(end > start ? dirs.substr(start, end - start) : ".") / name;
        if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) {
            return candidate;
        }
        start = end + 1;
    }
    return std::nullopt;
}

LocalBuilder::LocalBuilder(Repository& repository, ProcessRunner& runner, ArtifactStore& store,
                           const BuildConfig& config, std::string fingerprint, BuildPlace place)
    : m_repository(repository),
      m_runner(runner),
      m_store(store),
      m_config(config),
      m_fingerprint(std::move(fingerprint)),
      m_place(std::move(place)) {
    if (m_config.ccache) {
        m_ccache = find_program("ccache");
    }
}

// ccache, when installed and wanted, is pointed at the worktree: paths below
// CCACHE_BASEDIR are hashed relative to it and the working directory is left
// out of the hash, so every worktree (and every clean checkout) hits the same
// cache entries. CMake projects get ccache as their compiler launcher. What
// the user's environment or [build] env sets wins.
std::map<std::string, std::string> LocalBuilder::environment(
    const std::filesystem::path& worktree) const {
    std::map<std::string, std::string> env;
    if (m_ccache) {
        auto set_default = [&](const std::string& name, const std::string& value) {
            if (std::getenv(name.c_str()) == nullptr) {
                env[name] = value;
            }
        };
        set_default("CCACHE_BASEDIR", worktree.string());
        set_default("CCACHE_NOHASHDIR", "true");
        set_default("CMAKE_C_COMPILER_LAUNCHER", m_ccache->string());
        set_default("CMAKE_CXX_COMPILER_LAUNCHER", m_ccache->string());
    }
    for (const auto& [name, value] : m_config.env) {
        env[name] = value;
    }
    return env;
}

bool LocalBuilder::run_step(const char* step, const Command& command,
                            const std::map<std::string, std::string>& placeholders,
                            const std::filesystem::path& cwd, const CommitInfo& commit,
                            BuildOutcome& outcome) {
    ProcessSpec spec;
    spec.argv = command_argv(command, placeholders);
    spec.cwd = cwd;
    spec.env = environment(cwd);
    spec.timeout = m_config.timeout;
    outcome.log_path = m_place.work_dir / "logs" / fmt::format("{}-{}.log", step, commit.id);
    spec.stdout_path = outcome.log_path;
    spec.stderr_path = outcome.log_path;
    // A command that cannot start writes no log: an earlier build's must not
    // pass for its output.
    std::error_code ec;
    std::filesystem::remove(outcome.log_path, ec);
    spdlog::debug("{} {} in {}", step, commit.short_id(), cwd.string());
    const ProcessResult result = m_runner.run(spec);
    if (result.interrupted) {
        outcome.interrupted = true;
        outcome.reason = "interrupted";
        return false;
    }
    if (!result.succeeded()) {
        const std::string tail =
            result.started ? one_line(read_file_tail(outcome.log_path, 300)) : std::string();
        outcome.reason = fmt::format("{} command {}{}", step, result.describe(),
                                     tail.empty() ? "" : ": " + tail);
        if (result.timed_out) {
            outcome.reason += " (raise [build] timeout if it needs longer)";
        }
        return false;
    }
    return true;
}

BuildOutcome LocalBuilder::build(const CommitInfo& commit) {
    namespace fs = std::filesystem;
    const double start = steady_now();
    BuildOutcome outcome;
    std::error_code ec;
    fs::create_directories(m_place.work_dir / "logs", ec);
    fs::create_directories(m_place.work_dir / "worktrees", ec);

    auto tree = m_repository.tree_id(commit.id);
    if (!tree) {
        outcome.reason = "cannot read the commit's tree: " + tree.error().message;
        return outcome;
    }
    outcome.tree = *tree;
    if (auto saved = m_store.find(m_fingerprint, *tree)) {
        outcome.ok = true;
        outcome.reused = true;
        outcome.artifacts_dir = outcome.worktree = *saved;
        outcome.note = "reused the saved build of the same tree";
        return outcome;
    }

    const fs::path target = m_store.directory(m_fingerprint, *tree);
    bool built = false;
    if (m_config.strategy == BuildStrategy::fetch) {
        built = fetch(commit, target, outcome);
        if (!built && !outcome.interrupted) {
            outcome.note = fmt::format("fetch failed ({}); built it instead", outcome.reason);
            outcome.reason.clear();
        }
    }
    if (!built && !outcome.interrupted) {
        built = build_in_worktree(commit, target, outcome);
    }
    outcome.seconds = steady_now() - start;
    if (!built) {
        return outcome;
    }

    std::set<std::string> keep;
    for (const auto& id : m_place.keep) {
        if (auto kept = m_repository.tree_id(id)) {
            keep.insert(*kept);
        }
    }
    m_store.add(m_fingerprint, *tree, keep);
    outcome.ok = true;
    outcome.artifacts_dir = outcome.worktree = target;
    return outcome;
}

bool LocalBuilder::fetch(const CommitInfo& commit, const std::filesystem::path& target,
                         BuildOutcome& outcome) {
    namespace fs = std::filesystem;
    const fs::path out = m_place.work_dir / "fetch" / commit.id;
    std::error_code ec;
    fs::remove_all(out, ec);
    fs::create_directories(out, ec);
    if (!run_step("fetch", m_config.fetch,
                  {{"commit", commit.id}, {"short", commit.short_id()}, {"out", out.string()}},
                  out, commit, outcome)) {
        fs::remove_all(out, ec);
        return false;
    }
    for (const auto& artifact : m_config.artifacts) {
        if (!fs::exists(out / fs::path(artifact).filename(), ec)) {
            outcome.reason = fmt::format("the fetch command did not provide '{}' in {{out}}",
                                         fs::path(artifact).filename().string());
            fs::remove_all(out, ec);
            return false;
        }
    }
    fs::create_directories(target.parent_path(), ec);
    fs::remove_all(target, ec);
    fs::rename(out, target, ec);
    if (ec) {
        outcome.reason = fmt::format("cannot save the fetched artifacts: {}", ec.message());
        return false;
    }
    return true;
}

// Checkout, setup when the worktree is new, build, save. The setup rule: setup
// runs in a new worktree (and after a failed setup); when the build command
// then fails in a worktree that was set up for an earlier commit, setup runs
// again and the build is retried once, since a stale configuration (a build
// system file that changed between distant commits, a cache that points at
// removed files) is the usual way a reused worktree fails where a fresh one
// would not. A timeout is not retried.
bool LocalBuilder::build_in_worktree(const CommitInfo& commit, const std::filesystem::path& target,
                                     BuildOutcome& outcome) {
    namespace fs = std::filesystem;
    const bool clean = m_config.strategy == BuildStrategy::clean;
    const std::string name = m_place.worktree_name + (clean ? "-clean" : "");
    const fs::path worktrees = m_place.work_dir / "worktrees";
    const fs::path worktree = worktrees / name;
    const fs::path index_file = worktrees / (name + ".index");
    const fs::path setup_marker = worktrees / (name + ".setup");
    std::error_code ec;
    WorktreeLock lock(worktrees / (name + ".lock"));
    auto remove_clean_worktree = [&] {
        if (clean) {
            fs::remove_all(worktree, ec);
            fs::remove(index_file, ec);
            fs::remove_all(index_file.string() + ".modules", ec);
            fs::remove(setup_marker, ec);
        }
    };
    if (clean) {
        remove_clean_worktree();
    }
    // Repository::checkout starts over when the index is missing or a checkout
    // did not finish; a worktree that starts over needs its setup again.
    if (!fs::exists(index_file, ec) || fs::exists(index_file.string() + ".busy", ec) ||
        !fs::is_directory(worktree, ec)) {
        fs::remove(setup_marker, ec);
    }
    if (auto checked_out = m_repository.checkout(commit.id, worktree, index_file, m_config.patches);
        !checked_out) {
        outcome.reason = checked_out.error().message;
        remove_clean_worktree();
        return false;
    }

    const std::map<std::string, std::string> placeholders = {
        {"commit", commit.id}, {"short", commit.short_id()}, {"worktree", worktree.string()}};
    const bool has_setup = !m_config.setup.empty();
    bool set_up_now = false;
    if (has_setup && read_text(setup_marker) != m_fingerprint) {
        if (!run_step("setup", m_config.setup, placeholders, worktree, commit, outcome)) {
            remove_clean_worktree();
            return false;
        }
        write_text(setup_marker, m_fingerprint);
        set_up_now = true;
    }
    bool ok = run_step("build", m_config.command, placeholders, worktree, commit, outcome);
    if (!ok && !outcome.interrupted && has_setup && !set_up_now &&
        outcome.reason.find("timed out") == std::string::npos) {
        spdlog::info("build of {} failed in a reused worktree; running setup again and retrying",
                     commit.short_id());
        const std::string first_failure = outcome.reason;
        fs::remove(setup_marker, ec);
        ok = run_step("setup", m_config.setup, placeholders, worktree, commit, outcome);
        if (ok) {
            write_text(setup_marker, m_fingerprint);
            ok = run_step("build", m_config.command, placeholders, worktree, commit, outcome);
        }
        if (ok) {
            outcome.note = "set up again after the build failed: " + first_failure;
        }
    }
    if (ok && !save_artifacts(m_config.artifacts, worktree, target, outcome.reason)) {
        ok = false;
    }
    remove_clean_worktree();
    return ok;
}

}  // namespace perfbisect
