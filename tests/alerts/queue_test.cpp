#include <catch2/catch.hpp>

#include "alerts/queue.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

QueueEntry entry(const std::string& session, const std::string& key) {
    QueueEntry e;
    e.session = session;
    e.dedup_key = key;
    e.source = "generic";
    e.alert_id = "a-" + session;
    e.test = "t";
    e.config_path = "/p/perfbisect.toml";
    e.config_text = "[build]";
    e.repository = "/p/repo";
    e.good = "aaaa";
    e.bad = "bbbb";
    e.expected_change = 0.25;
    e.min_effect = 0.125;
    return e;
}

}  // namespace

TEST_CASE("queue: entries in a real file, deduplicated by key, bounded", "[queue]") {
    TempDir dir;
    const auto path = dir / "q/p.db";
    {
        AlertQueue queue = AlertQueue::open(path);
        const auto first = queue.enqueue(entry("s1", "k1"), 2);
        CHECK(first.kind == EnqueueOutcome::Kind::added);
        CHECK(first.entry.id > 0);
        CHECK(first.entry.state == "queued");
        CHECK(first.entry.received > 0);

        // The same key: the existing entry, whatever session the duplicate would have had.
        const auto again = queue.enqueue(entry("s9", "k1"), 2);
        CHECK(again.kind == EnqueueOutcome::Kind::duplicate);
        CHECK(again.entry.session == "s1");

        CHECK(queue.enqueue(entry("s2", "k2"), 2).kind == EnqueueOutcome::Kind::added);
        CHECK(queue.pending() == 2);
        CHECK(queue.enqueue(entry("s3", "k3"), 2).kind == EnqueueOutcome::Kind::full);
        // A duplicate is answered even when the queue is full.
        CHECK(queue.enqueue(entry("s4", "k2"), 2).kind == EnqueueOutcome::Kind::duplicate);
    }
    // Reopened: everything is there, with every field.
    AlertQueue queue = AlertQueue::open(path);
    const auto all = queue.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].session == "s1");
    CHECK(all[0].alert_id == "a-s1");
    CHECK(*all[0].expected_change == Approx(0.25));
    CHECK(all[0].min_effect == Approx(0.125));
    CHECK_FALSE(all[0].started);
    CHECK(queue.find_by_session("s2")->dedup_key == "k2");
    CHECK_FALSE(queue.find_by_session("s3"));
}

TEST_CASE("queue: running entries first, then queued in order, claims exclusive", "[queue]") {
    TempDir dir;
    AlertQueue queue = AlertQueue::open(dir / "p.db");
    AlertQueue other = AlertQueue::open(dir / "p.db");  // another process's connection
    const auto a = queue.enqueue(entry("a", "ka"), 10).entry;
    const auto b = queue.enqueue(entry("b", "kb"), 10).entry;
    CHECK(queue.next()->session == "a");
    CHECK(queue.claim(a.id));
    CHECK_FALSE(other.claim(a.id));
    CHECK(queue.find_by_session("a")->started);
    // An entry left running (the process stopped) comes before queued ones.
    CHECK(queue.next()->session == "a");
    queue.mark_done(a.id);
    CHECK(queue.next()->session == "b");
    CHECK(other.claim(b.id));
    queue.mark_failed(b.id, "good does not build");
    CHECK_FALSE(queue.next());
    CHECK(queue.pending() == 0);
    CHECK(queue.find_by_session("b")->state == "failed");
    CHECK(queue.find_by_session("b")->error == "good does not build");
    CHECK(queue.find_by_session("a")->finished);
}

TEST_CASE("queue: notifications are due once, retried when asked, given up", "[queue]") {
    TempDir dir;
    AlertQueue queue = AlertQueue::open(dir / "p.db");
    queue.add_notification("s1", "url");
    queue.add_notification("s1", "url");  // one per target
    queue.add_notification("s1", "command");
    auto due = queue.due_notifications(1e12);
    REQUIRE(due.size() == 2);
    const auto url = due[0].target == "url" ? due[0] : due[1];
    queue.record_delivery(url.id, false, "HTTP 503", 2e12, false);
    due = queue.due_notifications(1e12);
    REQUIRE(due.size() == 1);  // the url waits for its retry
    CHECK(due[0].target == "command");
    queue.record_delivery(due[0].id, true, "", 0, false);
    due = queue.due_notifications(3e12);
    REQUIRE(due.size() == 1);
    CHECK(due[0].attempts == 1);
    CHECK(due[0].last_error == "HTTP 503");
    queue.record_delivery(due[0].id, false, "HTTP 503", 0, true);
    CHECK(queue.due_notifications(3e12).empty());
    const auto all = queue.notifications("s1");
    REQUIRE(all.size() == 2);
    CHECK(all[0].state == "failed");
    CHECK(all[0].attempts == 2);
    CHECK(all[1].state == "delivered");
}
