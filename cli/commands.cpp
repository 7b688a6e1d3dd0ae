#include "cli/commands.hpp"
#include "cli/session_support.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <ostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bisect/session_driver.hpp"
#include "bisect/session_runner.hpp"
#include "builders/builder.hpp"
#include "cache/cache.hpp"
#include "config/config.hpp"
#include "probes/prober.hpp"
#include "probes/profiler.hpp"
#include "report/report.hpp"
#include "report/reporter.hpp"
#include "stats/summary.hpp"
#include "util/exit_code.hpp"
#include "util/interrupt.hpp"
#include "util/machine.hpp"
#include "util/text.hpp"

namespace perfbisect {

std::filesystem::path database_path(const std::filesystem::path& db) {
    return std::filesystem::absolute(db.empty() ? default_database_path() : db);
}

std::filesystem::path work_dir(const std::filesystem::path& db) {
    return db.parent_path() / "work";
}

void check_format(const std::string& format, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
        if (format == a) {
            return;
        }
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw Failure(ErrorKind::usage,
                  fmt::format("unknown --format '{}' (use {})", format, list));
}

void run_to_end(Cache& cache, const std::string& session, const Config& config, bool quiet,
                bool take_over) {
    std::unique_ptr<Reporter> reporter;
    if (quiet) {
        reporter = std::make_unique<QuietReporter>();
    } else {
        reporter = std::make_unique<TerminalReporter>(stderr, stderr_is_live_terminal());
    }
    try {
        run_session(cache, session, config, *reporter, take_over);
    } catch (const Failure& failure) {
        if (failure.kind() == ErrorKind::interrupted) {
            throw Failure(ErrorKind::interrupted,
                          fmt::format("interrupted; everything measured is kept: continue with "
                                      "`perfbisect resume {} --db {}`",
                                      session, cache.path().string()));
        }
        throw;
    }
}

BuildRecord build_commit(Cache& cache, Repository& repository, ProcessRunner& runner,
                         const Config& config, const CommitInfo& commit, bool quiet) {
    const auto work = work_dir(cache.path());
    const std::string fingerprint = config.build_fingerprint();
    auto build = cache.find_build(commit.id, fingerprint);
    if (!build || !build->ok || !std::filesystem::is_directory(build->artifacts_dir)) {
        if (!quiet) {
            fmt::print(stderr, "perfbisect: building {} {}\n", commit.short_id(), commit.subject);
        }
        ArtifactStore store(cache, work / "artifacts", config.cache.max_artifacts_size);
        LocalBuilder builder(repository, runner, store, config.build, fingerprint,
                             BuildPlace{work, "measure-" + fingerprint.substr(0, 8), {commit.id}});
        const BuildOutcome outcome = builder.build(commit);
        if (outcome.interrupted) {
            throw Failure(ErrorKind::interrupted, "interrupted");
        }
        build = build_record(commit, fingerprint, outcome, "");
        cache.store_build(*build);
    }
    if (!build->ok) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("{} does not build: {} (log: {})", commit.short_id(),
                                  build->reason, build->log_path));
    }
    return *build;
}

int exit_code_for(const std::string& status) {
    if (status == "culprit_found") return static_cast<int>(ExitCode::culprit_found);
    if (status == "not_reproduced") return static_cast<int>(ExitCode::not_reproduced);
    if (status == "running") return static_cast<int>(ExitCode::interrupted);
    return static_cast<int>(ExitCode::inconclusive);
}

namespace {

// Runs (or continues) a session to its end and prints its report.
int drive(Cache& cache, const std::string& session, const Config& config,
          const std::string& format, bool quiet, std::ostream& out, bool take_over = false) {
    run_to_end(cache, session, config, quiet, take_over);
    const SessionReport report = build_report(cache, session);
    out << value_or_throw(render(report, format));
    return exit_code_for(report.status);
}

}  // namespace

int command_run(const RunOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "json", "md"});
    Config config = value_or_throw(load_config(options.config));
    // The revisions are checked before the database is opened: a typo leaves no file behind.
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    value_or_throw(repository->range(options.good, options.bad, config.repo.first_parent));

    Cache cache = Cache::open(database_path(options.db));
    const SessionRecord session =
        start_session(cache, config, options.good, options.bad, {}, [&](const std::string& line) {
            if (!options.quiet) {
                fmt::print(stderr, "perfbisect: {}\n", line);
            }
        });
    return drive(cache, session.id, config, options.format, options.quiet, out);
}

