#include "alerts/service.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bisect/repository.hpp"
#include "report/report.hpp"
#include "util/crypto.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

std::unexpected<AlertError> fail(int status, std::string message) {
    return std::unexpected(AlertError{status, std::move(message)});
}

// 400 for what the alert got wrong, 502 for what Horreum got wrong.
std::unexpected<AlertError> from_error(const Error& error) {
    return fail(error.kind == ErrorKind::usage ? 400 : 502, error.message);
}

HttpResponse json_response(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

HttpResponse error_response(int status, const std::string& message) {
    return json_response(status, render_error_json(message));
}

std::string new_session_id(Cache& cache, AlertQueue& queue) {
    std::random_device device;
    std::mt19937_64 rng(device());
    for (;;) {
        const std::string id = fmt::format("{:08x}", static_cast<std::uint32_t>(rng()));
        if (!cache.find_session(id) && !queue.find_by_session(id)) {
            return id;
        }
    }
}

// A hex id from an alert, resolved in the repository. The resolved commit must
// start with it: a branch or tag that happens to be named like hex is not taken.
std::expected<CommitInfo, AlertError> resolve_commit(Repository& repository, const std::string& hex,
                                                     const char* which, const Config& config) {
    auto commit = repository.resolve(hex);
    std::string lower = hex;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!commit || !commit->id.starts_with(lower)) {
        return fail(400, fmt::format("{} commit {} is not a commit of {} (fetch it there, or "
                                     "check the route's repository)",
                                     which, quote_input(hex), config.repo.path.string()));
    }
    return *commit;
}

bool is_regression(double change, Direction direction) {
    return direction == Direction::lower_is_better ? change > 0 : change < 0;
}

std::string percent(double fraction) {
    return fmt::format("{:+.1f}%", 100 * fraction);
}

// "otava alert 'x' for test 't', metric 'm'": for logs.
std::string describe(const AlertRequest& request) {
    return fmt::format("{} alert{} for test {}{}", to_string(request.source),
                       request.alert_id.empty() ? "" : " " + quote_input(request.alert_id),
                       quote_input(request.test),
                       request.metric.empty() ? "" : ", metric " + quote_input(request.metric));
}

bool valid_session_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of(
               "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") ==
               std::string::npos;
}

}  // namespace

AlertService::AlertService(ServerConfig config, std::filesystem::path db, Credentials credentials,
                           std::unique_ptr<HorreumApi> horreum, std::function<void()> on_queued)
    : m_config(std::move(config)),
      m_db(std::move(db)),
      m_credentials(std::move(credentials)),
      m_horreum(std::move(horreum)),
      m_on_queued(std::move(on_queued)),
      m_cache(Cache::open(m_db)),
      m_queue(AlertQueue::open(m_db)) {}

AlertService::~AlertService() = default;

std::expected<std::vector<AlertRequest>, AlertError> AlertService::read(AlertSource source,
                                                                        std::string_view body) {
    switch (source) {
        case AlertSource::generic: {
            auto request = parse_generic_alert(body);
            if (!request) {
                return from_error(request.error());
            }
            return std::vector<AlertRequest>{*request};
        }
        case AlertSource::horreum: {
            auto change = parse_horreum_event(body);
            if (!change) {
                return from_error(change.error());
            }
            // Route first: Horreum is asked nothing about tests this server does not bisect.
            if (m_config.route_for(change->test, change->variable) == nullptr) {
                return fail(404,
                            fmt::format("no route for Horreum test {} variable {} in {}",
                                        quote_input(change->test), quote_input(change->variable),
                                        m_config.file.string()));
            }
            if (!m_horreum) {
                return fail(501, fmt::format("Horreum alerts need [horreum] url in {}",
                                             m_config.file.string()));
            }
            std::lock_guard lock(m_horreum_mutex);
            auto request =
                resolve_horreum_change(*change, *m_horreum, m_config.horreum.commit_label);
            if (!request) {
                return from_error(request.error());
            }
            return std::vector<AlertRequest>{*request};
        }
        case AlertSource::otava: {
            auto requests = parse_otava_report(body, m_config.otava);
            if (!requests) {
                return from_error(requests.error());
            }
            return *requests;
        }
    }
    return fail(400, "unknown alert kind");
}

