// bench_build: how fast perfbisect builds the commits of a bisect, against
// what a hand-run `git bisect run` does (check the commit out in place, run
// `cmake --build`), measured in the same run on the same generated project.
//
// The project comes from bench/make_build_project.sh (48 C++ files, 64 commits
// that each edit one to three of them). The commits are built in the order a
// bisect visits them: good, bad, a binary search for one culprit, then one for
// a second culprit below it. Every contender starts cold (its own checkout and
// build directory, its own empty ccache directory when ccache is installed)
// and runs the whole order; the figures are total wall seconds, the ratios are
// against the reference. Each build's program is run and its output compared
// with the reference's, so a fast but wrong build would show.
//
//   bench_build [--files N] [--commits N] [--keep]

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bisect/repository.hpp"
#include "builders/builder.hpp"
#include "cache/cache.hpp"
#include "util/process.hpp"

using namespace perfbisect;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& message) {
    std::cerr << "bench_build: " << message << "\n";
    std::exit(1);
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs argv; dies with the log's tail when it fails. Returns its stdout.
std::string run(ProcessRunner& runner, std::vector<std::string> argv, const fs::path& cwd,
                const fs::path& log, std::map<std::string, std::string> env = {},
                double* seconds = nullptr) {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.cwd = cwd;
    spec.env = std::move(env);
    spec.stdout_path = log;
    spec.stderr_path = log.string() + ".err";
    const ProcessResult result = runner.run(spec);
    if (!result.succeeded()) {
        die(fmt::format("{} {}: {}", spec.argv.front(), result.describe(),
                        read_file_tail(spec.stderr_path, 400)));
    }
    if (seconds != nullptr) {
        *seconds += result.wall_seconds;
    }
    return read_text(log);
}

// The positions a bisect of n commits builds: good, bad, a binary search for
// a culprit at 5/8 of the range, then one for a culprit at 1/5 below it.
std::vector<std::size_t> bisect_order(std::size_t n) {
    std::vector<std::size_t> order = {0, n - 1};
    auto search = [&](std::size_t lo, std::size_t hi, std::size_t culprit) {
        while (hi - lo > 1) {
            const std::size_t mid = (lo + hi) / 2;
            order.push_back(mid);
            (mid >= culprit ? hi : lo) = mid;
        }
    };
    const std::size_t first = n * 5 / 8;
    search(0, n - 1, first);
    search(0, first - 1, n / 5);
    std::vector<std::size_t> unique;
    std::set<std::size_t> seen;
    for (std::size_t p : order) {
        if (seen.insert(p).second) {
            unique.push_back(p);
        }
    }
    return unique;
}

struct Contender {
    std::string name;
    std::vector<double> seconds;  // per build, in visiting order
    double total() const { return std::accumulate(seconds.begin(), seconds.end(), 0.0); }
    double after_first() const { return total() - seconds.front(); }
};

}  // namespace

