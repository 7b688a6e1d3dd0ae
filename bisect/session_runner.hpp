#pragma once

// Starting and running a session with the real builder and prober, for
// callers other than `perfbisect run`/`resume` (the alert worker). The same
// steps as those commands: the session is created from a config and two
// revisions, and run (or continued) by SessionDriver; builds and artifacts
// live in a `work/` directory beside the database.

#include <string>

#include "bisect/session_driver.hpp"

namespace perfbisect {

// Creates a session of config for good..bad (revisions resolved in the
// config's repository) with the given id, or a new one when id is empty, and
// logs its start event. The stored config text is config.text. Usage errors:
// unknown revisions, good not an ancestor of bad.
SessionRecord start_session(Cache& cache, const Config& config, const std::string& good,
                            const std::string& bad, const std::string& id = {});

// Runs the session (new or interrupted) to its end and returns its outcome;
// with [profile], profiles its culprits (work/profiles/session-<id>). Whether
// the probe and the profiler run on this machine is checked first (usage
// errors).
// Throws like SessionDriver::run: Failure(interrupted) on SIGINT/SIGTERM (the
// session stays resumable), Failure(runtime) when good or bad cannot be built
// or measured.
Outcome run_session(Cache& cache, const std::string& session, const Config& config,
                    Reporter& reporter);

}  // namespace perfbisect
