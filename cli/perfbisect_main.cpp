// Command-line parsing (the only translation unit that includes CLI11) and the
// one top-level catch that turns errors into exit codes.
#include "cli/perfbisect_main.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/alert_commands.hpp"
#include "cli/commands.hpp"
#include "util/allocator.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"

namespace perfbisect {
namespace {

void setup_logging(bool verbose) {
    // Called once per perfbisect_main(); tests call that more than once.
    auto logger = spdlog::get("perfbisect");
    if (!logger) {
        logger = spdlog::stderr_logger_mt("perfbisect");
    }
    logger->set_pattern("perfbisect: %l: %v");
    logger->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

int print_error(const std::string& message, ExitCode code) {
    std::fflush(stdout);
    fmt::print(stderr, "perfbisect: error: {}\n", message);
    return static_cast<int>(code);
}

}  // namespace

int perfbisect_main(int argc, char** argv) {
    keep_freed_memory();
    CLI::App app{"perfbisect: find the commit that made a program slower", "perfbisect"};
    app.require_subcommand(1);
    app.set_version_flag("--version", PERFBISECT_VERSION);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "debug logs on stderr");

    RunOptions run;
    auto* run_cmd = app.add_subcommand("run", "start a session and run it to its end");
    run_cmd->add_option("--config", run.config, "the TOML config")->required();
    run_cmd->add_option("--good", run.good, "a revision without the regression")->required();
    run_cmd->add_option("--bad", run.bad, "a revision with the regression")->required();
    run_cmd->add_option("--db", run.db, "the SQLite cache (default .perfbisect/perfbisect.db or $PERFBISECT_DB)");
    run_cmd->add_option("--format", run.format, "text, json or md")->capture_default_str();
    run_cmd->add_flag("-q,--quiet", run.quiet, "no progress lines");

    ResumeOptions resume;
    auto* resume_cmd = app.add_subcommand("resume", "continue an interrupted session");
    resume_cmd->add_option("session", resume.session, "the session id")->required();
    resume_cmd->add_option("--db", resume.db, "the SQLite cache");
    resume_cmd->add_option("--format", resume.format, "text, json or md")->capture_default_str();
    resume_cmd->add_flag("-q,--quiet", resume.quiet, "no progress lines");
    resume_cmd->add_flag("--take-over", resume.take_over,
                         "take the session from a process on another host that is gone");

    SessionsOptions sessions;
    auto* sessions_cmd = app.add_subcommand("sessions", "list sessions");
    sessions_cmd->add_option("--db", sessions.db, "the SQLite cache");
    sessions_cmd->add_option("--format", sessions.format, "text or json")->capture_default_str();

    StatusOptions status;
    auto* status_cmd =
        app.add_subcommand("status", "what a session is doing: step, commits left, samples");
    status_cmd->add_option("session", status.session, "the session id (default: every running one)");
    status_cmd->add_option("--db", status.db, "the SQLite cache");
    status_cmd->add_option("--format", status.format, "text or json")->capture_default_str();

    AbortOptions abort;
    auto* abort_cmd = app.add_subcommand("abort", "stop a running session for good (its samples stay)");
    abort_cmd->add_option("session", abort.session, "the session id")->required();
    abort_cmd->add_option("--db", abort.db, "the SQLite cache");

    LogOptions log;
    auto* log_cmd = app.add_subcommand("log", "a session's event log: every decision, and why each step");
    log_cmd->add_option("session", log.session, "the session id")->required();
    log_cmd->add_option("--db", log.db, "the SQLite cache");
    log_cmd->add_option("--format", log.format, "text or json")->capture_default_str();

