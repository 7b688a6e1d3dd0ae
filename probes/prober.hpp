#pragma once

// Probes run the benchmark on one built commit and read its metric. Abstract
// so that planner-level tests and benches can feed simulated measurements;
// CommandProber is the real one.

#include <filesystem>
#include <string>
#include <vector>

#include "bisect/repository.hpp"
#include "config/config.hpp"
#include "probes/metric.hpp"
#include "util/process.hpp"

namespace perfbisect {

struct ProbeRun {
    bool ok = false;
    bool interrupted = false;    // stopped by SIGINT/SIGTERM: nothing to record
    std::vector<double> values;  // one or more values when ok
    std::string failure;         // why no value, one line
    double wall_seconds = 0;
};

struct ProbeTarget {
    const CommitInfo* commit = nullptr;
    std::filesystem::path artifacts_dir;
    std::filesystem::path worktree;
};

class Prober {
public:
    virtual ~Prober() = default;
    // One run of the probe. Never throws for a failing run: that is a result.
    virtual ProbeRun run(const ProbeTarget& target) = 0;
};

// Runs [probe] command with placeholders expanded. The working directory is the
// commit's worktree; {out} is a fresh empty directory per run under scratch_dir,
// removed afterwards. A run fails on a non-zero exit, a timeout, or when the
// metric cannot be read; the reason quotes the end of its stderr.
class CommandProber final : public Prober {
public:
    CommandProber(ProcessRunner& runner, const ProbeConfig& config, MetricSpec metric,
                  std::filesystem::path scratch_dir);

    ProbeRun run(const ProbeTarget& target) override;

private:
    ProcessRunner& m_runner;
    const ProbeConfig& m_config;
    MetricSpec m_metric;
    std::filesystem::path m_scratch_dir;
    unsigned m_counter = 0;
};

}  // namespace perfbisect
