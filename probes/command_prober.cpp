#include "probes/prober.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "builders/builder.hpp"
#include "config/placeholders.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

// Bounded copies of a run's output: enough to show why it failed.
constexpr std::size_t k_max_text_bytes = 64UL * 1024 * 1024;  // what a text metric may read
constexpr std::size_t k_kept_output_bytes = 4096;             // per stream, kept for failed runs
constexpr std::size_t k_reason_tail_bytes = 300;              // quoted in the one-line reason

std::string shorten(std::string text, std::size_t max_chars) {
    if (text.size() > max_chars) {
        text.resize(max_chars);
        text += "…";
    }
    return text;
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.is_regular_file(ec)) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

std::map<std::string, std::string> probe_placeholders(const ProbeTarget& target,
                                                      const std::filesystem::path& out_dir) {
    return {{"commit", target.commit->id},
            {"short", target.commit->short_id()},
            {"worktree", target.worktree.string()},
            {"artifacts", target.artifacts_dir.string()},
            {"out", out_dir.string()}};
}

ProcessSpec probe_process_spec(const ProbeConfig& config, const ProbeTarget& target,
                               const std::filesystem::path& out_dir) {
    namespace fs = std::filesystem;
    const auto placeholders = probe_placeholders(target, out_dir);
    ProcessSpec spec;
    spec.argv = command_argv(config.command, placeholders);
    const fs::path base = fs::is_directory(target.worktree) ? target.worktree : target.artifacts_dir;
    spec.cwd = base;
    if (!config.cwd.empty()) {
        const fs::path cwd = expand_placeholders(config.cwd, placeholders, false);
        spec.cwd = cwd.is_absolute() ? cwd : base / cwd;
    }
    spec.env = config.env;
    spec.timeout = config.timeout;
    spec.cpus = config.cpus;
    return spec;
}

CommandProber::CommandProber(ProcessRunner& runner, const ProbeConfig& config,
                             std::filesystem::path scratch_dir)
    : m_runner(runner),
      m_config(config),
      m_scratch_dir(std::move(scratch_dir)),
      m_name(shorten(config.command.display(), 80)) {
    for (const auto& text : probe_metric_texts(config)) {
        m_metrics.push_back(value_or_throw(parse_metric(text)));
    }
    auto mentions_out = [](const std::string& text) {
        const auto names = find_placeholders(text);
        return std::find(names.begin(), names.end(), "out") != names.end();
    };
    m_uses_out = mentions_out(config.output) || mentions_out(config.cwd) ||
                 std::any_of(config.command.words.begin(), config.command.words.end(), mentions_out);
    m_wrapped = std::any_of(m_metrics.begin(), m_metrics.end(),
                            [](const auto& m) { return m.wraps_command(); });
    m_reads_text = std::any_of(m_metrics.begin(), m_metrics.end(),
                               [](const auto& m) { return m.reads_output(); });
    // Names of their own per prober: the probers of several lanes share
    // the scratch directory.
    static std::atomic<unsigned> instances{0};
    const unsigned instance = instances.fetch_add(1);
    const std::string stem = fmt::format("probe-{}-{}", static_cast<long>(getpid()), instance);
    m_run_stem = fmt::format("run-{}-{}", static_cast<long>(getpid()), instance);
    m_stdout_path = m_scratch_dir / (stem + ".stdout");
    m_stderr_path = m_scratch_dir / (stem + ".stderr");
}

CommandProber::~CommandProber() {
    std::error_code ec;
    std::filesystem::remove(m_stdout_path, ec);
    std::filesystem::remove(m_stderr_path, ec);
}

std::vector<std::string> CommandProber::wrapped_argv(std::vector<std::string> argv,
                                                     const std::filesystem::path& tool_dir) const {
    std::vector<std::string> prefix;
    std::string events;
    for (const auto& metric : m_metrics) {
        if (metric.kind == MetricKind::callgrind && prefix.empty()) {
            // --trace-children: a shell or script probe is counted with the
            // program it starts; each process writes its own file (%p).
            prefix = {"valgrind",
                      "--tool=callgrind",
                      "--quiet",
                      "--trace-children=yes",
                      "--callgrind-out-file=" + (tool_dir / "callgrind.out.%p").string()};
        } else if (metric.kind == MetricKind::perf_stat) {
            events += (events.empty() ? "" : ",") + metric.argument;
        }
    }
    if (!events.empty()) {
        prefix = {"perf", "stat", "-x", ",", "-e", events,
                  "-o", (tool_dir / "perf-stat.csv").string(), "--"};
    }
    if (prefix.empty()) {
        return argv;
    }
    prefix.insert(prefix.end(), argv.begin(), argv.end());
    return prefix;
}

