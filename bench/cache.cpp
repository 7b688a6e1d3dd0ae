// bench_cache: the SQLite cache at scale, and planning on what it holds.
//
// One session over a range of COMMITS commits holds SAMPLES samples: MEASURED
// evenly spaced commits (both ends included) with SAMPLES / MEASURED values
// each, neighbours paired in shared interleaved rounds, on a history with a
// 20 % step at two thirds and 3 % noise. (The planner never takes more than
// max_samples values of a commit itself; a session holds more when it took
// over the samples of earlier sessions of the same history, `[cache] reuse`.)
// All of it goes through Cache::store_samples into a real file (WAL,
// synchronous=NORMAL). Printed:
//
//   insert    samples per second, first one transaction per probe run (as the
//             driver stores them: committed before the next run starts), then
//             the rest in transactions of 1,000;
//   read      samples per second of Cache::load_samples of the whole session;
//   resume    the first step of a resumed session: every sample read into the
//             planner's observations (ObservationCache, cold);
//   plan      the next step, as the driver plans it after each probe run: the
//             new sample read (ObservationCache::update) and plan_next on all
//             the observations; median and maximum of STEPS steps, in CPU time
//             of this thread and in wall time (which a loaded machine inflates);
//   layouts   plan_next alone, in memory, on the same number of values laid
//             out otherwise, for reference (not checked).
//
// Exits 1 when the median CPU time of a step is 50 ms or more. Usage:
//   bench_cache [--samples N] [--commits C] [--measured M] [--per-run R] [--steps S]
//               [--no-layouts]
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bisect/planner.hpp"
#include "bisect/session_driver.hpp"
#include "cache/cache.hpp"
#include "stats/summary.hpp"
#include "util/allocator.hpp"

using namespace perfbisect;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double cpu_seconds() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::filesystem::path make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bench-cache-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        fmt::print(stderr, "bench_cache: cannot create a temporary directory\n");
        std::exit(2);
    }
    return pattern;
}

struct Args {
    std::size_t samples = 1'000'000;
    std::size_t commits = 2'001;
    std::size_t measured = 1'000;
    std::size_t per_run = 20'000;  // samples stored one transaction each
    int steps = 20;
    bool layouts = true;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--no-layouts") {
            a.layouts = false;
            continue;
        }
        if (i + 1 < argc) {
            const auto value = static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
            if (flag == "--samples") {
                a.samples = std::max<std::size_t>(value, 2);
                continue;
            }
            if (flag == "--commits") {
                a.commits = std::max<std::size_t>(value, 3);
                continue;
            }
            if (flag == "--measured") {
                a.measured = std::max<std::size_t>(value, 2);
                continue;
            }
            if (flag == "--per-run") {
                a.per_run = value;
                continue;
            }
            if (flag == "--steps") {
                a.steps = static_cast<int>(std::max<std::size_t>(value, 1));
                continue;
            }
        }
        fmt::print(stderr,
                   "usage: bench_cache [--samples N] [--commits C] [--measured M] [--per-run R] "
                   "[--steps S] [--no-layouts]\n");
        std::exit(2);
    }
    a.measured = std::min(a.measured, a.commits);
    return a;
}

// A history of `commits` commits, `measured` of them evenly spaced with
// samples / measured values each, neighbours paired in shared rounds. Calls
// add(position, round, value) for each value in the order taken.
template <typename Add>
void lay_out(std::size_t commits, std::size_t measured, std::size_t samples, std::uint64_t seed,
             Add add) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> noise(0.0, 0.03);
    std::vector<std::size_t> positions;
    for (std::size_t k = 0; k < measured; ++k) {
        positions.push_back(k * (commits - 1) / (measured - 1));
    }
    const std::size_t per_commit = (samples + measured - 1) / measured;
    std::size_t taken = 0;
    std::int64_t round = 0;
    for (std::size_t k = 0; k < positions.size(); k += 2) {
        for (std::size_t j = 0; j < per_commit; ++j) {
            ++round;
            for (std::size_t q = k; q < std::min(k + 2, positions.size()) && taken < samples; ++q) {
                const std::size_t p = positions[q];
                add(p, round, (p >= commits * 2 / 3 ? 120.0 : 100.0) * noise(rng));
                ++taken;
            }
        }
    }
}

