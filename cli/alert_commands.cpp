#include "cli/alert_commands.hpp"

#include <atomic>
#include <fstream>
#include <istream>
#include <iterator>
#include <ostream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerts/http_server.hpp"
#include "alerts/service.hpp"
#include "alerts/worker.hpp"
#include "cache/cache.hpp"
#include "cli/session_support.hpp"
#include "report/report.hpp"
#include "report/reporter.hpp"
#include "util/exit_code.hpp"
#include "util/interrupt.hpp"

namespace perfbisect {
namespace {

std::filesystem::path database_for(const std::filesystem::path& option,
                                   const ServerConfig& config) {
    if (!option.empty()) {
        return std::filesystem::absolute(option);
    }
    return std::filesystem::absolute(config.db.empty() ? default_database_path() : config.db);
}

std::string optional_secret(const SecretSource& source) {
    return source.configured() ? value_or_throw(read_secret(source)) : std::string();
}

std::unique_ptr<Reporter> make_reporter(bool quiet) {
    if (quiet) {
        return std::make_unique<QuietReporter>();
    }
    // Plain lines, never a redrawn status: a server's stderr is a log.
    return std::make_unique<TerminalReporter>(stderr, false);
}

std::string read_alert(const std::string& file, std::istream& in) {
    std::string body;
    if (file == "-") {
        body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
        std::ifstream stream(file, std::ios::binary);
        if (!stream || std::filesystem::is_directory(file)) {
            throw Failure(
                ErrorKind::usage,
                fmt::format("cannot read the alert file {} (give a file or - for stdin)", file));
        }
        body.assign(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
    }
    if (body.size() > k_max_alert_bytes) {
        throw Failure(ErrorKind::usage, "the alert is larger than 1 MiB");
    }
    return body;
}

}  // namespace

int command_serve(const ServeOptions& options, std::ostream& /*out*/) {
    const ServerConfig config = value_or_throw(load_server_config(options.config));
    const ListenAddress address = value_or_throw(
        parse_listen_address(options.listen.empty() ? config.listen : options.listen));
    const auto db = database_for(options.db, config);
    Credentials credentials{optional_secret(config.hmac_secret), optional_secret(config.token)};
    if (credentials.hmac_secret.empty() && credentials.token.empty()) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{}: [auth] names no secret; perfbisect serve accepts signed "
                                  "(hmac_secret_env or hmac_secret_file) or token-bearing "
                                  "(token_env or token_file) requests only",
                                  config.file.string()));
    }
    const std::string notify_secret = optional_secret(config.notify.secret);
    const std::string horreum_key = optional_secret(config.horreum.api_key);
    Cache::open(db);  // a database that cannot be opened or migrated fails here, not in a thread
    if (spdlog::get_level() > spdlog::level::info) {
        spdlog::set_level(spdlog::level::info);  // a server logs its requests and sessions
    }
    install_interrupt_handlers();

    auto horreum_http = make_http_client();
    auto notify_http = make_http_client();
    std::unique_ptr<HorreumApi> horreum;
    if (!config.horreum.url.empty()) {
        horreum = make_horreum_api(config.horreum, horreum_key, *horreum_http);
    }
    WakeSignal worker_signal;
    WakeSignal notifier_signal;
    AlertService service(config, db, credentials, std::move(horreum),
                         [&worker_signal] { worker_signal.wake(); });
    HttpServer http(service);
    const int port = value_or_throw(http.bind(address));

    std::atomic<bool> failed{false};
    std::thread http_thread([&] {
        if (!http.serve() && !stop_requested()) {
            spdlog::error("the HTTP server stopped");
            failed = true;
        }
    });
    std::thread worker_thread;
    if (!options.queue_only) {
        worker_thread = std::thread([&] {
            try {
                auto reporter = make_reporter(options.quiet);
                BisectWorker worker(db, config.notify, *reporter);
                worker.run(worker_signal);
            } catch (const std::exception& e) {
                spdlog::error("the bisect worker stopped: {}", e.what());
                failed = true;
            }
        });
    }
    std::thread notifier_thread([&] {
        try {
            RealProcessRunner runner;
            Notifier notifier(db, config.notify, notify_secret, *notify_http, runner,
                              db.parent_path() / "work", config.file.parent_path());
            notifier.run(notifier_signal);
        } catch (const std::exception& e) {
            spdlog::error("the notifier stopped: {}", e.what());
            failed = true;
        }
    });
    while (!http.running() && !failed && !stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (http.running()) {
        fmt::print(stderr, "perfbisect: listening on http://{}:{} ({} route{}, database {}{})\n",
                   address.host, port, config.routes.size(), config.routes.size() == 1 ? "" : "s",
                   db.string(), options.queue_only ? ", queue only" : "");
        if (!address.loopback()) {
            spdlog::warn(
                "listening on {}, not on loopback: put TLS (a reverse proxy) in front of it",
                address.host);
        }
    }
    while (!stop_requested() && !failed) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    // Stop taking requests, then let the bisect reach its safe point.
    if (!stop_requested()) {
        request_interrupt();
    }
    http.stop();
    worker_signal.stop();
    notifier_signal.stop();
    http_thread.join();
    if (worker_thread.joinable()) {
        worker_thread.join();
    }
    notifier_thread.join();
    const int pending = AlertQueue::open(db).pending();
    fmt::print(stderr,
               "perfbisect: stopped; {} alert{} queued or interrupted continue at the next "
               "start\n",
               pending, pending == 1 ? "" : "s");
    if (failed) {
        throw Failure(ErrorKind::runtime, "perfbisect serve stopped on an error (see above)");
    }
    return 0;
}

