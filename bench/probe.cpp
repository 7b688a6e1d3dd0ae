// bench_probe: what perfbisect adds to each sample, in time and in noise,
// against a bare fork/exec/wait4 loop of the same program in the same run.
//
//   overhead  N runs of `true` each way, interleaved in blocks. perfbisect's
//             side is what a session does per sample: CommandProber::run (its
//             scratch directory, captured output, the wall metric) and storing
//             the sample in SQLite (a real file, WAL, one transaction per run).
//   noise     M runs each way of a CPU-bound probe (this program with --spin),
//             alternating, the bare side spawned with vfork as perfbisect does;
//             the coefficient of variation (sd / mean) of the wall samples of
//             each side.
//
// Prints the figures and their ratios; exits 1 when perfbisect adds more than
// 1 ms or 10 % per sample, or when the two coefficients of variation differ by
// more than 10 %. Usage: bench_probe [--runs N] [--noise-runs M] [--spin ITERATIONS]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cache/cache.hpp"
#include "config/config.hpp"
#include "probes/prober.hpp"
#include "stats/summary.hpp"
#include "util/process.hpp"

using namespace perfbisect;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The reference: fork, exec, wait4; nothing else. Returns the wall seconds of
// the run as perfbisect measures it (spawn to reap).
double bare_run(const std::vector<std::string>& argv, bool use_vfork = false) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const auto start = Clock::now();
    const pid_t pid = use_vfork ? ::vfork() : ::fork();
    if (pid == 0) {
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    const double wall = seconds_since(start);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fmt::print(stderr, "bench_probe: {} failed\n", argv[0]);
        std::exit(2);
    }
    return wall;
}

void spin(unsigned long iterations) {
    volatile unsigned long acc = 0;
    for (unsigned long i = 0; i < iterations; ++i) {
        acc = acc + (i ^ (acc >> 3));
    }
}

double cv(const std::vector<double>& v) {
    const double mean = stats::mean(v);
    double sum = 0;
    for (double x : v) {
        sum += (x - mean) * (x - mean);
    }
    return std::sqrt(sum / static_cast<double>(v.size() - 1)) / mean;
}

// Median absolute deviation, scaled to the sd of a normal, over the median:
// a coefficient of variation that outliers from other processes barely move.
double robust_cv(const std::vector<double>& v) {
    const double median = stats::median(v);
    std::vector<double> deviations;
    for (double x : v) {
        deviations.push_back(std::abs(x - median));
    }
    return 1.4826 * stats::median(deviations) / median;
}

// One probe plus the storage of its samples, as SessionDriver::measure does.
class PerfbisectSide {
public:
    PerfbisectSide(const std::filesystem::path& dir, std::vector<std::string> argv)
        : m_cache(Cache::open(dir / "perfbisect.db")) {
        m_config.command = Command{false, std::move(argv)};
        m_config.metric = "wall";
        m_config.timeout = Seconds(60);
        m_prober.emplace(m_runner, m_config, dir / "scratch");
        std::filesystem::create_directories(dir / "worktree");
        m_target = ProbeTarget{&m_commit, dir / "worktree", dir / "worktree"};
        CommitRange range;
        range.commits = {m_commit};
        m_session = m_cache.create_session(SessionRecord{}, range).id;
    }

    // The wall value of the sample; the whole cost is timed by the caller.
    double run() {
        const ProbeRun result = m_prober->run(m_target);
        if (!result.ok) {
            fmt::print(stderr, "bench_probe: probe failed: {}\n", result.failure);
            std::exit(2);
        }
        SampleRecord sample;
        sample.commit = m_commit.id;
        sample.round = ++m_run;
        sample.run = m_run;
        sample.value = result.values.front();
        sample.wall_seconds = result.wall_seconds;
        sample.probe_fingerprint = "bench";
        m_cache.store_samples(m_session, {sample});
        return sample.value;
    }

    std::size_t stored() { return m_cache.load_samples(m_session).size(); }

private:
    Cache m_cache;
    RealProcessRunner m_runner;
    ProbeConfig m_config;
    std::optional<CommandProber> m_prober;
    CommitInfo m_commit{"0123456789abcdef0123456789abcdef01234567", "bench", "bench", 0};
    ProbeTarget m_target;
    std::string m_session;
    std::int64_t m_run = 0;
};

std::filesystem::path make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bench-probe-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        fmt::print(stderr, "bench_probe: cannot create a temporary directory\n");
        std::exit(2);
    }
    return pattern;
}

