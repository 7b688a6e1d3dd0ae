#pragma once

// Starting and running a session with the real builder and prober: what
// `perfbisect run`/`resume` and the alert worker share. A session is created
// from a config and two revisions (on this machine, reusing matching samples
// of earlier sessions per [cache] reuse), and run or continued by
// SessionDriver while this process holds its lease; builds and artifacts live
// in a `work/` directory beside the database.

#include <functional>
#include <string>

#include "bisect/session_driver.hpp"

namespace perfbisect {

// Creates a session of config for good..bad (revisions resolved in the
// config's repository) with the given id, or a new one when id is empty;
// records this machine, logs the start event and copies reusable samples of
// earlier sessions ([cache] reuse). `say` is told what happened in one line
// each (the start, the samples reused). Usage errors: unknown revisions, good
// not an ancestor of bad.
SessionRecord start_session(Cache& cache, const Config& config, const std::string& good,
                            const std::string& bad, const std::string& id = {},
                            const std::function<void(const std::string&)>& say = {});

// The two halves of start_session, for sessions whose range is not good..bad
// of the repository (`perfbisect compare`): create_session_here stores record
// over range as a session of this machine (record.config_text and the rest
// as given); reuse_earlier_samples copies matching samples of earlier
// sessions per [cache] reuse, logs a "reuse" event and returns its message
// (empty when nothing was reused).
SessionRecord create_session_here(Cache& cache, SessionRecord record, const CommitRange& range);
std::string reuse_earlier_samples(Cache& cache, const Config& config, const SessionRecord& session);

// Runs the session (new or interrupted) to its end and returns its outcome;
// with [profile], profiles its culprits (work/profiles/session-<id>). Whether
// the probe and the profiler run on this machine is checked first (usage
// errors). It holds the session's lease meanwhile (Cache::acquire_lease): a session another live
// process runs is a runtime error; one whose holder died is taken over, and
// what that holder left running is stopped. take_over also takes a session
// held by a process on another host, whose liveness cannot be checked.
// Throws like SessionDriver::run: Failure(interrupted) on SIGINT/SIGTERM/SIGHUP
// (the session stays resumable), Failure(runtime) when good or bad cannot be
// built or measured or when the session was aborted.
Outcome run_session(Cache& cache, const std::string& session, const Config& config,
                    Reporter& reporter, bool take_over = false);

}  // namespace perfbisect