int command_alert(const AlertOptions& options, std::istream& in, std::ostream& out) {
    if (options.format != "text" && options.format != "json" && options.format != "md") {
        throw Failure(ErrorKind::usage,
                      fmt::format("unknown --format '{}' (use text, json or md)", options.format));
    }
    const ServerConfig config = value_or_throw(load_server_config(options.config));
    const auto db = database_for(options.db, config);
    const std::string body = read_alert(options.file, in);
    const AlertSource source = options.kind == "auto"
                                   ? value_or_throw(detect_alert_source(body))
                                   : value_or_throw(parse_alert_source(options.kind));
    auto http = make_http_client();
    std::unique_ptr<HorreumApi> horreum;
    if (!config.horreum.url.empty()) {
        horreum = make_horreum_api(config.horreum, optional_secret(config.horreum.api_key), *http);
    }
    AlertService service(config, db, Credentials{}, std::move(horreum));
    auto acceptance = service.accept(source, body);
    if (!acceptance) {
        const int status = acceptance.error().status;
        throw Failure(status >= 500 || status == 429 ? ErrorKind::runtime : ErrorKind::usage,
                      acceptance.error().message);
    }
    for (const auto& skipped : acceptance->skipped) {
        fmt::print(stderr, "perfbisect: not queued: {}\n", skipped);
    }
    if (options.queue) {
        out << render_acceptance_json(*acceptance);
        return 0;
    }

    install_interrupt_handlers();
    auto reporter = make_reporter(options.quiet);
    BisectWorker worker(db, config.notify, *reporter);
    AlertQueue queue = AlertQueue::open(db);
    Cache cache = Cache::open(db);
    int code = 0;
    for (const auto& accepted : acceptance->accepted) {
        const QueueEntry& entry = accepted.entry;
        if (entry.state == "queued" && queue.claim(entry.id)) {
            if (!options.quiet) {
                fmt::print(stderr,
                           "perfbisect: session {}: {} alert for {}..{}, min_effect {:.4g}\n",
                           entry.session, entry.source, entry.good.substr(0, 10),
                           entry.bad.substr(0, 10), entry.min_effect);
            }
            try {
                worker.process(entry);
            } catch (const Failure& failure) {
                if (failure.kind() == ErrorKind::interrupted) {
                    throw Failure(
                        ErrorKind::interrupted,
                        fmt::format("interrupted; everything measured is kept: `perfbisect "
                                    "serve --config {}` continues session {} (or "
                                    "`perfbisect resume {} --db {}`)",
                                    options.config.string(), entry.session, entry.session,
                                    db.string()));
                }
                throw;
            }
            const auto done = queue.find_by_session(entry.session);
            if (done && done->state == "failed") {
                throw Failure(ErrorKind::runtime, done->error);
            }
        } else if (entry.state == "failed") {
            throw Failure(ErrorKind::runtime,
                          fmt::format("session {} for the same repository, range and probe "
                                      "failed: {}",
                                      entry.session, entry.error));
        } else if (!options.quiet) {
            fmt::print(stderr, "perfbisect: session {} was {} already ({})\n", entry.session,
                       entry.state == "queued" ? "taken by another process" : entry.state,
                       accepted.duplicate ? "the same repository, range and probe" : "queued");
        }
        if (!cache.find_session(entry.session)) {
            out << render_alert_session_json(nullptr, &entry);
            code = code != 0 ? code : static_cast<int>(ExitCode::interrupted);
            continue;
        }
        const SessionReport report = build_report(cache, entry.session);
        out << value_or_throw(render(report, options.format));
        const int this_code = exit_code_for(report.status);
        code = code != 0 ? code : this_code;
    }
    // One attempt at the notifications now; a server retries what fails.
    if (!config.notify.url.empty() || !config.notify.command.empty()) {
        RealProcessRunner runner;
        Notifier notifier(db, config.notify, optional_secret(config.notify.secret), *http, runner,
                          db.parent_path() / "work", config.file.parent_path());
        notifier.deliver_due();
    }
    return code;
}

}  // namespace perfbisect
