#include <catch2/catch.hpp>

#include <regex>

#include "alerts/service.hpp"
#include "tests/alerts/fake_http.hpp"
#include "tests/support/git_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/crypto.hpp"

using namespace perfbisect;
using perfbisect::testing::FakeHttpClient;
using perfbisect::testing::GitFixture;
using perfbisect::testing::read_file;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

constexpr const char* k_secret = "hmac-secret-for-tests";
constexpr const char* k_token = "token-for-tests";

std::string project_config(const char* direction) {
    return fmt::format(R"([repo]
path = "repo"
[build]
command = "true"
[probe]
command = ["true"]
direction = "{}"
[decide]
min_effect = "2%"
)",
                       direction);
}

std::string data(const std::string& name) {
    return read_file(std::filesystem::path(PERFBISECT_SOURCE_DIR) / "tests/data/alerts" / name);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// A repository of eight commits, two project configs (lower and higher is
// better) and a server.toml routing tests to them; a real SQLite file.
struct Fixture {
    TempDir dir;
    GitFixture git{dir / "repo"};
    std::vector<std::string> commits;
    std::unique_ptr<AlertService> service;
    FakeHttpClient* horreum_http = nullptr;
    std::unique_ptr<FakeHttpClient> http_owner;

    explicit Fixture(const std::string& server_extra = "", int queue_limit = 100) {
        for (int i = 0; i < 8; ++i) {
            commits.push_back(git.commit(fmt::format("change {}", i), {{"f", std::to_string(i)}}));
        }
        write_file(dir / "lower.toml", project_config("lower"));
        write_file(dir / "higher.toml", project_config("higher"));
        const std::string text = fmt::format(R"(
[server]
queue_limit = {}
{}
[horreum]
url = "http://horreum.test"
[otava]
lookback = 2
[[route]]
test = "latency"
config = "lower.toml"
[[route]]
test = "quarkus-rest-throughput"
metric = "throughput"
config = "higher.toml"
[[route]]
test = "local.sample"
metric = "throughput"
config = "higher.toml"
[[route]]
test = "local.sample"
metric = "response_time"
config = "lower.toml"
)",
                                             queue_limit, server_extra);
        write_file(dir / "server.toml", text);
        ServerConfig config = load_server_config(dir / "server.toml").value();
        http_owner = std::make_unique<FakeHttpClient>();
        horreum_http = http_owner.get();
        auto horreum = make_horreum_api(config.horreum, "", *horreum_http);
        service = std::make_unique<AlertService>(
            config, dir / "db/p.db", Credentials{k_secret, k_token}, std::move(horreum));
    }

    std::string generic(int good, int bad, const std::string& extra = "") const {
        return fmt::format(R"({{"test": "latency", "good": "{}", "bad": "{}"{}}})",
                           commits[static_cast<std::size_t>(good)],
                           commits[static_cast<std::size_t>(bad)], extra);
    }

    HttpResponse post(const std::string& path, const std::string& body) {
        HttpRequest request{"POST", path, {}, body};
        request.headers["x-perfbisect-signature"] = "sha256=" + hmac_sha256_hex(k_secret, body);
        return service->handle(request);
    }

    HttpResponse get(const std::string& path, bool authenticated = true) {
        HttpRequest request{"GET", path, {}, ""};
        if (authenticated) {
            request.headers["authorization"] = std::string("Bearer ") + k_token;
        }
        return service->handle(request);
    }
};

std::string session_of(const HttpResponse& response) {
    std::smatch match;
    REQUIRE(
        std::regex_search(response.body, match, std::regex(R"re("session": "([0-9a-f]{8})")re")));
    return match[1];
}

}  // namespace

