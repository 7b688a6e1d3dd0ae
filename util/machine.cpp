#include "util/machine.hpp"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "util/text.hpp"

namespace perfbisect {
namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    std::string fallback;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        const std::string key = trim(line.substr(0, colon));
        if (key == "model name") {
            return trim(line.substr(colon + 1));
        }
        if (fallback.empty() && (key == "Hardware" || key == "cpu model" || key == "cpu")) {
            fallback = trim(line.substr(colon + 1));
        }
    }
    return fallback;
}

std::string hostname() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) {
        return {};
    }
    return name;
}

// The state letter and start time of /proc/PID/stat; nullopt when it is gone.
struct ProcStat {
    char state = '?';
    std::int64_t start = 0;
};

std::optional<ProcStat> read_stat(std::int64_t pid) {
    const std::string text = read_text(fmt::format("/proc/{}/stat", pid));
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(text.substr(close + 1));
    ProcStat stat;
    fields >> stat.state;
    std::string field;
    for (int i = 4; i <= 22 && fields >> field; ++i) {
        if (i == 22) {
            std::from_chars(field.data(), field.data() + field.size(), stat.start);
        }
    }
    return stat;
}

}  // namespace

std::string MachineInfo::fingerprint() const {
    return fnv1a_hex(
        fmt::format("machine\n{}\n{}\n{}\n{}\n{}", hostname, cpu_model, cores, kernel, governor));
}

std::string MachineInfo::describe() const {
    return fmt::format("{}, {} × {}, Linux {}{}", hostname.empty() ? "?" : hostname, cores,
                       cpu_model.empty() ? "unknown CPU" : cpu_model, kernel,
                       governor.empty() ? "" : ", governor " + governor);
}

const MachineInfo& this_machine() {
    static const MachineInfo machine = [] {
        MachineInfo m;
        m.hostname = hostname();
        m.cpu_model = cpu_model();
        const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
        m.cores = cores > 0 ? static_cast<int>(cores) : 0;
        struct utsname names {};
        if (::uname(&names) == 0) {
            m.kernel = names.release;
        }
        m.governor = trim(read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"));
        return m;
    }();
    return machine;
}

std::string ProcessIdentity::token() const {
    return fmt::format("{}:{}:{}:{}", host, boot_id, pid, start);
}

ProcessIdentity ProcessIdentity::parse(const std::string& token) {
    // The host comes first and may not hold ':'; the rest are fixed fields
    // counted from the end.
    ProcessIdentity p;
    const auto c3 = token.rfind(':');
    if (c3 == std::string::npos || c3 == 0) {
        return p;
    }
    const auto c2 = token.rfind(':', c3 - 1);
    if (c2 == std::string::npos || c2 == 0) {
        return p;
    }
    const auto c1 = token.rfind(':', c2 - 1);
    if (c1 == std::string::npos) {
        return p;
    }
    p.host = token.substr(0, c1);
    p.boot_id = token.substr(c1 + 1, c2 - c1 - 1);
    const std::string pid = token.substr(c2 + 1, c3 - c2 - 1);
    const std::string start = token.substr(c3 + 1);
    std::from_chars(pid.data(), pid.data() + pid.size(), p.pid);
    std::from_chars(start.data(), start.data() + start.size(), p.start);
    return p;
}

ProcessIdentity identity_of(std::int64_t pid) {
    static const std::string boot_id = trim(read_text("/proc/sys/kernel/random/boot_id"));
    ProcessIdentity p;
    p.host = this_machine().hostname;
    p.boot_id = boot_id;
    p.pid = pid;
    if (const auto stat = read_stat(p.pid)) {
        p.start = stat->start;
    }
    return p;
}

ProcessIdentity this_process() { return identity_of(::getpid()); }

Liveness liveness(const ProcessIdentity& process) {
    const ProcessIdentity self = this_process();
    if (process.host != self.host) {
        return Liveness::unknown;
    }
    if (process.boot_id != self.boot_id || process.pid <= 0) {
        return Liveness::dead;
    }
    const auto stat = read_stat(process.pid);
    if (!stat || stat->start != process.start || stat->state == 'Z' || stat->state == 'X') {
        return Liveness::dead;
    }
    return Liveness::alive;
}

std::vector<std::int64_t> kill_processes_with_env(const std::string& name, const std::string& value,
                                                  double wait_seconds) {
    const std::string wanted = name + "=" + value;
    std::vector<std::int64_t> killed;
    const auto self = static_cast<std::int64_t>(::getpid());
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string file = entry.path().filename().string();
        std::int64_t pid = 0;
        const auto [end, error] = std::from_chars(file.data(), file.data() + file.size(), pid);
        if (error != std::errc() || end != file.data() + file.size() || pid == self) {
            continue;
        }
        // Unreadable for other users' processes: those are not ours to kill.
        const std::string environ = read_text(entry.path() / "environ");
        std::size_t start = 0;
        while (start < environ.size()) {
            auto stop = environ.find('\0', start);
            if (stop == std::string::npos) {
                stop = environ.size();
            }
            if (std::string_view(environ).substr(start, stop - start) == wanted) {
                if (::kill(static_cast<pid_t>(pid), SIGKILL) == 0) {
                    killed.push_back(pid);
                }
                break;
            }
            start = stop + 1;
        }
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    for (std::int64_t pid : killed) {
        while (std::chrono::steady_clock::now() < deadline) {
            const auto stat = read_stat(pid);
            if (!stat || stat->state == 'Z' || stat->state == 'X') {
                break;  // gone, or a zombie its (new) parent will reap
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    return killed;
}

}  // namespace perfbisect
