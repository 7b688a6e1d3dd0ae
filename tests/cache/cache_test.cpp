#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <unistd.h>

#include <fmt/format.h>

#include "bisect/session_driver.hpp"
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

TEST_CASE("the foundation's schema 1 fixture is migrated to the current schema keeping its data",
          "[cache][migration]") {
    TempDir dir;
    const auto path = dir / "v1.db";
    std::filesystem::copy_file(PERFBISECT_SOURCE_DIR "/tests/data/cache/schema-v1.db", path);
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        sqlite3_stmt* stmt = nullptr;
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
        REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
        CHECK(sqlite3_column_int(stmt, 0) == 1);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
    }
    Cache cache = Cache::open(path);
    CHECK(cache.database().user_version() == Cache::k_schema_version);
    const auto session = cache.session("f1c7e001");
    CHECK(session.status == "running");
    CHECK(session.good == "v1.0");
    CHECK(session.machine.empty());  // from before machines were recorded
    CHECK(session.lease.empty());
    CHECK(session.wall_seconds == Approx(12.5));
    CHECK(cache.load_range(session.id).size() == 24);
    const auto samples = cache.load_samples(session.id);
    REQUIRE(samples.size() == 16);
    CHECK(samples[0].id > 0);
    CHECK(samples[0].output.empty());
    CHECK(samples[0].machine.empty());
    CHECK(samples[0].reused_from.empty());
    const auto totals = cache.sample_totals(session.id);
    CHECK(totals.values == 16);
    CHECK(totals.runs == 16);
    CHECK(totals.max_round == 8);
    CHECK(totals.reused_values == 0);
    // The stored config still parses, and its fingerprint is the fixture's builds'.
    const Config config = session_config(session);
    CHECK(cache.builds_of_range(session.id, config.build_fingerprint()).size() == 2);
    CHECK(samples[0].probe_fingerprint == config.probe_fingerprint());
    CHECK(cache.load_events(session.id).size() == 1);
    // New tables work on the migrated file.
    cache.store_artifact({"fp", "t", "/a", 1, 0, 0});
    CHECK(cache.list_artifacts().size() == 1);
    cache.store_machine(this_machine());
    CHECK(cache.find_machine(this_machine().fingerprint()).has_value());
}

TEST_CASE("a nested transaction is a savepoint: the outer one decides", "[cache]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "c.db");
    const std::string id = cache.create_session(SessionRecord{}, three_commits()).id;
    SampleRecord s;
    s.commit = "aaaa";
    s.value = 1;
    {
        Transaction outer(cache.database());
        cache.store_samples(id, {s, s});  // its own transaction, nested
        CHECK(cache.load_samples(id).size() == 2);
    }  // rolled back
    CHECK(cache.load_samples(id).empty());
    {
        Transaction outer(cache.database());
        cache.store_samples(id, {s});
        outer.commit();
    }
    CHECK(cache.load_samples(id).size() == 1);
}

TEST_CASE("samples are read incrementally and counted in one query", "[cache]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "c.db");
    const std::string id = cache.create_session(SessionRecord{}, three_commits()).id;
    const std::string other = cache.create_session(SessionRecord{}, three_commits()).id;
    std::vector<SampleRecord> batch;
    for (int run = 1; run <= 4; ++run) {
        SampleRecord s;
        s.commit = run % 2 ? "aaaa" : "cccc";
        s.round = (run + 1) / 2;
        s.run = run;
        s.value = run;
        s.ok = run != 3;
        s.node = run == 4 ? "n2" : "";  // schema 7: the cluster node, "" = here
        batch.push_back(s);
    }
    cache.store_samples(id, batch);
    cache.store_samples(other, batch);
    const auto first = cache.load_samples_after(id, 0);
    REQUIRE(first.size() == 4);
    CHECK(first[0].id < first[1].id);
    CHECK(first[3].node == "n2");
    CHECK(first[0].node.empty());
    std::vector<std::string> nodes;
    cache.visit_samples_after(
        id, 0, [&](const Cache::SampleView& view) { nodes.emplace_back(view.node); });
    CHECK(nodes == std::vector<std::string>{"", "", "", "n2"});
    CHECK(cache.load_samples_after(id, first[1].id).size() == 2);
    CHECK(cache.load_samples_after(id, first[3].id).empty());
    const auto totals = cache.sample_totals(id);
    CHECK(totals.values == 3);
    CHECK(totals.failed == 1);
    CHECK(totals.runs == 4);
    CHECK(totals.max_round == 2);
    CHECK(totals.max_run == 4);
    CHECK(cache.sample_totals("none").runs == 0);
}

