#pragma once

// The server's queue of alerts, in the SQLite cache (tables alert_queue and
// notifications; cache/cache.cpp migrates them). Each accepted alert is one
// entry with the session id it will run as, the project config text (with the
// alert's min_effect) and the full commit ids of its range. An entry is
// queued, then running, then done or failed; a process that stops while an
// entry runs leaves it running, and the next worker continues it first.
// Every call commits before it returns, so several processes may share the
// queue (`perfbisect alert --queue` beside `perfbisect serve`).
//
// Not thread-safe; one AlertQueue per thread.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cache/sqlite.hpp"

namespace perfbisect {

struct QueueEntry {
    std::int64_t id = 0;           // order of arrival
    std::string session;           // the session id (the session exists once it started)
    std::string dedup_key;         // repository, good, bad and probe: one entry per key
    std::string state = "queued";  // queued, running, done, failed
    std::string source;            // generic, horreum, otava
    std::string alert_id;          // the sender's id
    std::string test;
    std::string metric;
    std::string config_path;  // the route's project config
    std::string config_text;  // as read on arrival, min_effect set from the alert
    std::string repository;   // absolute path of the git repository
    std::string good;         // full commit ids
    std::string bad;
    std::optional<double> expected_change;  // the alert's relative change, when it gave one
    double min_effect = 0;                  // the session's [decide] min_effect
    double received = 0;                    // unix seconds
    std::optional<double> started;
    std::optional<double> finished;
    std::string error;  // why it failed (state failed)
};

struct EnqueueOutcome {
    enum class Kind { added, duplicate, full };
    Kind kind = Kind::added;
    QueueEntry entry;  // the new entry, or the existing one for a duplicate
};

struct Notification {
    std::int64_t id = 0;
    std::string session;
    std::string target;             // "url" or "command" (their values are in server.toml)
    std::string state = "pending";  // pending, delivered, failed
    int attempts = 0;
    double next_attempt = 0;  // unix seconds
    std::string last_error;
};

class AlertQueue {
public:
    // Opens the queue in the database at path (created and migrated when needed).
    static AlertQueue open(const std::filesystem::path& path);

    // Adds entry (id, state and received are set here) unless an entry with
    // its dedup_key exists (duplicate: that entry) or `limit` entries are
    // queued or running (full). One transaction.
    EnqueueOutcome enqueue(QueueEntry entry, int limit);

    std::optional<QueueEntry> find_by_session(const std::string& session);
    // All entries, oldest first.
    std::vector<QueueEntry> list();
    // Queued or running entries.
    int pending();

    // The entry to run next: a running one (interrupted earlier) first, then
    // the oldest queued one.
    std::optional<QueueEntry> next();
    // Queued -> running, unless another process took it first (false).
    bool claim(std::int64_t id);
    void mark_done(std::int64_t id);
    void mark_failed(std::int64_t id, const std::string& error);

    // Notifications: one per (session, target), due at once.
    void add_notification(const std::string& session, const std::string& target);
    std::vector<Notification> due_notifications(double now);
    std::vector<Notification> notifications(const std::string& session);
    void record_delivery(std::int64_t id, bool delivered, const std::string& error,
                         double next_attempt, bool give_up);

private:
    explicit AlertQueue(Database db) : m_db(std::move(db)) {}
    Database m_db;
};

}  // namespace perfbisect
