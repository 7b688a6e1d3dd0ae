#pragma once

// Profiling the probe on one built commit ([profile]): after a session
// converges, each culprit and its parent are run under perf (cpu-clock
// samples with call graphs), callgrind, or a command of the user's that
// prints folded stacks, and the two flat profiles are compared
// (probes/profile.hpp). Abstract so that the session driver's tests run
// without a profiler; CommandProfiler is the real one.

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "probes/prober.hpp"
#include "probes/profile.hpp"
#include "util/process.hpp"

namespace perfbisect {

struct ProfileRun {
    bool ok = false;
    bool interrupted = false;                  // SIGINT/SIGTERM: nothing to record
    std::string failure;                       // why not ok, one line
    FlatProfile profile;                       // the runs merged
    std::vector<std::filesystem::path> files;  // the raw profiles kept, to open with the tool
};

class Profiler {
public:
    virtual ~Profiler() = default;
    // "perf", "callgrind" or "command", for reports.
    virtual std::string tool() const = 0;
    // Profiles the probe on target, keeping the raw profiles in dir (created;
    // files of an earlier attempt are replaced). Never throws for a failing
    // run: that is a result.
    virtual ProfileRun profile(const ProbeTarget& target, const std::filesystem::path& dir) = 0;
};

// Runs [probe] command (placeholders, cwd, env and cpus as a probe run has
// them; [profile] timeout) [profile] runs times:
//  - perf: `perf record -e cpu-clock -F frequency --call-graph dwarf`, then
//    `perf report` of each perf-N.data for the functions' shares;
//  - callgrind: `valgrind --tool=callgrind --trace-children=yes`, files
//    callgrind.out.N.PID;
//  - command: [profile] command, whose stdout (folded stacks) is kept as
//    stacks-N.folded.
class CommandProfiler final : public Profiler {
public:
    CommandProfiler(ProcessRunner& runner, const ProbeConfig& probe, const ProfileConfig& profile);

    // Checks that the profiler runs on this machine before a session spends
    // time on builds: a usage error says what is missing and what to do.
    Result<void> check_machine(const std::filesystem::path& scratch_dir);

    std::string tool() const override { return to_string(m_profile.tool); }
    ProfileRun profile(const ProbeTarget& target, const std::filesystem::path& dir) override;

private:
    ProcessRunner& m_runner;
    const ProbeConfig& m_probe;
    const ProfileConfig& m_profile;
};

}  // namespace perfbisect
