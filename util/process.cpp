#include "util/process.hpp"

#include "util/interrupt.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <fstream>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Boost 1.74 compiles its vfork executor only when the C library claims an old
// POSIX; glibc has vfork regardless (<unistd.h> with _GNU_SOURCE).
#define BOOST_POSIX_HAS_VFORK 1
// The pieces of <boost/process.hpp> that we use; the umbrella header also drags
// in Boost.Asio. Kept out of every header: only this file spawns processes.
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>  // the initializer for a bp::environment argument
#include <boost/process/environment.hpp>
#include <boost/process/error.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/posix.hpp>  // use_vfork
#include <boost/process/search_path.hpp>

#include <fmt/format.h>

namespace perfbisect {
namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

// Owns a file descriptor (closed on destruction); move-only.
class Fd {
  public:
    explicit Fd(int fd = -1) noexcept : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return m_fd; }
    bool valid() const noexcept { return m_fd >= 0; }
    void reset() noexcept {
        if (m_fd >= 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }

  private:
    int m_fd;
};

// errno's text. Not strerror(): POSIX lets it share one buffer between
// threads, and perfbisect serve starts processes from two (the bisect worker
// and the notifier). strerrordesc_np (glibc 2.32) returns a constant string.
std::string errno_text(int error) {
    const char* text = ::strerrordesc_np(error);
    return text != nullptr ? std::string(text) : fmt::format("error {}", error);
}

// Opens path (empty: /dev/null) close-on-exec, as a descriptor >= 3 so that
// dup2() onto 0/1/2 in the child never clobbers another of our descriptors and
// always clears close-on-exec on the target. Error: one-line message.
std::expected<Fd, std::string> open_fd(const std::filesystem::path& path, int flags) {
    const std::string name = path.empty() ? std::string("/dev/null") : path.string();
    Fd fd(::open(name.c_str(), flags | O_CLOEXEC, 0666));
    if (!fd.valid()) {
        return std::unexpected(fmt::format("cannot open {}: {}", name, errno_text(errno)));
    }
    if (fd.get() < 3) {
        Fd high(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
        if (!high.valid()) {
            return std::unexpected(
                fmt::format("cannot duplicate fd for {}: {}", name, errno_text(errno)));
        }
        fd = std::move(high);
    }
    return fd;
}

// The executable that execve() will run, checked up front so that a missing or
// non-executable program is a clear error rather than an errno from the child.
// A name with '/' is taken relative to cwd (the child changes directory before
// exec); otherwise it is searched in PATH (spec.env's PATH if it sets one).
std::expected<std::string, std::string> resolve_program(const ProcessSpec& spec) {
    const std::string& name = spec.argv.front();
    if (name.find('/') != std::string::npos) {
        std::filesystem::path path = name;
        if (path.is_relative() && !spec.cwd.empty()) {
            path = spec.cwd / path;
        }
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) {
            return std::unexpected("command not found: " + name);
        }
        if (!std::filesystem::is_regular_file(path, ec) || ::access(path.c_str(), X_OK) != 0) {
            return std::unexpected("not executable: " + name);
        }
        return path.string();
    }

    std::string path_variable;
    if (auto it = spec.env.find("PATH"); it != spec.env.end()) {
        path_variable = it->second;
    } else if (const char* inherited = std::getenv("PATH")) {
        path_variable = inherited;
    }
    std::vector<boost::filesystem::path> directories;
    std::size_t begin = 0;
    while (begin <= path_variable.size()) {
        std::size_t end = std::min(path_variable.find(':', begin), path_variable.size());
        std::string directory = path_variable.substr(begin, end - begin);
        // POSIX: an empty entry means the current directory.
        directories.emplace_back(directory.empty() ? std::string(".") : directory);
        begin = end + 1;
    }
    boost::filesystem::path found = bp::search_path(name, directories);
    if (found.empty()) {
        return std::unexpected("command not found: " + name);
    }
    return found.string();
}

// Whether pid has exited, without reaping it (the zombie keeps its process
// group alive until we have killed the rest of the group). Blocks at most
// `slice`. pidfd: invalid means "use the sleep-poll fallback".
bool wait_for_exit(pid_t pid, const Fd& pidfd, std::chrono::nanoseconds slice) {
    if (pidfd.valid()) {
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(slice).count();
        pollfd entry{pidfd.get(), POLLIN, 0};
        // EINTR (a signal, e.g. the interrupt handler) counts as "not yet": the caller loops.
        return ::poll(&entry, 1, static_cast<int>(std::max<long long>(ms, 1))) > 0;
    }
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
        return true;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(slice, std::chrono::milliseconds(10)));
    return false;
}