std::expected<Acceptance, AlertError> AlertService::accept(AlertSource source,
                                                           std::string_view body) {
    auto requests = read(source, body);
    if (!requests) {
        return std::unexpected(requests.error());
    }
    Acceptance acceptance;
    if (source == AlertSource::otava) {
        // One request per route: the newest change point that is a regression
        // by the route's config. Older ones were alerts of earlier runs.
        std::map<const Route*, AlertRequest> newest;
        std::map<const Route*, Direction> directions;
        for (auto& request : *requests) {
            const Route* route = m_config.route_for(request.test, request.metric);
            if (route == nullptr) {
                continue;
            }
            if (!directions.contains(route)) {
                auto config = load_config(route->config);
                if (!config) {
                    return fail(500, fmt::format("the config of the route for {}: {}",
                                                 quote_input(route->test), config.error().message));
                }
                directions[route] = config->probe.direction;
            }
            if (request.change && !is_regression(*request.change, directions[route])) {
                continue;
            }
            auto it = newest.find(route);
            if (it == newest.end() || request.time > it->second.time) {
                newest[route] = request;
            }
        }
        requests->clear();
        for (auto& [route, request] : newest) {
            requests->push_back(request);
        }
        std::sort(requests->begin(), requests->end(),
                  [](const AlertRequest& a, const AlertRequest& b) { return a.time < b.time; });
        if (requests->empty()) {
            return fail(422, fmt::format("the Otava report has no regression for a test and "
                                         "metric routed in {}",
                                         m_config.file.string()));
        }
    }

    std::optional<AlertError> first_error;
    bool added = false;
    for (const auto& request : *requests) {
        auto entry = prepare(request);
        if (!entry) {
            spdlog::info("{} not queued: {}", describe(request), entry.error().message);
            acceptance.skipped.push_back(entry.error().message);
            if (!first_error) {
                first_error = entry.error();
            }
            continue;
        }
        EnqueueOutcome outcome;
        {
            std::lock_guard lock(m_mutex);
            entry->session = new_session_id(m_cache, m_queue);
            outcome = m_queue.enqueue(std::move(*entry), m_config.queue_limit);
        }
        if (outcome.kind == EnqueueOutcome::Kind::full) {
            const std::string message = fmt::format(
                "the queue is full ({} alerts queued or running; [server] "
                "queue_limit); send it again later",
                m_config.queue_limit);
            acceptance.skipped.push_back(message);
            if (!first_error) {
                first_error = AlertError{429, message};
            }
            continue;
        }
        const bool duplicate = outcome.kind == EnqueueOutcome::Kind::duplicate;
        spdlog::info("{}: {} session {} for {}..{}, min_effect {:.4g}", describe(request),
                     duplicate ? "duplicate of" : "queued", outcome.entry.session,
                     outcome.entry.good.substr(0, 10), outcome.entry.bad.substr(0, 10),
                     outcome.entry.min_effect);
        added = added || !duplicate;
        acceptance.accepted.push_back(AcceptedAlert{std::move(outcome.entry), duplicate});
    }
    if (acceptance.accepted.empty()) {
        return std::unexpected(first_error.value_or(AlertError{400, "nothing to queue"}));
    }
    if (added && m_on_queued) {
        m_on_queued();
    }
    return acceptance;
}