Result<void> CommandProber::check_machine() {
    if (!m_config.cpus.empty()) {
        const auto available = available_cpus();
        for (int cpu : m_config.cpus) {
            if (std::find(available.begin(), available.end(), cpu) == available.end()) {
                std::string list;
                for (int a : available) {
                    list += (list.empty() ? "" : ", ") + std::to_string(a);
                }
                return usage_error(fmt::format(
                    "[probe] cpus: CPU {} is not available to perfbisect here (available: {}); "
                    "choose among those",
                    cpu, list));
            }
        }
    }
    const bool callgrind = std::any_of(m_metrics.begin(), m_metrics.end(), [](const auto& m) {
        return m.kind == MetricKind::callgrind;
    });
    std::vector<const MetricSpec*> perf_events;
    for (const auto& m : m_metrics) {
        if (m.kind == MetricKind::perf_stat) {
            perf_events.push_back(&m);
        }
    }
    if (!callgrind && perf_events.empty()) {
        return {};
    }
    const std::filesystem::path dir =
        m_scratch_dir / fmt::format("check-{}", static_cast<long>(getpid()));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ProcessSpec spec;
    spec.argv = wrapped_argv({"true"}, dir);
    spec.timeout = std::chrono::seconds(60);
    spec.stdout_path = dir / "check.stdout";
    spec.stderr_path = dir / "check.stdout";
    const ProcessResult result = m_runner.run(spec);
    const std::string said = one_line(read_file_tail(spec.stderr_path, k_reason_tail_bytes));
    Result<void> verdict;
    if (!result.started) {
        verdict = usage_error(
            callgrind ? fmt::format("metric 'callgrind' needs valgrind, which cannot be run here "
                                    "({}); install it (apt-get install valgrind)",
                                    result.error)
                      : fmt::format("metric '{}' needs perf, which cannot be run here ({}); "
                                    "install it (apt-get install linux-perf)",
                                    perf_events.front()->text, result.error));
    } else if (!result.succeeded()) {
        verdict = usage_error(fmt::format("{} does not work on this machine ({}{}); {}",
                                          callgrind ? "valgrind --tool=callgrind" : "perf stat",
                                          result.describe(), said.empty() ? "" : ": " + said,
                                          callgrind ? "check the valgrind installation"
                                                    : "check the event names with `perf list`"));
    } else {
        for (const auto* metric : perf_events) {
            auto value = parse_perf_stat_csv(read_file_tail(dir / "perf-stat.csv", 1 << 20),
                                             metric->argument);
            if (!value) {
                verdict = usage_error(fmt::format("metric '{}': {}", metric->text,
                                                  value.error().message));
                break;
            }
        }
    }
    std::filesystem::remove_all(dir, ec);
    return verdict;
}

