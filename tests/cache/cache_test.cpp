#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "cache/cache.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

CommitRange three_commits() {
    CommitRange range;
    range.commits = {{"aaaa", "first", "A <a@x>", 1}, {"bbbb", "second", "B <b@x>", 2},
                     {"cccc", "third", "C <c@x>", 3}};
    return range;
}

}  // namespace

TEST_CASE("cache stores sessions, ranges, builds, samples and events in a real file",
          "[cache]") {
    TempDir dir;
    const auto path = dir / "sub/dir/perfbisect.db";
    std::string id;
    {
        Cache cache = Cache::open(path);
        SessionRecord record;
        record.good = "v1";
        record.bad = "v2";
        record.config_path = "/x/c.toml";
        record.config_text = "[build]";
        record.metric = "wall";
        record.direction = "lower";
        id = cache.create_session(record, three_commits()).id;
        CHECK(id.size() == 8);

        cache.store_build(
            {"bbbb", "fp", true, "", 1.5, "/art/bbbb", "/wt/bbbb", "/log", id, 0, "tb", false});
        cache.store_build(
            {"cccc", "fp", false, "exit code 2", 0.5, "", "", "/log2", id, 0, "tc", false});
        SampleRecord s;
        s.commit = "bbbb";
        s.round = 1;
        s.run = 1;
        s.value = 12.5;
        s.build_fingerprint = "fp";
        s.probe_fingerprint = "pp";
        SampleRecord failed = s;
        failed.run = 2;
        failed.ok = false;
        failed.failure = "exit code 1";
        cache.store_samples(id, {s, failed});
        cache.append_event(id, "decision", "bbbb is good", R"({"position":1})");
        cache.finish_session(id, "culprit_found", "culprit at position 2");
        cache.add_wall_seconds(id, 3.25);
    }
    // Everything is there after reopening.
    Cache cache = Cache::open(path);
    auto session = cache.find_session(id);
    REQUIRE(session.has_value());
    CHECK(session->good == "v1");
    CHECK(session->status == "culprit_found");
    CHECK(session->stop_reason == "culprit at position 2");
    CHECK(session->wall_seconds == Approx(3.25));
    CHECK(cache.list_sessions().size() == 1);
    CHECK_FALSE(cache.find_session("nope").has_value());

    const auto range = cache.load_range(id);
    REQUIRE(range.size() == 3);
    CHECK(range.good().id == "aaaa");
    CHECK(range.bad().subject == "third");

    auto build = cache.find_build("bbbb", "fp");
    REQUIRE(build.has_value());
    CHECK(build->ok);
    CHECK(build->artifacts_dir == "/art/bbbb");
    CHECK_FALSE(cache.find_build("bbbb", "other").has_value());
    CHECK(cache.find_build("cccc", "fp")->reason == "exit code 2");
    CHECK(cache.builds_by_session(id).size() == 2);
    const auto of_range = cache.builds_of_range(id, "fp");
    REQUIRE(of_range.size() == 2);
    CHECK(cache.builds_of_range(id, "other").empty());
    CHECK(cache.builds_of_range("no-such-session", "fp").empty());

    const auto samples = cache.load_samples(id);
    REQUIRE(samples.size() == 2);
    CHECK(samples[0].ok);
    CHECK(samples[0].value == 12.5);
    CHECK(samples[0].timestamp > 1.7e9);
    CHECK_FALSE(samples[1].ok);
    CHECK(samples[1].failure == "exit code 1");
    const auto events = cache.load_events(id);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == "decision");
}

TEST_CASE("cache uses WAL and refuses a newer schema", "[cache]") {
    TempDir dir;
    const auto path = dir / "c.db";
    { Cache::open(path); }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
    sqlite3_finalize(stmt);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);

    try {
        Cache::open(path);
        FAIL("a newer schema was accepted");
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::runtime);
        CHECK(std::string(failure.what()).find("newer") != std::string::npos);
    }
}

