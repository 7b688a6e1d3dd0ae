#include "alerts/queue.hpp"

#include <chrono>

#include <sqlite3.h>

#include <fmt/format.h>

#include "cache/cache.hpp"

namespace perfbisect {
namespace {

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

constexpr const char* k_columns =
    "id, session_id, dedup_key, state, source, alert_id, test, metric, config_path, config_text, "
    "repository, good, bad, expected_change, min_effect, received, started, finished, error";

std::optional<double> optional_double(const Statement& s, int index) {
    return s.column_is_null(index) ? std::nullopt : std::optional<double>(s.column_double(index));
}

QueueEntry read_entry(const Statement& s) {
    QueueEntry e;
    e.id = s.column_int(0);
    e.session = s.column_text(1);
    e.dedup_key = s.column_text(2);
    e.state = s.column_text(3);
    e.source = s.column_text(4);
    e.alert_id = s.column_text(5);
    e.test = s.column_text(6);
    e.metric = s.column_text(7);
    e.config_path = s.column_text(8);
    e.config_text = s.column_text(9);
    e.repository = s.column_text(10);
    e.good = s.column_text(11);
    e.bad = s.column_text(12);
    e.expected_change = optional_double(s, 13);
    e.min_effect = s.column_double(14);
    e.received = s.column_double(15);
    e.started = optional_double(s, 16);
    e.finished = optional_double(s, 17);
    e.error = s.column_text(18);
    return e;
}

Notification read_notification(const Statement& s) {
    Notification n;
    n.id = s.column_int(0);
    n.session = s.column_text(1);
    n.target = s.column_text(2);
    n.state = s.column_text(3);
    n.attempts = static_cast<int>(s.column_int(4));
    n.next_attempt = s.column_double(5);
    n.last_error = s.column_text(6);
    return n;
}

constexpr const char* k_notification_columns =
    "id, session_id, target, state, attempts, next_attempt, last_error";

}  // namespace

AlertQueue AlertQueue::open(const std::filesystem::path& path) {
    Cache::open(path);  // creates the file and runs the migrations, the queue's included
    AlertQueue queue(Database::open(path));
    queue.m_db.exec("PRAGMA busy_timeout = 10000");
    queue.m_db.exec("PRAGMA synchronous = NORMAL");
    return queue;
}

EnqueueOutcome AlertQueue::enqueue(QueueEntry entry, int limit) {
    Transaction tx(m_db);
    {
        Statement s =
            m_db.prepare(fmt::format("SELECT {} FROM alert_queue WHERE dedup_key = ?", k_columns));
        s.bind(1, entry.dedup_key);
        if (s.step()) {
            return EnqueueOutcome{EnqueueOutcome::Kind::duplicate, read_entry(s)};
        }
    }
    if (pending() >= limit) {
        return EnqueueOutcome{EnqueueOutcome::Kind::full, std::move(entry)};
    }
    entry.state = "queued";
    entry.received = now_seconds();
    entry.started.reset();
    entry.finished.reset();
    m_db.prepare(
            "INSERT INTO alert_queue (session_id, dedup_key, state, source, alert_id, test, "
            "metric, config_path, config_text, repository, good, bad, expected_change, "
            "min_effect, received) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .bind(1, entry.session)
        .bind(2, entry.dedup_key)
        .bind(3, entry.state)
        .bind(4, entry.source)
        .bind(5, entry.alert_id)
        .bind(6, entry.test)
        .bind(7, entry.metric)
        .bind(8, entry.config_path)
        .bind(9, entry.config_text)
        .bind(10, entry.repository)
        .bind(11, entry.good)
        .bind(12, entry.bad)
        .bind(13, entry.expected_change)
        .bind(14, entry.min_effect)
        .bind(15, entry.received)
        .run();
    entry.id = m_db.last_insert_rowid();
    tx.commit();
    return EnqueueOutcome{EnqueueOutcome::Kind::added, std::move(entry)};
}

std::optional<QueueEntry> AlertQueue::find_by_session(const std::string& session) {
    Statement s =
        m_db.prepare(fmt::format("SELECT {} FROM alert_queue WHERE session_id = ?", k_columns));
    s.bind(1, session);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_entry(s);
}

std::vector<QueueEntry> AlertQueue::list() {
    Statement s = m_db.prepare(fmt::format("SELECT {} FROM alert_queue ORDER BY id", k_columns));
    std::vector<QueueEntry> out;
    while (s.step()) {
        out.push_back(read_entry(s));
    }
    return out;
}

int AlertQueue::pending() {
    Statement s =
        m_db.prepare("SELECT count(*) FROM alert_queue WHERE state IN ('queued', 'running')");
    s.step();
    return static_cast<int>(s.column_int(0));
}

std::optional<QueueEntry> AlertQueue::next() {
    Statement s =
        m_db.prepare(fmt::format("SELECT {} FROM alert_queue WHERE state IN ('queued', 'running') "
                                 "ORDER BY state = 'running' DESC, id LIMIT 1",
                                 k_columns));
    if (!s.step()) {
        return std::nullopt;
    }
    return read_entry(s);
}

bool AlertQueue::claim(std::int64_t id) {
    m_db.prepare(
            "UPDATE alert_queue SET state = 'running', started = ? "
            "WHERE id = ? AND state = 'queued'")
        .bind(1, now_seconds())
        .bind(2, id)
        .run();
    return sqlite3_changes(m_db.handle()) == 1;
}

void AlertQueue::mark_done(std::int64_t id) {
    m_db.prepare("UPDATE alert_queue SET state = 'done', finished = ?, error = '' WHERE id = ?")
        .bind(1, now_seconds())
        .bind(2, id)
        .run();
}

void AlertQueue::mark_failed(std::int64_t id, const std::string& error) {
    m_db.prepare("UPDATE alert_queue SET state = 'failed', finished = ?, error = ? WHERE id = ?")
        .bind(1, now_seconds())
        .bind(2, error)
        .bind(3, id)
        .run();
}

void AlertQueue::add_notification(const std::string& session, const std::string& target) {
    const double now = now_seconds();
    m_db.prepare(
            "INSERT OR IGNORE INTO notifications (session_id, target, state, next_attempt, "
            "created, updated) VALUES (?, ?, 'pending', ?, ?, ?)")
        .bind(1, session)
        .bind(2, target)
        .bind(3, now)
        .bind(4, now)
        .bind(5, now)
        .run();
}

std::vector<Notification> AlertQueue::due_notifications(double now) {
    Statement s = m_db.prepare(
        fmt::format("SELECT {} FROM notifications WHERE state = 'pending' AND next_attempt <= ? "
                    "ORDER BY next_attempt, id",
                    k_notification_columns));
    s.bind(1, now);
    std::vector<Notification> out;
    while (s.step()) {
        out.push_back(read_notification(s));
    }
    return out;
}

std::vector<Notification> AlertQueue::notifications(const std::string& session) {
    Statement s = m_db.prepare(fmt::format(
        "SELECT {} FROM notifications WHERE session_id = ? ORDER BY id", k_notification_columns));
    s.bind(1, session);
    std::vector<Notification> out;
    while (s.step()) {
        out.push_back(read_notification(s));
    }
    return out;
}

void AlertQueue::record_delivery(std::int64_t id, bool delivered, const std::string& error,
                                 double next_attempt, bool give_up) {
    const char* state = delivered ? "delivered" : give_up ? "failed" : "pending";
    m_db.prepare(
            "UPDATE notifications SET state = ?, attempts = attempts + 1, next_attempt = ?, "
            "last_error = ?, updated = ? WHERE id = ?")
        .bind(1, state)
        .bind(2, next_attempt)
        .bind(3, error)
        .bind(4, now_seconds())
        .bind(5, id)
        .run();
}

}  // namespace perfbisect