std::expected<QueueEntry, AlertError> AlertService::prepare(const AlertRequest& request) {
    const Route* route = m_config.route_for(request.test, request.metric);
    if (route == nullptr) {
        return fail(404,
                    fmt::format("no route for test {}{} in {}", quote_input(request.test),
                                request.metric.empty() ? std::string()
                                                       : " metric " + quote_input(request.metric),
                                m_config.file.string()));
    }
    auto config = load_config(route->config);
    if (!config) {
        return fail(500, fmt::format("the config of the route for {}: {}", quote_input(route->test),
                                     config.error().message));
    }
    const Direction direction = config->probe.direction;
    if (request.direction && *request.direction != direction) {
        return fail(400, fmt::format("the alert says {} is better, {} says {}",
                                     to_string(*request.direction), config->file.string(),
                                     to_string(direction)));
    }
    if (request.change && !is_regression(*request.change, direction)) {
        return fail(422, fmt::format("the alert reports a change of {} and {} is better: an "
                                     "improvement, and perfbisect bisects regressions only",
                                     percent(*request.change), to_string(direction)));
    }
    auto repository = open_git_repository(config->repo.path);
    if (!repository) {
        return fail(500, fmt::format("the route for {}: {}", quote_input(route->test),
                                     repository.error().message));
    }
    auto bad = resolve_commit(**repository, request.bad, "bad", *config);
    if (!bad) {
        return std::unexpected(bad.error());
    }
    CommitInfo good;
    if (!request.good.empty()) {
        auto resolved = resolve_commit(**repository, request.good, "good", *config);
        if (!resolved) {
            return std::unexpected(resolved.error());
        }
        good = *resolved;
    } else {
        // The look-back: as far back as configured, or as far as the history goes.
        bool found = false;
        for (int back = std::max(1, request.lookback); back >= 1 && !found; --back) {
            if (auto commit = (*repository)->resolve(fmt::format("{}~{}", bad->id, back))) {
                good = *commit;
                found = true;
            }
        }
        if (!found) {
            return fail(400, fmt::format("bad commit {} has no parent to start the bisect from",
                                         bad->short_id()));
        }
    }
    auto range = (*repository)->range(good.id, bad->id, config->repo.first_parent);
    if (!range) {
        return fail(400, range.error().message);
    }

    // At most 100 %: a step that doubles the metric is found whatever the
    // detector thought, and a wild magnitude cannot ask for the impossible.
    constexpr double k_max_alert_min_effect = 1.0;
    double min_effect = config->decide.min_effect;
    if (request.change) {
        min_effect = std::max(
            min_effect,
            std::min(k_max_alert_min_effect, m_config.effect_fraction * std::abs(*request.change)));
    }
    std::string text = config->text;
    if (min_effect != config->decide.min_effect) {
        auto rewritten = config_text_with_min_effect(*config, min_effect);
        if (!rewritten) {
            return fail(500, rewritten.error().message);
        }
        text = std::move(*rewritten);
    }

    std::error_code ec;
    auto repository_path = std::filesystem::weakly_canonical(config->repo.path, ec);
    if (ec) {
        repository_path = config->repo.path;
    }
    QueueEntry entry;
    entry.dedup_key = fmt::format("{}\n{}\n{}\n{}", repository_path.string(), good.id, bad->id,
                                  config->probe_fingerprint());
    entry.source = to_string(request.source);
    entry.alert_id = request.alert_id;
    entry.test = request.test;
    entry.metric = request.metric;
    entry.config_path = config->file.string();
    entry.config_text = std::move(text);
    entry.repository = repository_path.string();
    entry.good = good.id;
    entry.bad = bad->id;
    entry.expected_change = request.change;
    entry.min_effect = min_effect;
    return entry;
}

bool AlertService::authorized(const HttpRequest& request) const {
    if (!m_credentials.hmac_secret.empty()) {
        if (auto it = request.headers.find("x-perfbisect-signature"); it != request.headers.end()) {
            const std::string expected =
                "sha256=" + hmac_sha256_hex(m_credentials.hmac_secret, request.body);
            if (constant_time_equal(expected, trim(it->second))) {
                return true;
            }
        }
    }
    if (!m_credentials.token.empty()) {
        if (auto it = request.headers.find("authorization"); it != request.headers.end()) {
            const std::string value = trim(it->second);
            if (value.starts_with("Bearer ")) {
                // Digests: equal lengths whatever the sender sends.
                return constant_time_equal(sha256_hex(trim(value.substr(7))),
                                           sha256_hex(m_credentials.token));
            }
        }
    }
    return false;
}

