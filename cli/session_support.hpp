#pragma once

// What the subcommands share: where the database and its work directory are,
// checking --format, and running a session to its end with the real builder,
// prober, profiler and terminal progress.

#include <filesystem>
#include <initializer_list>
#include <string>

#include "bisect/repository.hpp"
#include "cache/cache.hpp"
#include "config/config.hpp"
#include "util/process.hpp"

namespace perfbisect {

// --db, else $PERFBISECT_DB, else .perfbisect/perfbisect.db; absolute.
std::filesystem::path database_path(const std::filesystem::path& db);

// Builds, artifacts, profiles and scratch directories live beside the database.
std::filesystem::path work_dir(const std::filesystem::path& db);

// A format not in allowed: usage error listing them.
void check_format(const std::string& format, std::initializer_list<const char*> allowed);

// Runs (or continues) session to its end (bisect/session_runner.hpp), with
// progress on stderr unless quiet. Interrupted: Failure (interrupted) saying
// how to resume; good or bad that cannot be built or probed: Failure (runtime).
// take_over: take a session held by a process on another host (resume --take-over).
void run_to_end(Cache& cache, const std::string& session, const Config& config, bool quiet,
                bool take_over = false);

// The exit code of a session that ended with status (README, "Exit codes").
int exit_code_for(const std::string& status);

// The build of commit with config's build settings: from the cache, or built
// now in a worktree of its own (work/worktrees/measure-<fingerprint>). A
// commit that does not build: Failure (runtime) naming the build log.
BuildRecord build_commit(Cache& cache, Repository& repository, ProcessRunner& runner,
                         const Config& config, const CommitInfo& commit, bool quiet);

}  // namespace perfbisect