std::string program_path(const char* argv0) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(argv0) : self.string();
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 2000;
    int noise_runs = 4000;
    unsigned long spin_iterations = 5000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--spin-child") {
            spin(std::strtoul(argv[i + 1], nullptr, 10));
            return 0;
        }
        if (flag == "--runs") {
            runs = std::atoi(argv[i + 1]);
        } else if (flag == "--noise-runs") {
            noise_runs = std::atoi(argv[i + 1]);
        } else if (flag == "--spin") {
            spin_iterations = std::strtoul(argv[i + 1], nullptr, 10);
        } else {
            fmt::print(stderr, "usage: bench_probe [--runs N] [--noise-runs M] [--spin ITERATIONS]\n");
            return 2;
        }
    }
    if (runs < 100 || noise_runs < 20) {
        fmt::print(stderr, "bench_probe: use at least --runs 100 and --noise-runs 20\n");
        return 2;
    }
    const std::filesystem::path dir = make_temp_dir();
    bool pass = true;

    // Overhead: `true`, interleaved in blocks of 100 (bare first in even
    // blocks, perfbisect first in odd ones), so drift and load fall on both.
    {
        const std::vector<std::string> command = {"/usr/bin/true"};
        PerfbisectSide side(dir / "overhead", command);
        for (int i = 0; i < 20; ++i) {  // warm both paths: page cache, SQLite file
            bare_run(command);
            side.run();
        }
        const int block = 100;
        // Sides: 0 bare fork, 1 perfbisect, 2 bare vfork (how perfbisect spawns,
        // shown so that the spawn's saving and perfbisect's own cost are both seen).
        double total[3] = {0, 0, 0};
        int done = 0;
        for (int b = 0; done < runs; ++b) {
            const int n = std::min(block, runs - done);
            for (int k = 0; k < 3; ++k) {
                const int which = (b + k) % 3;
                const auto start = Clock::now();
                for (int i = 0; i < n; ++i) {
                    if (which == 1) {
                        side.run();
                    } else {
                        bare_run(command, which == 2);
                    }
                }
                total[which] += seconds_since(start);
            }
            done += n;
        }
        const double bare_ms = 1000 * total[0] / runs;
        const double perfbisect_ms = 1000 * total[1] / runs;
        const double vfork_ms = 1000 * total[2] / runs;
        const double added_ms = perfbisect_ms - bare_ms;
        const double ratio = perfbisect_ms / bare_ms;
        const bool ok = added_ms <= 1.0 && ratio <= 1.10;
        pass = pass && ok;
        fmt::print("overhead: {} runs of {} each way, interleaved in blocks of {}; {} samples stored\n",
                   runs, command[0], block, side.stored());
        fmt::print("  bare fork/exec/wait4     {:8.3f} ms per run\n", bare_ms);
        fmt::print("  bare vfork/exec/wait4    {:8.3f} ms per run\n", vfork_ms);
        fmt::print("  perfbisect probe + store {:8.3f} ms per sample\n", perfbisect_ms);
        fmt::print("  against bare vfork: added {:+.3f} ms per sample, ratio {:.3f}\n",
                   perfbisect_ms - vfork_ms, perfbisect_ms / vfork_ms);
        fmt::print("  added {:+.3f} ms per sample, ratio {:.3f} to bare  [limit: +1 ms and 1.10]  {}\n",
                   added_ms, ratio, ok ? "PASS" : "FAIL");
    }

    // Noise: a CPU-bound probe, runs alternating one by one.
    {
        const std::vector<std::string> command = {program_path(argv[0]), "--spin-child",
                                                  std::to_string(spin_iterations)};
        PerfbisectSide side(dir / "noise", command);
        // The bare side spawns as perfbisect does (vfork), so the comparison
        // shows what perfbisect's own work adds, not the cost of fork's copy.
        for (int i = 0; i < 5; ++i) {
            bare_run(command, true);
            side.run();
        }
        std::vector<double> bare;
        std::vector<double> perfbisect;
        for (int i = 0; i < noise_runs; ++i) {
            if (i % 2 == 0) {
                bare.push_back(bare_run(command, true));
                perfbisect.push_back(side.run());
            } else {
                perfbisect.push_back(side.run());
                bare.push_back(bare_run(command, true));
            }
        }
        // A 90% bootstrap interval of the ratio (pairs resampled together).
        std::vector<double> ratios;
        {
            std::uint64_t state = 12345;
            auto next = [&state, n = bare.size()] {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                return static_cast<std::size_t>((state >> 33) % n);
            };
            std::vector<double> b(bare.size());
            std::vector<double> p(perfbisect.size());
            for (int r = 0; r < 1000; ++r) {
                for (std::size_t i = 0; i < b.size(); ++i) {
                    const std::size_t j = next();
                    b[i] = bare[j];
                    p[i] = perfbisect[j];
                }
                ratios.push_back(cv(p) / cv(b));
            }
        }
        const double cv_bare = cv(bare);
        const double cv_perfbisect = cv(perfbisect);
        const double ratio = cv_perfbisect / cv_bare;
        const bool ok = std::abs(ratio - 1) <= 0.10;
        pass = pass && ok;
        fmt::print("noise: {} runs each way of a CPU-bound probe ({} iterations), alternating; "
                   "bare side spawned with vfork/exec/wait4\n",
                   noise_runs, spin_iterations);
        fmt::print("  bare        median {:7.3f} ms, cv {:6.3f}%, robust cv (MAD) {:6.3f}%\n",
                   1000 * stats::median(bare), 100 * cv_bare, 100 * robust_cv(bare));
        fmt::print("  perfbisect  median {:7.3f} ms, cv {:6.3f}%, robust cv (MAD) {:6.3f}%\n",
                   1000 * stats::median(perfbisect), 100 * cv_perfbisect,
                   100 * robust_cv(perfbisect));
        fmt::print("  cv ratio perfbisect/bare {:.3f} (90% bootstrap interval {:.3f} to {:.3f}), "
                   "robust cv ratio {:.3f}  [limit: within 10%]  {}\n",
                   ratio, stats::quantile(ratios, 0.05), stats::quantile(ratios, 0.95),
                   robust_cv(perfbisect) / robust_cv(bare), ok ? "PASS" : "FAIL");
    }

    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return pass ? 0 : 1;
}
