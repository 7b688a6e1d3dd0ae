#include <catch2/catch.hpp>

#include "alerts/alert.hpp"
#include "tests/alerts/fake_http.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::FakeHttpClient;
using perfbisect::testing::read_file;

namespace {

std::string data(const std::string& name) {
    return read_file(std::filesystem::path(PERFBISECT_SOURCE_DIR) / "tests/data/alerts" / name);
}

constexpr const char* k_good = "1b0a9f8e7d6c5b4a3f2e1d9c2e7d1b5a0f4e3d2c";
constexpr const char* k_bad = "9c2e7d1b5a0f4e3d2c1b0a9f8e7d6c5b4a3f2e1d";

std::string generic(const std::string& good, const std::string& bad) {
    return R"({"test": "latency", "good": ")" + good + R"(", "bad": ")" + bad + R"("})";
}

}  // namespace

TEST_CASE("generic alert: every field of the saved payload", "[alerts]") {
    const auto request = parse_generic_alert(data("generic.json"));
    REQUIRE(request);
    CHECK(request->source == AlertSource::generic);
    CHECK(request->alert_id == "nightly-2024-05-01/latency");
    CHECK(request->test == "latency");
    CHECK(request->metric == "p99");
    CHECK(request->good == k_good);
    CHECK(request->bad == k_bad);
    REQUIRE(request->change);
    CHECK(*request->change == Approx(0.185));
    CHECK(request->direction == Direction::lower_is_better);
    CHECK(detect_alert_source(data("generic.json")).value() == AlertSource::generic);
}

TEST_CASE("generic alert: changes as percentages, fractions, numbers", "[alerts]") {
    auto with_change = [](const std::string& change) {
        return parse_generic_alert(
            R"({"test": "t", "good": "abcdef1", "bad": "abcdef2", "change": )" + change + "}");
    };
    CHECK(*with_change("\"12%\"")->change == Approx(0.12));
    CHECK(*with_change("\"-3.5 %\"")->change == Approx(-0.035));
    CHECK(*with_change("\"0.2\"")->change == Approx(0.2));
    CHECK(*with_change("0.07")->change == Approx(0.07));
    CHECK_FALSE(with_change("\"a lot\""));
    CHECK_FALSE(parse_generic_alert(generic("abcdef1", "abcdef2")).value().change);
}

TEST_CASE("generic alert: commits must be hex ids, nothing a shell or git would read", "[alerts]") {
    for (const std::string& commit : std::vector<std::string>{
             "$(touch /tmp/pwned)", "--upload-pack=touch /tmp/pwned", "HEAD~3", "main", "abc123",
             "`id`", "deadbeef;rm -rf /", "g00dbeef", std::string(65, 'a')}) {
        const auto request =
            parse_generic_alert(R"({"test": "t", "good": "abcdef1", "bad": )" + std::string("\"") +
                                (commit.find('"') == std::string::npos ? commit : "x") + "\"}");
        INFO(commit);
        REQUIRE_FALSE(request);
        CHECK(request.error().kind == ErrorKind::usage);
        CHECK(request.error().message.find("not a commit id") != std::string::npos);
    }
    CHECK(parse_generic_alert(generic("ABCDEF1", std::string(64, 'f'))));
}

