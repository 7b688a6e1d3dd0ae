#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "cache/cache.hpp"
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

TEST_CASE("the sessions commands read a database left by schema 1", "[cli][migration]") {
    TempDir dir;
    const auto db = dir / "v1.db";
    std::filesystem::copy_file(PERFBISECT_SOURCE_DIR "/tests/data/cache/schema-v1.db", db);
    std::ostringstream sessions;
    CHECK(command_sessions(SessionsOptions{db, "text"}, sessions) == 0);
    CHECK(sessions.str().find("f1c7e001   running") != std::string::npos);
    CHECK(sessions.str().find("stopped; `perfbisect resume` continues it") != std::string::npos);

    std::ostringstream status;
    CHECK(command_status(StatusOptions{"", db, "text"}, status) == 0);
    CHECK(status.str().find("session f1c7e001: running") != std::string::npos);
    CHECK(status.str().find("samples   16 (0 reused") != std::string::npos);
    std::ostringstream status_json;
    CHECK(command_status(StatusOptions{"f1c7e001", db, "json"}, status_json) == 0);
    CHECK(status_json.str().find("\"commits\": 24") != std::string::npos);
    CHECK(status_json.str().find("\"open\": null") != std::string::npos);

    std::ostringstream log;
    CHECK(command_log(LogOptions{"f1c7e001", db, "text"}, log) == 0);
    CHECK(log.str().find("session  session f1c7e001: 24 commits") != std::string::npos);

    ReportOptions report;
    report.session = "f1c7e001";
    report.db = db;
    report.format = "json";
    std::ostringstream json;
    CHECK(command_report(report, json) == 0);
    CHECK(json.str().find("\"samples_reused\": 0") != std::string::npos);
    CHECK(json.str().find("\"samples\": 16") != std::string::npos);

    std::ostringstream stats;
    CHECK(command_cache_stats(CacheStatsOptions{db, "text"}, stats) == 0);
    // Migrated all the way (the version grows with every migration).
    CHECK(stats.str().find("schema " + std::to_string(Cache::k_schema_version)) !=
          std::string::npos);
    CHECK(stats.str().find("sessions   1 (1 running)") != std::string::npos);
}

TEST_CASE("sessions and cache commands reject bad input with usage errors", "[cli]") {
    TempDir dir;
    const auto db = dir / "p.db";
    CHECK(main_with({"abort", "nope", "--db", db.string()}) == 2);
    CHECK(main_with({"status", "nope", "--db", db.string()}) == 2);
    CHECK(main_with({"log", "nope", "--db", db.string()}) == 2);
    CHECK(main_with({"cache"}) == 2);
    CHECK(main_with({"cache", "gc", "--db", db.string(), "--older-than", "soon"}) == 2);
    CHECK(main_with({"cache", "gc", "--db", db.string(), "--max-artifacts-size", "big"}) == 2);
    CHECK(main_with({"cache", "export", "nope", "--db", db.string()}) == 2);  // -o missing
    CHECK(main_with({"cache", "import", (dir / "missing.json").string(), "--db", db.string()}) == 2);
    CHECK(main_with({"cache", "gc", "--db", db.string(), "--dry-run"}) == 0);
}
