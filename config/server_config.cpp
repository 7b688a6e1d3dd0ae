// server.toml, and the rewrite of a project config's min_effect for alerts.
// The second translation unit that includes toml11 (config.cpp is the first):
// kept apart so the project config's reader stays as it is.
#include "config/server_config.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <toml.hpp>

#include "config/toml_text.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

std::string type_name(const toml::value& v) {
    switch (v.type()) {
        case toml::value_t::boolean:
            return "a boolean";
        case toml::value_t::integer:
            return "an integer";
        case toml::value_t::floating:
            return "a float";
        case toml::value_t::string:
            return "a string";
        case toml::value_t::array:
            return "an array";
        case toml::value_t::table:
            return "a table";
        default:
            return "a date or time";
    }
}

// Reads server.toml's values; every problem is a usage error naming the key.
class Reader {
public:
    Reader(std::string origin, std::filesystem::path base_dir)
        : m_origin(std::move(origin)), m_base_dir(std::move(base_dir)) {}

    [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
        throw Failure(ErrorKind::usage, fmt::format("{}: {}: {}", m_origin, key, problem));
    }

    void check_keys(const toml::value& table, const std::string& prefix,
                    const std::set<std::string>& known) const {
        for (const auto& [key, value] : table.as_table()) {
            if (known.count(key) == 0) {
                std::string list;
                for (const auto& k : known) {
                    list += list.empty() ? "" : ", ";
                    list += k;
                }
                fail(prefix.empty() ? key : fmt::format("{}.{}", prefix, key),
                     fmt::format("unknown key (known keys{}: {})",
                                 prefix.empty() ? "" : " of [" + prefix + "]", list));
            }
        }
    }

    const toml::value* find(const toml::value& table, const std::string& key) const {
        const auto& t = table.as_table();
        auto it = t.find(key);
        return it == t.end() ? nullptr : &it->second;
    }

    const toml::value* section(const toml::value& root, const std::string& name) const {
        const toml::value* v = find(root, name);
        if (v != nullptr && !v->is_table()) {
            fail(name, "expected a table, e.g. [" + name + "]");
        }
        return v;
    }

    std::string string_value(const toml::value& v, const std::string& key) const {
        if (!v.is_string()) {
            fail(key, fmt::format("expected a string, got {}", type_name(v)));
        }
        return v.as_string().str;
    }

    std::int64_t integer_value(const toml::value& v, const std::string& key) const {
        if (!v.is_integer()) {
            fail(key, fmt::format("expected an integer, got {}", type_name(v)));
        }
        return v.as_integer();
    }

    double number_value(const toml::value& v, const std::string& key) const {
        if (v.is_integer()) {
            return static_cast<double>(v.as_integer());
        }
        if (!v.is_floating()) {
            fail(key, fmt::format("expected a number, got {}", type_name(v)));
        }
        return v.as_floating();
    }

    bool bool_value(const toml::value& v, const std::string& key) const {
        if (!v.is_boolean()) {
            fail(key, fmt::format("expected true or false, got {}", type_name(v)));
        }
        return v.as_boolean();
    }

    Seconds duration_value(const toml::value& v, const std::string& key) const {
        auto parsed = v.is_string() ? parse_duration(v.as_string().str)
                                    : parse_duration(fmt::format("{}", number_value(v, key)));
        if (!parsed) {
            fail(key, parsed.error().message);
        }
        return *parsed;
    }

    std::filesystem::path path_value(const toml::value& v, const std::string& key) const {
        const std::filesystem::path p = string_value(v, key);
        if (p.empty()) {
            fail(key, "is empty; give a path (relative paths are relative to this file)");
        }
        return (p.is_absolute() ? p : m_base_dir / p).lexically_normal();
    }

    // `<name>_env` and `<name>_file` of a table: at most one of them.
    SecretSource secret_value(const toml::value& table, const std::string& prefix,
                              const std::string& name) const {
        SecretSource source;
        const auto* env = find(table, name + "_env");
        const auto* file = find(table, name + "_file");
        if (env != nullptr && file != nullptr) {
            fail(prefix + "." + name + "_env",
                 fmt::format("give {0}_env or {0}_file, not both", name));
        }
        if (env != nullptr) {
            source.env = string_value(*env, prefix + "." + name + "_env");
            source.key = prefix + "." + name + "_env";
            if (source.env.empty() ||
                source.env.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789_") != std::string::npos) {
                fail(source.key,
                     "expected the name of an environment variable, e.g. "
                     "\"PERFBISECT_HMAC_SECRET\" (not the secret itself)");
            }
        }
        if (file != nullptr) {
            source.key = prefix + "." + name + "_file";
            source.file = path_value(*file, source.key);
        }
        return source;
    }

