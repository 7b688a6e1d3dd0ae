#pragma once

// Where probe runs execute ([executor]): on this machine (`local`, the
// default) or as jobs on a Slurm cluster (`slurm`). Why it exists: the
// session runner builds its prober and builder the same way for both, and
// nothing above it (driver, planner) knows where a probe ran. An executor
// supplies the ProcessRunner the prober (and builder) run their processes
// with, the scratch directory probe runs see as {out}, and the place a
// commit's artifacts are read from where the probe runs.

#include <filesystem>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "probes/prober.hpp"
#include "util/error.hpp"
#include "util/process.hpp"

namespace perfbisect {

class Cache;

class Executor {
public:
    virtual ~Executor() = default;
    // How many probe runs may run at once ([executor] nodes; 1 here).
    virtual std::size_t lanes() const { return 1; }
    // Runs the processes of lane k < lanes()'s probe runs (the runner of
    // that lane's prober). Lanes run at once, each from a thread of its own.
    // Owned by the executor.
    virtual ProcessRunner& probe_runner(std::size_t lane) = 0;
    // Runs builds' processes (setup, command, fetch).
    virtual ProcessRunner& build_runner() = 0;
    // Where probe runs get their {out} directories and captured output.
    virtual std::filesystem::path scratch_dir() const = 0;
    // The target as the probe sees it where it runs: artifacts copied to a
    // shared directory when they are not visible there. A failure is a
    // failed run of that commit, with the reason. Thread-safe (lanes).
    virtual Result<ProbeTarget> place(const ProbeTarget& target) = 0;
    // Before the session's first action: checks the executor can run here
    // (usage error saying what is missing) and cancels what an earlier
    // process of the session left running. Returns a line for the user and
    // the event log, empty when there was nothing to say.
    virtual Result<std::string> prepare() = 0;
};

// The executor of config for one session: `local` runs everything with
// `local` in work_dir/scratch; `slurm` (executors/slurm_executor.hpp) wraps
// it. cache and local must outlive the executor.
std::unique_ptr<Executor> make_executor(const ExecutorConfig& config, Cache& cache,
                                        const std::string& session, ProcessRunner& local,
                                        const std::filesystem::path& work_dir);

// A Prober that places each target with the executor before the inner
// prober runs it (the inner prober expands the placed paths). One per lane.
class PlacedProber final : public Prober {
public:
    PlacedProber(Executor& executor, Prober& inner) : m_executor(executor), m_inner(inner) {}
    ProbeRun run(const ProbeTarget& target) override;

private:
    Executor& m_executor;
    Prober& m_inner;
};

}  // namespace perfbisect
