#pragma once

// The session configuration (TOML; docs/config.md lists every key). Loading
// validates everything a session needs before it starts: unknown keys, wrong
// types, empty commands and unknown placeholders are usage errors that name
// the key and the file.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace perfbisect {

using Seconds = std::chrono::duration<double>;

// A command from the config: a TOML string runs with `/bin/sh -c`, an array is
// argv and runs without a shell.
struct Command {
    bool shell = false;
    std::vector<std::string> words;  // shell: one element, the script; else argv

    bool empty() const { return words.empty() || (words.size() == 1 && words[0].empty()); }
    std::string display() const;  // for logs and reports
};

enum class Direction { lower_is_better, higher_is_better };

struct RepoConfig {
    std::filesystem::path path;  // absolute (resolved against the config file's directory)
    bool first_parent = true;
};

// How a commit's checkout is prepared ([build] strategy).
enum class BuildStrategy {
    incremental,  // one reusable worktree; only the files that differ are written
    clean,        // a fresh worktree per commit, removed once its artifacts are saved
    fetch,        // run [build] fetch to retrieve prebuilt artifacts; build incrementally when it fails
};

// A patch applied to every checkout before building ([build] patches).
struct Patch {
    std::string name;  // as the config names it, for messages
    std::string text;  // a unified diff, as `git diff` or `git format-patch` writes it
};

struct BuildConfig {
    Command command;
    std::vector<std::string> artifacts;  // paths relative to the worktree; copied per commit
    Seconds timeout{20 * 60};            // for each of setup, fetch and command
    std::map<std::string, std::string> env;
    BuildStrategy strategy = BuildStrategy::incremental;
    Command setup;                       // empty: none; runs in a new worktree before command
    Command fetch;                       // strategy fetch: retrieves artifacts into {out}
    std::vector<Patch> patches;          // read when the config is loaded
    bool ccache = true;                  // point ccache (when installed) at the worktree
};

// Which samples of earlier sessions a new session takes over ([cache] reuse):
// those with the same build and probe fingerprints measured on this machine
// (same CPU model, cores, kernel, hostname, governor), on any machine, or none.
enum class ReuseScope { same_machine, any_machine, none };

// The artifact store and reuse ([cache]).
struct CacheConfig {
    std::uint64_t max_artifacts_size = 0;  // bytes; 0 = unlimited
    ReuseScope reuse = ReuseScope::same_machine;
};

struct ProbeConfig {
    Command command;
    std::string metric = "wall";        // the decision metric (probes/metric.hpp)
    std::vector<std::string> metrics;   // more metrics recorded with every run (not decided on)
    Direction direction = Direction::lower_is_better;
    Seconds timeout{5 * 60};            // per run
    std::map<std::string, std::string> env;
    std::string output;                 // the file text metrics read instead of stdout; may hold placeholders
    std::string cwd;                    // working directory, relative to the worktree; "" = the worktree
    std::vector<int> cpus;              // CPUs the probe is pinned to (sched_setaffinity); empty = any
    int warmup = 0;                     // discarded runs before a commit's first sample in a process
    int runs_per_sample = 1;            // runs averaged into one sample, for very short probes
    std::string unit;                   // the decision metric's unit when the probe defines it
                                        // (regex, json …), e.g. "ms"; "" = not said
};

// Where probe runs execute ([executor]): on this machine, or as Slurm jobs.
enum class ExecutorKind { local, slurm };

// [executor] blocking: how W nodes share a round of measurements
// (bisect/node_schedule.hpp has the rule, docs/slurm.md the reasons).
//  off:    the lanes are not pinned to nodes (Slurm places each job) and
//          values are used as measured: for identical nodes only.
//  full:   every node runs every entry of the round, each node as a round of
//          its own: W times the runs; each node's round compares commits on
//          that node alone (Pinpoint's device affinity).
//  rotate: entry j of round r runs on node (j + r) mod W: no more runs than
//          off, and a commit measured in W rounds has visited every node, so
//          the planner can estimate each node's offset within commits.
enum class NodeBlocking { off, full, rotate };

// [executor]. With kind = slurm every probe run is one Slurm job
// (salloc --no-shell, then srun into it; executors/slurm_runner.hpp).
struct ExecutorConfig {
    ExecutorKind kind = ExecutorKind::local;
    std::string partition;                // slurm: required
    int nodes = 1;                        // nodes measuring at once (W)
    NodeBlocking blocking = NodeBlocking::full;  // with nodes > 1: who measures what
    bool exclusive = true;                // --exclusive: no other job shares the node
    Seconds time_limit{0};                // --time per job; 0 = the partition's default
    std::string account;                  // --account; "" = the user's default
    std::vector<std::string> extra_args;  // more salloc options, e.g. "--constraint=fast"
    std::filesystem::path shared_dir;     // visible at the same path on every node; "" = none
                                          // needed (work/ is shared, or one node)
    std::string build_partition;          // builds run as jobs there; "" = builds run here