    Command command_value(const toml::value& v, const std::string& key) const {
        Command command;
        if (v.is_string()) {
            command.shell = true;
            command.words = {v.as_string().str};
        } else if (v.is_array()) {
            for (const auto& item : v.as_array()) {
                command.words.push_back(string_value(item, key));
            }
        } else {
            fail(key, fmt::format("expected a string (run with /bin/sh -c) or an array (argv), "
                                  "got {}",
                                  type_name(v)));
        }
        if (command.empty()) {
            fail(key, "is empty; give the command to run, or remove the key");
        }
        return command;
    }

    // A name alerts are matched against: printable, one line, bounded.
    std::string name_value(const toml::value& v, const std::string& key) const {
        std::string name = string_value(v, key);
        if (name.empty() || name.size() > 200) {
            fail(key, "must be 1 to 200 characters");
        }
        for (unsigned char c : name) {
            if (c < 0x20 || c == 0x7f) {
                fail(key, "must not contain control characters");
            }
        }
        return name;
    }

private:
    std::string m_origin;
    std::filesystem::path m_base_dir;
};

bool valid_http_url(const std::string& url) {
    const bool http = url.starts_with("http://") && url.size() > 7;
    const bool https = url.starts_with("https://") && url.size() > 8;
    return (http || https) && url.find_first_of(" \t\r\n") == std::string::npos;
}

}  // namespace

Result<std::string> read_secret(const SecretSource& source) {
    if (!source.env.empty()) {
        const char* value = std::getenv(source.env.c_str());
        std::string secret = value == nullptr ? std::string() : trim(value);
        if (secret.empty()) {
            return usage_error(
                fmt::format("environment variable {} ({}) is not set or empty; "
                            "export the secret in it",
                            source.env, source.key));
        }
        return secret;
    }
    if (!source.file.empty()) {
        std::ifstream in(source.file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in || std::filesystem::is_directory(source.file)) {
            return usage_error(fmt::format("cannot read the secret file {} ({})",
                                           source.file.string(), source.key));
        }
        std::string secret = trim(text.str());
        if (secret.empty()) {
            return usage_error(
                fmt::format("the secret file {} ({}) is empty", source.file.string(), source.key));
        }
        struct stat info {};
        if (::stat(source.file.c_str(), &info) == 0 && (info.st_mode & 0077) != 0) {
            spdlog::warn("the secret file {} can be read by other users; chmod 600 it",
                         source.file.string());
        }
        return secret;
    }
    return usage_error("no secret configured");
}

const Route* ServerConfig::route_for(const std::string& test, const std::string& metric) const {
    for (const auto& route : routes) {
        if (route.test == test && (route.metric.empty() || route.metric == metric)) {
            return &route;
        }
    }
    return nullptr;
}

bool ListenAddress::loopback() const {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Result<ListenAddress> parse_listen_address(const std::string& text) {
    ListenAddress address;
    std::string port;
    if (text.starts_with("[")) {
        const auto close = text.find("]:");
        if (close == std::string::npos) {
            return usage_error(fmt::format("invalid listen address '{}' (write [::1]:8642)", text));
        }
        address.host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || colon == 0) {
            return usage_error(fmt::format(
                "invalid listen address '{}' (write host:port, e.g. 127.0.0.1:8642)", text));
        }
        address.host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
        return usage_error(fmt::format("invalid port in listen address '{}' (0 to 65535)", text));
    }
    address.port = std::stoi(port);
    return address;
}

