#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/server_config.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

std::string error_of(const std::string& text, const std::filesystem::path& dir = "/srv") {
    auto config = parse_server_config(text, dir, "server.toml");
    REQUIRE_FALSE(config);
    CHECK(config.error().kind == ErrorKind::usage);
    return config.error().message;
}

constexpr const char* k_project = R"x(# the project
[repo]
path = "repo"

[build]
command = "./build.sh && echo '{commit}'"
artifacts = ["build/bench"]
env = { CC = "gcc" }

[probe]
command = ["{artifacts}/bench", "--quick"]
metric = "regex:time: ([0-9.]+)"

[decide]
min_effect = "2%"
samples = 8
)x";

}  // namespace

TEST_CASE("server.toml: every section, routes resolved against its directory", "[server_config]") {
    auto config = parse_server_config(R"x(
[server]
listen = "127.0.0.1:9000"
db = "state/p.db"
queue_limit = 7
public_reads = true

[auth]
hmac_secret_env = "PB_HMAC"
token_file = "secrets/token"

[alerts]
effect_fraction = 0.25

[horreum]
url = "https://horreum.example.com/"
api_key_env = "HORREUM_KEY"
commit_label = "git_sha"
timeout = "3s"

[otava]
commit_attribute = "sha"
previous_commit_attribute = "prev_sha"
lookback = 8

[notify]
url = "http://127.0.0.1:9999/hook"
secret_file = "/etc/perfbisect/callback.key"
command = ["./comment.sh", "--pr"]
retries = 2
backoff = "1s"
timeout = "20s"

[[route]]
test = "nightly"
metric = "p99"
config = "app/perfbisect.toml"

[[route]]
test = "nightly"
config = "/abs/other.toml"
)x",
                                      "/srv/pb", "server.toml");
    REQUIRE(config);
    CHECK(config->listen == "127.0.0.1:9000");
    CHECK(config->db == "/srv/pb/state/p.db");
    CHECK(config->queue_limit == 7);
    CHECK(config->public_reads);
    CHECK(config->hmac_secret.env == "PB_HMAC");
    CHECK(config->token.file == "/srv/pb/secrets/token");
    CHECK(config->effect_fraction == 0.25);
    CHECK(config->horreum.url == "https://horreum.example.com");
    CHECK(config->horreum.api_key.env == "HORREUM_KEY");
    CHECK(config->horreum.commit_label == "git_sha");
    CHECK(config->horreum.timeout.count() == 3);
    CHECK(config->otava.commit_attribute == "sha");
    CHECK(config->otava.previous_commit_attribute == "prev_sha");
    CHECK(config->otava.lookback == 8);
    CHECK(config->notify.url == "http://127.0.0.1:9999/hook");
    CHECK(config->notify.command.words == std::vector<std::string>{"./comment.sh", "--pr"});
    CHECK_FALSE(config->notify.command.shell);
    CHECK(config->notify.retries == 2);
    CHECK(config->notify.backoff.count() == 1);
    REQUIRE(config->routes.size() == 2);
    CHECK(config->routes[0].config == "/srv/pb/app/perfbisect.toml");

    // The first match wins; a route without a metric takes any metric.
    CHECK(config->route_for("nightly", "p99") == &config->routes[0]);
    CHECK(config->route_for("nightly", "p50") == &config->routes[1]);
    CHECK(config->route_for("nightly", "") == &config->routes[1]);
    CHECK(config->route_for("weekly", "p99") == nullptr);
}

TEST_CASE("server.toml: defaults are loopback, queue of 100, no public reads", "[server_config]") {
    auto config = parse_server_config("[[route]]\ntest = \"t\"\nconfig = \"p.toml\"\n", "/srv",
                                      "server.toml");
    REQUIRE(config);
    CHECK(config->listen == "127.0.0.1:8642");
    CHECK(parse_listen_address(config->listen)->loopback());
    CHECK(config->queue_limit == 100);
    CHECK_FALSE(config->public_reads);
    CHECK(config->effect_fraction == 0.5);
    CHECK(config->horreum.commit_label == "commit");
    CHECK(config->otava.lookback == 20);
    CHECK(config->notify.retries == 5);
    CHECK(config->db.empty());
}