TEST_CASE("service: a signed alert is queued, the same range again returns its session",
          "[service]") {
    Fixture f;
    const auto first = f.post("/v1/alerts", f.generic(1, 6, R"(, "change": "+30%", "id": "x1")"));
    CHECK(first.status == 202);
    const std::string session = session_of(first);
    CHECK(first.body.find("\"state\": \"queued\"") != std::string::npos);
    CHECK(first.body.find("\"min_effect\": 0.15") != std::string::npos);  // 0.5 × 30 %

    // The same repository, range and probe: 200 and the same session, even
    // from an alert with another id and magnitude.
    const auto again = f.post("/v1/alerts", f.generic(1, 6, R"(, "change": "+10%", "id": "x2")"));
    CHECK(again.status == 200);
    CHECK(session_of(again) == session);
    CHECK(again.body.find("\"duplicate\": true") != std::string::npos);
    // Another range is another session.
    const auto other = f.post("/v1/alerts", f.generic(2, 6));
    CHECK(other.status == 202);
    CHECK(session_of(other) != session);

    const auto report = f.get("/v1/sessions/" + session);
    CHECK(report.status == 200);
    CHECK(report.body.find("\"status\": \"queued\"") != std::string::npos);
    CHECK(report.body.find("\"alert_id\": \"x1\"") != std::string::npos);
    CHECK(report.body.find(f.commits[6]) != std::string::npos);
    const auto list = f.get("/v1/sessions");
    CHECK(list.status == 200);
    CHECK(list.body.find(session) != std::string::npos);
    CHECK(f.get("/v1/sessions/" + session + "/report.html").status == 404);  // not started
    CHECK(f.get("/v1/sessions/0000dead").status == 404);
    CHECK(f.get("/healthz", false).status == 200);
}

TEST_CASE("service: min_effect is the config's unless the alert's magnitude asks for more",
          "[service]") {
    Fixture f;
    AlertQueue queue = AlertQueue::open(f.dir / "db/p.db");
    CHECK(f.post("/v1/alerts", f.generic(0, 7)).status == 202);
    CHECK(f.post("/v1/alerts", f.generic(1, 7, R"(, "change": "+2%")")).status == 202);
    CHECK(f.post("/v1/alerts", f.generic(2, 7, R"(, "change": 0.5)")).status == 202);
    CHECK(f.post("/v1/alerts", f.generic(3, 7, R"(, "change": "+5000%")")).status == 202);
    const auto entries = queue.list();
    REQUIRE(entries.size() == 4);
    CHECK(entries[3].min_effect == Approx(1.0));   // capped at 100 %
    CHECK(entries[0].min_effect == Approx(0.02));  // no magnitude: the config's
    CHECK_FALSE(entries[0].expected_change);
    CHECK(entries[1].min_effect == Approx(0.02));  // 0.5 × 2 % is below the config's 2 %
    CHECK(entries[2].min_effect == Approx(0.25));  // 0.5 × 50 %
    // The queued config text carries it; the rest of the config is unchanged.
    const Config config =
        parse_config(entries[2].config_text, f.dir.path(), entries[2].config_path).value();
    CHECK(config.decide.min_effect == Approx(0.25));
    CHECK(config.probe.direction == Direction::lower_is_better);
    CHECK(entries[0].config_text == read_file(f.dir / "lower.toml"));
    CHECK(entries[2].good == f.commits[2]);
    CHECK(entries[2].repository == std::filesystem::canonical(f.dir / "repo").string());
}

