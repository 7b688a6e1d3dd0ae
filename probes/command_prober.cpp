#include "probes/prober.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "builders/builder.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

// Bounded copies of a run's output: enough to show why it failed.
constexpr std::size_t k_max_stdout_bytes = 16 * 1024 * 1024;
constexpr std::size_t k_failure_tail_bytes = 300;

}  // namespace

CommandProber::CommandProber(ProcessRunner& runner, const ProbeConfig& config, MetricSpec metric,
                             std::filesystem::path scratch_dir)
    : m_runner(runner),
      m_config(config),
      m_metric(std::move(metric)),
      m_scratch_dir(std::move(scratch_dir)) {}

ProbeRun CommandProber::run(const ProbeTarget& target) {
    namespace fs = std::filesystem;
    ProbeRun run;
    const fs::path out_dir =
        m_scratch_dir / fmt::format("run-{}-{}", static_cast<long>(getpid()), ++m_counter);
    std::error_code ec;
    fs::remove_all(out_dir, ec);
    fs::create_directories(out_dir, ec);
    if (ec) {
        run.failure = fmt::format("cannot create {}: {}", out_dir.string(), ec.message());
        return run;
    }

    ProcessSpec spec;
    spec.argv = command_argv(m_config.command,
                             {{"commit", target.commit->id},
                              {"short", target.commit->short_id()},
                              {"worktree", target.worktree.string()},
                              {"artifacts", target.artifacts_dir.string()},
                              {"out", out_dir.string()}});
    spec.cwd = fs::is_directory(target.worktree) ? target.worktree : target.artifacts_dir;
    spec.env = m_config.env;
    spec.timeout = m_config.timeout;
    // The captured output lives beside {out}, which the probe gets empty.
    spec.stdout_path = out_dir.string() + ".stdout";
    spec.stderr_path = out_dir.string() + ".stderr";
    const ProcessResult result = m_runner.run(spec);
    run.wall_seconds = result.wall_seconds;

    if (result.interrupted) {
        run.interrupted = true;
        run.failure = "interrupted";
    } else if (!result.succeeded()) {
        const std::string tail = one_line(read_file_tail(spec.stderr_path, k_failure_tail_bytes));
        run.failure = "probe " + result.describe() + (tail.empty() ? "" : ": " + tail);
    } else {
        const std::string stdout_text = read_file_tail(spec.stdout_path, k_max_stdout_bytes);
        auto values = extract_metric(m_metric, result, stdout_text);
        if (values) {
            run.ok = true;
            run.values = std::move(*values);
        } else {
            run.failure = values.error().message;
        }
    }
    fs::remove_all(out_dir, ec);
    fs::remove(spec.stdout_path, ec);
    fs::remove(spec.stderr_path, ec);
    return run;
}

}  // namespace perfbisect
