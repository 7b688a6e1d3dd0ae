#include "alerts/worker.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerts/service.hpp"
#include "bisect/session_runner.hpp"
#include "report/report.hpp"
#include "util/crypto.hpp"
#include "util/interrupt.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

bool WakeSignal::wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return m_woken || m_stopped.load(); });
    m_woken = false;
    return !m_stopped.load();
}

void WakeSignal::wake() {
    {
        std::lock_guard lock(m_mutex);
        m_woken = true;
    }
    m_cv.notify_all();
}

void WakeSignal::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopped.store(true);
    }
    m_cv.notify_all();
}

BisectWorker::BisectWorker(const std::filesystem::path& db, NotifySettings notify,
                           Reporter& reporter)
    : m_cache(Cache::open(db)),
      m_queue(AlertQueue::open(db)),
      m_notify(std::move(notify)),
      m_reporter(reporter) {}

void BisectWorker::process(const QueueEntry& entry) {
    clear_abort_request();  // one for a session that ended before it arrived
    const std::filesystem::path config_path(entry.config_path);
    try {
        Config config = value_or_throw(
            parse_config(entry.config_text, config_path.parent_path(), entry.config_path));
        config.file = config_path;
        if (!m_cache.find_session(entry.session)) {
            start_session(m_cache, config, entry.good, entry.bad, entry.session);
            m_cache.append_event(
                entry.session, "alert",
                fmt::format("started by {} alert {} (test {}, metric {}){}; min_effect {:.4g}",
                            entry.source, quote_input(entry.alert_id), quote_input(entry.test),
                            quote_input(entry.metric),
                            entry.expected_change ? fmt::format(", expected change {:+.1f}%",
                                                                100 * *entry.expected_change)
                                                  : std::string(),
                            entry.min_effect),
                fmt::format(R"({{"source":{},"alert_id":{},"min_effect":{}}})",
                            json_quote(entry.source), json_quote(entry.alert_id),
                            entry.min_effect));
            spdlog::info("session {} started: {} alert for test {}, {}..{}", entry.session,
                         entry.source, quote_input(entry.test), entry.good.substr(0, 10),
                         entry.bad.substr(0, 10));
        } else {
            m_cache.append_event(entry.session, "session", "resumed by the alert worker");
            spdlog::info("session {} resumed", entry.session);
        }
        const Outcome outcome = run_session(m_cache, entry.session, config, m_reporter);
        m_queue.mark_done(entry.id);
        spdlog::info("session {} ended: {}: {}", entry.session, to_string(outcome.status),
                     outcome.summary);
    } catch (const Failure& failure) {
        if (failure.kind() == ErrorKind::interrupted) {
            throw;
        }
        m_queue.mark_failed(entry.id, failure.what());
        spdlog::error("session {} failed: {}", entry.session, failure.what());
    } catch (const std::exception& e) {
        m_queue.mark_failed(entry.id, e.what());
        spdlog::error("session {} failed: {}", entry.session, e.what());
    }
    if (m_cache.find_session(entry.session)) {
        if (!m_notify.url.empty()) {
            m_queue.add_notification(entry.session, "url");
        }
        if (!m_notify.command.empty()) {
            m_queue.add_notification(entry.session, "command");
        }
    }
}

void BisectWorker::run(WakeSignal& signal, std::chrono::milliseconds poll) {
    while (!signal.stopped() && !stop_requested()) {
        std::optional<QueueEntry> entry;
        try {
            entry = m_queue.next();
            if (entry && entry->state == "queued" && !m_queue.claim(entry->id)) {
                continue;  // another process took it
            }
        } catch (const std::exception& e) {
            spdlog::error("reading the alert queue: {}", e.what());
            entry.reset();
        }
        if (!entry) {
            signal.wait_for(poll);
            continue;
        }
        try {
            process(*entry);
        } catch (const Failure& failure) {
            if (failure.kind() == ErrorKind::interrupted && stop_requested()) {
                spdlog::warn(
                    "session {} stopped at a safe point; it continues when perfbisect "
                    "serve starts again",
                    entry->session);
                return;
            }
            spdlog::error("session {}: {}", entry->session, failure.what());
            signal.wait_for(poll);
        } catch (const std::exception& e) {
            spdlog::error("session {}: {}", entry->session, e.what());
            signal.wait_for(poll);
        }
    }
}

Notifier::Notifier(const std::filesystem::path& db, NotifySettings settings, std::string secret,
                   HttpClient& http, ProcessRunner& runner, std::filesystem::path work,
                   std::filesystem::path cwd)
    : m_cache(Cache::open(db)),
      m_queue(AlertQueue::open(db)),
      m_settings(std::move(settings)),
      m_secret(std::move(secret)),
      m_http(http),
      m_runner(runner),
      m_work(std::move(work)),
      m_cwd(std::move(cwd)) {}