Result<ServerConfig> parse_server_config(const std::string& text,
                                         const std::filesystem::path& base_dir,
                                         const std::string& origin) {
    auto parsed = parse_toml_text(text, origin);
    if (!parsed) {
        return std::unexpected(parsed.error());
    }
    const toml::value root = std::move(*parsed);
    try {
        Reader r(origin, base_dir);
        ServerConfig config;
        r.check_keys(root, "", {"server", "auth", "alerts", "horreum", "otava", "notify", "route"});

        if (const auto* server = r.section(root, "server")) {
            r.check_keys(*server, "server", {"listen", "db", "queue_limit", "public_reads"});
            if (const auto* v = r.find(*server, "listen")) {
                config.listen = r.string_value(*v, "server.listen");
                if (auto address = parse_listen_address(config.listen); !address) {
                    r.fail("server.listen", address.error().message);
                }
            }
            if (const auto* v = r.find(*server, "db")) {
                config.db = r.path_value(*v, "server.db");
            }
            if (const auto* v = r.find(*server, "queue_limit")) {
                const auto limit = r.integer_value(*v, "server.queue_limit");
                if (limit < 1 || limit > 100000) {
                    r.fail("server.queue_limit", "must be between 1 and 100000");
                }
                config.queue_limit = static_cast<int>(limit);
            }
            if (const auto* v = r.find(*server, "public_reads")) {
                config.public_reads = r.bool_value(*v, "server.public_reads");
            }
        }

        if (const auto* auth = r.section(root, "auth")) {
            r.check_keys(*auth, "auth",
                         {"hmac_secret_env", "hmac_secret_file", "token_env", "token_file"});
            config.hmac_secret = r.secret_value(*auth, "auth", "hmac_secret");
            config.token = r.secret_value(*auth, "auth", "token");
        }

        if (const auto* alerts = r.section(root, "alerts")) {
            r.check_keys(*alerts, "alerts", {"effect_fraction"});
            if (const auto* v = r.find(*alerts, "effect_fraction")) {
                const double fraction = r.number_value(*v, "alerts.effect_fraction");
                if (!(fraction >= 0 && fraction <= 1)) {
                    r.fail("alerts.effect_fraction",
                           "must be between 0 (ignore the alert's magnitude) and 1");
                }
                config.effect_fraction = fraction;
            }
        }

        if (const auto* horreum = r.section(root, "horreum")) {
            r.check_keys(*horreum, "horreum",
                         {"url", "api_key_env", "api_key_file", "commit_label", "timeout"});
            if (const auto* v = r.find(*horreum, "url")) {
                config.horreum.url = r.string_value(*v, "horreum.url");
                while (config.horreum.url.ends_with("/")) {
                    config.horreum.url.pop_back();
                }
                if (!valid_http_url(config.horreum.url)) {
                    r.fail("horreum.url",
                           "expected an http:// or https:// URL of the Horreum "
                           "server, e.g. \"https://horreum.example.com\"");
                }
            }
            config.horreum.api_key = r.secret_value(*horreum, "horreum", "api_key");
            if (const auto* v = r.find(*horreum, "commit_label")) {
                config.horreum.commit_label = r.name_value(*v, "horreum.commit_label");
            }
            if (const auto* v = r.find(*horreum, "timeout")) {
                config.horreum.timeout = r.duration_value(*v, "horreum.timeout");
            }
        }

        if (const auto* otava = r.section(root, "otava")) {
            r.check_keys(*otava, "otava",
                         {"commit_attribute", "previous_commit_attribute", "lookback"});
            if (const auto* v = r.find(*otava, "commit_attribute")) {
                config.otava.commit_attribute = r.name_value(*v, "otava.commit_attribute");
            }
            if (const auto* v = r.find(*otava, "previous_commit_attribute")) {
                config.otava.previous_commit_attribute =
                    r.name_value(*v, "otava.previous_commit_attribute");
            }
            if (const auto* v = r.find(*otava, "lookback")) {
                const auto lookback = r.integer_value(*v, "otava.lookback");
                if (lookback < 1 || lookback > 10000) {
                    r.fail("otava.lookback", "must be between 1 and 10000 commits");
                }
                config.otava.lookback = static_cast<int>(lookback);
            }
        }

        if (const auto* notify = r.section(root, "notify")) {
            r.check_keys(
                *notify, "notify",
                {"url", "secret_env", "secret_file", "command", "retries", "backoff", "timeout"});
            if (const auto* v = r.find(*notify, "url")) {
                config.notify.url = r.string_value(*v, "notify.url");
                if (!valid_http_url(config.notify.url)) {
                    r.fail("notify.url",
                           "expected an http:// or https:// URL that receives the "
                           "report JSON");
                }
            }
            config.notify.secret = r.secret_value(*notify, "notify", "secret");
            if (const auto* v = r.find(*notify, "command")) {
                config.notify.command = r.command_value(*v, "notify.command");
            }
            if (const auto* v = r.find(*notify, "retries")) {
                const auto retries = r.integer_value(*v, "notify.retries");
                if (retries < 0 || retries > 100) {
                    r.fail("notify.retries", "must be between 0 and 100");
                }
                config.notify.retries = static_cast<int>(retries);
            }
            if (const auto* v = r.find(*notify, "backoff")) {
                config.notify.backoff = r.duration_value(*v, "notify.backoff");
            }
            if (const auto* v = r.find(*notify, "timeout")) {
                config.notify.timeout = r.duration_value(*v, "notify.timeout");
            }
        }

        if (const auto* routes = r.find(root, "route")) {
            if (!routes->is_array()) {
                r.fail("route", "expected [[route]] tables, one per test (and metric)");
            }
            std::size_t index = 0;
            for (const auto& table : routes->as_array()) {
                const std::string prefix = fmt::format("route[{}]", index++);
                if (!table.is_table()) {
                    r.fail(prefix, "expected a [[route]] table");
                }
                r.check_keys(table, prefix, {"test", "metric", "config"});
                Route route;
                const auto* test = r.find(table, "test");
                const auto* project = r.find(table, "config");
                if (test == nullptr || project == nullptr) {
                    r.fail(prefix,
                           "needs `test` (the alert's test name) and `config` (the "
                           "perfbisect config to bisect it with)");
                }
                route.test = r.name_value(*test, prefix + ".test");
                if (const auto* v = r.find(table, "metric")) {
                    route.metric = r.name_value(*v, prefix + ".metric");
                }
                route.config = r.path_value(*project, prefix + ".config");
                config.routes.push_back(std::move(route));
            }
        }
        if (config.routes.empty()) {
            r.fail("route",
                   "no [[route]]: add one per test, e.g. [[route]] test = \"nightly\" "
                   "config = \"app/perfbisect.toml\"");
        }
        return config;
    } catch (const Failure& failure) {
        return std::unexpected(failure.error());
    }
}

