#pragma once

// The two background loops of `perfbisect serve`:
//  - BisectWorker runs the queued bisects, one at a time (two benchmarks on
//    one machine are noise). An entry that was running when the process
//    stopped (SIGTERM, a crash, SIGKILL) is continued first at the next start;
//    the session driver resumes it from the cache.
//  - Notifier delivers the notifications of sessions that ended: the report
//    JSON POSTed to [notify] url and/or [notify] command run, each retried with
//    exponential backoff, the schedule kept in the database.
// Each object opens its own database connections: construct and use it on one
// thread. stop() and wake() may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>

#include "alerts/http_client.hpp"
#include "alerts/queue.hpp"
#include "cache/cache.hpp"
#include "config/server_config.hpp"
#include "report/reporter.hpp"
#include "util/process.hpp"

namespace perfbisect {

// Lets one thread wait for another's wake() or stop(), or a timeout.
class WakeSignal {
public:
    // Waits until wake() or stop() or the timeout; false once stopped.
    bool wait_for(std::chrono::milliseconds timeout);
    void wake();
    void stop();
    bool stopped() const { return m_stopped.load(); }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_woken = false;
    std::atomic<bool> m_stopped{false};
};

class BisectWorker {
public:
    // db: the cache (absolute). notify: which notifications a finished
    // session gets (url, command).
    BisectWorker(const std::filesystem::path& db, NotifySettings notify, Reporter& reporter);

    // Runs the entry to its end: starts its session unless it exists (else
    // continues it), marks the entry done, or failed with the reason, and
    // queues its notifications. Throws Failure(interrupted) on SIGINT/SIGTERM,
    // leaving the entry running so that the next worker continues it.
    void process(const QueueEntry& entry);

    // Takes entries until signal is stopped or an interrupt arrives: running
    // ones first, then queued ones in order of arrival (claimed, so a
    // `perfbisect alert` in another process does not run the same one).
    // Polls the queue every poll interval for entries other processes added.
    void run(WakeSignal& signal, std::chrono::milliseconds poll = std::chrono::seconds(1));

private:
    Cache m_cache;
    AlertQueue m_queue;
    NotifySettings m_notify;
    Reporter& m_reporter;
};

class Notifier {
public:
    // secret: signs callbacks when not empty. work: scratch files (report
    // JSON for the command) and logs go under work/notify. cwd: where the
    // command runs (server.toml's directory).
    Notifier(const std::filesystem::path& db, NotifySettings settings, std::string secret,
             HttpClient& http, ProcessRunner& runner, std::filesystem::path work,
             std::filesystem::path cwd);

    // One attempt at every notification that is due; returns how many were
    // attempted. A failed attempt is retried after backoff × 2^(attempts−1),
    // at most `retries` times; then the notification is failed (logged).
    int deliver_due();

    // deliver_due() until signal is stopped.
    void run(WakeSignal& signal);

private:
    bool deliver_url(const std::string& session, const std::string& body, std::string& error);
    bool deliver_command(const std::string& session, const std::string& body,
                         const std::string& status, const std::string& culprit, std::string& error);

    Cache m_cache;
    AlertQueue m_queue;
    NotifySettings m_settings;
    std::string m_secret;
    HttpClient& m_http;
    ProcessRunner& m_runner;
    std::filesystem::path m_work;
    std::filesystem::path m_cwd;
};

}  // namespace perfbisect
