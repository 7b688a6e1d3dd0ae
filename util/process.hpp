#pragma once

// Running child processes: the one place that spawns, waits, times out and
// kills. Builders and probes both go through ProcessRunner, so tests can put a
// FakeProcessRunner in its place and the real one is tested once, against real
// `sh -c` processes.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace perfbisect {

struct ProcessSpec {
    // argv[0] is looked up in PATH when it contains no '/'. A shell command is
    // expressed by the caller as {"/bin/sh", "-c", script}.
    std::vector<std::string> argv;
    std::filesystem::path cwd;                   // empty: inherit
    std::map<std::string, std::string> env;      // added to (overriding) the inherited environment
    std::chrono::duration<double> timeout{0};    // zero: no timeout
    std::filesystem::path stdout_path;           // where stdout goes (truncated); empty: /dev/null
    std::filesystem::path stderr_path;           // where stderr goes; empty: /dev/null; same path as
                                                 // stdout_path: both into one file, interleaved
    // Spawn with vfork (the default: no page-table copy, ~3 ms less per run on
    // a VM) or fork. A vfork child's peak RSS (ProcessResult::max_rss_kib)
    // starts at this process's whole RSS; a fork child's at the anonymous
    // memory it copied, which is less: use fork when max_rss_kib matters.
    bool vfork = true;
    std::vector<int> cpus;                       // pin the child to these CPUs (sched_setaffinity
                                                 // before exec); empty: inherit. A CPU that is not
                                                 // available makes the start fail
};

struct ProcessResult {
    bool started = false;          // false: the program could not be started (see error)
    std::string error;             // why it could not start, e.g. "sh: command not found"
    int exit_code = -1;            // valid when the child exited normally
    int signal = 0;                // non-zero when the child was killed by a signal
    bool timed_out = false;        // the timeout expired and the process group was killed
    bool interrupted = false;      // interrupt_requested() became true while waiting; group killed
    double wall_seconds = 0;       // from spawn to reap
    double user_seconds = 0;       // rusage of the child (and its reaped descendants)
    double system_seconds = 0;
    long max_rss_kib = 0;          // peak resident set size, KiB
    std::string node;              // the cluster node it ran on (SlurmProcessRunner); "" = here

    bool succeeded() const { return started && !timed_out && !interrupted && signal == 0 && exit_code == 0; }
    // One line for logs and failure reasons: "exit code 2", "killed by signal 9",
    // "timed out after 5s", "could not start: ...".
    std::string describe() const;
};

// Why it exists: an interface so that tests can run builders and probes
// against scripted results. Thread-safety: RealProcessRunner may run processes
// from several threads at once; others say so.
class ProcessRunner {
public:
    virtual ~ProcessRunner() = default;
    // Runs the process to completion in its own process group. On timeout or
    // interruption the whole group (grandchildren included) gets SIGKILL.
    // Never throws for child failures; they are reported in ProcessResult.
    virtual ProcessResult run(const ProcessSpec& spec) = 0;
};

// The real runner: Boost.Process spawn, setpgid, pidfd/wait4 for resource usage.
class RealProcessRunner final : public ProcessRunner {
public:
    RealProcessRunner() = default;
    // common_env is added to every child's environment (a spec.env entry of the
    // same name wins). It is how a variable reaches all of a session's children
    // without setenv(): this process's own environment is never written, since
    // other threads (perfbisect serve's HTTP server, the notifier) may read it.
    explicit RealProcessRunner(std::map<std::string, std::string> common_env)
        : m_common_env(std::move(common_env)) {}
    ProcessResult run(const ProcessSpec& spec) override;

private:
    std::map<std::string, std::string> m_common_env;
};

// Reads at most max_bytes of a file (the tail if longer, prefixed by "…"):
// for keeping bounded copies of logs in the database and error messages.
std::string read_file_tail(const std::filesystem::path& path, std::size_t max_bytes);

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> available_cpus();

}  // namespace perfbisect