int command_resume(const ResumeOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "json", "md"});
    Cache cache = Cache::open(database_path(options.db));
    const SessionRecord session = cache.session(options.session);
    if (session.status != "running") {
        const SessionReport report = build_report(cache, session.id);
        out << value_or_throw(render(report, options.format));
        return exit_code_for(report.status);
    }
    const Config config = session_config(session);
    if (!session.machine.empty() && session.machine != this_machine().fingerprint()) {
        spdlog::warn("session {} started on another machine ({}); this one ({}) adds its samples "
                     "to that machine's",
                     session.id, session.machine, this_machine().describe());
    }
    cache.append_event(session.id, "session", "resumed");
    if (!options.quiet) {
        fmt::print(stderr, "perfbisect: resuming session {}\n", session.id);
    }
    return drive(cache, session.id, config, options.format, options.quiet, out, options.take_over);
}

int command_report(const ReportOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "md", "json", "html"});
    Cache cache = Cache::open(database_path(options.db));
    const SessionReport report = build_report(cache, options.session);
    const std::string text = options.format == "text" ? render_text(report, options.verbose)
                                                      : value_or_throw(render(report, options.format));
    if (options.output.empty()) {
        out << text;
    } else {
        std::ofstream file(options.output, std::ios::binary);
        file << text;
        if (!file) {
            throw Failure(ErrorKind::runtime,
                          fmt::format("cannot write {} (check the -o path)", options.output.string()));
        }
    }
    return 0;
}

int command_measure(const MeasureOptions& options, std::ostream& out) {
    if (options.runs < 1) {
        throw Failure(ErrorKind::usage, "-n must be at least 1");
    }
    Config config = value_or_throw(load_config(options.config));
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    const CommitInfo commit = value_or_throw(repository->resolve(options.revision));
    Cache cache = Cache::open(database_path(options.db));
    RealProcessRunner runner;
    const auto work = work_dir(cache.path());
    install_interrupt_handlers();
    const BuildRecord build = build_commit(cache, *repository, runner, config, commit, false);

    CommandProber prober(runner, config.probe, work / "scratch");
    value_or_throw(prober.check_machine());
    const auto& metrics = prober.metrics();
    auto with_unit = [](double v, const MetricSpec& m) {
        return m.unit().empty() ? fmt::format("{:.6g}", v) : fmt::format("{:.6g} {}", v, m.unit());
    };
    out << fmt::format("{} {}\n", commit.id, commit.subject);
    out << fmt::format("probe: {}\n", config.probe.command.display());
    std::vector<std::vector<double>> values(metrics.size());
    int failures = 0;
    for (int i = 1; i <= options.runs; ++i) {
        const ProbeRun run = prober.run(ProbeTarget{&commit, build.artifacts_dir, build.worktree});
        if (run.interrupted) {
            throw Failure(ErrorKind::interrupted, "interrupted");
        }
        if (!run.ok) {
            ++failures;
            out << fmt::format("sample {}: failed: {}\n", i, run.failure);
            for (const auto& line : split_lines(run.output)) {
                out << "  | " << line << "\n";
            }
            continue;
        }
        std::string line;
        for (double v : run.values) {
            line += (line.empty() ? "" : ", ") + with_unit(v, metrics[0]);
            values[0].push_back(v);
        }
        for (std::size_t m = 1; m < metrics.size(); ++m) {
            std::string extra;
            for (double v : run.extra[m - 1].second) {
                extra += (extra.empty() ? "" : ", ") + with_unit(v, metrics[m]);
                values[m].push_back(v);
            }
            line += fmt::format("; {} {}", metrics[m].text, extra);
        }
        out << fmt::format("sample {}: {}\n", i, line);
    }
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        const auto& v = values[m];
        if (v.empty()) {
            continue;
        }
        const double median = stats::median(v);
        const double mean = stats::mean(v);
        double variance = 0;
        for (double x : v) {
            variance += (x - mean) * (x - mean);
        }
        const double sd = v.size() > 1 ? std::sqrt(variance / static_cast<double>(v.size() - 1)) : 0;
        out << fmt::format("{}{}: median {}, min {}, max {}, cv {:.2f}%, {} value(s)\n",
                           metrics[m].text, m == 0 ? " (decides)" : "", with_unit(median, metrics[m]),
                           with_unit(*std::min_element(v.begin(), v.end()), metrics[m]),
                           with_unit(*std::max_element(v.begin(), v.end()), metrics[m]),
                           mean != 0 ? 100 * sd / std::abs(mean) : 0.0, v.size());
    }
    out << fmt::format("{} sample(s), {} failed\n", options.runs, failures);
    if (values[0].empty()) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("every probe run failed on {}; fix [probe] in {}",
                                  commit.short_id(), options.config.string()));
    }
    return 0;
}

}  // namespace perfbisect
