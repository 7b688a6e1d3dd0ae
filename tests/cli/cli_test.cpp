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

namespace {

// The message of the usage error the command throws.
template <typename Command>
std::string usage_error_of(Command command) {
    std::ostringstream out;
    try {
        command(out);
    } catch (const Failure& failure) {
        CHECK(failure.kind() == ErrorKind::usage);
        const std::string message = failure.what();
        CHECK(message.find('\n') == std::string::npos);
        return message;
    }
    FAIL("no usage error");
    return "";
}

}  // namespace

TEST_CASE("compare and gate: bad input is a usage error that says what to do", "[cli][gate]") {
    TempDir dir;
    const std::string base = R"toml(
[build]
command = "make"
[probe]
command = ["bench"]
)toml";
    testing::write_file(dir / "plain.toml", base);
    testing::write_file(dir / "no-baseline.toml", base + "[gate]\nmax_regression = \"5%\"\n");

    GateOptions gate;
    gate.config = dir / "plain.toml";
    gate.revision = "HEAD";
    gate.db = dir / "p.db";
    CHECK(usage_error_of([&](std::ostream& out) { command_gate(gate, out); })
              .find("[gate] sets no limit") != std::string::npos);
    gate.config = dir / "no-baseline.toml";
    CHECK(usage_error_of([&](std::ostream& out) { command_gate(gate, out); })
              .find("--baseline") != std::string::npos);
    gate.format = "xml";
    CHECK(usage_error_of([&](std::ostream& out) { command_gate(gate, out); })
              .find("unknown --format 'xml'") != std::string::npos);

    CompareOptions compare;
    compare.config = dir / "plain.toml";
    compare.base = "HEAD";
    compare.head = "HEAD";
    compare.format = "html";
    CHECK(usage_error_of([&](std::ostream& out) { command_compare(compare, out); })
              .find("use text, md, json") != std::string::npos);

    CHECK(main_with({"compare", "--config", (dir / "plain.toml").string(), "HEAD"}) == 2);
    CHECK(main_with({"gate", "--config", (dir / "plain.toml").string()}) == 2);
    CHECK(main_with({"gate", "--help"}) == 0);
}