HttpResponse AlertService::handle(const HttpRequest& request) {
    try {
        const std::string& path = request.path;
        const bool get = request.method == "GET" || request.method == "HEAD";
        const bool post = request.method == "POST";
        auto wrong_method = [&](const char* allowed) {
            HttpResponse response =
                error_response(405, fmt::format("{} takes {} only", path, allowed));
            response.headers.emplace_back("Allow", allowed);
            return response;
        };
        if (path == "/healthz") {
            return get ? json_response(200, "{\"status\":\"ok\"}\n") : wrong_method("GET");
        }
        std::optional<AlertSource> source;
        if (path == "/v1/alerts") {
            source = AlertSource::generic;
        } else if (path == "/v1/alerts/horreum") {
            source = AlertSource::horreum;
        } else if (path == "/v1/alerts/otava") {
            source = AlertSource::otava;
        }
        const bool sessions = path == "/v1/sessions" || path.starts_with("/v1/sessions/");
        if (!source && !sessions) {
            return error_response(404, "no such route (see docs/alerts.md)");
        }
        if (source && !post) {
            return wrong_method("POST");
        }
        if (sessions && !get) {
            return wrong_method("GET");
        }
        if (request.body.size() > k_max_alert_bytes) {
            return error_response(413, "the body is larger than 1 MiB");
        }
        if ((post || !m_config.public_reads) && !authorized(request)) {
            spdlog::warn("{} {}: 401, no valid signature or token", request.method, path);
            HttpResponse response = error_response(
                401,
                "authenticate with X-Perfbisect-Signature: sha256=<HMAC-SHA256 of the body> "
                "or Authorization: Bearer <token>");
            response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"perfbisect\"");
            return response;
        }
        if (source) {
            return post_alert(*source, request);
        }
        if (path == "/v1/sessions") {
            return list_sessions();
        }
        std::string id = path.substr(std::string("/v1/sessions/").size());
        bool html = false;
        if (id.ends_with("/report.html")) {
            id = id.substr(0, id.size() - std::string("/report.html").size());
            html = true;
        }
        if (!valid_session_id(id)) {
            return error_response(404, "no such route (see docs/alerts.md)");
        }
        return get_session(id, html);
    } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", request.method, request.path, e.what());
        return error_response(500, one_line(e.what()));
    }
}

HttpResponse AlertService::post_alert(AlertSource source, const HttpRequest& request) {
    auto acceptance = accept(source, request.body);
    if (!acceptance) {
        HttpResponse response =
            error_response(acceptance.error().status, acceptance.error().message);
        if (acceptance.error().status == 429) {
            response.headers.emplace_back("Retry-After", "60");
        }
        return response;
    }
    const bool any_new = std::any_of(acceptance->accepted.begin(), acceptance->accepted.end(),
                                     [](const AcceptedAlert& a) { return !a.duplicate; });
    return json_response(any_new ? 202 : 200, render_acceptance_json(*acceptance));
}

HttpResponse AlertService::get_session(const std::string& id, bool html) {
    std::lock_guard lock(m_mutex);
    const auto entry = m_queue.find_by_session(id);
    if (!m_cache.find_session(id)) {
        if (!entry) {
            return error_response(404, fmt::format("no session {}", id));
        }
        if (html) {
            return error_response(404,
                                  fmt::format("session {} is queued and has no report yet", id));
        }
        return json_response(200, render_alert_session_json(nullptr, &*entry));
    }
    const SessionReport report = build_report(m_cache, id);
    if (html) {
        HttpResponse response;
        response.content_type = "text/html; charset=utf-8";
        response.body = render_html(report);
        return response;
    }
    return json_response(200, render_alert_session_json(&report, entry ? &*entry : nullptr));
}

HttpResponse AlertService::list_sessions() {
    std::lock_guard lock(m_mutex);
    return json_response(200, render_session_list_json(m_cache.list_sessions(), m_queue.list()));
}

}  // namespace perfbisect