    auto* cache_cmd = app.add_subcommand("cache", "look after the cache: stats, gc, export, import");
    cache_cmd->require_subcommand(1);
    CacheStatsOptions cache_stats;
    auto* stats_cmd = cache_cmd->add_subcommand("stats", "what the database and work directory hold");
    stats_cmd->add_option("--db", cache_stats.db, "the SQLite cache");
    stats_cmd->add_option("--format", cache_stats.format, "text or json")->capture_default_str();
    CacheGcOptions cache_gc;
    auto* gc_cmd = cache_cmd->add_subcommand("gc", "drop artifacts, worktrees and sessions no running session needs");
    gc_cmd->add_option("--db", cache_gc.db, "the SQLite cache");
    gc_cmd->add_option("--older-than", cache_gc.older_than,
                       "drop artifacts unused (and, with --sessions, sessions finished) this long ago")
        ->capture_default_str();
    gc_cmd->add_option("--max-artifacts-size", cache_gc.max_artifacts_size,
                       "then drop the least recently used artifacts beyond this size, e.g. 10G");
    gc_cmd->add_flag("--sessions", cache_gc.sessions, "also delete finished sessions and their samples");
    gc_cmd->add_flag("-n,--dry-run", cache_gc.dry_run, "only say what would be dropped");
    CacheExportOptions cache_export;
    auto* export_cmd = cache_cmd->add_subcommand("export", "write a session's evidence to a JSON file");
    export_cmd->add_option("session", cache_export.session, "the session id")->required();
    export_cmd->add_option("-o,--output", cache_export.output, "the JSON file to write")->required();
    export_cmd->add_option("--db", cache_export.db, "the SQLite cache");
    CacheImportOptions cache_import;
    auto* import_cmd = cache_cmd->add_subcommand("import", "add a session exported elsewhere");
    import_cmd->add_option("file", cache_import.file, "the file `cache export` wrote")->required();
    import_cmd->add_option("--db", cache_import.db, "the SQLite cache");
    import_cmd->add_option("--config", cache_import.config,
                           "continue it with this config (same [build] and [probe], paths of this machine)");

    ReportOptions report;
    auto* report_cmd = app.add_subcommand("report", "render a session's result");
    report_cmd->add_option("session", report.session, "the session id")->required();
    report_cmd->add_option("--db", report.db, "the SQLite cache");
    report_cmd->add_option("--format", report.format, "text, md, json or html")->capture_default_str();
    report_cmd->add_option("-o,--output", report.output, "write to this file instead of stdout");
    report_cmd->add_flag("--verbose-events", report.verbose,
                         "text: include the event log (as does -v/--verbose)");

    MeasureOptions measure;
    auto* measure_cmd = app.add_subcommand("measure", "build one commit and print its samples: checks a config");
    measure_cmd->add_option("--config", measure.config, "the TOML config")->required();
    measure_cmd->add_option("revision", measure.revision, "the commit to measure")->required();
    measure_cmd->add_option("-n,--runs", measure.runs, "probe runs")->capture_default_str();
    measure_cmd->add_option("--db", measure.db, "the SQLite cache (for the build)");

    CompareOptions compare;
    auto* compare_cmd = app.add_subcommand(
        "compare", "compare two commits with the bisect's statistics: exit 5 on a regression");
    compare_cmd->add_option("--config", compare.config, "the TOML config")->required();
    compare_cmd->add_option("base", compare.base, "the commit to compare against (e.g. the merge base)")
        ->required();
    compare_cmd->add_option("head", compare.head, "the commit under test (e.g. the pull request)")
        ->required();
    compare_cmd->add_option("--db", compare.db, "the SQLite cache");
    compare_cmd->add_option("--format", compare.format, "text, md or json")->capture_default_str();
    compare_cmd->add_flag("-q,--quiet", compare.quiet, "no progress lines");

    GateOptions gate;
    auto* gate_cmd = app.add_subcommand(
        "gate", "check a commit against the limits of [gate]: exit 5 when one is exceeded");
    gate_cmd->add_option("--config", gate.config, "the TOML config, with a [gate] section")
        ->required();
    gate_cmd->add_option("revision", gate.revision, "the commit to check")->required();
    gate_cmd->add_option("--baseline", gate.baseline,
                         "the commit [gate] max_regression compares with (overrides [gate] baseline)");
    gate_cmd->add_option("--junit", gate.junit, "also write the checks as JUnit XML to this file");
    gate_cmd->add_option("--db", gate.db, "the SQLite cache");
    gate_cmd->add_option("--format", gate.format, "text, md or json")->capture_default_str();
    gate_cmd->add_flag("-q,--quiet", gate.quiet, "no progress lines");