double seconds(const timeval& value) {
    return static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6;
}

// "5", "0.3", "12.5": seconds with at most one decimal.
std::string compact_seconds(double value) {
    std::string text = fmt::format("{:.1f}", value);
    if (text.ends_with(".0")) {
        text.resize(text.size() - 2);
    }
    return text;
}

}  // namespace

std::string ProcessResult::describe() const {
    if (!started) {
        return "could not start: " + error;
    }
    if (interrupted) {
        return "interrupted";
    }
    if (timed_out) {
        // The timeout itself is not part of the result; the wall time to the
        // kill is the same up to a poll slice.
        return fmt::format("timed out after {}s", compact_seconds(wall_seconds));
    }
    if (signal != 0) {
        const char* abbreviation = ::sigabbrev_np(signal);
        return abbreviation ? fmt::format("killed by signal {} (SIG{})", signal, abbreviation)
                            : fmt::format("killed by signal {}", signal);
    }
    if (exit_code != 0) {
        return fmt::format("exit code {}", exit_code);
    }
    return "succeeded";
}

namespace {

ProcessResult run_process(const ProcessSpec& spec) {
    ProcessResult result;
    if (spec.argv.empty()) {
        result.error = "empty command";
        return result;
    }
    auto program = resolve_program(spec);
    if (!program) {
        result.error = std::move(program.error());
        return result;
    }
    if (std::error_code ec; !spec.cwd.empty() && !std::filesystem::is_directory(spec.cwd, ec)) {
        result.error = "working directory does not exist: " + spec.cwd.string();
        return result;
    }

    auto stdin_fd = open_fd({}, O_RDONLY);
    auto stdout_fd = open_fd(spec.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
    if (!stdin_fd || !stdout_fd) {
        result.error = !stdin_fd ? stdin_fd.error() : stdout_fd.error();
        return result;
    }
    // The same path: one open file description, so both streams share the
    // offset and interleave instead of overwriting each other.
    const bool shared_output = spec.stderr_path == spec.stdout_path;
    std::expected<Fd, std::string> stderr_fd{Fd()};
    if (!shared_output) {
        stderr_fd = open_fd(spec.stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
        if (!stderr_fd) {
            result.error = stderr_fd.error();
            return result;
        }
    }
    const int in = stdin_fd->get();
    const int out = stdout_fd->get();
    const int err = shared_output ? out : stderr_fd->get();
    const std::string cwd = spec.cwd.string();
    // Built before fork: the child may only make async-signal-safe calls.
    cpu_set_t cpu_set;
    CPU_ZERO(&cpu_set);
    for (int cpu : spec.cpus) {
        if (cpu >= 0 && cpu < CPU_SETSIZE) {
            CPU_SET(cpu, &cpu_set);
        }
    }
    const bool pin = !spec.cpus.empty();

    bp::environment environment = boost::this_process::environment();
    for (const auto& [key, value] : spec.env) {
        // set(), not operator[]: Boost 1.74's find() compares "KEY=" with
        // std::equal and reads past the end of a shorter variable
        // (AddressSanitizer: heap-buffer-overflow).
        environment.set(key, value);
    }
    std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());

    // Runs in the forked child before execve: async-signal-safe calls only. A
    // failure is reported through Boost's error pipe and the child exits.
    // (Not bp::start_dir: Boost 1.74 ignores its chdir() failing.)
    auto child_setup = [&](auto& exec) {
        auto fail = [&exec](const char* what) {
            exec.set_error(std::error_code(errno, std::system_category()), what);
            ::_exit(127);
        };
        if (::setpgid(0, 0) != 0) {
            fail("setpgid");
        }
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
            fail("chdir");
        }
        if (pin && ::sched_setaffinity(0, sizeof(cpu_set), &cpu_set) != 0) {
            fail("sched_setaffinity");
        }
        if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
            fail("dup2");
        }
    };
    // Boost 1.74 does not reap a child whose setup or exec failed.
    auto reap_failed_child = [](auto& exec, const std::error_code&) {
        if (exec.pid > 0) {
            ::waitpid(exec.pid, nullptr, 0);
        }
    };

