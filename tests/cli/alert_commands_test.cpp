#include <catch2/catch.hpp>

#include <sstream>

#include "alerts/queue.hpp"
#include "cli/alert_commands.hpp"
#include "tests/support/git_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/error.hpp"

using namespace perfbisect;
using perfbisect::testing::GitFixture;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

struct Setup {
    TempDir dir;
    GitFixture git{dir / "repo"};
    std::string good;
    std::string bad;

    explicit Setup(const std::string& auth = "") {
        good = git.commit("one", {{"f", "1"}});
        git.commit("two", {{"f", "2"}});
        bad = git.commit("three", {{"f", "3"}});
        write_file(dir / "project.toml",
                   "[repo]\npath = \"repo\"\n[build]\ncommand = \"true\"\n[probe]\ncommand = "
                   "[\"true\"]\n");
        write_file(dir / "server.toml", auth +
                                            "[server]\ndb = \"p.db\"\n[[route]]\ntest = "
                                            "\"bench\"\nconfig = \"project.toml\"\n");
    }

    std::string alert(const std::string& test = "bench") const {
        return R"({"test": ")" + test + R"(", "good": ")" + good + R"(", "bad": ")" + bad + "\"}";
    }
};

// The kind of the Failure a command throws (usage: exit code 2).
template <typename Call>
ErrorKind failure_of(Call call) {
    try {
        call();
    } catch (const Failure& failure) {
        return failure.kind();
    }
    FAIL("no error");
    return ErrorKind::runtime;
}

}  // namespace

TEST_CASE("alert --queue queues the bisect for serve and prints its session", "[cli]") {
    Setup s;
    std::istringstream in(s.alert());
    std::ostringstream out;
    AlertOptions options;
    options.file = "-";
    options.config = s.dir / "server.toml";
    options.queue = true;
    CHECK(command_alert(options, in, out) == 0);
    CHECK(out.str().find("\"state\": \"queued\"") != std::string::npos);
    const auto entries = AlertQueue::open(s.dir / "p.db").list();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].bad == s.bad);
    CHECK(out.str().find(entries[0].session) != std::string::npos);
}

TEST_CASE("alert and serve: bad input is a usage error (exit 2)", "[cli]") {
    Setup s;
    write_file(s.dir / "unrouted.json", s.alert("nobody"));
    write_file(s.dir / "alert.json", s.alert());
    std::istringstream in;
    std::ostringstream out;
    auto alert = [&](const std::string& file, const std::string& kind = "auto",
                     const std::string& format = "text") {
        AlertOptions options;
        options.file = (s.dir / file).string();
        options.config = s.dir / "server.toml";
        options.kind = kind;
        options.format = format;
        return failure_of([&] { command_alert(options, in, out); });
    };
    CHECK(alert("unrouted.json") == ErrorKind::usage);
    CHECK(alert("alert.json", "nagios") == ErrorKind::usage);
    CHECK(alert("missing.json") == ErrorKind::usage);
    CHECK(alert("alert.json", "auto", "yaml") == ErrorKind::usage);
    // serve refuses to run without a secret to check requests against.
    ServeOptions serve;
    serve.config = s.dir / "server.toml";
    CHECK(failure_of([&] { command_serve(serve, out); }) == ErrorKind::usage);
    Setup with_auth("[auth]\ntoken_env = \"PB_CLI_TEST_UNSET_TOKEN\"\n");
    serve.config = with_auth.dir / "server.toml";
    CHECK(failure_of([&] { command_serve(serve, out); }) == ErrorKind::usage);  // unset variable
    serve.listen = "nowhere";
    CHECK(failure_of([&] { command_serve(serve, out); }) == ErrorKind::usage);
    CHECK(AlertQueue::open(s.dir / "p.db").list().empty());
}
