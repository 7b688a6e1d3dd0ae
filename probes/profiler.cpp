#include "probes/profiler.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "builders/builder.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_report_bytes = 64UL * 1024 * 1024;  // a perf report or profile we read
constexpr std::size_t k_reason_tail_bytes = 300;

std::string tail_of(const fs::path& stderr_path, const fs::path& stdout_path) {
    std::string t = one_line(read_file_tail(stderr_path, k_reason_tail_bytes));
    if (t.empty() && !stdout_path.empty()) {
        t = one_line(read_file_tail(stdout_path, k_reason_tail_bytes));
    }
    return t;
}

// Removes what an earlier attempt left in dir, so files of two attempts never mix.
void clear_directory(const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
}

}  // namespace

CommandProfiler::CommandProfiler(ProcessRunner& runner, const ProbeConfig& probe,
                                 const ProfileConfig& profile)
    : m_runner(runner), m_probe(probe), m_profile(profile) {}

Result<void> CommandProfiler::check_machine(const fs::path& scratch_dir) {
    if (m_profile.tool != ProfileTool::perf && m_profile.tool != ProfileTool::callgrind) {
        return {};
    }
    const fs::path dir = scratch_dir / fmt::format("profile-check-{}", static_cast<long>(getpid()));
    clear_directory(dir);
    ProcessSpec spec;
    if (m_profile.tool == ProfileTool::perf) {
        spec.argv = {"perf", "record", "-q", "-e", "cpu-clock", "-o", (dir / "check.data").string(),
                     "--",   "true"};
    } else {
        spec.argv = {"valgrind", "--tool=callgrind", "--quiet",
                     "--callgrind-out-file=" + (dir / "check.out").string(), "true"};
    }
    spec.timeout = std::chrono::seconds(60);
    spec.stdout_path = dir / "check.log";
    spec.stderr_path = dir / "check.log";
    const ProcessResult result = m_runner.run(spec);
    const std::string said = one_line(read_file_tail(spec.stderr_path, k_reason_tail_bytes));
    std::error_code ec;
    fs::remove_all(dir, ec);
    const bool perf = m_profile.tool == ProfileTool::perf;
    if (!result.started) {
        return usage_error(
            fmt::format("[profile] {} cannot be run here ({}); install it ({}) or remove [profile]",
                        perf ? "perf" : "valgrind", result.error,
                        perf ? "apt-get install linux-perf" : "apt-get install valgrind"));
    }
    if (!result.succeeded()) {
        return usage_error(fmt::format(
            "[profile] `{}` does not work on this machine ({}{}); {}",
            spec.argv[0] + " " + spec.argv[1], result.describe(), said.empty() ? "" : ": " + said,
            perf ? "check kernel.perf_event_paranoid (perf needs it at 2 or lower for its own "
                   "processes) or use profile = \"callgrind\""
                 : "check the valgrind installation"));
    }
    return {};
}