int Notifier::deliver_due() {
    int attempted = 0;
    for (const auto& n : m_queue.due_notifications(now_seconds())) {
        if (stop_requested()) {
            break;
        }
        std::string error;
        bool delivered = false;
        bool give_up = false;
        try {
            if (!m_cache.find_session(n.session)) {
                error = "the session is not in the database";
                give_up = true;
            } else {
                const SessionReport report = build_report(m_cache, n.session);
                const auto entry = m_queue.find_by_session(n.session);
                const std::string body =
                    render_alert_session_json(&report, entry ? &*entry : nullptr);
                if (n.target == "url" && !m_settings.url.empty()) {
                    delivered = deliver_url(n.session, body, error);
                } else if (n.target == "command" && !m_settings.command.empty()) {
                    const std::string culprit =
                        report.culprits.empty() ? std::string() : report.culprits.front().commit.id;
                    delivered = deliver_command(n.session, body, report.status, culprit, error);
                    if (!delivered && stop_requested()) {
                        break;  // killed by the shutdown: not an attempt
                    }
                } else {
                    error = fmt::format("[notify] {} is no longer configured", n.target);
                    give_up = true;
                }
            }
        } catch (const std::exception& e) {
            error = e.what();  // e.g. the session's report cannot be built: retrying will not help
            give_up = true;
        }
        const int attempts = n.attempts + 1;
        give_up = give_up || (!delivered && attempts > m_settings.retries);
        const double delay =
            std::min(3600.0, m_settings.backoff.count() * std::pow(2.0, attempts - 1));
        m_queue.record_delivery(n.id, delivered, error, now_seconds() + delay, give_up);
        if (delivered) {
            spdlog::info("session {}: notified ({})", n.session, n.target);
        } else if (give_up) {
            spdlog::error("session {}: notification ({}) failed after {} attempt{}: {}", n.session,
                          n.target, attempts, attempts == 1 ? "" : "s", error);
        } else {
            spdlog::warn("session {}: notification ({}) failed: {}; retrying in {}", n.session,
                         n.target, error, format_seconds(delay));
        }
        ++attempted;
    }
    return attempted;
}

bool Notifier::deliver_url(const std::string& session, const std::string& body,
                           std::string& error) {
    HttpHeaders headers{{"X-Perfbisect-Session", session}, {"X-Perfbisect-Event", "session.ended"}};
    if (!m_secret.empty()) {
        headers.emplace_back("X-Perfbisect-Signature", "sha256=" + hmac_sha256_hex(m_secret, body));
    }
    const HttpReply reply =
        m_http.post(m_settings.url, body, "application/json", headers, m_settings.timeout);
    if (!reply.ok()) {
        error = reply.describe();
        return false;
    }
    return true;
}

bool Notifier::deliver_command(const std::string& session, const std::string& body,
                               const std::string& status, const std::string& culprit,
                               std::string& error) {
    const auto dir = m_work / "notify";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto report_path = dir / (session + ".json");
    {
        std::ofstream out(report_path, std::ios::binary);
        out << body;
        if (!out) {
            error = fmt::format("cannot write {}", report_path.string());
            return false;
        }
    }
    ProcessSpec spec;
    spec.argv = m_settings.command.shell
                    ? std::vector<std::string>{"/bin/sh", "-c", m_settings.command.words.front()}
                    : m_settings.command.words;
    spec.cwd = m_cwd;
    // Only values perfbisect made: nothing an alert said reaches the command.
    spec.env = {{"PERFBISECT_SESSION", session},
                {"PERFBISECT_STATUS", status},
                {"PERFBISECT_CULPRIT", culprit},
                {"PERFBISECT_REPORT", report_path.string()}};
    spec.timeout = m_settings.timeout;
    spec.stdout_path = dir / (session + "-command.log");
    spec.stderr_path = spec.stdout_path;
    const ProcessResult result = m_runner.run(spec);
    if (!result.succeeded()) {
        error = fmt::format("{} (output in {})", result.describe(), spec.stdout_path.string());
        return false;
    }
    return true;
}

void Notifier::run(WakeSignal& signal) {
    while (!signal.stopped() && !stop_requested()) {
        try {
            deliver_due();
        } catch (const std::exception& e) {
            spdlog::error("delivering notifications: {}", e.what());
        }
        signal.wait_for(std::chrono::milliseconds(200));
    }
}

}  // namespace perfbisect