TEST_CASE("service: unsigned, wrongly signed or wrongly tokened requests get 401", "[service]") {
    Fixture f;
    const std::string body = f.generic(1, 6);
    HttpRequest request{"POST", "/v1/alerts", {}, body};
    auto response = f.service->handle(request);
    CHECK(response.status == 401);
    CHECK(std::find(response.headers.begin(), response.headers.end(),
                    std::pair<std::string, std::string>{"WWW-Authenticate",
                                                        "Bearer realm=\"perfbisect\""}) !=
          response.headers.end());
    request.headers["x-perfbisect-signature"] = "sha256=" + hmac_sha256_hex("wrong", body);
    CHECK(f.service->handle(request).status == 401);
    request.headers["x-perfbisect-signature"] = "sha256=" + hmac_sha256_hex(k_secret, body + " ");
    CHECK(f.service->handle(request).status == 401);
    request.headers["x-perfbisect-signature"] = hmac_sha256_hex(k_secret, body);  // no "sha256="
    CHECK(f.service->handle(request).status == 401);
    request.headers.clear();
    request.headers["authorization"] = "Bearer token-for-test";
    CHECK(f.service->handle(request).status == 401);
    request.headers["authorization"] = std::string("Basic ") + k_token;
    CHECK(f.service->handle(request).status == 401);
    request.headers["authorization"] = std::string("Bearer ") + k_token;
    CHECK(f.service->handle(request).status == 202);
    // Reads need it too, unless [server] public_reads.
    CHECK(f.get("/v1/sessions", false).status == 401);
    CHECK(f.get("/v1/sessions", true).status == 200);
    HttpRequest signed_get{"GET", "/v1/sessions", {}, ""};
    signed_get.headers["x-perfbisect-signature"] = "sha256=" + hmac_sha256_hex(k_secret, "");
    CHECK(f.service->handle(signed_get).status == 200);
    Fixture open("public_reads = true");
    CHECK(open.get("/v1/sessions", false).status == 200);
    HttpRequest unsigned_post{"POST", "/v1/alerts", {}, open.generic(1, 6)};
    CHECK(open.service->handle(unsigned_post).status == 401);
}

TEST_CASE("service: bad alerts are refused with the status that says why", "[service]") {
    Fixture f;
    auto expect = [&](const std::string& path, const std::string& body, int status,
                      const std::string& message) {
        const auto response = f.post(path, body);
        INFO(body << " -> " << response.body);
        CHECK(response.status == status);
        CHECK(response.body.find(message) != std::string::npos);
        CHECK(response.body.starts_with("{\"error\":"));
    };
    expect("/v1/alerts", "{\"test\": \"latency\", ", 400, "not valid JSON");
    const auto pwned = f.dir / "pwned";
    expect("/v1/alerts",
           fmt::format(R"x({{"test": "latency", "good": "$(touch {})", "bad": "{}"}})x",
                       pwned.string(), f.commits[6]),
           400, "not a commit id");
    expect("/v1/alerts",
           fmt::format(R"({{"test": "latency", "good": "{}", "bad": "--upload-pack=touch {}"}})",
                       f.commits[1], pwned.string()),
           400, "not a commit id");
    CHECK_FALSE(std::filesystem::exists(pwned));
    expect("/v1/alerts",
           R"({"test": "latency", "good": "0123456789abcdef0123456789abcdef01234567", "bad": ")" +
               f.commits[6] + "\"}",
           400, "is not a commit of");
    expect("/v1/alerts", f.generic(6, 1), 400, "ancestor");
    expect("/v1/alerts", replace_all(f.generic(1, 6), "latency", "throughput-x"), 404,
           "no route for test 'throughput-x'");
    expect("/v1/alerts", f.generic(1, 6, R"(, "change": "-20%")"), 422, "improvement");
    expect("/v1/alerts", f.generic(1, 6, R"(, "direction": "higher")"), 400,
           "says higher is better");
    expect("/v1/nothing", "{}", 404, "no such route");
    expect("/v1/sessions", "{}", 405, "GET only");
    CHECK(f.get("/v1/alerts").status == 405);
    CHECK(f.get("/v1/sessions/..%2f..%2fetc").status == 404);
    const auto big = f.post("/v1/alerts", std::string(k_max_alert_bytes + 1, ' '));
    CHECK(big.status == 413);
    AlertQueue queue = AlertQueue::open(f.dir / "db/p.db");
    CHECK(queue.list().empty());
}

TEST_CASE("service: a full queue answers 429, duplicates still 200", "[service]") {
    Fixture f("", 2);
    CHECK(f.post("/v1/alerts", f.generic(0, 7)).status == 202);
    CHECK(f.post("/v1/alerts", f.generic(1, 7)).status == 202);
    const auto full = f.post("/v1/alerts", f.generic(2, 7));
    CHECK(full.status == 429);
    CHECK(std::find(full.headers.begin(), full.headers.end(),
                    std::pair<std::string, std::string>{"Retry-After", "60"}) !=
          full.headers.end());
    CHECK(f.post("/v1/alerts", f.generic(1, 7)).status == 200);
}

