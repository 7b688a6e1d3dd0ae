// bench_build: how fast perfbisect builds the commits of a bisect, against
// what a hand-run `git bisect run` does (check the commit out in place, run
// `cmake --build`), measured in the same run on the same generated project.
//
// The project comes from bench/make_build_project.sh (48 C++ files, 64 commits
// that each edit one to three of them). The commits are built in the order a
// bisect visits them: good, bad, a binary search for one culprit, then one for
// a second culprit below it. Every contender starts cold (its own checkout and
// build directory, its own empty ccache directory when ccache is installed)
// and runs the whole order, commit by commit in a rotating order with the
// others (so a busy moment of the machine is shared); the figures are total
// wall seconds, the ratios are against the reference. Each build's program is run and its output compared
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

    // The configure flags of everyone: optimised, but -O1 to keep the bench short.
    const std::string configure =
        "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1";

    // The reference: git bisect run's way, one checkout built in place.
    const fs::path clone = root / "reference";
    run(runner, {"git", "clone", "-q", project.string(), clone.string()}, root, root / "clone.log");
    std::map<std::string, std::string> reference_env;
    if (ccache) {
        reference_env = {{"CCACHE_DIR", (root / "ccache-reference").string()},
                         {"CMAKE_CXX_COMPILER_LAUNCHER", ccache->string()}};
    }
    const std::string reference_step = "set -e; git checkout -q --force \"$1\"; "
                                       "[ -f build/CMakeCache.txt ] || " +
                                       configure + "; cmake --build build -j 2";

    // perfbisect's strategies, each with a store, a worktree and a ccache of its own.
    struct Strategy {
        std::string name;
        std::unique_ptr<Cache> cache;
        std::unique_ptr<ArtifactStore> store;
        BuildConfig config;
        std::unique_ptr<LocalBuilder> builder;
    };
    std::vector<Strategy> strategies;
    for (const BuildStrategy strategy : {BuildStrategy::incremental, BuildStrategy::clean}) {
        Strategy s;
        s.name = to_string(strategy);
        const fs::path base = root / s.name;
        s.cache = std::make_unique<Cache>(Cache::open(base / "p.db"));
        s.store = std::make_unique<ArtifactStore>(*s.cache, base / "work/artifacts", 0);
        s.config.strategy = strategy;
        s.config.setup = Command{true, {configure}};
        s.config.command = Command{true, {"cmake --build build -j 2"}};
        s.config.artifacts = {"build/app"};
        s.config.timeout = Seconds(3600);
        if (ccache) {
            s.config.env["CCACHE_DIR"] = (root / ("ccache-" + s.name)).string();
        }
        strategies.push_back(std::move(s));
    }
    for (auto& s : strategies) {  // after the vector stops moving: the builder keeps &config
        s.builder = std::make_unique<LocalBuilder>(**repository, runner, *s.store, s.config,
                                                   "bench",
                                                   BuildPlace{root / s.name / "work", "bench", {}});
    }

    // Commit by commit, the contenders in a rotating order, so that a busy
    // moment of the machine falls on each of them alike.
    std::vector<Contender> results = {{"git bisect run (reference)", {}},
                                      {"perfbisect incremental", {}},
                                      {"perfbisect clean", {}}};
    bool faithful = true;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const CommitInfo& commit = range->commits[order[i]];
        std::string expected;
        for (std::size_t k = 0; k < results.size(); ++k) {
            const std::size_t who = (i + k) % results.size();
            std::string output;
            if (who == 0) {
                double seconds = 0;
                run(runner, {"/bin/sh", "-c", reference_step, "sh", commit.id}, clone,
                    root / "reference.log", reference_env, &seconds);
                results[0].seconds.push_back(seconds);
                output = run(runner, {(clone / "build/app").string()}, clone, root / "app.out");
            } else {
                auto& s = strategies[who - 1];
                const BuildOutcome outcome = s.builder->build(commit);
                if (!outcome.ok) {
                    die(fmt::format("{} build of position {} failed: {}", s.name, order[i],
                                    outcome.reason));
                }
                results[who].seconds.push_back(outcome.seconds);
                output = run(runner, {(outcome.artifacts_dir / "app").string()}, root,
                             root / "app.out");
            }
            if (expected.empty()) {
                expected = output;
            } else if (output != expected) {
                faithful = false;
                fmt::print("MISMATCH at position {}: {} printed {}", order[i],
                           results[who].name, output);
            }
        }
        fmt::print("position {:>2}: reference {:5.1f} s, incremental {:5.1f} s, clean {:5.1f} s\n",
                   order[i], results[0].seconds.back(), results[1].seconds.back(),
                   results[2].seconds.back());
        std::fflush(stdout);
    }
    const Contender& reference = results[0];

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
