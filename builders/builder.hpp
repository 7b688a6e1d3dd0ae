#pragma once

// Builders turn a commit into saved artifacts. Abstract so that the session
// driver can be tested with scripted build results; LocalBuilder is the real
// one: it exports the commit's tree into a fresh worktree (the user's own
// checkout is never touched), runs the build command there, and copies the
// declared artifacts into a per-commit directory.

#include <filesystem>
#include <string>

#include "bisect/repository.hpp"
#include "config/config.hpp"
#include "util/process.hpp"

namespace perfbisect {

struct BuildOutcome {
    bool ok = false;
    bool interrupted = false;          // stopped by SIGINT/SIGTERM: nothing to record
    std::string reason;                // why it failed, one line
    double seconds = 0;                // wall time of the build command
    std::filesystem::path worktree;    // where the commit was checked out
    std::filesystem::path artifacts_dir;
    std::filesystem::path log_path;    // the build command's stdout and stderr
};

class Builder {
public:
    virtual ~Builder() = default;
    // Never throws for a failing build: that is a result (the commit is skipped).
    virtual BuildOutcome build(const CommitInfo& commit) = 0;
};

// Layout under work_dir:
//   worktrees/<commit>/                 the exported tree, where the build runs
//   artifacts/<fingerprint>/<commit>/   copies of the declared artifacts (by base name)
//   logs/build-<commit>.log             the build's output
class LocalBuilder final : public Builder {
public:
    LocalBuilder(Repository& repository, ProcessRunner& runner, const BuildConfig& config,
                 std::string fingerprint, std::filesystem::path work_dir);

    BuildOutcome build(const CommitInfo& commit) override;

private:
    Repository& m_repository;
    ProcessRunner& m_runner;
    const BuildConfig& m_config;
    std::string m_fingerprint;
    std::filesystem::path m_work_dir;
};

// The argv for a config command with its placeholders expanded: a shell
// command becomes {"/bin/sh", "-c", script} with shell-quoted values.
std::vector<std::string> command_argv(const Command& command,
                                      const std::map<std::string, std::string>& placeholders);

}  // namespace perfbisect
