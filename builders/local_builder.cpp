#include "builders/builder.hpp"

#include <spdlog/spdlog.h>

#include "config/placeholders.hpp"
#include "util/text.hpp"

namespace perfbisect {

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

LocalBuilder::LocalBuilder(Repository& repository, ProcessRunner& runner,
                           const BuildConfig& config, std::string fingerprint,
                           std::filesystem::path work_dir)
    : m_repository(repository),
      m_runner(runner),
      m_config(config),
      m_fingerprint(std::move(fingerprint)),
      m_work_dir(std::move(work_dir)) {}

BuildOutcome LocalBuilder::build(const CommitInfo& commit) {
    namespace fs = std::filesystem;
    BuildOutcome outcome;
    outcome.worktree = m_work_dir / "worktrees" / commit.id;
    outcome.artifacts_dir = m_work_dir / "artifacts" / m_fingerprint / commit.id;
    outcome.log_path = m_work_dir / "logs" / ("build-" + commit.id + ".log");

    std::error_code ec;
    fs::create_directories(outcome.log_path.parent_path(), ec);
    if (auto exported = m_repository.export_tree(commit.id, outcome.worktree); !exported) {
        outcome.reason = "checkout failed: " + exported.error().message;
        return outcome;
    }

    ProcessSpec spec;
    spec.argv = command_argv(m_config.command, {{"commit", commit.id},
                                                {"short", commit.short_id()},
                                                {"worktree", outcome.worktree.string()}});
    spec.cwd = outcome.worktree;
    spec.env = m_config.env;
    spec.timeout = m_config.timeout;
    spec.stdout_path = outcome.log_path;
    spec.stderr_path = outcome.log_path;
    spdlog::debug("building {} in {}", commit.short_id(), outcome.worktree.string());
    const ProcessResult result = m_runner.run(spec);
    outcome.seconds = result.wall_seconds;
    if (result.interrupted) {
        outcome.interrupted = true;
        outcome.reason = "interrupted";
        return outcome;
    }
    if (!result.succeeded()) {
        const std::string tail = one_line(read_file_tail(outcome.log_path, 300));
        outcome.reason = "build command " + result.describe() +
                         (tail.empty() ? "" : ": " + tail);
        return outcome;
    }

    fs::remove_all(outcome.artifacts_dir, ec);
    fs::create_directories(outcome.artifacts_dir, ec);
    if (ec) {
        outcome.reason = fmt::format("cannot create {}: {}", outcome.artifacts_dir.string(),
                                     ec.message());
        return outcome;
    }
    for (const auto& artifact : m_config.artifacts) {
        const fs::path source = outcome.worktree / artifact;
        if (!fs::exists(source)) {
            outcome.reason = fmt::format(
                "artifact '{}' is missing after the build (check [build] artifacts)", artifact);
            return outcome;
        }
        fs::copy(source, outcome.artifacts_dir / source.filename(),
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing |
                     fs::copy_options::copy_symlinks,
                 ec);
        if (ec) {
            outcome.reason =
                fmt::format("cannot save artifact '{}': {}", artifact, ec.message());
            return outcome;
        }
    }
    outcome.ok = true;
    return outcome;
}

}  // namespace perfbisect
