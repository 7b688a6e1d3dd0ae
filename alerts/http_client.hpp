#pragma once

// Outgoing HTTP: the Horreum REST calls and the notification callback. Why an
// interface: tests put a scripted client in its place for Horreum's answers;
// the real one (cpp-httplib, alerts/http.cpp) is tested against real servers
// on a loopback port. URLs only ever come from server.toml.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"  // Seconds

namespace perfbisect {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
    int status = 0;  // 0: no response; error says why
    std::string body;
    std::string error;  // transport error ("connection refused", "timed out", …)

    bool ok() const { return status >= 200 && status < 300; }
    // "HTTP 503" or the transport error: for messages.
    std::string describe() const;
};

// Thread-safety: one call at a time per client.
class HttpClient {
public:
    virtual ~HttpClient() = default;
    // url: http:// or https://, with path and query. Never throws for network
    // failures; they are in the reply.
    virtual HttpReply get(const std::string& url, const HttpHeaders& headers, Seconds timeout) = 0;
    virtual HttpReply post(const std::string& url, const std::string& body,
                           const std::string& content_type, const HttpHeaders& headers,
                           Seconds timeout) = 0;
};

// The real client (cpp-httplib; https through OpenSSL, certificates verified).
std::unique_ptr<HttpClient> make_http_client();

}  // namespace perfbisect