PlannerSettings settings() {
    PlannerSettings s;
    s.decide.min_effect = 0.05;
    return s;
}

// plan_next alone on an in-memory layout: the median CPU milliseconds of three.
double plan_only(std::size_t commits, std::size_t measured, std::size_t samples) {
    Observations obs(commits);
    lay_out(commits, measured, samples, 7, [&](std::size_t p, std::int64_t round, double value) {
        obs[p].build = BuildState::ok;
        obs[p].values.push_back(value);
        obs[p].rounds.push_back(round);
    });
    std::vector<double> ms;
    for (int i = 0; i < 3; ++i) {
        const double start = cpu_seconds();
        const Plan plan = plan_next(settings(), obs);
        ms.push_back((cpu_seconds() - start) * 1000);
    }
    return stats::median(ms);
}

}  // namespace

int main(int argc, char** argv) {
    keep_freed_memory();  // as perfbisect does
    const Args args = parse(argc, argv);
    const auto dir = make_temp_dir();
    const std::size_t n = args.commits;

    CommitRange range;
    for (std::size_t p = 0; p < n; ++p) {
        range.commits.push_back(
            CommitInfo{fmt::format("{:040x}", p + 1), fmt::format("commit {}", p), "B <b@x>", 0});
    }
    std::vector<SampleRecord> samples;
    std::vector<bool> measured(n, false);
    std::int64_t last_round = 0;
    lay_out(n, args.measured, args.samples, 42, [&](std::size_t p, std::int64_t round, double value) {
        SampleRecord s;
        s.commit = range.commits[p].id;
        s.round = round;
        s.run = static_cast<std::int64_t>(samples.size()) + 1;
        s.value = value;
        s.wall_seconds = 0.01;
        s.timestamp = 1.7e9 + static_cast<double>(samples.size());
        s.build_fingerprint = "bench-build";
        s.probe_fingerprint = "bench-probe";
        s.machine = "bench-machine";
        samples.push_back(std::move(s));
        measured[p] = true;
        last_round = round;
    });
    fmt::print("session: {} commits, {} samples: {} commits with {} values each, neighbours in "
               "shared interleaved rounds ({} rounds)\n",
               n, samples.size(), args.measured,
               (args.samples + args.measured - 1) / args.measured, last_round);

    Cache cache = Cache::open(dir / "bench.db");
    SessionRecord record;
    record.metric = "wall";
    record.direction = "lower";
    const std::string session = cache.create_session(record, range).id;
    for (std::size_t p = 0; p < n; ++p) {
        if (measured[p]) {
            BuildRecord b;
            b.commit = range.commits[p].id;
            b.fingerprint = "bench-build";
            b.ok = true;
            b.artifacts_dir = dir.string();
            b.session = session;
            cache.store_build(b);
        }
    }

    // Insert: one transaction per run, then batches of 1,000.
    const std::size_t per_run = std::min(args.per_run, samples.size());
    auto start = Clock::now();
    for (std::size_t i = 0; i < per_run; ++i) {
        cache.store_samples(session, {samples[i]});
    }
    const double per_run_seconds = seconds_since(start);
    start = Clock::now();
    for (std::size_t i = per_run; i < samples.size(); i += 1000) {
        const auto end = std::min(samples.size(), i + 1000);
        cache.store_samples(session,
                            std::vector<SampleRecord>(samples.begin() + static_cast<std::ptrdiff_t>(i),
                                                      samples.begin() + static_cast<std::ptrdiff_t>(end)));
    }
    const double batch_seconds = seconds_since(start);
    const std::size_t batched = samples.size() - per_run;
    if (per_run > 0) {
        fmt::print("insert, one transaction per probe run: {:>9.0f} samples/s ({} samples in {:.2f} s)\n",
                   static_cast<double>(per_run) / per_run_seconds, per_run, per_run_seconds);
    }
    if (batched > 0) {
        fmt::print("insert, 1,000 per transaction:         {:>9.0f} samples/s ({} samples in {:.2f} s)\n",
                   static_cast<double>(batched) / batch_seconds, batched, batch_seconds);
    }

    // Read back, and check.
    start = Clock::now();
    auto loaded = cache.load_samples(session);
    const double read_seconds = seconds_since(start);
    double sum_stored = 0;
    double sum_loaded = 0;
    for (const auto& s : samples) {
        sum_stored += s.value;
    }
    for (const auto& s : loaded) {
        sum_loaded += s.value;
    }
    fmt::print("read back:                             {:>9.0f} samples/s ({} samples in {:.2f} s)\n",
               static_cast<double>(loaded.size()) / read_seconds, loaded.size(), read_seconds);
    if (loaded.size() != samples.size() || std::abs(sum_loaded - sum_stored) > 1e-9 * sum_stored) {
        fmt::print(stderr, "bench_cache: read back {} samples, stored {}\n", loaded.size(),
                   samples.size());
        return 1;
    }
    // Only a few samples stay in memory, as in perfbisect: the observations.
    const std::size_t stored = samples.size();
    std::vector<SampleRecord>(samples.begin(),
                              samples.begin() + std::min<std::ptrdiff_t>(args.steps, static_cast<std::ptrdiff_t>(stored)))
        .swap(samples);
    std::vector<SampleRecord>().swap(loaded);

    // Resume: the first step reads everything.
    start = Clock::now();
    ObservationCache observations(range, "bench-build");
    observations.update(cache, session);
    fmt::print("resume: all samples into the planner's observations in {:.0f} ms\n",
               seconds_since(start) * 1000);

    // Plan the next step, as the driver does after each probe run.
    std::vector<double> cpu_ms;
    std::vector<double> wall_ms;
    std::vector<double> plan_cpu_ms;
    std::string next;
    std::mt19937_64 rng(1);
    std::lognormal_distribution<double> noise(0.0, 0.03);
    for (int i = 0; i < args.steps; ++i) {
        SampleRecord s = samples[static_cast<std::size_t>(i) % samples.size()];
        s.round = last_round + i + 1;
        s.run = static_cast<std::int64_t>(stored) + i + 1;
        s.value *= noise(rng);
        cache.store_samples(session, {s});
        const auto wall = Clock::now();
        const double cpu = cpu_seconds();
        const Observations& current = observations.update(cache, session);
        const double plan_start = cpu_seconds();
        const Plan plan = plan_next(settings(), current);
        const double end = cpu_seconds();
        plan_cpu_ms.push_back((end - plan_start) * 1000);
        cpu_ms.push_back((end - cpu) * 1000);
        wall_ms.push_back(seconds_since(wall) * 1000);
        next = std::holds_alternative<MeasureAction>(plan.next)  ? "measure"
               : std::holds_alternative<BuildAction>(plan.next)  ? "build"
               : std::holds_alternative<DoneAction>(plan.next)   ? "done"
                                                                  : "fail";
    }
    const double median_cpu = stats::median(cpu_ms);
    fmt::print("plan the next step of the session ({} samples; new sample read + plan_next), {} "
               "steps:\n  CPU  median {:.1f} ms, max {:.1f} ms (plan_next alone: median {:.1f} ms)\n"
               "  wall median {:.1f} ms, max {:.1f} ms\n  next action: {}\n",
               stored + static_cast<std::size_t>(args.steps), args.steps, median_cpu,
               *std::max_element(cpu_ms.begin(), cpu_ms.end()), stats::median(plan_cpu_ms),
               stats::median(wall_ms), *std::max_element(wall_ms.begin(), wall_ms.end()), next);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);

    if (args.layouts) {
        fmt::print("for reference, plan_next alone (CPU, median of 3) on {} values laid out "
                   "otherwise:\n",
                   args.samples);
        for (const auto& [commits, count] :
             {std::pair<std::size_t, std::size_t>{20'001, args.samples / 96}, {1'001, 100},
              {2'001, 8}}) {
            fmt::print("  {:>6} commits with {:>7} values each: {:.1f} ms\n", count,
                       (args.samples + count - 1) / count, plan_only(commits, count, args.samples));
        }
    }
    if (median_cpu >= 50) {
        fmt::print("FAIL: planning a step takes {:.1f} ms of CPU, the limit is 50 ms\n", median_cpu);
        return 1;
    }
    fmt::print("PASS: planning a step stays under 50 ms\n");
    return 0;
}
