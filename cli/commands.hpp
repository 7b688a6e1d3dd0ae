#pragma once

// The subcommands, one function each, free of command-line parsing: they take
// parsed options, write results to `out` and return an exit code. Errors are
// thrown as Failure and mapped to exit codes by perfbisect_main().

#include <filesystem>
#include <initializer_list>
#include <iosfwd>
#include <string>

namespace perfbisect {

struct RunOptions {
    std::filesystem::path config;
    std::string good;
    std::string bad;
    std::filesystem::path db;
    std::string format = "text";
    bool quiet = false;
};

struct ResumeOptions {
    std::string session;
    std::filesystem::path db;
    std::string format = "text";
    bool quiet = false;
    bool take_over = false;  // take the lease of a holder on another host that cannot be checked
};

struct SessionsOptions {
    std::filesystem::path db;
    std::string format = "text";
};

struct ReportOptions {
    std::string session;
    std::filesystem::path db;
    std::string format = "text";
    std::filesystem::path output;  // empty: stdout
    bool verbose = false;
};

struct MeasureOptions {
    std::filesystem::path config;
    std::string revision;
    int runs = 5;
    std::filesystem::path db;
};

struct CompareOptions {
    std::filesystem::path config;
    std::string base;
    std::string head;
    std::filesystem::path db;
    std::string format = "text";
    bool quiet = false;
};

struct GateOptions {
    std::filesystem::path config;
    std::string revision;
    std::string baseline;             // overrides [gate] baseline
    std::filesystem::path junit;      // empty: no JUnit XML
    std::filesystem::path db;
    std::string format = "text";
    bool quiet = false;
};

// `status [SESSION]`: without a session, every running one (or else the latest).
struct StatusOptions {
    std::string session;
    std::filesystem::path db;
    std::string format = "text";
};

struct AbortOptions {
    std::string session;
    std::filesystem::path db;
};

// `log SESSION`: the event log.
struct LogOptions {
    std::string session;
    std::filesystem::path db;
    std::string format = "text";
};

struct CacheStatsOptions {
    std::filesystem::path db;
    std::string format = "text";
};

struct CacheGcOptions {
    std::filesystem::path db;
    std::string older_than = "720h";  // 30 days
    std::string max_artifacts_size;  // empty: no size limit
    bool sessions = false;
    bool dry_run = false;
};

struct CacheExportOptions {
    std::string session;
    std::filesystem::path db;
    std::filesystem::path output;
};

struct CacheImportOptions {
    std::filesystem::path file;
    std::filesystem::path db;
    std::filesystem::path config;  // empty: the config stored in the export
};

int command_run(const RunOptions& options, std::ostream& out);
int command_resume(const ResumeOptions& options, std::ostream& out);
int command_sessions(const SessionsOptions& options, std::ostream& out);
int command_report(const ReportOptions& options, std::ostream& out);
int command_measure(const MeasureOptions& options, std::ostream& out);
// Exit 0: no regression of min_effect or more (or an improvement); 5: a
// regression; 4: a budget stopped it first (cli/gate_commands.cpp).
int command_compare(const CompareOptions& options, std::ostream& out);
// Exit 0: every [gate] check passed; 5: one failed; 4: one could not be decided.
int command_gate(const GateOptions& options, std::ostream& out);

// Sessions and cache (cli/session_commands.cpp).
int command_status(const StatusOptions& options, std::ostream& out);
int command_abort(const AbortOptions& options, std::ostream& out);
int command_log(const LogOptions& options, std::ostream& out);
int command_cache_stats(const CacheStatsOptions& options, std::ostream& out);
int command_cache_gc(const CacheGcOptions& options, std::ostream& out);
int command_cache_export(const CacheExportOptions& options, std::ostream& out);
int command_cache_import(const CacheImportOptions& options, std::ostream& out);

}  // namespace perfbisect
