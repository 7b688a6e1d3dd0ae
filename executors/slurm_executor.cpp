#include "executors/slurm_executor.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cache/cache.hpp"
#include "util/text.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawnp's environment

namespace perfbisect {
namespace {

constexpr std::size_t k_said_bytes = 2048;  // of salloc's or sinfo's output, quoted in messages
constexpr std::size_t k_fault_bytes = 65536;  // of srun's stderr, read for a job fault

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c)) != 0) {
            if (!word.empty()) {
                words.push_back(std::move(word));
                word.clear();
            }
        } else {
            word += c;
        }
    }
    if (!word.empty()) {
        words.push_back(std::move(word));
    }
    return words;
}

// scancel's answer means the job is gone (cancelled now or ended before).
bool job_gone(const ControlResult& result) {
    return result.started &&
           (result.exit_code == 0 || result.output.find("Invalid job id") != std::string::npos ||
            result.output.find("already completed") != std::string::npos);
}

}  // namespace

std::string slurm_job_name(const std::string& session, std::size_t lane) {
    return lane == 0 ? "perfbisect-" + session : fmt::format("perfbisect-{}-{}", session, lane);
}

ControlResult run_slurm_control(const std::vector<std::string>& argv) {
    ControlResult result;
    int fds[2];
    if (argv.empty() || ::pipe2(fds, O_CLOEXEC) != 0) {
        return result;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv) {
        args.push_back(
            const_cast<char*>(arg.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (spawned != 0) {
        ::close(fds[0]);
        result.output = fmt::format("{}: {}", argv[0], std::strerror(spawned));
        return result;
    }
    result.started = true;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n > 0) {
            if (result.output.size() < (1U << 20)) {
                result.output.append(buffer, static_cast<std::size_t>(n));
            }
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    }
    // posix_spawnp reports a missing program as exit code 127 of the child.
    if (result.exit_code == 127 && result.output.empty()) {
        result.started = false;
        result.output = argv[0] + ": not found";
    }
    return result;
}

std::string slurm_time(double seconds) {
    const auto total = static_cast<long>(std::ceil(std::max(seconds, 1.0)));
    return fmt::format("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
}

std::string parse_allocated_job(const std::string& salloc_output) {
    static const std::regex k_granted(R"(job allocation ([0-9]+))");
    std::string job;
    for (auto it = std::sregex_iterator(salloc_output.begin(), salloc_output.end(), k_granted);
         it != std::sregex_iterator(); ++it) {
        job = (*it)[1].str();
    }
    // "Pending job allocation N" comes first, "Granted …" once it runs.
    return salloc_output.find("Granted job allocation") != std::string::npos ? job : std::string();
}

bool NodeFaults::add(const std::string& node, int limit) {
    const std::lock_guard lock(m_mutex);
    if (++m_faults[node] != limit) {
        return false;
    }
    m_dropped.push_back(node);
    return true;
}

std::vector<std::string> NodeFaults::dropped() const {
    const std::lock_guard lock(m_mutex);
    return m_dropped;
}

bool NodeFaults::is_dropped(const std::string& node) const {
    const std::lock_guard lock(m_mutex);
    return std::find(m_dropped.begin(), m_dropped.end(), node) != m_dropped.end();
}

SlurmProcessRunner::SlurmProcessRunner(ProcessRunner& inner, SlurmJobOptions options,
                                       JobLedger ledger, std::filesystem::path scratch_dir,
                                       SlurmControl control, std::shared_ptr<NodeFaults> faults)
    : m_inner(inner),
      m_options(std::move(options)),
      m_ledger(std::move(ledger)),
      m_scratch_dir(std::move(scratch_dir)),
      m_control(std::move(control)),
      m_faults(faults ? std::move(faults) : std::make_shared<NodeFaults>()) {}

JobFault job_fault(const std::string& srun_stderr) {
    static const std::regex k_cancelled(R"(\*\*\* (JOB|STEP) \S+ ON (\S+) CANCELLED AT)");
    static const std::regex k_node_failure(R"(Node failure on (\S+))");
    for (const auto& line : split_lines(srun_stderr)) {
        // Slurm's own lines only ("srun: …", "slurmstepd-<node>: …"): the
        // probe's stderr is in the same file.
        if (!line.starts_with("srun:") && !line.starts_with("slurmstepd")) {
            continue;
        }
        std::smatch match;
        if (std::regex_search(line, match, k_cancelled)) {
            const std::string node = match[2].str();
            if (line.find("DUE TO PREEMPTION") != std::string::npos) {
                return {"preempted", node};
            }
            if (line.find("DUE TO TIME LIMIT") != std::string::npos) {
                return {"cut off at its time limit", node};
            }
            if (line.find("DUE TO NODE FAIL") != std::string::npos) {
                return {"node failure", node};
            }
            return {"cancelled", node};
        }
        if (std::regex_search(line, match, k_node_failure)) {
            return {"node failure", match[1].str()};
        }
        if (line.find("Unable to create step for job") != std::string::npos) {
            return {"step not launched", ""};
        }
    }
    return {};
}

ProcessResult SlurmProcessRunner::run(const ProcessSpec& spec) {
    std::vector<std::string> faulted;  // the nodes this run's attempts failed on
    for (int attempt = 1;; ++attempt) {
        const std::vector<std::string> dropped = m_faults->dropped();
        // A pinned lane stays on its node, even after a fault there, until
        // the node is dropped; then it runs wherever Slurm has room.
        std::string pin = m_options.node;
        if (!pin.empty() && m_faults->is_dropped(pin)) {
            if (!m_unpinned_said) {
                m_unpinned_said = true;
                spdlog::warn(
                    "Slurm node {} was dropped; the runs meant for it go to any other "
                    "node of partition {} (node blocking is weaker for them)",
                    pin, m_options.partition);
            }
            pin.clear();
        }
        std::vector<std::string> exclude = dropped;
        if (pin.empty()) {
            for (const auto& node : faulted) {
                if (std::find(exclude.begin(), exclude.end(), node) == exclude.end()) {
                    exclude.push_back(node);
                }
            }
        }
        ProcessResult result = run_job(spec, pin, exclude);
        if (!result.started && !result.interrupted && !result.timed_out &&
            exclude.size() > dropped.size()) {
            // No other node can take it: the same node again.
            result = run_job(spec, pin, dropped);
        }
        if (!result.started && !result.interrupted && !dropped.empty()) {
            result.error +=
                fmt::format(" (nodes dropped from this session after {} job faults each: {})",
                            k_node_faults, fmt::join(dropped, ", "));
        }
        if (!result.started || result.interrupted || result.timed_out || spec.stderr_path.empty()) {
            return result;
        }
        const auto [fault, node] = job_fault(read_file_tail(spec.stderr_path, k_fault_bytes));
        if (fault.empty()) {
            return result;
        }
        const std::string where = node.empty() ? "an unknown node" : "node " + node;
        if (!node.empty()) {
            faulted.push_back(node);
            if (m_faults->add(node, k_node_faults)) {
                spdlog::warn(
                    "Slurm node {} dropped from this session after {} job faults (the "
                    "last: {}); its runs go to the other nodes of partition {}",
                    node, k_node_faults, fault, m_options.partition);
            }
        }
        if (attempt >= k_job_attempts) {
            spdlog::warn("Slurm job on {}: {}; after {} attempts the run counts as failed", where,
                         fault, attempt);
            return result;
        }
        spdlog::warn("Slurm job on {}: {}; running it again as a new job (attempt {} of {})", where,
                     fault, attempt + 1, k_job_attempts);
    }
}

ProcessResult SlurmProcessRunner::run_job(const ProcessSpec& spec, const std::string& node,
                                          const std::vector<std::string>& exclude) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(m_scratch_dir, ec);
    ProcessSpec alloc;
    alloc.argv = {"salloc", "--no-shell", "--job-name=" + m_options.job_name,
                  "--partition=" + m_options.partition, "--nodes=1"};
    if (!node.empty()) {
        alloc.argv.push_back("--nodelist=" + node);
    } else if (!exclude.empty()) {
        alloc.argv.push_back(fmt::format("--exclude={}", fmt::join(exclude, ",")));
    }
    if (m_options.exclusive) {
        alloc.argv.emplace_back("--exclusive");
    }
    if (m_options.time_limit_seconds > 0) {
        alloc.argv.push_back("--time=" + slurm_time(m_options.time_limit_seconds));
    }
    if (!m_options.account.empty()) {
        alloc.argv.push_back("--account=" + m_options.account);
    }
    alloc.argv.insert(alloc.argv.end(), m_options.extra_args.begin(), m_options.extra_args.end());
    static std::atomic<unsigned> allocations{0};  // lanes allocate at once
    alloc.stdout_path = m_scratch_dir / fmt::format("salloc-{}-{}.log", static_cast<long>(getpid()),
                                                    allocations.fetch_add(1));
    alloc.stderr_path = alloc.stdout_path;
    ProcessResult allocated = m_inner.run(alloc);
    const std::string said = read_file_tail(alloc.stdout_path, k_said_bytes);
    fs::remove(alloc.stdout_path, ec);
    const std::string job = parse_allocated_job(said);

    auto cancel = [&](const std::string& id) {
        const ControlResult cancelled = m_control({"scancel", id});
        if (job_gone(cancelled)) {
            if (m_ledger.ended) {
                m_ledger.ended(id);
            }
        } else {
            // Stays recorded: the next run or resume of the session cancels it.
            spdlog::warn(
                "scancel {} failed ({}); the job stays recorded and is cancelled when "
                "the session is resumed",
                id, one_line(cancelled.output));
        }
    };

    if (job.empty()) {
        if (allocated.started) {
            // salloc cut off while its job was pending, or granted unseen:
            // a job of this name may be left; a lane has one at a time.
            m_control({"scancel", "--name=" + m_options.job_name});
        }
        if (allocated.interrupted || allocated.timed_out) {
            return allocated;
        }
        ProcessResult failed;
        failed.wall_seconds = allocated.wall_seconds;
        failed.error = fmt::format(
            "salloc found no job allocation ({}{}); check [executor] partition, account and "
            "extra_args, and `sinfo`",
            allocated.started ? allocated.describe() : allocated.error,
            said.empty() ? "" : ": " + one_line(said));
        if (!spec.stderr_path.empty()) {
            std::ofstream(spec.stderr_path, std::ios::binary | std::ios::trunc) << said;
        }
        return failed;
    }
    if (m_ledger.started) {
        m_ledger.started(job, m_options.kind);
    }
    if (allocated.interrupted) {
        cancel(job);
        return allocated;
    }

    // Where it runs, for node blocking: the allocation's node list.
    const ControlResult where = m_control({"squeue", "--noheader", "--jobs=" + job, "--format=%N"});
    const std::string ran_on = where.started && where.exit_code == 0 ? trim(where.output) : "";

    ProcessSpec step = spec;
    step.argv = {"srun", "--jobid=" + job, "--nodes=1", "--ntasks=1", "--quiet"};
    if (!spec.cwd.empty()) {
        step.argv.push_back("--chdir=" + spec.cwd.string());
    }
    step.argv.insert(step.argv.end(), spec.argv.begin(), spec.argv.end());
    step.cpus.clear();  // pinning is the job's ([executor] extra_args), not srun's
    step.vfork = true;
    ProcessResult result = m_inner.run(step);
    result.node = ran_on;
    cancel(job);
    return result;
}

SlurmExecutor::SlurmExecutor(const ExecutorConfig& config, Cache& cache, std::string session,
                             ProcessRunner& local, const std::filesystem::path& work_dir,
                             SlurmControl control)
    : m_config(config),
      m_jobs(std::make_unique<Cache>(Cache::open(cache.path()))),
      m_session(std::move(session)),
      m_local(local),
      m_scratch_dir(config.shared_dir.empty() ? work_dir / "scratch"
                                              : config.shared_dir / "scratch"),
      m_control(std::move(control)),
      m_faults(std::make_shared<NodeFaults>()) {
    const JobLedger ledger{[this](const std::string& id, const std::string& kind) {
                               const std::lock_guard lock(m_jobs_mutex);
                               m_jobs->record_job(m_session, id, kind);
                           },
                           [this](const std::string& id) {
                               const std::lock_guard lock(m_jobs_mutex);
                               m_jobs->forget_job(id);
                           }};
    const auto lanes = static_cast<std::size_t>(std::max(config.nodes, 1));
    for (std::size_t lane = 0; lane < lanes; ++lane) {
        m_probe_runners.push_back(std::make_unique<SlurmProcessRunner>(
            local,
            SlurmJobOptions{slurm_job_name(m_session, lane), config.partition, config.exclusive,
                            config.time_limit.count(), config.account, config.extra_args, "probe",
                            ""},
            ledger, m_scratch_dir, m_control, m_faults));
    }
    if (!config.build_partition.empty()) {
        m_build_runner =
            std::make_unique<SlurmProcessRunner>(local,
                                                 SlurmJobOptions{slurm_job_name(m_session),
                                                                 config.build_partition,
                                                                 false,
                                                                 0,
                                                                 config.account,
                                                                 {},
                                                                 "build",
                                                                 ""},
                                                 ledger, m_scratch_dir, m_control);
    }
}

SlurmExecutor::~SlurmExecutor() = default;

ProcessRunner& SlurmExecutor::build_runner() {
    return m_build_runner ? *m_build_runner : m_local;
}

Result<ProbeTarget> SlurmExecutor::place(const ProbeTarget& target) {
    namespace fs = std::filesystem;
    if (m_config.shared_dir.empty() || target.artifacts_dir.empty()) {
        return target;
    }
    const std::lock_guard lock(m_place_mutex);
    // The store keeps artifacts under <fingerprint>/<tree>; the same two
    // names under shared_dir/artifacts, copied once.
    const fs::path dest = m_config.shared_dir / "artifacts" /
                          target.artifacts_dir.parent_path().filename() /
                          target.artifacts_dir.filename();
    std::error_code ec;
    if (!fs::is_directory(dest, ec)) {
        const fs::path partial =
            dest.string() + fmt::format(".partial-{}", static_cast<long>(getpid()));
        fs::remove_all(partial, ec);
        fs::create_directories(partial, ec);
        if (!ec) {
            fs::copy(target.artifacts_dir, partial,
                     fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
        }
        if (!ec) {
            fs::rename(partial, dest, ec);
            if (ec && fs::is_directory(dest)) {
                ec.clear();  // another session copied them first
                fs::remove_all(partial, ec);
            }
        }
        if (ec) {
            fs::remove_all(partial, ec);
            return runtime_error(fmt::format(
                "cannot copy the artifacts {} to [executor] shared_dir {}: {} (check that it is "
                "writable and has room)",
                target.artifacts_dir.string(), dest.string(), ec.message()));
        }
    }
    ProbeTarget placed = target;
    placed.artifacts_dir = dest;
    placed.worktree = dest;
    return placed;
}

Result<std::string> SlurmExecutor::prepare() {
    for (const std::string* partition : {&m_config.partition, &m_config.build_partition}) {
        if (partition->empty()) {
            continue;
        }
        const ControlResult info =
            m_control({"sinfo", "--noheader", "--partition=" + *partition, "--format=%a"});
        if (!info.started) {
            return usage_error(fmt::format(
                "[executor] kind = \"slurm\" needs Slurm's commands (salloc, srun, scancel, "
                "sinfo) on PATH: {}; install them, or use kind = \"local\"",
                one_line(info.output)));
        }
        if (info.exit_code != 0) {
            return runtime_error(fmt::format(
                "sinfo failed ({}); check that slurmctld is reachable (SLURM_CONF, `sinfo`)",
                one_line(info.output)));
        }
        if (trim(info.output).empty()) {
            return usage_error(fmt::format(
                "[executor] partition '{}' does not exist on this cluster (`sinfo` lists them)",
                *partition));
        }
    }
    const auto pinned = pin_lanes();
    if (!pinned) {
        return std::unexpected(pinned.error());
    }
    std::string said;
    if (!pinned->empty()) {
        said = fmt::format("node blocking (\"{}\"): {} lanes on nodes {}",
                           to_string(m_config.blocking), pinned->size(), fmt::join(*pinned, ", "));
    }
    // What an earlier process of this session left: the jobs it recorded,
    // and any of its lanes' names (one killed between allocation and record).
    std::vector<std::string> jobs = m_jobs->jobs_of(m_session);
    std::string names;
    for (std::size_t lane = 0; lane < m_probe_runners.size(); ++lane) {
        names += (lane == 0 ? "" : ",") + slurm_job_name(m_session, lane);
    }
    const ControlResult listed =
        m_control({"squeue", "--noheader", "--name=" + names, "--format=%i"});
    if (listed.started && listed.exit_code == 0) {
        for (const auto& id : split_words(listed.output)) {
            if (std::find(jobs.begin(), jobs.end(), id) == jobs.end()) {
                jobs.push_back(id);
            }
        }
    }
    if (jobs.empty()) {
        return said;
    }
    std::vector<std::string> argv = {"scancel"};
    argv.insert(argv.end(), jobs.begin(), jobs.end());
    const ControlResult cancelled = m_control(argv);
    std::string list;
    for (const auto& id : jobs) {
        list += (list.empty() ? "" : ", ") + id;
    }
    if (!job_gone(cancelled)) {
        return runtime_error(fmt::format(
            "cannot cancel Slurm job(s) {} left by an earlier run of this session: {}; cancel "
            "them (scancel) and resume",
            list, one_line(cancelled.output)));
    }
    for (const auto& id : jobs) {
        m_jobs->forget_job(id);
    }
    return fmt::format("{}{}cancelled {} Slurm job(s) an earlier run of this session left: {}",
                       said, said.empty() ? "" : "; ", jobs.size(), list);
}

Result<std::vector<std::string>> SlurmExecutor::pin_lanes() {
    const std::size_t lanes = m_probe_runners.size();
    if (lanes < 2 || m_config.blocking == NodeBlocking::off) {
        return std::vector<std::string>();
    }
    // One line per node (--Node), with its state; "idle*" and the like are
    // not responding, drained or down nodes take no jobs.
    const ControlResult info = m_control(
        {"sinfo", "--noheader", "--Node", "--partition=" + m_config.partition, "--format=%N %t"});
    if (!info.started || info.exit_code != 0) {
        return runtime_error(fmt::format("sinfo failed ({}); check that slurmctld is reachable",
                                         one_line(info.output)));
    }
    std::vector<std::string> nodes;
    for (const auto& line : split_lines(info.output)) {
        const auto words = split_words(line);
        if (words.size() < 2 || words[1].find_first_of("*~#!%$@^-") != std::string::npos) {
            continue;
        }
        static const std::vector<std::string> k_takes_jobs = {"idle", "mix",  "alloc",
                                                              "comp", "plnd", "resv"};
        const bool takes_jobs =
            std::find(k_takes_jobs.begin(), k_takes_jobs.end(), words[1]) != k_takes_jobs.end();
        if (takes_jobs && std::find(nodes.begin(), nodes.end(), words[0]) == nodes.end()) {
            nodes.push_back(words[0]);
        }
    }
    if (nodes.size() < lanes) {
        return usage_error(fmt::format(
            "[executor] blocking = \"{}\" runs each of the nodes = {} lanes on a node of its "
            "own, but partition {} has {} node(s) that take jobs ({}); set nodes = {}, or "
            "blocking = \"off\"",
            to_string(m_config.blocking), lanes, m_config.partition, nodes.size(),
            nodes.empty() ? std::string("none") : fmt::format("{}", fmt::join(nodes, ", ")),
            std::max<std::size_t>(nodes.size(), 1)));
    }
    nodes.resize(lanes);
    for (std::size_t lane = 0; lane < lanes; ++lane) {
        m_probe_runners[lane]->pin(nodes[lane]);
    }
    return nodes;
}

}  // namespace perfbisect
