#pragma once

// The Slurm executor ([executor] kind = "slurm", docs/slurm.md): every probe
// run is one Slurm job. SlurmProcessRunner turns a process into a job:
//
//   salloc --no-shell --job-name=perfbisect-<session> --partition=P --nodes=1
//          [--exclusive] [--time=H:MM:SS] [--account=A] [extra args…]
//   srun --jobid=<id> --nodes=1 --ntasks=1 --quiet [--chdir=<cwd>] <argv…>
//   scancel <id>
//
// The allocation comes first so that the job id is known, and stored in the
// cache, before the probe starts; srun forwards the probe's stdout, stderr,
// environment and exit code; scancel ends the allocation whatever happened
// (a probe that timed out or was interrupted is cut off on its node too).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "executors/executor.hpp"

namespace perfbisect {

// What SlurmProcessRunner asks for each job.
struct SlurmJobOptions {
    std::string job_name;  // perfbisect-<session>: squeue shows whose job it is
    std::string partition;
    bool exclusive = true;
    double time_limit_seconds = 0;  // 0: the partition's default
    std::string account;
    std::vector<std::string> extra_args;  // more salloc options
    std::string kind = "probe";           // "probe" or "build", as recorded in the cache
    // --nodelist: every job on this node (node blocking pins each of the
    // session's W lanes to a node of its own); "" = the node Slurm picks.
    std::string node;
};

// The job faults of a session's nodes, shared by the runners of its lanes
// (one per node measuring at once): a node that failed three jobs of any
// lane is dropped from all of them. Thread-safe.
class NodeFaults {
public:
    // Counts a fault of node; true when this fault drops it.
    bool add(const std::string& node, int limit);
    std::vector<std::string> dropped() const;
    bool is_dropped(const std::string& node) const;

private:
    mutable std::mutex m_mutex;
    std::map<std::string, int> m_faults;
    std::vector<std::string> m_dropped;  // in the order dropped
};

// Where the job ids go: recorded once a job is allocated (before it runs
// anything), forgotten once it was cancelled. The Slurm executor stores them
// in the cache (Cache::record_job). Called from the thread of the run, so
// from several threads when several lanes run at once.
struct JobLedger {
    std::function<void(const std::string& job_id, const std::string& kind)> started;
    std::function<void(const std::string& job_id)> ended;
};

// Runs a Slurm command (scancel, sinfo) to its end and returns its exit code
// and output (stdout and stderr): a plain child, not cut short by an
// interruption, because cancelling jobs is what an interrupted session must
// still do. argv[0] is looked up in PATH.
struct ControlResult {
    bool started = false;
    int exit_code = -1;
    std::string output;
};
using SlurmControl = std::function<ControlResult(const std::vector<std::string>& argv)>;
ControlResult run_slurm_control(const std::vector<std::string>& argv);

// "H:MM:SS" for salloc --time, rounded up to whole seconds.
std::string slurm_time(double seconds);
// The job id in salloc's output ("salloc: Granted job allocation 42"), or "".
std::string parse_allocated_job(const std::string& salloc_output);
// Why Slurm, not the probe, ended a job step, from srun's stderr: reason
// "preempted", "cut off at its time limit", "node failure", "cancelled" (by
// someone else, e.g. an administrator) or "step not launched", and the node
// Slurm names ("*** STEP 42.0 ON n3 CANCELLED …", "Node failure on n3"; ""
// when it names none). reason is "" when the probe ran and ended by itself
// (its own exit code, even a failing one).
struct JobFault {
    std::string reason;
    std::string node;
};
JobFault job_fault(const std::string& srun_stderr);

// A ProcessRunner whose processes run as Slurm jobs (see the top of this
// file), through `inner` for salloc and srun. The ProcessResult is srun's:
// the probe's exit code, its wall time as seen from here (which includes the
// step's launch). A failed allocation is a result that did not start, with
// salloc's message as error and in spec.stderr_path.
//
// Faults of the job, not of the probe (job_fault(): preempted, time limit,
// node failure, cancelled by someone else, step not launched), are retried
// as a new job, up to k_job_attempts in all, each excluding the nodes this
// run's earlier attempts failed on (--exclude). A node with
// k_node_faults faults in the session is dropped: excluded from every later
// job, with a warning. A runner pinned to a node (options.node) retries on
// that node, and runs on any other node once it is dropped. The retries'
// messages go to the log; the result is the last attempt's, with the node
// it ran on (squeue's answer) in ProcessResult::node. Thread-safety: one
// call at a time per runner; runners sharing a NodeFaults (and the inner
// runner, when it is thread-safe) may run at once.
class SlurmProcessRunner final : public ProcessRunner {
public:
    static constexpr int k_job_attempts = 3;
    static constexpr int k_node_faults = 3;

