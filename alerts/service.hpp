#pragma once

// What the webhook server does, without HTTP: authenticate a request, read an
// alert, route it to a project config, check it against the repository, and
// queue its bisect (or find the session already queued for the same
// repository, range and probe); answer the read-only API from the cache.
// alerts/http.cpp puts it on a socket; `perfbisect alert` calls accept()
// directly. Thread-safe: requests may arrive on several threads at once.

#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert.hpp"
#include "alerts/queue.hpp"
#include "cache/cache.hpp"
#include "config/server_config.hpp"

namespace perfbisect {

struct SessionReport;

// A request as the HTTP layer received it.
struct HttpRequest {
    std::string method;                          // "GET", "POST", …
    std::string path;                            // without the query string
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    HttpHeaders headers;  // extra headers (Allow, Retry-After, …)
};

// Why an alert was not queued, as an HTTP status and a one-line message.
struct AlertError {
    int status = 400;  // 400, 404, 422, 429, 500, 501, 502
    std::string message;
};

struct AcceptedAlert {
    QueueEntry entry;  // as queued (or the existing entry)
    bool duplicate = false;
};

struct Acceptance {
    std::vector<AcceptedAlert> accepted;  // in the alert's order
    std::vector<std::string> skipped;     // requests of the alert not queued, and why
};

// The secrets a server checks requests against; empty: that method is off.
struct Credentials {
    std::string hmac_secret;
    std::string token;
};

class AlertService {
public:
    // db: the cache (absolute). horreum: the REST client for Horreum alerts
    // (nullptr: they are refused); called under a lock, one call at a time.
    // on_queued: called after a new entry was queued (wakes the worker).
    AlertService(ServerConfig config, std::filesystem::path db, Credentials credentials,
                 std::unique_ptr<HorreumApi> horreum, std::function<void()> on_queued = {});
    ~AlertService();

    // Reads, routes, checks and queues the requests of one alert (no
    // authentication: the caller did it). An Otava report yields one request
    // per routed test and metric: its newest change point that is a
    // regression. Fails as a whole only when no request could be queued.
    std::expected<Acceptance, AlertError> accept(AlertSource source, std::string_view body);

    // The HTTP API of docs/alerts.md.
    HttpResponse handle(const HttpRequest& request);

private:
    std::expected<QueueEntry, AlertError> prepare(const AlertRequest& request);
    std::expected<std::vector<AlertRequest>, AlertError> read(AlertSource source,
                                                              std::string_view body);
    bool authorized(const HttpRequest& request) const;
    HttpResponse post_alert(AlertSource source, const HttpRequest& request);
    HttpResponse get_session(const std::string& id, bool html);
    HttpResponse list_sessions();

    ServerConfig m_config;
    std::filesystem::path m_db;
    Credentials m_credentials;
    std::unique_ptr<HorreumApi> m_horreum;
    std::function<void()> m_on_queued;
    std::mutex m_horreum_mutex;
    std::mutex m_mutex;  // guards the two connections below
    Cache m_cache;
    AlertQueue m_queue;
};

// The session of an alert as the API and the notifications show it: the report
// JSON (schema_version 1) with a "queue" object added, or, for an entry whose
// session has not started, {session, status: "queued", good, bad, …, queue}.
std::string render_alert_session_json(const SessionReport* report, const QueueEntry* entry);
// GET /v1/sessions: every session of the database (the fields of `perfbisect
// sessions --format json`) and the queued entries not started yet, with
// "queue" objects for alert sessions.
std::string render_session_list_json(const std::vector<SessionRecord>& sessions,
                                     const std::vector<QueueEntry>& entries);
// The answer to an accepted alert.
std::string render_acceptance_json(const Acceptance& acceptance);
// {"error": message}
std::string render_error_json(const std::string& message);

}  // namespace perfbisect