Result<ServerConfig> load_server_config(const std::filesystem::path& file) {
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(file, ec);
    std::ifstream in(absolute, std::ios::binary);
    if (!in || std::filesystem::is_directory(absolute, ec)) {
        return usage_error(
            fmt::format("cannot read server config {} (check the --config path)", file.string()));
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    auto config = parse_server_config(buffer.str(), absolute.parent_path(), file.string());
    if (config) {
        config->file = absolute;
    }
    return config;
}

Result<std::string> config_text_with_min_effect(const Config& config, double min_effect) {
    if (!(min_effect > 0 && min_effect < 10)) {
        return usage_error(fmt::format("min_effect {} is out of range", min_effect));
    }
    toml::value root;
    try {
        std::istringstream stream(config.text);
        root = toml::parse(stream, config.file.string());
        auto& table = root.as_table();
        if (!table.contains("decide")) {
            table["decide"] = toml::table{};
        }
        table["decide"].as_table()["min_effect"] = min_effect;
    } catch (const std::exception& e) {
        return usage_error(fmt::format("{}: cannot rewrite min_effect: {}", config.file.string(),
                                       one_line(e.what())));
    }
    std::string text =
        fmt::format("# {}, with [decide] min_effect set by perfbisect (an alert's or a gate's threshold)\n{}",
                    config.file.string(), toml::format(root));
    auto check = parse_config(text, config.file.parent_path(), config.file.string());
    if (!check || check->build_fingerprint() != config.build_fingerprint() ||
        check->probe_fingerprint() != config.probe_fingerprint() ||
        std::abs(check->decide.min_effect - min_effect) > 1e-12) {
        return runtime_error(fmt::format(
            "{}: rewriting [decide] min_effect changed the config's meaning{}; report this bug",
            config.file.string(), check ? "" : ": " + check.error().message));
    }
    return text;
}

}  // namespace perfbisect
