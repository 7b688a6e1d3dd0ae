#include <catch2/catch.hpp>

#include <sstream>

#include "cli/commands.hpp"
#include "cli/perfbisect_main.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/error.hpp"

using namespace perfbisect;
using perfbisect::testing::TempDir;

namespace {

int main_with(std::vector<std::string> args) {
    args.insert(args.begin(), "perfbisect");
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    return perfbisect_main(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("the command line maps usage errors to exit code 2", "[cli]") {
    CHECK(main_with({"--help"}) == 0);
    CHECK(main_with({"run", "--help"}) == 0);
    CHECK(main_with({}) == 2);
    CHECK(main_with({"frobnicate"}) == 2);
    CHECK(main_with({"run", "--good", "a", "--bad", "b"}) == 2);  // --config missing
    CHECK(main_with({"measure", "--config", "/nonexistent.toml", "HEAD"}) == 2);
}

TEST_CASE("sessions on an empty database lists nothing, in both formats", "[cli]") {
    TempDir dir;
    std::ostringstream text;
    CHECK(command_sessions(SessionsOptions{dir / "p.db", "text"}, text) == 0);
    CHECK(text.str().find("no sessions") != std::string::npos);
    std::ostringstream json;
    CHECK(command_sessions(SessionsOptions{dir / "p.db", "json"}, json) == 0);
    CHECK(json.str() == "[]\n");
    std::ostringstream out;
    CHECK_THROWS_AS(command_sessions(SessionsOptions{dir / "p.db", "yaml"}, out), Failure);
}

TEST_CASE("report of an unknown session is a usage error", "[cli]") {
    TempDir dir;
    std::ostringstream out;
    ReportOptions options;
    options.session = "deadbeef";
    options.db = dir / "p.db";
    try {
        command_report(options, out);
        FAIL("no error");
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::usage);
        CHECK(std::string(failure.what()).find("deadbeef") != std::string::npos);
    }
}