TEST_CASE("service: a Horreum change/new event, its commits read from Horreum", "[service]") {
    Fixture f;
    const std::string good = "1b0a9f8e7d6c5b4a3f2e1d9c2e7d1b5a0f4e3d2c";
    const std::string bad = "9c2e7d1b5a0f4e3d2c1b0a9f8e7d6c5b4a3f2e1d";
    const std::string base = "http://horreum.test";
    f.horreum_http->replies[base + "/api/dataset/1234/labelValues"] = {
        {200, replace_all(data("horreum-label-values-1234.json"), bad, f.commits[5]), ""}};
    f.horreum_http->replies[base + "/api/dataset/1230/labelValues"] = {
        {200, replace_all(data("horreum-label-values-1230.json"), good, f.commits[2]), ""}};
    f.horreum_http
        ->replies[base + "/api/dataset/list/789?limit=100&page=1&sort=start&direction=Descending"] =
        {{200, data("horreum-dataset-list.json"), ""}};
    const auto response = f.post("/v1/alerts/horreum", data("horreum-change-new.json"));
    INFO(response.body);
    CHECK(response.status == 202);
    const auto entry = AlertQueue::open(f.dir / "db/p.db").list().at(0);
    CHECK(entry.source == "horreum");
    CHECK(entry.alert_id == "4321");
    CHECK(entry.good == f.commits[2]);
    CHECK(entry.bad == f.commits[5]);
    CHECK(*entry.expected_change == Approx(-0.12));  // throughput fell: higher is better
    CHECK(entry.min_effect == Approx(0.06));

    // Horreum down: 502, and the next attempt works.
    f.horreum_http->replies[base + "/api/dataset/1234/labelValues"].insert(
        f.horreum_http->replies[base + "/api/dataset/1234/labelValues"].begin(),
        HttpReply{0, "", "Connection refused"});
    const auto unknown = f.post("/v1/alerts/horreum", replace_all(data("horreum-change-new.json"),
                                                                  "quarkus-rest", "other"));
    CHECK(unknown.status == 404);  // routed before Horreum is asked anything
    const auto down = f.post("/v1/alerts/horreum", data("horreum-change-new.json"));
    CHECK(down.status == 502);
    CHECK(down.body.find("Connection refused") != std::string::npos);
}

TEST_CASE("service: an Otava report queues the newest regression of each routed metric",
          "[service]") {
    Fixture f;
    std::string report = data("otava-analyze.json");
    report = replace_all(report, "a3f2e1d9c2e7d1b5a0f4e3d2c1b0a9f8e7d6c5b4", f.commits[4]);
    report = replace_all(report, "5b4a3f2e1d9c2e7d1b5a0f4e3d2c1b0a9f8e7d6c", f.commits[7]);
    const auto response = f.post("/v1/alerts/otava", report);
    INFO(response.body);
    CHECK(response.status == 202);
    const auto entries = AlertQueue::open(f.dir / "db/p.db").list();
    REQUIRE(entries.size() == 2);
    // throughput: -11 % at commit 4 is a regression (higher is better), +5 %
    // at commit 7 an improvement: the bisect is of commit 4, looking back 2.
    CHECK(entries[0].metric == "throughput");
    CHECK(entries[0].bad == f.commits[4]);
    CHECK(entries[0].good == f.commits[2]);
    CHECK(entries[1].metric == "response_time");  // +49 %, lower is better
    CHECK(entries[1].bad == f.commits[7]);
    CHECK(entries[1].good == f.commits[5]);
    CHECK(entries[1].min_effect == Approx(0.5 * (0.7496 / 0.504 - 1)));
    // local.other has no route: nothing for it.
    CHECK(f.post("/v1/alerts/otava", report).status == 200);  // both duplicates now
}
