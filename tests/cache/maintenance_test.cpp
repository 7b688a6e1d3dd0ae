#include <catch2/catch.hpp>

#include <chrono>

#include "cache/maintenance.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

CommitRange range_of(const std::vector<std::string>& ids) {
    CommitRange range;
    for (const auto& id : ids) {
        range.commits.push_back({id, "subject " + id, "A <a@x>", 1});
    }
    return range;
}

// An artifact store entry whose files exist, built for `commit`.
void add_artifact(Cache& cache, const std::filesystem::path& work, const std::string& commit,
                  const std::string& tree, double last_used, const std::string& session) {
    const auto dir = work / "artifacts" / "fp" / tree;
    write_file(dir / "bench", std::string(1000, 'x'));
    cache.store_artifact({"fp", tree, dir.string(), 1000, last_used, last_used});
    cache.store_build({commit, "fp", true, "", 1, dir.string(), "", "", session, 0, tree, false});
}

double now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("cache gc drops what no running session needs, and only that", "[cache][gc]") {
    TempDir dir;
    const auto work = dir / "work";
    Cache cache = Cache::open(dir / "p.db");
    const std::string running = cache.create_session(SessionRecord{}, range_of({"a1", "a2"})).id;
    SessionRecord finished_record;
    finished_record.status = "culprit_found";
    const std::string finished =
        cache.create_session(finished_record, range_of({"b1", "b2"})).id;
    const double old = now() - 100 * 24 * 3600.0;
    add_artifact(cache, work, "a1", "ta1", old, running);         // old, but a running session's
    add_artifact(cache, work, "b1", "tb1", old, finished);        // old, nobody's: dropped
    add_artifact(cache, work, "b2", "tb2", now(), finished);      // recent: kept, unless over size
    SampleRecord s;
    s.commit = "b1";
    cache.store_samples(finished, {s, s});
    cache.append_event("gone", "session", "of a session that no longer exists");
    write_file(work / "worktrees" / ("session-" + finished) / "file", "x");
    write_file(work / "worktrees" / ("session-" + finished + ".index"), "x");
    write_file(work / "worktrees" / ("session-" + running) / "file", "x");
    write_file(work / "worktrees" / "measure-0123abcd" / "file", "x");

    GcOptions options;
    options.dry_run = true;
    GcResult dry = collect_garbage(cache, work, options);
    CHECK(dry.artifacts == 1);
    CHECK(dry.worktrees == 1);
    CHECK(dry.orphans == 1);
    CHECK(cache.list_artifacts().size() == 3);  // a dry run drops nothing
    CHECK(std::filesystem::exists(work / "worktrees" / ("session-" + finished)));

    options.dry_run = false;
    GcResult result = collect_garbage(cache, work, options);
    CHECK(result.artifacts == 1);
    CHECK(result.artifact_bytes == 1000);
    CHECK_FALSE(cache.find_artifact("fp", "tb1").has_value());
    CHECK_FALSE(std::filesystem::exists(work / "artifacts" / "fp" / "tb1"));
    CHECK(cache.find_artifact("fp", "ta1").has_value());
    CHECK(cache.find_artifact("fp", "tb2").has_value());
    CHECK_FALSE(std::filesystem::exists(work / "worktrees" / ("session-" + finished)));
    CHECK_FALSE(std::filesystem::exists(work / "worktrees" / ("session-" + finished + ".index")));
    CHECK(std::filesystem::exists(work / "worktrees" / ("session-" + running)));
    CHECK(std::filesystem::exists(work / "worktrees" / "measure-0123abcd"));
    CHECK(cache.load_events("gone").empty());
    CHECK(cache.load_samples(finished).size() == 2);  // sessions only go with --sessions

    // A size limit drops the least recently used of what is not needed.
    options.max_artifacts_bytes = 500;
    CHECK(collect_garbage(cache, work, options).artifacts == 1);
    CHECK_FALSE(cache.find_artifact("fp", "tb2").has_value());
    CHECK(cache.find_artifact("fp", "ta1").has_value());

    // --sessions: finished sessions older than the limit, with their samples.
    options.sessions = true;
    options.older_than_seconds = 0;
    const GcResult sessions = collect_garbage(cache, work, options);
    CHECK(sessions.sessions == 1);
    CHECK(sessions.samples == 2);
    CHECK_FALSE(cache.find_session(finished).has_value());
    CHECK(cache.find_session(running).has_value());

    const CacheStats stats = cache_stats(cache, work);
    CHECK(stats.schema_version == Cache::k_schema_version);
    CHECK(stats.sessions.at("running") == 1);
    CHECK(stats.artifacts == 1);
    CHECK(stats.database_bytes > 0);
}