    // faults: shared with the session's other lanes; null = a tally of its own.
    SlurmProcessRunner(ProcessRunner& inner, SlurmJobOptions options, JobLedger ledger,
                       std::filesystem::path scratch_dir, SlurmControl control = run_slurm_control,
                       std::shared_ptr<NodeFaults> faults = nullptr);
    ProcessResult run(const ProcessSpec& spec) override;

    // The nodes dropped from the session so far, in the order dropped.
    std::vector<std::string> dropped_nodes() const { return m_faults->dropped(); }
    // Runs every later job on node ("" = any): SlurmJobOptions::node.
    void pin(std::string node) { m_options.node = std::move(node); }

private:
    // One job: salloc (on `node`, or excluding `exclude`), srun into it, scancel.
    ProcessResult run_job(const ProcessSpec& spec, const std::string& node,
                          const std::vector<std::string>& exclude);

    ProcessRunner& m_inner;
    SlurmJobOptions m_options;
    JobLedger m_ledger;
    std::filesystem::path m_scratch_dir;
    SlurmControl m_control;
    std::shared_ptr<NodeFaults> m_faults;
    bool m_unpinned_said = false;  // the warning that the pinned node was dropped
};

// The job name of lane k of a session's probe jobs: perfbisect-<session>,
// and perfbisect-<session>-<k> for the other lanes, so that squeue shows
// whose job it is and a lane can cancel its own job by name.
std::string slurm_job_name(const std::string& session, std::size_t lane = 0);

// The executor: probe runs (and builds, with build_partition) as jobs, in
// `nodes` lanes; the job ids of the session in the cache; artifacts copied
// to shared_dir when one is set. prepare() checks that the partition exists,
// pins each lane to a node of its own when blocking is full or rotate (the
// partition's nodes that take jobs, from sinfo), and cancels the jobs an
// earlier process of the session left (by recorded id, and by job name for
// one killed between its allocation and the record).
class SlurmExecutor final : public Executor {
public:
    // cache: the session's database, which the executor opens a connection
    // of its own to (the lanes record their jobs from their threads while
    // the driver stores samples on its connection).
    SlurmExecutor(const ExecutorConfig& config, Cache& cache, std::string session,
                  ProcessRunner& local, const std::filesystem::path& work_dir,
                  SlurmControl control = run_slurm_control);
    ~SlurmExecutor() override;
    SlurmExecutor(const SlurmExecutor&) = delete;
    SlurmExecutor& operator=(const SlurmExecutor&) = delete;
    std::size_t lanes() const override { return m_probe_runners.size(); }
    ProcessRunner& probe_runner(std::size_t lane) override { return *m_probe_runners.at(lane); }
    ProcessRunner& build_runner() override;
    std::filesystem::path scratch_dir() const override { return m_scratch_dir; }
    Result<ProbeTarget> place(const ProbeTarget& target) override;
    Result<std::string> prepare() override;

private:
    // Lane k's node when the lanes are pinned (after prepare()); "" = any.
    Result<std::vector<std::string>> pin_lanes();

    const ExecutorConfig& m_config;
    std::unique_ptr<Cache> m_jobs;  // the job ids; its own connection to the database
    std::string m_session;
    ProcessRunner& m_local;
    std::filesystem::path m_scratch_dir;
    SlurmControl m_control;
    std::mutex m_jobs_mutex;  // the lanes share m_jobs
    std::mutex m_place_mutex;  // lanes placing the same commit copy it once
    std::shared_ptr<NodeFaults> m_faults;
    std::vector<std::unique_ptr<SlurmProcessRunner>> m_probe_runners;  // one per lane
    std::unique_ptr<SlurmProcessRunner> m_build_runner;  // with build_partition only
};

}  // namespace perfbisect
