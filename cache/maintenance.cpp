#include "cache/maintenance.hpp"

#include <chrono>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "builders/artifact_store.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

namespace fs = std::filesystem;

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::int64_t count(Database& db, const std::string& sql) {
    Statement s = db.prepare(sql);
    s.step();
    return s.column_int(0);
}

std::uint64_t file_bytes(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

std::string size_text(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30));
    if (bytes >= (1ULL << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ULL << 20));
    if (bytes >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
    return fmt::format("{} B", bytes);
}

// "session-1a2b3c4d", "session-1a2b3c4d-clean", "session-1a2b3c4d.index" ->
// "1a2b3c4d"; "" for names of other worktrees.
std::string session_of_worktree(const std::string& name) {
    constexpr std::string_view prefix = "session-";
    if (!name.starts_with(prefix)) {
        return {};
    }
    const std::string rest = name.substr(prefix.size());
    return rest.substr(0, rest.find_first_of("-."));
}

}  // namespace

CacheStats cache_stats(Cache& cache, const fs::path& work_dir) {
    Database& db = cache.database();
    CacheStats stats;
    stats.database = cache.path();
    stats.schema_version = db.user_version();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        stats.database_bytes += file_bytes(cache.path().string() + suffix);
    }
    Statement sessions = db.prepare("SELECT status, count(*) FROM sessions GROUP BY status");
    while (sessions.step()) {
        stats.sessions[sessions.column_text(0)] = sessions.column_int(1);
    }
    stats.samples = count(db, "SELECT count(*) FROM samples");
    stats.samples_reused = count(db, "SELECT count(*) FROM samples WHERE reused_from IS NOT NULL");
    stats.metric_values = count(db, "SELECT count(*) FROM metric_values");
    stats.events = count(db, "SELECT count(*) FROM events");
    stats.builds = count(db, "SELECT count(*) FROM builds");
    stats.builds_failed = count(db, "SELECT count(*) FROM builds WHERE ok = 0");
    stats.machines = count(db, "SELECT count(*) FROM machines");
    stats.artifacts = count(db, "SELECT count(*) FROM artifacts");
    stats.artifact_bytes =
        static_cast<std::uint64_t>(count(db, "SELECT coalesce(sum(bytes), 0) FROM artifacts"));
    stats.work_dir = work_dir;
    stats.worktree_bytes = directory_bytes(work_dir / "worktrees");
    stats.log_bytes = directory_bytes(work_dir / "logs");
    return stats;
}

GcResult collect_garbage(Cache& cache, const fs::path& work_dir, const GcOptions& options) {
    Database& db = cache.database();
    GcResult result;
    const double cutoff = now_seconds() - options.older_than_seconds;
    const char* verb = options.dry_run ? "would drop" : "dropped";

    // 1. Finished sessions older than the limit (asked for only).
    if (options.sessions) {
        Statement old = db.prepare(
            "SELECT id, status, updated FROM sessions WHERE status <> 'running' AND updated <= ? "
            "ORDER BY created");
        old.bind(1, static_cast<std::int64_t>(std::ceil(cutoff)));
        std::vector<std::pair<std::string, std::string>> doomed;
        while (old.step()) {
            doomed.emplace_back(old.column_text(0), old.column_text(1));
        }
        for (const auto& [id, status] : doomed) {
            Statement n = db.prepare("SELECT count(*) FROM samples WHERE session_id = ?");
            n.bind(1, id);
            n.step();
            const std::int64_t samples = n.column_int(0);
            result.lines.push_back(
                fmt::format("{} session {} ({}) with its {} samples", verb, id, status, samples));
            ++result.sessions;
            result.samples += samples;
            if (!options.dry_run) {
                cache.delete_session(id);
            }
        }
    }

    // 2. Rows of sessions that no longer exist.
    for (const char* table : {"samples", "metric_values", "events", "commits"}) {
        const auto orphans = count(
            db, fmt::format("SELECT count(*) FROM {} WHERE session_id NOT IN (SELECT id FROM sessions)",
                            table));
        if (orphans > 0) {
            result.orphans += orphans;
            result.lines.push_back(
                fmt::format("{} {} {} rows of sessions that no longer exist", verb, orphans, table));
            if (!options.dry_run) {
                db.exec(fmt::format(
                    "DELETE FROM {} WHERE session_id NOT IN (SELECT id FROM sessions)", table));
            }
        }
    }

    // 3. Artifacts no running session can need.
    std::set<std::pair<std::string, std::string>> needed;
    Statement keep = db.prepare(
        "SELECT DISTINCT b.fingerprint, b.tree_id FROM builds b "
        "JOIN commits c ON c.commit_id = b.commit_id "
        "JOIN sessions s ON s.id = c.session_id WHERE s.status = 'running'");
    while (keep.step()) {
        needed.emplace(keep.column_text(0), keep.column_text(1));
    }
    std::uint64_t total = 0;
    const auto artifacts = cache.list_artifacts();  // least recently used first
    for (const auto& a : artifacts) {
        total += static_cast<std::uint64_t>(a.bytes);
    }
    auto drop = [&](const ArtifactRecord& a, const std::string& why) {
        result.lines.push_back(fmt::format("{} artifacts {} ({}, {})", verb, a.path,
                                           size_text(static_cast<std::uint64_t>(a.bytes)), why));
        ++result.artifacts;
        result.artifact_bytes += static_cast<std::uint64_t>(a.bytes);
        total -= std::min(total, static_cast<std::uint64_t>(a.bytes));
        if (!options.dry_run) {
            std::error_code ec;
            fs::remove_all(a.path, ec);
            cache.remove_artifact(a.fingerprint, a.tree_id);
        }
    };
    std::vector<const ArtifactRecord*> rest;
    for (const auto& a : artifacts) {
        if (needed.contains({a.fingerprint, a.tree_id})) {
            continue;
        }
        if (a.last_used <= cutoff) {
            drop(a, fmt::format("last used {}", format_utc(static_cast<std::int64_t>(a.last_used))));
        } else {
            rest.push_back(&a);
        }
    }
    for (const auto* a : rest) {
        if (options.max_artifacts_bytes == 0 || total <= options.max_artifacts_bytes) {
            break;
        }
        drop(*a, fmt::format("beyond the {} limit", size_text(options.max_artifacts_bytes)));
    }

    // 4. Worktrees of sessions that are not running.
    std::set<std::string> running;
    Statement r = db.prepare("SELECT id FROM sessions WHERE status = 'running'");
    while (r.step()) {
        running.insert(r.column_text(0));
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(work_dir / "worktrees", ec)) {
        const std::string name = entry.path().filename().string();
        const std::string session = session_of_worktree(name);
        if (session.empty() || running.contains(session)) {
            continue;
        }
        const std::uint64_t bytes =
            entry.is_directory() ? directory_bytes(entry.path()) : file_bytes(entry.path());
        if (entry.is_directory()) {
            ++result.worktrees;
            result.lines.push_back(fmt::format("{} worktree {} ({}) of session {}, which is not "
                                               "running",
                                               verb, entry.path().string(), size_text(bytes),
                                               session));
        }
        result.worktree_bytes += bytes;
        if (!options.dry_run) {
            std::error_code remove_ec;
            fs::remove_all(entry.path(), remove_ec);
        }
    }
    if (!options.dry_run && (result.sessions > 0 || result.orphans > 0)) {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    return result;
}

}  // namespace perfbisect