TEST_CASE("reuse copies other sessions' own samples once, with rounds kept apart",
          "[cache][reuse]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "c.db");
    auto sample = [](const std::string& commit, std::int64_t round, std::int64_t run,
                     double value, const std::string& machine) {
        SampleRecord s;
        s.commit = commit;
        s.round = round;
        s.run = run;
        s.value = value;
        s.build_fingerprint = "bfp";
        s.probe_fingerprint = "pfp";
        s.machine = machine;
        return s;
    };
    const std::string a = cache.create_session(SessionRecord{}, three_commits()).id;
    SampleRecord on_node = sample("cccc", 2, 4, 21, "m1");
    on_node.node = "n4";
    cache.store_samples(a,
                        {sample("aaaa", 1, 1, 10, "m1"), sample("cccc", 1, 2, 20, "m1"),
                         sample("aaaa", 2, 3, 11, "m1"), on_node},
                        {MetricValueRecord{"aaaa", 3, "maxrss", 512}});
    SampleRecord other_probe = sample("bbbb", 3, 5, 99, "m1");
    other_probe.probe_fingerprint = "changed";
    SampleRecord elsewhere = sample("bbbb", 3, 6, 98, "m2");
    cache.store_samples(a, {other_probe, elsewhere});

    // b takes a's samples of this machine and probe, as they were.
    const std::string b = cache.create_session(SessionRecord{}, three_commits()).id;
    const auto reused = cache.reuse_samples(b, "bfp", "pfp", std::string("m1"));
    CHECK(reused.samples == 4);
    CHECK(reused.commits == 2);
    CHECK(reused.sessions == std::vector<std::string>{a});
    auto copies = cache.load_samples(b);
    REQUIRE(copies.size() == 4);
    CHECK(copies[0].round == 1);
    CHECK(copies[3].round == 2);
    CHECK(copies[3].run == 4);
    CHECK(copies[2].value == 11);
    CHECK(copies[0].reused_from == a);
    CHECK(copies[3].node == "n4");
    CHECK(cache.load_metric_values(b).size() == 1);
    CHECK(cache.load_metric_values(b)[0].run == 3);
    CHECK(cache.sample_totals(b).reused_values == 4);
    CHECK(cache.sample_totals(b).reused_runs == 4);

    // b measures more of its own; c takes a's and b's own, each once, with
    // b's rounds after a's.
    cache.store_samples(b, {sample("bbbb", 3, 5, 15, "m1")});
    const std::string c = cache.create_session(SessionRecord{}, three_commits()).id;
    const auto again = cache.reuse_samples(c, "bfp", "pfp", std::string("m1"));
    CHECK(again.samples == 5);
    CHECK(again.sessions == std::vector<std::string>{a, b});
    copies = cache.load_samples(c);
    REQUIRE(copies.size() == 5);
    CHECK(copies[4].value == 15);
    CHECK(copies[4].reused_from == b);
    CHECK(copies[4].round == 3);  // b's round 3 becomes the first after a's two rounds
    CHECK(copies[4].run == 5);

    // Any machine: m2's sample too; another build fingerprint: nothing.
    const std::string d = cache.create_session(SessionRecord{}, three_commits()).id;
    CHECK(cache.reuse_samples(d, "bfp", "pfp", std::nullopt).samples == 6);
    const std::string e = cache.create_session(SessionRecord{}, three_commits()).id;
    CHECK(cache.reuse_samples(e, "other", "pfp", std::nullopt).samples == 0);
}

TEST_CASE("a session's lease is held by one live process and reclaimed from a dead one",
          "[cache][lease]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "c.db");
    const std::string id = cache.create_session(SessionRecord{}, three_commits()).id;
    const ProcessIdentity self = this_process();
    CHECK_FALSE(cache.acquire_lease(id, self).has_value());
    CHECK_FALSE(cache.acquire_lease(id, self).has_value());  // ours already
    CHECK(ProcessIdentity::parse(cache.session(id).lease) == self);

    // A live holder: this process's parent, seen from a "new" identity of ours.
    ProcessIdentity holder = identity_of(::getppid());
    cache.release_lease(id, self);
    CHECK(cache.session(id).lease.empty());
    CHECK_FALSE(cache.acquire_lease(id, holder).has_value());
    try {
        cache.acquire_lease(id, self);
        FAIL("a live holder's lease was taken");
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::runtime);
        CHECK(std::string(failure.what()).find(fmt::format("process {}", holder.pid)) !=
              std::string::npos);
    }
    // A holder that is gone (same pid, another start: the pid was recycled).
    cache.release_lease(id, holder);
    ProcessIdentity dead = holder;
    dead.start += 1;
    cache.acquire_lease(id, dead);
    const auto reclaimed = cache.acquire_lease(id, self);
    REQUIRE(reclaimed.has_value());
    CHECK(*reclaimed == dead);

    // A holder on another host cannot be checked: taken only when asked.
    cache.release_lease(id, self);
    ProcessIdentity remote = self;
    remote.host = "elsewhere";
    cache.acquire_lease(id, remote);
    CHECK_THROWS_AS(cache.acquire_lease(id, self), Failure);
    CHECK(cache.acquire_lease(id, self, true).has_value());
}

TEST_CASE("an aborted session keeps its status and its samples", "[cache]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "c.db");
    const std::string id = cache.create_session(SessionRecord{}, three_commits()).id;
    SampleRecord s;
    s.commit = "aaaa";
    cache.store_samples(id, {s});
    CHECK(cache.abort_session(id, "by hand"));
    CHECK_FALSE(cache.abort_session(id, "again"));
    cache.finish_session(id, "culprit_found", "late");  // a driver that had not noticed
    CHECK(cache.session_status(id) == "aborted");
    CHECK(cache.session(id).stop_reason == "by hand");
    CHECK(cache.load_samples(id).size() == 1);
    cache.delete_session(id);
    CHECK_FALSE(cache.find_session(id).has_value());
    CHECK(cache.load_samples(id).empty());
}