    ServeOptions serve;
    auto* serve_cmd = app.add_subcommand(
        "serve", "run the webhook server: alerts start bisects (docs/alerts.md)");
    serve_cmd->add_option("--config", serve.config, "server.toml")->required();
    serve_cmd->add_option("--listen", serve.listen, "host:port (default [server] listen, 127.0.0.1:8642)");
    serve_cmd->add_option("--db", serve.db, "the SQLite cache (default [server] db)");
    serve_cmd->add_flag("--queue-only", serve.queue_only, "queue alerts, run no bisect");
    serve_cmd->add_flag("-q,--quiet", serve.quiet, "no progress lines of the bisects");

    AlertOptions alert;
    auto* alert_cmd = app.add_subcommand("alert", "read one alert and run (or queue) its bisect");
    alert_cmd->add_option("file", alert.file, "the alert (JSON), or - for stdin")->required();
    alert_cmd->add_option("--config", alert.config, "server.toml (its routes)")->required();
    alert_cmd->add_option("--kind", alert.kind, "auto, generic, horreum or otava")->capture_default_str();
    alert_cmd->add_option("--db", alert.db, "the SQLite cache (default [server] db)");
    alert_cmd->add_flag("--queue", alert.queue, "queue it for perfbisect serve and print the sessions");
    alert_cmd->add_option("--format", alert.format, "text, json or md")->capture_default_str();
    alert_cmd->add_flag("-q,--quiet", alert.quiet, "no progress lines");

    for (auto* sub : app.get_subcommands({})) {
        sub->add_flag("-v,--verbose", verbose, "debug logs on stderr");
    }
    for (auto* sub : cache_cmd->get_subcommands({})) {
        sub->add_flag("-v,--verbose", verbose, "debug logs on stderr");
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string command = "perfbisect";
        for (const CLI::App* level = &app; !level->get_subcommands().empty();) {
            level = level->get_subcommands().front();
            command += " " + level->get_name();
        }
        return print_error(fmt::format("{} (see `{} --help`)", e.what(), command),
                           ExitCode::usage_error);
    }
    setup_logging(verbose);
    // `report --format text --verbose` shows the event log.
    report.verbose = report.verbose || verbose;

    try {
        if (run_cmd->parsed()) return command_run(run, std::cout);
        if (resume_cmd->parsed()) return command_resume(resume, std::cout);
        if (sessions_cmd->parsed()) return command_sessions(sessions, std::cout);
        if (report_cmd->parsed()) return command_report(report, std::cout);
        if (measure_cmd->parsed()) return command_measure(measure, std::cout);
        if (compare_cmd->parsed()) return command_compare(compare, std::cout);
        if (gate_cmd->parsed()) return command_gate(gate, std::cout);

        if (status_cmd->parsed()) return command_status(status, std::cout);
        if (abort_cmd->parsed()) return command_abort(abort, std::cout);
        if (log_cmd->parsed()) return command_log(log, std::cout);
        if (stats_cmd->parsed()) return command_cache_stats(cache_stats, std::cout);
        if (gc_cmd->parsed()) return command_cache_gc(cache_gc, std::cout);
        if (export_cmd->parsed()) return command_cache_export(cache_export, std::cout);
        if (import_cmd->parsed()) return command_cache_import(cache_import, std::cout);
        if (serve_cmd->parsed()) return command_serve(serve, std::cout);
        if (alert_cmd->parsed()) return command_alert(alert, std::cin, std::cout);
        return print_error("no command given (see `perfbisect --help`)", ExitCode::usage_error);
    } catch (const Failure& failure) {
        switch (failure.kind()) {
            case ErrorKind::usage: return print_error(failure.what(), ExitCode::usage_error);
            case ErrorKind::interrupted: return print_error(failure.what(), ExitCode::interrupted);
            case ErrorKind::runtime: return print_error(failure.what(), ExitCode::runtime_error);
        }
    } catch (const std::exception& e) {
        return print_error(fmt::format("unexpected: {}", e.what()), ExitCode::runtime_error);
    }
    return static_cast<int>(ExitCode::runtime_error);
}

}  // namespace perfbisect
