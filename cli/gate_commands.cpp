// `perfbisect compare` and `perfbisect gate`: the bisect's statistics on two
// commits, and limits on one, for pull requests and release pipelines.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <ostream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "bisect/session_runner.hpp"
#include "cli/session_support.hpp"
#include "config/server_config.hpp"
#include "probes/prober.hpp"
#include "report/comparison.hpp"
#include "stats/summary.hpp"
#include "util/exit_code.hpp"
#include "util/interrupt.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

double steady_now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Starts a session of two commits, base and head, and runs it: the
// reproduce step of a bisect, then the confirmation of head against base.
// config_text is what the session stores (resume and report replay it).
std::string compare_session(Cache& cache, const Config& config, const std::string& config_text,
                            const std::string& base_revision, const CommitInfo& base,
                            const std::string& head_revision, const CommitInfo& head, bool quiet,
                            const char* command) {
    SessionRecord record;
    record.good = base_revision;
    record.bad = head_revision;
    record.config_path = config.file.string();
    record.config_text = config_text;
    record.metric = config.probe.metric;
    record.direction = to_string(config.probe.direction);
    const SessionRecord session = create_session_here(cache, record, CommitRange{{base, head}});
    const std::string started =
        fmt::format("session {}: {} {} ({}) against {} ({}), min effect {:+.1f}%, database {}",
                    session.id, command, head_revision, head.short_id(), base_revision,
                    base.short_id(), config.decide.min_effect * 100, cache.path().string());
    cache.append_event(session.id, "session", started);
    if (!quiet) {
        fmt::print(stderr, "perfbisect: {}\n", started);
    }
    // A pull-request bot compares the same base again and again: its samples are reused.
    if (const std::string reused = reuse_earlier_samples(cache, config, session);
        !reused.empty() && !quiet) {
        fmt::print(stderr, "perfbisect: {}\n", reused);
    }
    run_to_end(cache, session.id, config, quiet);
    return session.id;
}

CommitInfo resolve(Repository& repository, const std::string& revision) {
    return value_or_throw(repository.resolve(revision));
}

int exit_code(CompareVerdict verdict) {
    switch (verdict) {
        case CompareVerdict::regression:
            return static_cast<int>(ExitCode::gate_failed);
        case CompareVerdict::inconclusive:
            return static_cast<int>(ExitCode::inconclusive);
        default:
            return static_cast<int>(ExitCode::culprit_found);
    }
}

void write_file(const std::filesystem::path& path, const std::string& text, const char* what) {
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("cannot write the {} to {} (check the path and its directory)",
                                  what, path.string()));
    }
}

std::string hostname() {
    char name[256] = {};
    return gethostname(name, sizeof(name) - 1) == 0 ? std::string(name) : std::string();
}

// The values of each metric of `runs` probe runs of commit, in config order.
std::vector<std::pair<std::string, std::vector<double>>> measure_metrics(const Config& config,
                                                                         Cache& cache,
                                                                         Repository& repository,
                                                                         const CommitInfo& commit,
                                                                         int runs, bool quiet) {
    RealProcessRunner runner;
    const BuildRecord build = build_commit(cache, repository, runner, config, commit, quiet);
    CommandProber prober(runner, config.probe, work_dir(cache.path()) / "scratch");
    value_or_throw(prober.check_machine());
    std::vector<std::pair<std::string, std::vector<double>>> values;
    for (const auto& metric : prober.metrics()) {
        values.emplace_back(metric.text, std::vector<double>{});
    }
    if (!quiet) {
        fmt::print(stderr, "perfbisect: measuring {} {} times\n", commit.short_id(), runs);
    }
    std::string last_failure;
    for (int i = 0; i < runs; ++i) {
        const ProbeRun run = prober.run(ProbeTarget{&commit, build.artifacts_dir, build.worktree});
        if (run.interrupted || interrupt_requested()) {
            throw Failure(ErrorKind::interrupted, "interrupted");
        }
        if (!run.ok) {
            last_failure = run.failure;
            continue;
        }
        values[0].second.insert(values[0].second.end(), run.values.begin(), run.values.end());
        for (std::size_t m = 0; m < run.extra.size() && m + 1 < values.size(); ++m) {
            auto& target = values[m + 1].second;
            target.insert(target.end(), run.extra[m].second.begin(), run.extra[m].second.end());
        }
    }
    if (values[0].second.empty()) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("every probe run failed on {}: {}; fix [probe] in {}",
                                  commit.short_id(), last_failure, config.file.string()));
    }
    return values;
}

std::string quantity(double value, const std::string& unit) {
    return fmt::format("{:.6g}{}", value, unit.empty() ? "" : " " + unit);
}

}  // namespace

int command_compare(const CompareOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "md", "json"});
    const Config config = value_or_throw(load_config(options.config));
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    const CommitInfo base = resolve(*repository, options.base);
    const CommitInfo head = resolve(*repository, options.head);
    if (base.id == head.id) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{} and {} are the same commit ({}); give two different commits",
                                  options.base, options.head, base.short_id()));
    }
    Cache cache = Cache::open(database_path(options.db));
    const std::string session = compare_session(cache, config, config.text, options.base, base,
                                                options.head, head, options.quiet, "compare");
    const Comparison comparison = build_comparison(cache, session);
    out << value_or_throw(render_comparison(comparison, options.format));
    return exit_code(comparison.verdict);
}