TEST_CASE("generic alert: malformed input is a usage error with a message", "[alerts]") {
    auto message = [](const std::string& body) {
        auto request = parse_generic_alert(body);
        REQUIRE_FALSE(request);
        CHECK(request.error().kind == ErrorKind::usage);
        return request.error().message;
    };
    CHECK(message("{\"test\": ").find("not valid JSON") != std::string::npos);
    // A number beyond double is nlohmann's out_of_range, not a parse_error:
    // it escaped as an exception until fuzzing found it.
    CHECK(message(R"({"change": {"ile": 1e999}, "versione": "t"})").find("not valid JSON") !=
          std::string::npos);
    CHECK(message("[1, 2]").find("JSON object") != std::string::npos);
    CHECK(message(R"({"good": "abcdef1", "bad": "abcdef2"})").find("needs test") !=
          std::string::npos);
    CHECK(message(R"({"test": "t", "good": "abcdef1", "bad": "abcdef2", "url": "http://x"})")
              .find("unknown field 'url'") != std::string::npos);
    CHECK(message(R"({"test": "a\nb", "good": "abcdef1", "bad": "abcdef2"})")
              .find("control characters") != std::string::npos);
    CHECK(message(R"({"test": "t", "good": "abcdef1", "bad": "abcdef2", "direction": "up"})")
              .find("direction") != std::string::npos);
    CHECK(message(std::string(k_max_alert_bytes + 1, ' ')).find("1 MiB") != std::string::npos);
}

TEST_CASE("Horreum change/new: the saved event as Horreum sends it", "[alerts]") {
    const auto change = parse_horreum_event(data("horreum-change-new.json"));
    REQUIRE(change);
    CHECK(change->change_id == "4321");
    CHECK(change->test == "quarkus-rest-throughput");
    CHECK(change->variable == "throughput");
    CHECK(change->dataset_id == 1234);
    CHECK(change->test_id == 789);
    CHECK(change->ordinal == 0);
    // "mean 880.000000, previous mean 1000.000000": 12 % lower.
    REQUIRE(change->change);
    CHECK(*change->change == Approx(-0.12));
    CHECK(detect_alert_source(data("horreum-change-new.json")).value() == AlertSource::horreum);

    // hunterEDivisive writes the change as a percentage.
    std::string edivisive = data("horreum-change-new.json");
    const auto at = edivisive.find("Change detected");
    edivisive.replace(at, edivisive.find('"', at) - at,
                      "eDivisive change `+7.5%` at `2024-03-18 09:12:44 +0000` for dataset: 1234");
    CHECK(*parse_horreum_event(edivisive)->change == Approx(0.075));

    auto broken = parse_horreum_event(R"({"change": {"id": 1}, "testName": "t"})");
    REQUIRE_FALSE(broken);
    CHECK(broken.error().message.find("change.variable") != std::string::npos);
}

TEST_CASE("Horreum change/new: commits come from the REST API's label values", "[alerts]") {
    FakeHttpClient http;
    const std::string url = "http://horreum.test:8080";
    http.replies[url + "/api/dataset/1234/labelValues"] = {
        {200, data("horreum-label-values-1234.json"), ""}};
    http.replies[url + "/api/dataset/1230/labelValues"] = {
        {200, data("horreum-label-values-1230.json"), ""}};
    http.replies[url + "/api/dataset/list/789?limit=100&page=1&sort=start&direction=Descending"] = {
        {200, data("horreum-dataset-list.json"), ""}};
    HorreumSettings settings;
    settings.url = url;
    auto api = make_horreum_api(settings, "HUSR_TEST_KEY", http);
    const auto change = parse_horreum_event(data("horreum-change-new.json")).value();
    const auto request = resolve_horreum_change(change, *api, "commit");
    REQUIRE(request);
    CHECK(request->source == AlertSource::horreum);
    CHECK(request->bad == k_bad);
    CHECK(request->good == k_good);  // dataset 1230: the previous run's ordinal 0, not 1233
    CHECK(request->test == "quarkus-rest-throughput");
    CHECK(request->metric == "throughput");
    CHECK(request->alert_id == "4321");
    REQUIRE_FALSE(http.calls.empty());
    for (const auto& call : http.calls) {
        CHECK(call.method == "GET");
        CHECK(std::find(call.headers.begin(), call.headers.end(),
                        std::pair<std::string, std::string>{
                            "X-Horreum-API-Key", "HUSR_TEST_KEY"}) != call.headers.end());
    }

    // A label that is missing, a label that is not a commit, an unreachable server.
    auto missing = resolve_horreum_change(change, *api, "git_sha");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::usage);
    CHECK(missing.error().message.find("no label 'git_sha'") != std::string::npos);
    auto not_commit = resolve_horreum_change(change, *api, "buildUrl");
    REQUIRE_FALSE(not_commit);
    CHECK(not_commit.error().message.find("not a commit id") != std::string::npos);
    http.replies[url + "/api/dataset/1234/labelValues"] = {{0, "", "Connection refused"}};
    auto down = resolve_horreum_change(change, *api, "commit");
    REQUIRE_FALSE(down);
    CHECK(down.error().kind == ErrorKind::runtime);
    CHECK(down.error().message.find("Connection refused") != std::string::npos);
}

TEST_CASE("Otava JSON: every change of every change point, numbers as strings", "[alerts]") {
    OtavaSettings settings;
    settings.lookback = 12;
    const auto requests = parse_otava_report(data("otava-analyze.json"), settings);
    REQUIRE(requests);
    REQUIRE(requests->size() == 4);
    const auto& first = (*requests)[0];
    CHECK(first.source == AlertSource::otava);
    CHECK(first.test == "local.other");  // nlohmann orders the object's keys
    CHECK(first.metric == "p99");
    CHECK(first.bad == "c1b0a9f8e7d6c5b4a3f2e1d9c2e7d1b5a0f4e3d2");
    CHECK(first.good == "e7d6c5b4a3f2e1d9c2e7d1b5a0f4e3d2c1b0a9f8");  // previous_commit
    CHECK(first.lookback == 0);
    CHECK(*first.change == Approx(0.2));
    const auto& throughput = (*requests)[1];
    CHECK(throughput.test == "local.sample");
    CHECK(throughput.metric == "throughput");
    CHECK(throughput.good.empty());
    CHECK(throughput.lookback == 12);
    // From the means (six decimals), not the rounded "-11".
    CHECK(*throughput.change == Approx(1801.428571 / 2025.0 - 1));
    CHECK(throughput.time == 1711144800);
    CHECK(throughput.alert_id == "local.sample@1711144800/throughput");
    CHECK((*requests)[2].metric == "response_time");
    CHECK(*(*requests)[2].change == Approx(0.749600 / 0.504000 - 1));
    CHECK(detect_alert_source(data("otava-analyze.json")).value() == AlertSource::otava);

    auto no_commit = parse_otava_report(
        R"({"t": [{"time": 1, "attributes": {}, "changes": [{"metric": "m"}]}]})", settings);
    REQUIRE_FALSE(no_commit);
    CHECK(no_commit.error().message.find("attributes.commit") != std::string::npos);
    auto injected = parse_otava_report(
        R"x({"t": [{"time": 1, "attributes": {"commit": "$(touch /tmp/x)"}, "changes": [{"metric": "m"}]}]})x",
        settings);
    REQUIRE_FALSE(injected);
    CHECK(injected.error().message.find("not a commit id") != std::string::npos);
    // A time beyond any date ("1e200") was undefined behaviour when the alert
    // id cast it to long long (found by fuzzing): it counts as no time.
    for (const char* time : {R"("1e200")", "1e300", R"("NaN")"}) {
        const auto far = parse_otava_report(
            std::string(R"({"t": [{"time": )") + time +
                R"(, "attributes": {"commit": "abcdef0"}, "changes": [{"metric": "m"}]}]})",
            settings);
        REQUIRE(far);
        CHECK(far->front().time == 0);
        CHECK(far->front().alert_id == "t@0/m");
    }
}
