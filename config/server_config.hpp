#pragma once

// The webhook server's configuration, server.toml (docs/config.md, "server.toml"):
// where it listens, how senders authenticate, how Horreum and Otava alerts are
// read, whom to notify when a session ends, and the routes from the test and
// metric names alerts carry to the project configs perfbisect runs. Everything
// perfbisect will execute, read or contact comes from this file, never from an
// alert. Loading validates every key (usage errors naming key and file).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace perfbisect {

// Where a secret comes from: an environment variable or a file. The value is
// read only when needed (read_secret) and is never part of a message.
struct SecretSource {
    std::string env;             // variable name; empty: not from the environment
    std::filesystem::path file;  // absolute; empty: not from a file
    std::string key;             // the config key that named it, for messages

    bool configured() const { return !env.empty() || !file.empty(); }
};

// Reads the secret, trimmed of surrounding whitespace. A variable that is unset
// or empty, or a file that cannot be read or is empty, is a usage error naming
// the variable or file (never the value).
Result<std::string> read_secret(const SecretSource& source);

// A route: alerts whose test (and metric, when the route names one) match are
// bisected with the project config at `config`.
struct Route {
    std::string test;              // exact test name as the alert carries it
    std::string metric;            // exact metric name; empty: any metric of the test
    std::filesystem::path config;  // absolute path of the project config
};

struct HorreumSettings {
    std::string url;       // base URL of the Horreum server; empty: Horreum alerts refused
    SecretSource api_key;  // sent as X-Horreum-API-Key when configured
    std::string commit_label = "commit";  // the label whose value is a dataset's commit
    Seconds timeout{10};                  // per REST call
};

struct OtavaSettings {
    std::string commit_attribute = "commit";  // the change point's commit
    std::string previous_commit_attribute =
        "previous_commit";  // the run before it, when the series has it
    int lookback = 20;      // otherwise good = bad~lookback (first parent)
};

struct NotifySettings {
    std::string url;      // POST the report JSON here; empty: no callback
    SecretSource secret;  // signs callbacks (X-Perfbisect-Signature) when configured
    Command command;      // run when a session ends; empty: none
    int retries = 5;      // further attempts after a failed one
    Seconds backoff{5};   // delay before the first retry; doubles each time
    Seconds timeout{10};  // per attempt (HTTP request or command)
};

struct ServerConfig {
    std::filesystem::path file;  // absolute path it was read from
    std::string listen = "127.0.0.1:8642";
    std::filesystem::path db;      // absolute; empty: the default database
    int queue_limit = 100;         // alerts queued or running at once; more: 429
    bool public_reads = false;     // GET /v1/sessions… without authentication
    SecretSource hmac_secret;      // X-Perfbisect-Signature: sha256=<hmac of the body>
    SecretSource token;            // Authorization: Bearer <token>
    double effect_fraction = 0.5;  // min_effect = max(config's, fraction × |expected change|)
    HorreumSettings horreum;
    OtavaSettings otava;
    NotifySettings notify;
    std::vector<Route> routes;  // in file order; the first match wins

    // The first route for test and metric, or nullptr.
    const Route* route_for(const std::string& test, const std::string& metric) const;
};

Result<ServerConfig> load_server_config(const std::filesystem::path& file);
// Parses server.toml text; relative paths resolve against base_dir.
Result<ServerConfig> parse_server_config(const std::string& text,
                                         const std::filesystem::path& base_dir,
                                         const std::string& origin);

// "host:port" (IPv4, a name, or [IPv6]:port); port 0 asks for any free port.
struct ListenAddress {
    std::string host;
    int port = 0;
    bool loopback() const;
};
Result<ListenAddress> parse_listen_address(const std::string& text);

// The project config text with `[decide] min_effect` set to min_effect (a
// fraction), everything else unchanged in meaning (the TOML is re-serialized,
// so comments and key order are not kept). Checked by parsing the result:
// the build and probe fingerprints stay those of the original.
Result<std::string> config_text_with_min_effect(const Config& config, double min_effect);

}  // namespace perfbisect
