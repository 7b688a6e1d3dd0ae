#include <catch2/catch.hpp>

#include <thread>

#include "alerts/service.hpp"
#include "alerts/worker.hpp"
#include "report/report.hpp"
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

// A real project: eight commits whose benchmark prints `time: level ± 3 %`;
// commit 5 raises the level from 100 to 130. Builds copy two files.
struct Project {
    TempDir dir;
    GitFixture git{dir / "repo"};
    std::vector<std::string> commits;
    ServerConfig server;

    explicit Project(const std::string& notify) {
        write_file(dir / "repo/bench.sh",
                   "#!/bin/sh\nl=$(cat \"$(dirname \"$0\")/level\")\n"
                   "r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')\n"
                   "awk -v l=\"$l\" -v r=\"$r\" 'BEGIN { printf \"time: %.4f\\n\", l * (0.97 + "
                   "0.06 * r / 65535) }'\n");
        for (int i = 0; i < 8; ++i) {
            commits.push_back(
                git.commit(fmt::format("change {}", i), {{"level", i >= 5 ? "130" : "100"}}));
        }
        write_file(dir / "project.toml", R"toml([repo]
path = "repo"
[build]
command = "true"
artifacts = ["bench.sh", "level"]
[probe]
command = ["sh", "{artifacts}/bench.sh"]
metric = "regex:time: ([0-9.]+)"
[decide]
min_effect = "5%"
samples = 6
)toml");
        write_file(dir / "server.toml", "[notify]\n" + notify + R"(
[[route]]
test = "bench"
config = "project.toml"
)");
        server = load_server_config(dir / "server.toml").value();
    }

    QueueEntry queue_alert(int good, int bad) {
        AlertService service(server, dir / "p.db", Credentials{}, nullptr);
        const auto acceptance = service.accept(
            AlertSource::generic, fmt::format(R"({{"test": "bench", "good": "{}", "bad": "{}"}})",
                                              commits[static_cast<std::size_t>(good)],
                                              commits[static_cast<std::size_t>(bad)]));
        REQUIRE(acceptance);
        return acceptance->accepted.at(0).entry;
    }
};

}  // namespace

TEST_CASE("worker: a queued alert runs to its culprit as the queued session", "[worker]") {
    Project p(R"(url = "http://receiver.test/hook"
command = "echo \"$PERFBISECT_SESSION $PERFBISECT_STATUS $PERFBISECT_CULPRIT\" > notified.txt; cp \"$PERFBISECT_REPORT\" notified.json"
secret_env = "PB_WORKER_TEST_SECRET"
retries = 3
backoff = "1ms"
)");
    const QueueEntry entry = p.queue_alert(0, 7);
    QuietReporter reporter;
    {
        BisectWorker worker(p.dir / "p.db", p.server.notify, reporter);
        AlertQueue queue = AlertQueue::open(p.dir / "p.db");
        REQUIRE(queue.claim(entry.id));
        worker.process(entry);
    }
    AlertQueue queue = AlertQueue::open(p.dir / "p.db");
    CHECK(queue.find_by_session(entry.session)->state == "done");
    Cache cache = Cache::open(p.dir / "p.db");
    const SessionReport report = build_report(cache, entry.session);
    CHECK(report.status == "culprit_found");
    REQUIRE(report.culprits.size() == 1);
    CHECK(report.culprits[0].commit.id == p.commits[5]);
    const auto notifications = queue.notifications(entry.session);
    REQUIRE(notifications.size() == 2);

    // The callback fails once, then is delivered, signed; the command gets
    // the session, status, culprit and report.
    ::setenv("PB_WORKER_TEST_SECRET", "callback-secret", 1);
    FakeHttpClient http;
    http.replies["http://receiver.test/hook"] = {{503, "busy", ""}, {204, "", ""}};
    RealProcessRunner runner;
    Notifier notifier(p.dir / "p.db", p.server.notify, read_secret(p.server.notify.secret).value(),
                      http, runner, p.dir / "work", p.dir.path());
    ::unsetenv("PB_WORKER_TEST_SECRET");
    for (int i = 0; i < 500 && !queue.due_notifications(1e12).empty(); ++i) {
        notifier.deliver_due();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const auto delivered = queue.notifications(entry.session);
    for (const auto& n : delivered) {
        INFO(n.target << ": " << n.last_error);
        CHECK(n.state == "delivered");
    }
    REQUIRE(http.calls.size() == 2);
    const auto& call = http.calls[1];
    CHECK(call.method == "POST");
    CHECK(call.body.find("\"status\": \"culprit_found\"") != std::string::npos);
    CHECK(call.body.find(p.commits[5]) != std::string::npos);
    CHECK(call.body.find("\"queue\"") != std::string::npos);
    CHECK(std::find(call.headers.begin(), call.headers.end(),
                    std::pair<std::string, std::string>{
                        "X-Perfbisect-Signature",
                        "sha256=" + hmac_sha256_hex("callback-secret", call.body)}) !=
          call.headers.end());
    CHECK(read_file(p.dir / "notified.txt") ==
          fmt::format("{} culprit_found {}\n", entry.session, p.commits[5]));
    CHECK(read_file(p.dir / "notified.json").find(entry.session) != std::string::npos);
}

TEST_CASE("worker: a session that cannot run fails its entry, notifications give up", "[worker]") {
    Project p("url = \"http://receiver.test/hook\"\nretries = 1\nbackoff = \"1ms\"\n");
    // The good commit does not build: a runtime error, the entry fails.
    std::string project = read_file(p.dir / "project.toml");
    project.replace(project.find("command = \"true\""), 16, "command = \"exit 3\"");
    write_file(p.dir / "project.toml", project);
    const QueueEntry entry = p.queue_alert(0, 7);
    QuietReporter reporter;
    BisectWorker worker(p.dir / "p.db", p.server.notify, reporter);
    worker.process(entry);
    AlertQueue queue = AlertQueue::open(p.dir / "p.db");
    const auto failed = queue.find_by_session(entry.session);
    CHECK(failed->state == "failed");
    CHECK(failed->error.find("the good commit failed to build") != std::string::npos);

    FakeHttpClient http;
    http.replies["http://receiver.test/hook"] = {{500, "", ""}};
    RealProcessRunner runner;
    Notifier notifier(p.dir / "p.db", p.server.notify, "", http, runner, p.dir / "work",
                      p.dir.path());
    for (int i = 0; i < 500 && !queue.due_notifications(1e12).empty(); ++i) {
        notifier.deliver_due();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const auto notifications = queue.notifications(entry.session);
    REQUIRE(notifications.size() == 1);
    CHECK(notifications[0].state == "failed");
    CHECK(notifications[0].attempts == 2);  // the first and one retry
    CHECK(notifications[0].last_error == "HTTP 500");
    CHECK(http.calls.size() == 2);
}