int main(int argc, char** argv) {
    int files = 48;
    int commits = 64;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--files" && i + 1 < argc) {
            files = std::atoi(argv[++i]);
        } else if (arg == "--commits" && i + 1 < argc) {
            commits = std::atoi(argv[++i]);
        } else if (arg == "--keep") {
            keep = true;
        } else {
            die("usage: bench_build [--files N] [--commits N] [--keep]");
        }
    }
    if (files < 1 || commits < 8) {
        die("--files must be at least 1 and --commits at least 8");
    }

    char pattern[] = "/tmp/bench-build.XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
        die("cannot create a temporary directory");
    }
    const fs::path root = pattern;
    RealProcessRunner runner;
    const fs::path project = root / "project";
    run(runner,
        {"bash", fs::path(PERFBISECT_SOURCE_DIR) / "bench/make_build_project.sh", project.string(),
         std::to_string(files), std::to_string(commits)},
        root, root / "generate.log");
    auto repository = open_git_repository(project);
    if (!repository) {
        die(repository.error().message);
    }
    const auto first = (*repository)->resolve("HEAD~" + std::to_string(commits - 1));
    const auto range = (*repository)->range(first->id, "HEAD", true);
    if (!range) {
        die(range.error().message);
    }
    const std::vector<std::size_t> order = bisect_order(range->size());
    const auto ccache = find_program("ccache");

    std::string visits;
    for (std::size_t p : order) {
        visits += (visits.empty() ? "" : " ") + std::to_string(p);
    }
    fmt::print("bench_build: a CMake project of {} C++ files and {} commits; {} builds in a "
               "bisect's order: {}\n",
               files, range->size(), order.size(), visits);
    fmt::print("ccache: {}\n\n", ccache ? ccache->string() + " (each contender starts with an empty "
                                                         "cache of its own)"
                                        : "not installed");
    std::fflush(stdout);

    // The reference: git bisect run's way, one checkout built in place.
    Contender reference{"git bisect run (reference)", {}};
    std::vector<std::string> expected;  // the program's output per visited commit
    {
        const fs::path clone = root / "reference";
        run(runner, {"git", "clone", "-q", project.string(), clone.string()}, root,
            root / "clone.log");
        std::map<std::string, std::string> env;
        if (ccache) {
            env = {{"CCACHE_DIR", (root / "ccache-reference").string()},
                   {"CMAKE_CXX_COMPILER_LAUNCHER", ccache->string()}};
        }
        const std::string step =
            "set -e; git checkout -q --force \"$1\"; "
            "[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=Release; "
            "cmake --build build -j 2";
        for (std::size_t p : order) {
            double seconds = 0;
            run(runner, {"/bin/sh", "-c", step, "sh", range->commits[p].id}, clone,
                root / "reference.log", env, &seconds);
            reference.seconds.push_back(seconds);
            expected.push_back(
                run(runner, {(clone / "build/app").string()}, clone, root / "app.out"));
        }
    }

    std::vector<Contender> results = {reference};
    bool faithful = true;
    for (const BuildStrategy strategy : {BuildStrategy::incremental, BuildStrategy::clean}) {
        const std::string name = to_string(strategy);
        const fs::path base = root / name;
        Cache cache = Cache::open(base / "p.db");
        ArtifactStore store(cache, base / "work/artifacts", 0);
        BuildConfig config;
        config.strategy = strategy;
        config.setup = Command{true, {"cmake -S . -B build -DCMAKE_BUILD_TYPE=Release"}};
        config.command = Command{true, {"cmake --build build -j 2"}};
        config.artifacts = {"build/app"};
        config.timeout = Seconds(3600);
        if (ccache) {
            config.env["CCACHE_DIR"] = (root / ("ccache-" + name)).string();
        }
        LocalBuilder builder(**repository, runner, store, config, "bench",
                             BuildPlace{base / "work", "bench", {}});
        Contender result{"perfbisect " + name, {}};
        for (std::size_t i = 0; i < order.size(); ++i) {
            const BuildOutcome outcome = builder.build(range->commits[order[i]]);
            if (!outcome.ok) {
                die(fmt::format("{} build of position {} failed: {}", name, order[i],
                                outcome.reason));
            }
            result.seconds.push_back(outcome.seconds);
            const std::string output =
                run(runner, {(outcome.artifacts_dir / "app").string()}, base, root / "app.out");
            if (output != expected[i]) {
                faithful = false;
                fmt::print("MISMATCH: {} at position {} printed {} where the reference printed {}",
                           name, order[i], output, expected[i]);
            }
        }
        results.push_back(result);
    }

    fmt::print("{:<30} {:>9} {:>12} {:>13} {:>8}  {}\n", "contender", "total s", "first build",
               "other builds", "ratio", "target");
    for (const auto& r : results) {
        const double ratio = r.total() / reference.total();
        std::string target;
        if (r.name == "perfbisect incremental") {
            target = fmt::format("<= 1.2  {}", ratio <= 1.2 ? "met" : "MISSED");
        } else if (r.name == "perfbisect clean") {
            target = ccache ? fmt::format("<= 2.0  {}", ratio <= 2.0 ? "met" : "MISSED")
                            : "(<= 2.0 applies with ccache)";
        }
        fmt::print("{:<30} {:>9.1f} {:>12.1f} {:>13.1f} {:>8.2f}  {}\n", r.name, r.total(),
                   r.seconds.front(), r.after_first(), ratio, target);
    }
    fmt::print("\nratios of the builds after the first (the first is a full build for everyone): "
               "incremental {:.2f}, clean {:.2f}\n",
               results[1].after_first() / reference.after_first(),
               results[2].after_first() / reference.after_first());
    fmt::print("every build's program printed what the reference's printed: {}\n",
               faithful ? "yes" : "NO");
    if (!keep) {
        std::error_code ec;
        fs::remove_all(root, ec);
    } else {
        fmt::print("kept {}\n", root.string());
    }
    return faithful ? 0 : 1;
}