ProfileRun CommandProfiler::profile(const ProbeTarget& target, const fs::path& dir) {
    ProfileRun result;
    clear_directory(dir);
    const int runs = m_profile.effective_runs();
    for (int i = 1; i <= runs; ++i) {
        const fs::path out_dir = dir / fmt::format("out-{}", i);
        std::error_code ec;
        fs::create_directories(out_dir, ec);
        ProcessSpec spec = probe_process_spec(m_probe, target, out_dir);
        spec.timeout = m_profile.timeout;
        spec.stdout_path = dir / fmt::format("run-{}.stdout", i);
        spec.stderr_path = dir / fmt::format("run-{}.stderr", i);
        const fs::path perf_data = dir / fmt::format("perf-{}.data", i);
        const std::string callgrind_prefix = fmt::format("callgrind.out.{}.", i);
        std::vector<std::string> prefix;
        switch (m_profile.tool) {
            case ProfileTool::perf:
                prefix = {"perf",
                          "record",
                          "-q",
                          "-e",
                          "cpu-clock",
                          "-F",
                          std::to_string(m_profile.frequency),
                          "--call-graph",
                          "dwarf",
                          "-o",
                          perf_data.string(),
                          "--"};
                break;
            case ProfileTool::callgrind:
                prefix = {"valgrind", "--tool=callgrind", "--quiet", "--trace-children=yes",
                          "--callgrind-out-file=" + (dir / (callgrind_prefix + "%p")).string()};
                break;
            case ProfileTool::command:
                spec.argv = command_argv(m_profile.command, probe_placeholders(target, out_dir));
                spec.stdout_path = dir / fmt::format("stacks-{}.folded", i);
                break;
            case ProfileTool::none:
                result.failure = "no profiler configured";
                return result;
        }
        spec.argv.insert(spec.argv.begin(), prefix.begin(), prefix.end());
        const std::string name = m_profile.tool == ProfileTool::command
                                     ? m_profile.command.display()
                                     : fmt::format("{} of the probe", tool());
        const ProcessResult process = m_runner.run(spec);
        if (process.interrupted) {
            result.interrupted = true;
            result.failure = "interrupted";
            return result;
        }
        if (!process.succeeded()) {
            const std::string t = tail_of(spec.stderr_path, spec.stdout_path);
            result.failure = fmt::format("profiling run {} ({}) {}{}", i, name, process.describe(),
                                         t.empty() ? "" : ": " + t);
            return result;
        }
        Result<FlatProfile> parsed = runtime_error("nothing to read");
        if (m_profile.tool == ProfileTool::perf) {
            ProcessSpec report;
            report.argv = {"perf",    "report",     "-i",     perf_data.string(),
                           "--stdio", "--children", "--sort", "sym",
                           "-g",      "none",       "-n",     "--no-inline"};
            report.timeout = m_profile.timeout;
            report.stdout_path = dir / fmt::format("perf-{}.report.txt", i);
            report.stderr_path = dir / fmt::format("perf-{}.report.stderr", i);
            const ProcessResult reported = m_runner.run(report);
            if (reported.interrupted) {
                result.interrupted = true;
                result.failure = "interrupted";
                return result;
            }
            if (!reported.succeeded()) {
                const std::string t = tail_of(report.stderr_path, {});
                result.failure = fmt::format("`perf report -i {}` {}{}", perf_data.string(),
                                             reported.describe(), t.empty() ? "" : ": " + t);
                return result;
            }
            parsed = parse_perf_report(read_file_tail(report.stdout_path, k_report_bytes));
            fs::remove(report.stderr_path, ec);
            result.files.push_back(perf_data);
        } else if (m_profile.tool == ProfileTool::callgrind) {
            FlatProfile merged;
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(dir, ec)) {
                if (entry.path().filename().string().starts_with(callgrind_prefix)) {
                    files.push_back(entry.path());
                }
            }
            std::sort(files.begin(), files.end());
            parsed = files.empty() ? runtime_error("valgrind wrote no callgrind file")
                                   : Result<FlatProfile>(FlatProfile{});
            for (const auto& file : files) {
                auto one = parse_callgrind_profile(read_file_tail(file, k_report_bytes));
                if (!one) {
                    // A process of the probe that callgrind followed but that ran
                    // nothing (an exec'd shell) leaves an empty profile: skip it.
                    continue;
                }
                merged.merge(*one);
                result.files.push_back(file);
            }
            if (parsed) {
                merged.runs = 1;
                parsed = merged.total > 0 ? Result<FlatProfile>(merged)
                                          : runtime_error("callgrind recorded no instructions");
            }
        } else {
            parsed = parse_folded_stacks(read_file_tail(spec.stdout_path, k_report_bytes));
            result.files.push_back(spec.stdout_path);
        }
        if (!parsed) {
            result.failure =
                fmt::format("profiling run {} ({}): {}", i, name, parsed.error().message);
            return result;
        }
        result.profile.merge(*parsed);
        if (m_profile.tool != ProfileTool::command) {
            fs::remove(spec.stdout_path, ec);
        }
        fs::remove(spec.stderr_path, ec);
        fs::remove_all(out_dir, ec);
    }
    result.ok = true;
    return result;
}

}  // namespace perfbisect
