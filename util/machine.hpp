#pragma once

// What a measurement depends on outside the code: the machine (CPU model,
// cores, kernel, hostname, frequency governor) and which process is which
// (pid + start time, so a recycled pid is not mistaken for a live holder).
// Linux: reads /proc and /sys; a value that cannot be read is empty.

#include <cstdint>
#include <string>
#include <vector>

namespace perfbisect {

struct MachineInfo {
    std::string hostname;
    std::string cpu_model;  // /proc/cpuinfo "model name" (or the first "Hardware"/"cpu model")
    int cores = 0;          // online logical CPUs
    std::string kernel;     // uname -r
    std::string governor;   // cpufreq governor of cpu0; empty when not readable (VMs, containers)

    // 16 hex digits identifying these fields: samples are reused across
    // sessions only when it matches (`[cache] reuse = "same-machine"`).
    std::string fingerprint() const;
    // "host, 4 × Intel(R) Xeon(R) …, Linux 6.1.0-18-amd64, governor performance".
    std::string describe() const;
};

// This machine, read once per process.
const MachineInfo& this_machine();

// A process, identified across pid reuse and reboots.
struct ProcessIdentity {
    std::string host;        // hostname
    std::string boot_id;     // /proc/sys/kernel/random/boot_id: pids restart at each boot
    std::int64_t pid = 0;
    std::int64_t start = 0;  // start time, clock ticks after boot (/proc/PID/stat field 22)

    // "host:boot:pid:start", the form stored in the database.
    std::string token() const;
    static ProcessIdentity parse(const std::string& token);
    bool operator==(const ProcessIdentity&) const = default;
};

// This process.
ProcessIdentity this_process();
// Another process of this machine (start = 0 when there is no such process).
ProcessIdentity identity_of(std::int64_t pid);

enum class Liveness {
    alive,    // running on this machine (not a zombie)
    dead,     // was on this machine (same host, same boot) and is gone, or the machine rebooted
    unknown,  // on another host: cannot be checked from here
};
Liveness liveness(const ProcessIdentity& process);

// Sends SIGKILL to every process of this user whose environment holds
// NAME=VALUE (children inherit it, grandchildren too), and waits up to
// `wait_seconds` for them to be gone. Returns the pids signalled. For
// stopping what a killed perfbisect left running.
std::vector<std::int64_t> kill_processes_with_env(const std::string& name, const std::string& value,
                                                  double wait_seconds = 5);

}  // namespace perfbisect