TEST_CASE("samples keep the output of failed runs and the values of the other metrics",
          "[cache]") {
    TempDir dir;
    const auto path = dir / "c.db";
    std::string id;
    {
        Cache cache = Cache::open(path);
        id = cache.create_session(SessionRecord{}, three_commits()).id;
        SampleRecord ok;
        ok.commit = "aaaa";
        ok.run = 1;
        ok.value = 1.5;
        SampleRecord failed;
        failed.commit = "aaaa";
        failed.run = 2;
        failed.ok = false;
        failed.failure = "probe `b` exit code 1: boom";
        failed.output = "stderr:\nboom\n";
        cache.store_samples(id, {ok, failed},
                            {MetricValueRecord{"aaaa", 1, "maxrss", 2048},
                             MetricValueRecord{"aaaa", 1, "cpu", 0.25}});
    }
    Cache cache = Cache::open(path);
    const auto samples = cache.load_samples(id);
    REQUIRE(samples.size() == 2);
    CHECK(samples[0].output.empty());
    CHECK(samples[1].output == "stderr:\nboom\n");
    const auto values = cache.load_metric_values(id);
    REQUIRE(values.size() == 2);
    CHECK(values[0].commit == "aaaa");
    CHECK(values[0].run == 1);
    CHECK(values[0].metric == "maxrss");
    CHECK(values[0].value == 2048);
    CHECK(values[1].metric == "cpu");
}

TEST_CASE("the artifacts table orders entries by last use", "[cache]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "c.db");
    cache.store_artifact({"fp", "t1", "/a/t1", 100, 0, 1.0});
    cache.store_artifact({"fp", "t2", "/a/t2", 200, 0, 2.0});
    cache.store_artifact({"fp2", "t1", "/b/t1", 300, 0, 3.0});
    REQUIRE(cache.find_artifact("fp", "t2").has_value());
    CHECK(cache.find_artifact("fp", "t2")->bytes == 200);
    CHECK_FALSE(cache.find_artifact("fp", "t3").has_value());
    cache.touch_artifact("fp", "t1");  // now: the most recently used
    auto listed = cache.list_artifacts();
    REQUIRE(listed.size() == 3);
    CHECK(listed[0].tree_id == "t2");
    CHECK(listed[1].fingerprint == "fp2");
    CHECK(listed[2].path == "/a/t1");
    cache.remove_artifact("fp", "t2");
    CHECK(cache.list_artifacts().size() == 2);
}

TEST_CASE("a schema 1 database is migrated forward, keeping its samples and builds", "[cache]") {
    TempDir dir;
    const auto path = dir / "c.db";
    std::string id;
    {
        Cache cache = Cache::open(path);
        id = cache.create_session(SessionRecord{}, three_commits()).id;
        SampleRecord sample;
        sample.commit = "bbbb";
        sample.value = 3;
        cache.store_samples(id, {sample});
        cache.store_build({"bbbb", "fp", true, "", 1.5, "/art", "/wt", "/log", "s", 0, "", false});
    }
    // Back to schema 1, as an older perfbisect left it.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "DROP TABLE metric_values; ALTER TABLE samples DROP COLUMN output; "
                         "DROP TABLE artifacts; ALTER TABLE builds DROP COLUMN tree_id; "
                         "ALTER TABLE builds DROP COLUMN reused; PRAGMA user_version = 1",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);

    Cache cache = Cache::open(path);
    const auto samples = cache.load_samples(id);
    REQUIRE(samples.size() == 1);
    CHECK(samples[0].value == 3);
    CHECK(samples[0].output.empty());
    CHECK(cache.load_metric_values(id).empty());
    const auto build = cache.find_build("bbbb", "fp");
    REQUIRE(build.has_value());
    CHECK(build->ok);
    CHECK(build->tree_id.empty());
    CHECK_FALSE(build->reused);
    cache.store_artifact({"fp", "t", "/a", 1, 0, 0});
    CHECK(cache.list_artifacts().size() == 1);
}
