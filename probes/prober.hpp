#pragma once

// Probes run the benchmark on one built commit and read its metrics. Abstract
// so that planner-level tests and benches can feed simulated measurements;
// CommandProber is the real one.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bisect/repository.hpp"
#include "config/config.hpp"
#include "probes/metric.hpp"
#include "util/process.hpp"

namespace perfbisect {

// One sample: one run of the probe, or the mean of `runs_per_sample` runs.
struct ProbeRun {
    bool ok = false;
    bool interrupted = false;    // stopped by SIGINT/SIGTERM: nothing to record
    std::vector<double> values;  // the decision metric: one or more values when ok
    std::string failure;         // why no value, one line (names the probe, quotes its output's end)
    double wall_seconds = 0;     // of the probe process(es), warmups excluded
    std::string output;          // failed runs: the end of stdout and stderr, at most ~8 KiB
    // The other metrics of `[probe] metrics`, by their config text, in config
    // order; each with one or more values when ok.
    std::vector<std::pair<std::string, std::vector<double>>> extra;
    // The cluster node it ran on (the last run's, with runs_per_sample > 1);
    // "" = this machine.
    std::string node;
};

struct ProbeTarget {
    const CommitInfo* commit = nullptr;
    std::filesystem::path artifacts_dir;
    std::filesystem::path worktree;
};

// The placeholders of a probe command for one run on target; {out} is out_dir.
std::map<std::string, std::string> probe_placeholders(const ProbeTarget& target,
                                                      const std::filesystem::path& out_dir);

// The process of one plain probe run on target (no tool wrapped around it):
// the command with its placeholders expanded, in the commit's worktree (or
// `cwd`), with `env`, `timeout` and `cpus`. Output paths are left empty.
ProcessSpec probe_process_spec(const ProbeConfig& config, const ProbeTarget& target,
                               const std::filesystem::path& out_dir);

class Prober {
public:
    virtual ~Prober() = default;
    // One sample of the probe. Never throws for a failing run: that is a result.
    virtual ProbeRun run(const ProbeTarget& target) = 0;
};

// Runs [probe] command with placeholders expanded, in the commit's worktree (or
// `cwd`), pinned to `cpus`, under valgrind or perf when a metric needs it.
// {out} is a fresh empty directory per run under scratch_dir, removed
// afterwards with the captured output. The first time it probes a commit it
// makes `warmup` runs and discards them. A run fails on a non-zero exit, a
// timeout, or when any of its metrics cannot be read; the reason quotes the
// end of its output.
class CommandProber final : public Prober {
public:
    // Throws Failure (usage) for a metric that does not parse: configs are
    // validated when loaded, so that is misuse.
    CommandProber(ProcessRunner& runner, const ProbeConfig& config,
                  std::filesystem::path scratch_dir);
    ~CommandProber() override;  // removes its capture files
    CommandProber(const CommandProber&) = delete;
    CommandProber& operator=(const CommandProber&) = delete;

    // Checks that this machine can run the probe's metrics before a session
    // spends time on builds: valgrind for callgrind, perf and the event for
    // perf-stat, the CPUs of `cpus`. A usage error says what is missing and
    // what to use instead.
    Result<void> check_machine();

    ProbeRun run(const ProbeTarget& target) override;

    const MetricSpec& decision_metric() const { return m_metrics.front(); }
    const std::vector<MetricSpec>& metrics() const { return m_metrics; }

private:
    struct Values {
        std::vector<std::vector<double>> per_metric;  // parallel to m_metrics
    };
    ProbeRun run_once(const ProbeTarget& target, Values& values);
    std::vector<std::string> wrapped_argv(std::vector<std::string> argv,
                                          const std::filesystem::path& tool_dir) const;

    ProcessRunner& m_runner;
    const ProbeConfig& m_config;
    std::vector<MetricSpec> m_metrics;  // the decision metric first
    std::filesystem::path m_scratch_dir;
    std::string m_name;                 // the probe command, shortened, for failure reasons
    std::set<std::string> m_warmed;     // commits whose warmup runs are done (by this lane)
    bool m_uses_out = false;            // {out} appears in the command, output or cwd
    bool m_wrapped = false;             // a metric runs the probe under valgrind or perf
    bool m_reads_text = false;          // a metric reads stdout or the output file
    // Where each run's stdout and stderr go: one pair per prober, truncated by
    // every run, so a sample costs no file creation and removal.
    std::filesystem::path m_stdout_path;
    std::filesystem::path m_stderr_path;
    std::string m_run_stem;  // {out} directories: <stem>-<counter>
    unsigned m_counter = 0;
};

}  // namespace perfbisect
