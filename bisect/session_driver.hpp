#pragma once

// The effectful half of the search: asks the planner for the next action,
// carries it out through Builder and Prober, and records every result in the
// cache before asking again. Running it on a session that was interrupted
// simply continues it.

#include <cstddef>
#include <filesystem>
#include <string>

#include "bisect/planner.hpp"
#include "bisect/repository.hpp"
#include "builders/builder.hpp"
#include "cache/cache.hpp"
#include "probes/prober.hpp"
#include "probes/profiler.hpp"
#include "report/reporter.hpp"

namespace perfbisect {

// Everything the cache knows about the session's commits, in planner form.
// Builds count when they match build_fingerprint (and their artifacts still exist).
Observations load_observations(Cache& cache, const std::string& session, const CommitRange& range,
                               const std::string& build_fingerprint);

// What the cache keeps of a build. session: the session that ran it ("" for
// `perfbisect measure`).
BuildRecord build_record(const CommitInfo& commit, const std::string& fingerprint,
                         const BuildOutcome& outcome, const std::string& session);

// The config a session started with (stored in the cache, so the file may have
// changed or gone); relative paths resolve against the original file's directory.
Config session_config(const SessionRecord& session);

// Where a session stands after the planner's latest plan, for the progress
// line: commits tested, the culprit positions still open, the samples taken,
// and estimates of the steps and time left (elapsed_seconds: the session's
// wall time so far).
Progress progress_of(const Observations& observations, const Plan& plan, double elapsed_seconds);

class SessionDriver {
public:
    SessionDriver(Cache& cache, Builder& builder, Prober& prober, Reporter& reporter,
                  const Config& config);

    // Runs the session to its end and returns the outcome, which is also
    // stored (status, stop reason, a "done" event). Throws Failure with kind
    // interrupted when SIGINT/SIGTERM arrived (the session stays resumable) and
    // kind runtime when good or bad cannot be built or measured.
    Outcome run(const std::string& session);

    // After the search converges, profile each culprit and its parent with
    // profiler (not owned), keep the raw profiles in directory/<short id>/,
    // and record the diff as a "profile" event (report/profile_record.hpp),
    // listing at most top functions. A profile that fails is recorded with
    // its reason; it does not fail the session.
    void set_profiler(Profiler* profiler, std::filesystem::path directory, std::size_t top);

private:
    void profile_culprits(const std::string& session, const CommitRange& range,
                          const Outcome& outcome);
    void show_status();
    void build(const std::string& session, const CommitInfo& commit, std::size_t position,
               std::size_t count);
    void measure(const std::string& session, const CommitRange& range,
                 const MeasureAction& action);

    Cache& m_cache;
    Builder& m_builder;
    Prober& m_prober;
    Reporter& m_reporter;
    const Config& m_config;
    std::string m_build_fingerprint;
    std::string m_probe_fingerprint;
    Profiler* m_profiler = nullptr;
    std::filesystem::path m_profile_dir;
    std::size_t m_profile_top = 10;
    Progress m_progress;           // as of the latest plan, updated while measuring
    double m_progress_tick = 0;    // steady clock time of m_progress.elapsed_seconds
    double m_remaining_at_tick = -1;  // m_progress.remaining_seconds then (-1: none)
};

}  // namespace perfbisect
