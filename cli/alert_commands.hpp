#pragma once

// `perfbisect serve` and `perfbisect alert`: alerts from change-detection
// systems start bisects (docs/alerts.md). Like the other subcommands they take
// parsed options, write results to `out` and throw Failure for errors.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace perfbisect {

struct ServeOptions {
    std::filesystem::path config;  // server.toml
    std::string listen;            // empty: [server] listen
    std::filesystem::path db;      // empty: [server] db, else the default database
    bool queue_only = false;       // accept and queue alerts, run no bisect
    bool quiet = false;            // no progress lines of the bisects
};

struct AlertOptions {
    std::string file;              // a file, or "-" for stdin
    std::filesystem::path config;  // server.toml (routes)
    std::string kind = "auto";     // auto, generic, horreum, otava
    std::filesystem::path db;
    bool queue = false;           // queue it for a running server instead of running it
    std::string format = "text";  // of the report(s)
    bool quiet = false;
};

// Serves until SIGINT/SIGTERM; returns 0 after a clean stop (queued and
// interrupted sessions continue at the next start).
int command_serve(const ServeOptions& options, std::ostream& out);
// Reads one alert and runs its bisect(s) to the end (exit code of `run`), or
// with --queue queues them and prints the sessions as JSON.
int command_alert(const AlertOptions& options, std::istream& in, std::ostream& out);

}  // namespace perfbisect