ProbeRun CommandProber::run_once(const ProbeTarget& target, Values& values) {
    namespace fs = std::filesystem;
    ProbeRun run;
    // {out} (and the tools' directory) only when something uses it: creating
    // and removing directories is a good part of what a short probe costs us.
    const fs::path out_dir = m_scratch_dir / fmt::format("{}-{}", m_run_stem, ++m_counter);
    const fs::path tool_dir = out_dir.string() + ".tool";
    std::error_code ec;
    if (m_counter == 1) {
        fs::create_directories(m_scratch_dir, ec);
    }
    if (!ec && m_uses_out) {
        fs::remove_all(out_dir, ec);
        fs::create_directories(out_dir, ec);
    }
    if (!ec && m_wrapped) {
        fs::remove_all(tool_dir, ec);
        fs::create_directories(tool_dir, ec);
    }
    if (ec) {
        run.failure = fmt::format("cannot create {}: {} (check the database directory's disk)",
                                  out_dir.string(), ec.message());
        return run;
    }

    const auto placeholders = probe_placeholders(target, out_dir);
    ProcessSpec spec = probe_process_spec(m_config, target, out_dir);
    spec.argv = wrapped_argv(std::move(spec.argv), tool_dir);
    // maxrss: fork, so the peak starts from a copy of our anonymous memory
    // rather than from all of our resident memory (vfork).
    spec.vfork = std::none_of(m_metrics.begin(), m_metrics.end(),
                              [](const auto& m) { return m.kind == MetricKind::maxrss; });
    // The captured output lives beside {out}, which the probe gets empty.
    spec.stdout_path = m_stdout_path;
    spec.stderr_path = m_stderr_path;
    const ProcessResult result = m_runner.run(spec);
    run.wall_seconds = result.wall_seconds;
    run.node = result.node;

    auto keep_output = [&] {
        const std::string out = read_file_tail(spec.stdout_path, k_kept_output_bytes);
        const std::string err = read_file_tail(spec.stderr_path, k_kept_output_bytes);
        if (!out.empty()) {
            run.output += "stdout:\n" + out + (out.ends_with('\n') ? "" : "\n");
        }
        if (!err.empty()) {
            run.output += "stderr:\n" + err + (err.ends_with('\n') ? "" : "\n");
        }
    };
    // The end of stderr, else of stdout: what a reason quotes.
    auto tail = [&] {
        std::string t = one_line(read_file_tail(spec.stderr_path, k_reason_tail_bytes));
        if (t.empty()) {
            t = one_line(read_file_tail(spec.stdout_path, k_reason_tail_bytes));
        }
        return t;
    };

    if (result.interrupted) {
        run.interrupted = true;
        run.failure = "interrupted";
    } else if (!result.succeeded()) {
        const std::string t = tail();
        run.failure = fmt::format("probe `{}` {}{}", m_name, result.describe(), t.empty() ? "" : ": " + t);
        keep_output();
    } else {
        RunOutput output;
        output.process = &result;
        const bool reads_text = m_reads_text;
        if (reads_text && !m_config.output.empty()) {
            const fs::path file = expand_placeholders(m_config.output, placeholders, false);
            output.text_origin = "output file " + file.string();
            const fs::path path = file.is_absolute() ? file : spec.cwd / file;
            if (!fs::exists(path, ec)) {
                run.failure = fmt::format("probe `{}` wrote no {} ([probe] output); check the "
                                          "path and the probe's options",
                                          m_name, path.string());
            }
            output.text = read_file_tail(path, k_max_text_bytes);
        } else if (reads_text) {
            output.text_origin = "stdout";
            output.text = read_file_tail(spec.stdout_path, k_max_text_bytes);
        }
        if (m_wrapped) {
            for (const auto& file : files_in(tool_dir)) {
                output.tool_files.push_back(file.string());
            }
        }
        if (run.failure.empty()) {
            for (std::size_t i = 0; i < m_metrics.size(); ++i) {
                auto extracted = extract_metric(m_metrics[i], output);
                if (!extracted) {
                    const std::string t = one_line(read_file_tail(
                        m_metrics[i].reads_output() && m_config.output.empty() ? spec.stdout_path
                                                                               : spec.stderr_path,
                        k_reason_tail_bytes));
                    run.failure = fmt::format("probe `{}`: {}{}", m_name,
                                              i == 0 ? extracted.error().message
                                                     : fmt::format("metric '{}': {}", m_metrics[i].text,
                                                                   extracted.error().message),
                                              t.empty() ? "" : fmt::format(" (its output ends: {})", t));
                    break;
                }
                auto& target_values = values.per_metric[i];
                target_values.insert(target_values.end(), extracted->begin(), extracted->end());
            }
        }
        if (run.failure.empty()) {
            run.ok = true;
        } else {
            keep_output();
        }
    }
    if (m_uses_out) {
        fs::remove_all(out_dir, ec);
    }
    if (m_wrapped) {
        fs::remove_all(tool_dir, ec);
    }
    return run;
}

ProbeRun CommandProber::run(const ProbeTarget& target) {
    if (m_config.warmup > 0 && !m_warmed.contains(target.commit->id)) {
        for (int i = 0; i < m_config.warmup; ++i) {
            Values discarded{std::vector<std::vector<double>>(m_metrics.size())};
            const ProbeRun warmup = run_once(target, discarded);
            if (warmup.interrupted) {
                return warmup;
            }
        }
        m_warmed.insert(target.commit->id);
    }

    Values values{std::vector<std::vector<double>>(m_metrics.size())};
    ProbeRun sample;
    const int runs = std::max(1, m_config.runs_per_sample);
    for (int i = 0; i < runs; ++i) {
        ProbeRun one = run_once(target, values);
        sample.wall_seconds += one.wall_seconds;
        sample.node = one.node;
        if (!one.ok) {
            one.wall_seconds = sample.wall_seconds;
            if (runs > 1 && !one.interrupted) {
                one.failure = fmt::format("run {} of {}: {}", i + 1, runs, one.failure);
            }
            return one;
        }
    }
    sample.ok = true;
    for (std::size_t m = 0; m < m_metrics.size(); ++m) {
        std::vector<double> v = std::move(values.per_metric[m]);
        if (runs > 1) {
            // The sample of several runs is their mean: one value per metric.
            const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
            v = {mean};
        }
        if (m == 0) {
            sample.values = std::move(v);
        } else {
            sample.extra.emplace_back(m_metrics[m].text, std::move(v));
        }
    }
    return sample;
}

}  // namespace perfbisect