int command_gate(const GateOptions& options, std::ostream& out) {
    check_format(options.format, {"text", "md", "json"});
    const Config config = value_or_throw(load_config(options.config));
    const GateConfig& gate = config.gate;
    if (gate.empty()) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{}: [gate] sets no limit; add one, e.g. max = \"120ms\", or "
                                  "max_regression = \"5%\" with baseline = \"origin/main\"",
                                  options.config.string()));
    }
    const std::string baseline = options.baseline.empty() ? gate.baseline : options.baseline;
    if (gate.max_regression > 0 && baseline.empty()) {
        throw Failure(ErrorKind::usage,
                      fmt::format("{}: [gate] max_regression needs a baseline to compare with; "
                                  "set [gate] baseline or pass --baseline REV",
                                  options.config.string()));
    }
    if (gate.max_regression == 0 && !options.baseline.empty()) {
        throw Failure(ErrorKind::usage,
                      fmt::format("--baseline is used with [gate] max_regression, which {} does "
                                  "not set; add it, e.g. max_regression = \"5%\"",
                                  options.config.string()));
    }
    auto repository = value_or_throw(open_git_repository(config.repo.path));
    GateResult result;
    result.revision = options.revision;
    result.commit = resolve(*repository, options.revision);
    result.baseline = gate.max_regression > 0 ? baseline : "";
    result.timestamp = static_cast<std::int64_t>(std::time(nullptr));
    Cache cache = Cache::open(database_path(options.db));
    install_interrupt_handlers();
    const double started = steady_now();

    if (gate.max_regression > 0) {
        GateCheck check;
        check.kind = "max_regression";
        check.metric = config.probe.metric;
        check.limit = gate.max_regression;
        check.name = fmt::format("no regression of {} or more vs {}",
                                 percent_text(gate.max_regression), baseline);
        const CommitInfo base = resolve(*repository, baseline);
        if (base.id == result.commit.id) {
            check.status = CheckStatus::pass;
            check.message = fmt::format("{} is the baseline itself", result.commit.short_id());
        } else {
            // The comparison decides at max_regression instead of min_effect;
            // its session stores the config so, for resume and report.
            const std::string text =
                value_or_throw(config_text_with_min_effect(config, gate.max_regression));
            Config adjusted =
                value_or_throw(parse_config(text, config.file.parent_path(), config.file.string()));
            adjusted.file = config.file;
            const std::string session =
                compare_session(cache, adjusted, text, baseline, base, options.revision,
                                result.commit, options.quiet, "gate");
            result.comparison = build_comparison(cache, session);
            const Comparison& c = *result.comparison;
            check.value = c.evidence.effect;
            check.seconds = c.report.cost.wall_seconds;
            for (const auto& t : c.report.tested) {
                if (t.position == 1) {
                    check.samples = static_cast<int>(t.values.size());
                }
            }
            check.status = c.verdict == CompareVerdict::regression     ? CheckStatus::fail
                           : c.verdict == CompareVerdict::inconclusive ? CheckStatus::error
                                                                       : CheckStatus::pass;
            check.message = fmt::format("{} vs {} ({}): {}", result.commit.short_id(), baseline,
                                        base.short_id(), effect_text(c.evidence));
            if (check.status == CheckStatus::error) {
                check.message += "; " + c.report.summary;
            }
        }
        result.checks.push_back(check);
    }

    if (!gate.limits.empty()) {
        // Values of the revision: those the comparison took, else runs of its own.
        std::vector<std::pair<std::string, std::vector<double>>> values;
        double seconds = 0;
        if (result.comparison) {
            for (const auto& t : result.comparison->report.tested) {
                if (t.position == 1) {
                    values.emplace_back(config.probe.metric, t.values);
                    for (const auto& m : t.metrics) {
                        values.emplace_back(m.metric, m.values);
                    }
                }
            }
        } else {
            const double before = steady_now();
            const int runs = gate.runs > 0 ? gate.runs : config.decide.samples;
            values =
                measure_metrics(config, cache, *repository, result.commit, runs, options.quiet);
            seconds = steady_now() - before;
        }
        for (const auto& limit : gate.limits) {
            std::vector<double> v;
            for (const auto& [metric, list] : values) {
                if (metric == limit.metric) {
                    v = list;
                }
            }
            for (const auto& [bound, kind] :
                 {std::pair{limit.max, "max"}, std::pair{limit.min, "min"}}) {
                if (!bound) {
                    continue;
                }
                GateCheck check;
                check.kind = kind;
                check.metric = limit.metric;
                check.unit = limit.unit;
                check.limit = bound->value;
                check.samples = static_cast<int>(v.size());
                check.seconds = seconds / static_cast<double>(gate.limits.size());
                check.name = fmt::format("median of {} {} {}", limit.metric,
                                         std::string(kind) == "max" ? "<=" : ">=", bound->text);
                if (v.empty()) {
                    check.status = CheckStatus::error;
                    check.message = "no values of this metric were recorded";
                } else {
                    const double median = stats::median(v);
                    check.value = median;
                    const bool over =
                        std::string(kind) == "max" ? median > bound->value : median < bound->value;
                    check.status = over ? CheckStatus::fail : CheckStatus::pass;
                    check.message = fmt::format(
                        "median {} over {} samples is {} the {}imum {}",
                        quantity(median, limit.unit), v.size(),
                        over ? (std::string(kind) == "max" ? "above" : "below") : "within", kind,
                        bound->text);
                }
                result.checks.push_back(check);
            }
        }
    }
    result.seconds = steady_now() - started;

    if (!options.junit.empty()) {
        write_file(options.junit, render_junit(result, hostname()), "JUnit XML");
    }
    out << value_or_throw(render_gate(result, options.format));
    if (result.failures() > 0) {
        return static_cast<int>(ExitCode::gate_failed);
    }
    return result.errors() > 0 ? static_cast<int>(ExitCode::inconclusive) : 0;
}

}  // namespace perfbisect
