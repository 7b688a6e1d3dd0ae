#pragma once

// AlertService on a socket (cpp-httplib): every request goes to
// AlertService::handle(); bodies above 1 MiB are refused with 413 before they
// are read; a small thread pool serves connections, so slow clients cannot
// tie up the bisect worker.

#include <memory>

#include "alerts/service.hpp"
#include "config/server_config.hpp"

namespace perfbisect {

class HttpServer {
public:
    explicit HttpServer(AlertService& service);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the address (port 0: any free port) and returns the port bound.
    // A port in use or an unknown host is a runtime error naming it.
    Result<int> bind(const ListenAddress& address);
    // Serves until stop(); false when serving failed.
    bool serve();
    // True once serve() accepts connections.
    bool running() const;
    // Stops serve() from any thread; requests in progress finish.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace perfbisect
