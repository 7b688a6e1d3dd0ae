// The only translation unit that includes cpp-httplib: the server of
// alerts/http_server.hpp and the client of alerts/http_client.hpp.
#include <httplib.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerts/http_client.hpp"
#include "alerts/http_server.hpp"

namespace perfbisect {

struct HttpServer::Impl {
    explicit Impl(AlertService& s) : service(s) {}
    AlertService& service;
    httplib::Server server;
};

HttpServer::HttpServer(AlertService& service) : m_impl(std::make_unique<Impl>(service)) {
    auto& server = m_impl->server;
    // Four connections at a time: alerts are small and rare; the machine's
    // cores belong to the benchmark.
    server.new_task_queue = [] { return new httplib::ThreadPool(4); };
    server.set_payload_max_length(k_max_alert_bytes);
    server.set_read_timeout(10, 0);
    server.set_write_timeout(10, 0);
    server.set_keep_alive_max_count(5);
    server.set_keep_alive_timeout(2);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
        HttpRequest request;
        request.method = req.method;
        request.path = req.path;
        for (const auto& [name, value] : req.headers) {
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            request.headers.emplace(lower, value);
        }
        request.body = req.body;
        const HttpResponse response = m_impl->service.handle(request);
        res.status = response.status;
        for (const auto& [name, value] : response.headers) {
            res.set_header(name, value);
        }
        res.set_content(response.body, response.content_type);
    };
    const std::string any = ".*";
    server.Get(any, handler);
    server.Post(any, handler);
    server.Put(any, handler);
    server.Patch(any, handler);
    server.Delete(any, handler);
    server.Options(any, handler);
    // Errors cpp-httplib answers itself (413 above the payload limit, 400 for
    // a request it cannot parse) get a JSON body like ours.
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) {
            const std::string message = res.status == 413 ? "the body is larger than 1 MiB"
                                                          : fmt::format("HTTP {}", res.status);
            res.set_content(render_error_json(message), "application/json");
        }
    });
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        // Method, path, status and peer only: never headers (they carry secrets) or bodies.
        spdlog::info("{} {} {} from {}", req.method, req.path, res.status, req.remote_addr);
    });
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind(const ListenAddress& address) {
    auto& server = m_impl->server;
    if (address.port == 0) {
        const int port = server.bind_to_any_port(address.host);
        if (port <= 0) {
            return runtime_error(
                fmt::format("cannot listen on {}: no free port (check the host)", address.host));
        }
        return port;
    }
    if (!server.bind_to_port(address.host, address.port)) {
        return runtime_error(
            fmt::format("cannot listen on {}:{} (is the port in use, or the host "
                        "not an address of this machine?)",
                        address.host, address.port));
    }
    return address.port;
}

bool HttpServer::serve() {
    return m_impl->server.listen_after_bind();
}

bool HttpServer::running() const {
    return m_impl->server.is_running();
}

void HttpServer::stop() {
    m_impl->server.stop();
}

namespace {

class RealHttpClient final : public HttpClient {
public:
    HttpReply get(const std::string& url, const HttpHeaders& headers, Seconds timeout) override {
        return send(url, headers, timeout,
                    [](httplib::Client& client, const std::string& path,
                       const httplib::Headers& h) { return client.Get(path, h); });
    }

    HttpReply post(const std::string& url, const std::string& body, const std::string& content_type,
                   const HttpHeaders& headers, Seconds timeout) override {
        return send(
            url, headers, timeout,
            [&](httplib::Client& client, const std::string& path, const httplib::Headers& h) {
                return client.Post(path, h, body, content_type);
            });
    }

private:
    template <typename Call>
    HttpReply send(const std::string& url, const HttpHeaders& headers, Seconds timeout, Call call) {
        HttpReply reply;
        const auto scheme_end = url.find("://");
        if (scheme_end == std::string::npos) {
            reply.error = "not an http:// or https:// URL";
            return reply;
        }
        const auto path_start = url.find('/', scheme_end + 3);
        const std::string origin = url.substr(0, path_start);
        const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
        httplib::Client client(origin);
        if (!client.is_valid()) {
            reply.error = "invalid URL " + origin;
            return reply;
        }
        const auto seconds = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
        client.set_connection_timeout(seconds);
        client.set_read_timeout(seconds);
        client.set_write_timeout(seconds);
        httplib::Headers h;
        for (const auto& [name, value] : headers) {
            h.emplace(name, value);
        }
        auto result = call(client, path, h);
        if (!result) {
            reply.error = httplib::to_string(result.error());
            return reply;
        }
        reply.status = result->status;
        reply.body = result->body;
        return reply;
    }
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client() {
    return std::make_unique<RealHttpClient>();
}

}  // namespace perfbisect
