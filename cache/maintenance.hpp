#pragma once

// Looking after a database and its work directory: what they hold
// (`perfbisect cache stats`) and dropping what no session needs any more
// (`perfbisect cache gc`).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cache/cache.hpp"

namespace perfbisect {

struct CacheStats {
    std::filesystem::path database;
    int schema_version = 0;
    std::uint64_t database_bytes = 0;  // the file with its -wal and -shm
    std::map<std::string, std::int64_t> sessions;  // by status
    std::int64_t samples = 0;          // rows, failed runs included
    std::int64_t samples_reused = 0;   // of them, copies taken over from earlier sessions
    std::int64_t metric_values = 0;
    std::int64_t events = 0;
    std::int64_t builds = 0;
    std::int64_t builds_failed = 0;
    std::int64_t machines = 0;
    std::int64_t artifacts = 0;        // entries of the artifact store
    std::uint64_t artifact_bytes = 0;  // their size as recorded when stored
    std::filesystem::path work_dir;
    std::uint64_t worktree_bytes = 0;  // work/worktrees: the checkouts builds run in
    std::uint64_t log_bytes = 0;       // work/logs
};

// Counts everything; walks work_dir for the sizes of worktrees and logs.
CacheStats cache_stats(Cache& cache, const std::filesystem::path& work_dir);

struct GcOptions {
    double older_than_seconds = 30 * 24 * 3600.0;  // artifacts unused (and sessions finished) this long
    std::uint64_t max_artifacts_bytes = 0;        // then drop the least recently used until they fit; 0 = no limit
    bool sessions = false;   // also delete finished sessions (with their samples) older than that
    bool dry_run = false;    // say what would go, drop nothing
};

struct GcResult {
    std::int64_t artifacts = 0;      // artifact store entries removed
    std::uint64_t artifact_bytes = 0;
    std::int64_t worktrees = 0;      // worktrees of sessions that are no longer running
    std::uint64_t worktree_bytes = 0;
    std::int64_t sessions = 0;       // sessions deleted (only with GcOptions::sessions)
    std::int64_t samples = 0;        // sample rows deleted with them
    std::int64_t orphans = 0;        // rows of sessions that no longer exist
    std::vector<std::string> lines;  // one per thing dropped, for humans
};

// Drops what no running session needs: artifact store entries not built for
// a commit of a running session's range that were last used before the age
// limit (then, beyond max_artifacts_bytes, the least recently used of the
// rest); worktrees of sessions that are not running; rows whose session is
// gone; and with options.sessions, finished sessions last updated before the
// age limit. Running sessions and their samples are never touched; samples
// another session reused stay in it (they are copies). Reports of finished
// sessions need no artifacts, so they keep working.
GcResult collect_garbage(Cache& cache, const std::filesystem::path& work_dir,
                         const GcOptions& options);

}  // namespace perfbisect