    std::error_code spawn_error;
    // vfork: the child borrows our address space until it execs, so spawning
    // costs no page-table copy and no copy-on-write faults afterwards (on a VM,
    // milliseconds per run: this is most of what a probe run costs us). The
    // setup above is only system calls, which a vfork child may make.
    const auto start = Clock::now();
    bp::child child = [&] {
        // One spawn at a time (runners of several Slurm nodes spawn from
        // their own threads): Boost 1.74's fork path makes its error pipe
        // close-on-exec only after pipe(), so a child another thread forked
        // in between would keep it open, and this spawn would wait for that
        // child's exit. Held until the child has exec'd (Boost reads the
        // pipe to know): a few milliseconds.
        static std::mutex spawning;
        const std::lock_guard lock(spawning);
        return spec.vfork ? bp::child(bp::exe = *program, bp::args = args, environment,
                                      bp::extend::on_exec_setup = child_setup,
                                      bp::extend::on_error = reap_failed_child,
                                      bp::posix::use_vfork, spawn_error)
                          : bp::child(bp::exe = *program, bp::args = args, environment,
                                      bp::extend::on_exec_setup = child_setup,
                                      bp::extend::on_error = reap_failed_child, spawn_error);
    }();
    if (spawn_error || !child.valid()) {
        result.error =
            fmt::format("{}: {}", spec.argv.front(),
                        spawn_error ? spawn_error.message() : std::string("unknown error"));
        return result;
    }
    // From here on we wait and reap ourselves; the boost object must neither
    // wait nor terminate (the pid may be gone or reused by then).
    child.detach();
    result.started = true;
    const pid_t pid = child.id();  // also the process group id

#ifdef SYS_pidfd_open
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
    Fd pidfd;
#endif
    const bool has_timeout = spec.timeout.count() > 0;
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(spec.timeout);
    constexpr std::chrono::nanoseconds max_slice = std::chrono::milliseconds(50);
    for (;;) {
        if (interrupt_requested()) {
            result.interrupted = true;
            break;
        }
        auto slice = max_slice;
        if (has_timeout) {
            const auto remaining = deadline - Clock::now();
            if (remaining <= Clock::duration::zero()) {
                result.timed_out = true;
                break;
            }
            slice = std::min<std::chrono::nanoseconds>(slice, remaining);
        }
        if (wait_for_exit(pid, pidfd, slice)) {
            break;
        }
    }

    // Kill the whole group while the leader is still an unreaped zombie, so the
    // group id cannot have been reused: on timeout/interrupt this stops the
    // child and its descendants; after a normal exit, stray background ones.
    ::kill(-pid, SIGKILL);  // ESRCH (nothing left) is fine
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();

    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    result.user_seconds = seconds(usage.ru_utime);
    result.system_seconds = seconds(usage.ru_stime);
    result.max_rss_kib = usage.ru_maxrss;  // Linux: KiB
    return result;
}

}  // namespace

ProcessResult RealProcessRunner::run(const ProcessSpec& spec) {
    if (m_common_env.empty()) {
        return run_process(spec);
    }
    ProcessSpec with_common = spec;
    for (const auto& [key, value] : m_common_env) {
        with_common.env.try_emplace(key, value);
    }
    return run_process(with_common);
}

std::vector<int> available_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) {
        return cpus;
    }
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
            cpus.push_back(cpu);
        }
    }
    return cpus;
}

std::string read_file_tail(const std::filesystem::path& path, std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return "";
    }
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0));
    const std::size_t count = std::min(size, max_bytes);
    in.seekg(static_cast<std::streamoff>(size - count), std::ios::beg);
    std::string tail(count, '\0');
    in.read(tail.data(), static_cast<std::streamsize>(count));
    tail.resize(static_cast<std::size_t>(in.gcount()));
    return size > max_bytes ? "…" + tail : tail;
}

}  // namespace perfbisect