    bool slurm() const { return kind == ExecutorKind::slurm; }
};

struct DecideConfig {
    double min_effect = 0.02;  // relative, 0.02 = 2 %: the smallest regression worth finding
    int samples = 6;           // first batch per commit; unclear comparisons double it
    int max_samples = 96;      // cap per commit; an unclear comparison at the cap is decided by its median
    int confirm_samples = 96;  // cap on the rounds culprit and parent share to confirm it
    double alpha = 0.01;       // error rate of the whole search, shared among its decisions
};

// Limits of one session; 0 = unlimited. When one is reached the session stops
// with the best answer so far (budget_exhausted).
struct BudgetConfig {
    int max_builds = 0;
    long max_probe_runs = 0;
    double max_seconds = 0;  // wall time of the session
};

// Profiles of each culprit and its parent after a session converges
// ([profile], or the shorthand `profile = "perf"`).
enum class ProfileTool { none, perf, callgrind, command };

struct ProfileConfig {
    ProfileTool tool = ProfileTool::none;
    Command command;           // tool command: prints folded stacks ("a;b;c 12") on stdout
    int runs = 0;              // profiled runs per commit, merged; 0 = the tool's default
    int frequency = 4000;      // perf: samples per second
    Seconds timeout{10 * 60};  // per profiled run
    int top = 10;              // functions listed in reports

    bool enabled() const { return tool != ProfileTool::none; }
    // perf: 5 runs, callgrind and command: 1, unless `runs` says otherwise.
    int effective_runs() const;
};

// A limit on one metric's median ([gate] max/min, [gate.metrics]).
struct Threshold {
    std::string text;  // as written, e.g. "120ms", for messages and reports
    double value = 0;  // in the metric's unit
};

struct MetricLimit {
    std::string metric;  // as in [probe] metric or metrics
    std::string unit;    // the metric's unit ("" when unknown)
    std::optional<Threshold> max;
    std::optional<Threshold> min;
};

// `perfbisect gate` ([gate]): absolute limits and a regression limit against a baseline.
struct GateConfig {
    std::vector<MetricLimit> limits;  // the decision metric's first (when set), then [gate.metrics]
    double max_regression = 0;        // relative, 0.05 = 5 %; 0 = no baseline check
    std::string baseline;             // the revision max_regression compares with
    int runs = 0;                     // probe runs for the limits; 0 = [decide] samples

    bool empty() const { return limits.empty() && max_regression == 0; }
};

struct Config {
    std::filesystem::path file;  // where it was read from (absolute), for messages
    std::string text;            // the TOML as read: sessions keep it, so resume needs no file
    RepoConfig repo;
    BuildConfig build;
    ProbeConfig probe;
    DecideConfig decide;
    BudgetConfig budget;
    CacheConfig cache;
    ProfileConfig profile;
    GateConfig gate;
    ExecutorConfig executor;

    // The decision metric's unit: the metric's own (s, KiB, instructions) or
    // `[probe] unit`.
    std::string decision_unit() const;

    // Identifies what a build depends on (command, artifacts, env, setup,
    // patches); samples and builds are only reused when it matches. The
    // strategy, fetch and ccache are left out: they change how, not what.
    std::string build_fingerprint() const;
    std::string probe_fingerprint() const;
};

// Reads and validates a config file.
Result<Config> load_config(const std::filesystem::path& file);
// Parses config text; relative paths resolve against base_dir; `origin` names
// the text in messages (usually the file's path).
Result<Config> parse_config(const std::string& text, const std::filesystem::path& base_dir,
                            const std::string& origin);

// "90s", "20m", "1h30m", "500ms", "2h", or a bare number of seconds.
Result<Seconds> parse_duration(const std::string& text);
// "500M", "10G", "1.5GiB", "2048" (bytes): sizes in bytes, powers of 1024.
Result<std::uint64_t> parse_size(const std::string& text);
// "2%", "0.5 %" or a fraction like 0.02.
Result<double> parse_fraction(const std::string& text);
// A quantity in `unit` (a metric's unit: "s", "ms", "KiB", "instructions", "")
// from "120ms", "1.5s", "300MiB", "2G", or a bare number (already in unit).
// A suffix of another kind than the unit (a time for a size), or any suffix but
// k/M/G when the unit is not known, is a usage error naming both.
Result<double> parse_quantity(const std::string& text, const std::string& unit);

const char* to_string(Direction direction);
const char* to_string(BuildStrategy strategy);
const char* to_string(ProfileTool tool);
const char* to_string(ReuseScope scope);
const char* to_string(ExecutorKind kind);
const char* to_string(NodeBlocking blocking);

// The metrics a run records: the decision metric first, then those of
// `metrics` that differ from it, in order.
std::vector<std::string> probe_metric_texts(const ProbeConfig& probe);

}  // namespace perfbisect
