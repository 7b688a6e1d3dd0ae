#pragma once

// Sessions stored in a real SQLite file by the real driver and planner, with
// fakes at the side effects: builds that make a directory, a probe whose
// values are a level per commit times lognormal noise, a profiler that makes
// one function of the culprit costlier. For tests of what is rendered from a
// stored session (report/, compare, gate).

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "bisect/session_driver.hpp"

namespace perfbisect::testing {

// Builds succeed (a directory per commit) unless the subject says "broken".
class FakeBuilder final : public Builder {
public:
    explicit FakeBuilder(std::filesystem::path root) : m_root(std::move(root)) {}
    BuildOutcome build(const CommitInfo& commit) override {
        BuildOutcome outcome;
        outcome.ok = commit.subject.find("broken") == std::string::npos;
        outcome.reason = outcome.ok ? "" : "exit code 2";
        outcome.artifacts_dir = m_root / commit.id;
        outcome.worktree = outcome.artifacts_dir;
        std::filesystem::create_directories(outcome.artifacts_dir);
        outcome.seconds = 1.5;
        return outcome;
    }

private:
    std::filesystem::path m_root;
};

// level(commit) * lognormal noise (sd 2 %), reproducible per commit and value.
class LevelProber final : public Prober {
public:
    explicit LevelProber(std::map<std::string, double> levels) : m_levels(std::move(levels)) {}
    ProbeRun run(const ProbeTarget& target) override {
        const std::string& id = target.commit->id;
        std::mt19937_64 rng(std::hash<std::string>{}(id) ^
                            static_cast<std::uint64_t>(m_taken[id]++));
        std::lognormal_distribution<double> noise(0.0, 0.02);
        return ProbeRun{true, false, {m_levels.at(id) * noise(rng)}, "", 0.01, "", {}, ""};
    }

private:
    std::map<std::string, double> m_levels;
    std::map<std::string, int> m_taken;
};

// The culprit spends more of its time in slow_path(int).
class FakeProfiler final : public Profiler {
public:
    explicit FakeProfiler(std::string culprit) : m_culprit(std::move(culprit)) {}
    std::string tool() const override { return "perf"; }
    ProfileRun profile(const ProbeTarget& target, const std::filesystem::path& dir) override {
        ++calls;
        const bool slow = target.commit->id == m_culprit;
        ProfileRun run;
        run.ok = true;
        run.profile.runs = 1;
        run.profile.total = slow ? 1200 : 1000;
        run.profile.functions = {{"main", {run.profile.total, 10}},
                                 {"slow_path(int)", {slow ? 500.0 : 250.0, slow ? 500.0 : 250.0}},
                                 {"parse(char const*)", {700, 700}}};
        std::filesystem::create_directories(dir);
        run.files = {dir / "perf-1.data"};
        return run;
    }
    int calls = 0;

private:
    std::string m_culprit;
};

// Creates a session of range with config_text in cache and runs it to its
// end; returns its id. profiler may be null.
inline std::string run_stored_session(Cache& cache, const CommitRange& range,
                                      const std::map<std::string, double>& levels,
                                      const std::string& config_text,
                                      const std::filesystem::path& work, Profiler* profiler,
                                      const std::string& good = "v1.0",
                                      const std::string& bad = "v1.1") {
    SessionRecord record;
    record.good = good;
    record.bad = bad;
    record.config_path = (work / "perfbisect.toml").string();
    record.config_text = config_text;
    record.metric = "regex";
    record.direction = "lower";
    const std::string id = cache.create_session(record, range).id;
    const Config config = session_config(cache.session(id));
    FakeBuilder builder(work / "artifacts");
    LevelProber prober(levels);
    QuietReporter quiet;
    SessionDriver driver(cache, builder, prober, quiet, config);
    if (profiler != nullptr) {
        driver.set_profiler(profiler, work / "profiles", 5);
    }
    driver.run(id);
    return id;
}

}  // namespace perfbisect::testing
