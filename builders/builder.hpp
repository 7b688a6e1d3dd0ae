#pragma once

// Builders turn a commit into saved artifacts. Abstract so that the session
// driver can be tested with scripted build results; LocalBuilder is the real
// one: it checks the commit out into a worktree it owns (the user's own
// checkout is never touched), runs the setup and build commands there, and
// saves the declared artifacts in the artifact store.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bisect/repository.hpp"
#include "builders/artifact_store.hpp"
#include "config/config.hpp"
#include "util/process.hpp"

namespace perfbisect {

struct BuildOutcome {
    bool ok = false;
    bool interrupted = false;          // stopped by SIGINT/SIGTERM: nothing to record
    bool reused = false;               // nothing ran: the saved artifacts of the same tree were used
    std::string reason;                // why it failed, one line
    std::string note;                  // how it went when that is worth telling (fetch fell back, …)
    double seconds = 0;                // wall time of checkout, setup, build and saving
    std::string tree;                  // the commit's tree id ("" when unknown)
    std::filesystem::path worktree;    // where the probe runs: the artifacts directory when
                                       // the checkout does not outlive the build
    std::filesystem::path artifacts_dir;
    std::filesystem::path log_path;    // the output of the step that ran last (or failed)
};

class Builder {
public:
    virtual ~Builder() = default;
    // Never throws for a failing build: that is a result (the commit is skipped).
    virtual BuildOutcome build(const CommitInfo& commit) = 0;
};

// Where a LocalBuilder works and what it must keep.
struct BuildPlace {
    std::filesystem::path work_dir;       // holds worktrees/ and logs/
    std::string worktree_name = "default";  // the reusable worktree: worktrees/<name>
    std::vector<std::string> keep;        // commits whose artifacts are never evicted (good, bad)
};

// Layout under work_dir:
//   worktrees/<name>/             the incremental worktree (strategies incremental, fetch)
//   worktrees/<name>-clean/       strategy clean: one commit at a time, removed after its build
//   worktrees/<name>.index        what the worktree holds (a git index of its own)
//   worktrees/<name>.setup        present when setup succeeded in the worktree
//   worktrees/<name>.lock         held while building: one builder per worktree at a time
//   logs/{setup,build,fetch}-<commit>.log
// and the artifacts in the ArtifactStore.
class LocalBuilder final : public Builder {
public:
    LocalBuilder(Repository& repository, ProcessRunner& runner, ArtifactStore& store,
                 const BuildConfig& config, std::string fingerprint, BuildPlace place);

    BuildOutcome build(const CommitInfo& commit) override;

private:
    // Runs one step of the build (setup, command, fetch) with its log; a
    // failure sets outcome.reason and returns false.
    bool run_step(const char* step, const Command& command,
                  const std::map<std::string, std::string>& placeholders,
                  const std::filesystem::path& cwd, const CommitInfo& commit,
                  BuildOutcome& outcome);
    bool fetch(const CommitInfo& commit, const std::filesystem::path& target,
               BuildOutcome& outcome);
    bool build_in_worktree(const CommitInfo& commit, const std::filesystem::path& target,
                           BuildOutcome& outcome);
    std::map<std::string, std::string> environment(const std::filesystem::path& worktree) const;

    Repository& m_repository;
    ProcessRunner& m_runner;
    ArtifactStore& m_store;
    const BuildConfig& m_config;
    std::string m_fingerprint;
    BuildPlace m_place;
    std::optional<std::filesystem::path> m_ccache;  // the ccache program, when found and wanted
};

// The argv for a config command with its placeholders expanded: a shell
// command becomes {"/bin/sh", "-c", script} with shell-quoted values.
std::vector<std::string> command_argv(const Command& command,
                                      const std::map<std::string, std::string>& placeholders);

// The program's path, searched in $PATH like a shell would, or nullopt.
std::optional<std::filesystem::path> find_program(const std::string& name);

}  // namespace perfbisect
