#include "executors/executor.hpp"

#include "executors/slurm_executor.hpp"

namespace perfbisect {
namespace {

// This machine: the runner as it is, artifacts where the store keeps them.
class LocalExecutor final : public Executor {
public:
    LocalExecutor(ProcessRunner& runner, std::filesystem::path scratch)
        : m_runner(runner), m_scratch(std::move(scratch)) {}
    ProcessRunner& probe_runner(std::size_t /*lane*/) override { return m_runner; }
    ProcessRunner& build_runner() override { return m_runner; }
    std::filesystem::path scratch_dir() const override { return m_scratch; }
    Result<ProbeTarget> place(const ProbeTarget& target) override { return target; }
    Result<std::string> prepare() override { return std::string(); }

private:
    ProcessRunner& m_runner;
    std::filesystem::path m_scratch;
};

}  // namespace

std::unique_ptr<Executor> make_executor(const ExecutorConfig& config, Cache& cache,
                                        const std::string& session, ProcessRunner& local,
                                        const std::filesystem::path& work_dir) {
    if (config.slurm()) {
        return std::make_unique<SlurmExecutor>(config, cache, session, local, work_dir);
    }
    return std::make_unique<LocalExecutor>(local, work_dir / "scratch");
}

ProbeRun PlacedProber::run(const ProbeTarget& target) {
    auto placed = m_executor.place(target);
    if (!placed) {
        ProbeRun failed;
        failed.failure = placed.error().message;
        return failed;
    }
    return m_inner.run(*placed);
}

}  // namespace perfbisect
