#pragma once

// The exit codes of the command line (DESIGN.md, "Contract"). Stable.

namespace perfbisect {

enum class ExitCode : int {
    culprit_found = 0,   // also: any command that succeeded
    runtime_error = 1,
    usage_error = 2,     // usage or config error
    not_reproduced = 3,  // good and bad do not differ by min_effect
    inconclusive = 4,    // ambiguous, gradual, or a budget stopped the search
    gate_failed = 5,     // compare/gate: a regression beyond the threshold
    interrupted = 130,   // SIGINT/SIGTERM; the session is resumable
};

}  // namespace perfbisect