TEST_CASE("server.toml: mistakes are usage errors naming the key", "[server_config]") {
    CHECK(error_of("[[route]]\ntest = \"t\"\nconfig = \"p.toml\"\n[server]\nport = 1\n")
              .find("server.port: unknown key") != std::string::npos);
    CHECK(error_of("[server]\nlisten = \"127.0.0.1:8642\"\n").find("no [[route]]") !=
          std::string::npos);
    CHECK(error_of("[[route]]\ntest = \"t\"\n").find("route[0]") != std::string::npos);
    CHECK(error_of("[[route]]\ntest = \"t\"\nconfig = \"p\"\n[auth]\nhmac_secret_env = \"A\"\n"
                   "hmac_secret_file = \"f\"\n")
              .find("not both") != std::string::npos);
    // A secret written where its variable's name belongs is refused.
    CHECK(error_of("[[route]]\ntest = \"t\"\nconfig = \"p\"\n[auth]\ntoken_env = \"hunter2 x\"\n")
              .find("auth.token_env") != std::string::npos);
    CHECK(error_of("[[route]]\ntest = \"t\"\nconfig = \"p\"\n[notify]\nurl = \"ftp://x\"\n")
              .find("notify.url") != std::string::npos);
    CHECK(error_of("[[route]]\ntest = \"t\"\nconfig = \"p\"\n[server]\nlisten = \"nohost\"\n")
              .find("server.listen") != std::string::npos);
    CHECK(error_of("[[route]]\ntest = \"t\"\nconfig = \"p\"\n[alerts]\neffect_fraction = 2\n")
              .find("alerts.effect_fraction") != std::string::npos);
    // Where, as for the bisect config: the file and the line.
    CHECK(error_of("[server]\nlisten = \"127.0.0.1:1\"\n[[route]\n").find(":3: invalid TOML") !=
          std::string::npos);
    CHECK(error_of("[[route]]\ntest = '\xdfp'\n").find("not UTF-8 text (line 2, byte 0xdf") !=
          std::string::npos);
}

TEST_CASE("listen addresses: host:port, [v6]:port, port 0", "[server_config]") {
    CHECK(parse_listen_address("127.0.0.1:0")->port == 0);
    CHECK(parse_listen_address("[::1]:8642")->host == "::1");
    CHECK(parse_listen_address("[::1]:8642")->loopback());
    CHECK(parse_listen_address("localhost:80")->loopback());
    CHECK_FALSE(parse_listen_address("0.0.0.0:8642")->loopback());
    CHECK_FALSE(parse_listen_address("127.0.0.1:99999"));
    CHECK_FALSE(parse_listen_address("127.0.0.1:"));
    CHECK_FALSE(parse_listen_address(":80"));
}

TEST_CASE("secrets come from a variable or a file and never appear in messages",
          "[server_config]") {
    TempDir dir;
    write_file(dir / "key", "  file-secret-value\n");
    SecretSource file{"", dir / "key", "auth.token_file"};
    CHECK(read_secret(file).value() == "file-secret-value");

    ::setenv("PB_TEST_SECRET", "env-secret-value", 1);
    SecretSource env{"PB_TEST_SECRET", "", "auth.hmac_secret_env"};
    CHECK(read_secret(env).value() == "env-secret-value");

    ::setenv("PB_TEST_SECRET", "", 1);
    auto unset = read_secret(env);
    REQUIRE_FALSE(unset);
    CHECK(unset.error().message.find("PB_TEST_SECRET") != std::string::npos);
    ::unsetenv("PB_TEST_SECRET");

    write_file(dir / "empty", "\n");
    auto empty = read_secret(SecretSource{"", dir / "empty", "auth.token_file"});
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message.find("empty") != std::string::npos);
    auto missing = read_secret(SecretSource{"", dir / "nope", "auth.token_file"});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("file-secret-value") == std::string::npos);
}

TEST_CASE("min_effect from an alert rewrites the config, keeping its fingerprints",
          "[server_config]") {
    TempDir dir;
    write_file(dir / "perfbisect.toml", k_project);
    const Config original = load_config(dir / "perfbisect.toml").value();
    CHECK(original.decide.min_effect == Approx(0.02));

    const std::string text = config_text_with_min_effect(original, 0.125).value();
    const Config rewritten = parse_config(text, dir.path(), "x").value();
    CHECK(rewritten.decide.min_effect == Approx(0.125));
    CHECK(rewritten.decide.samples == 8);
    CHECK(rewritten.repo.path == original.repo.path);
    CHECK(rewritten.build_fingerprint() == original.build_fingerprint());
    CHECK(rewritten.probe_fingerprint() == original.probe_fingerprint());

    // A config without [decide] gets one.
    std::string no_decide = k_project;
    no_decide = no_decide.substr(0, no_decide.find("[decide]"));
    write_file(dir / "plain.toml", no_decide);
    const Config plain = load_config(dir / "plain.toml").value();
    const Config with =
        parse_config(config_text_with_min_effect(plain, 0.3).value(), dir.path(), "x").value();
    CHECK(with.decide.min_effect == Approx(0.3));
    CHECK(with.decide.samples == plain.decide.samples);

    CHECK_FALSE(config_text_with_min_effect(original, 0));
}
