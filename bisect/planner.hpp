#pragma once

// The search, as a pure function: (decision settings, everything observed so
// far) -> the next action. The planner keeps no state of its own, so the
// session driver can call it again after every result, a resumed session
// continues where it stopped, and tests and benches run whole searches
// in-process against simulated histories.
//
// Decision rule of the foundation (the statistics work replaces the rule, not
// this interface):
//  1. build good and bad; measure both to `samples` successful values in
//     interleaved rounds;
//  2. reproduce: bad must be worse than good by at least min_effect (median
//     ratio) with a one-sided Mann-Whitney p <= alpha, else not_reproduced;
//  3. binary search between the last commit known good (lo) and the first
//     known bad (hi): build the commit nearest the midpoint, measure it to
//     `samples` values, classify it with Mann-Whitney U against both ends;
//     commits that fail to build or to probe are skipped to a neighbour;
//  4. when lo and hi are adjacent, hi is the culprit; when only skipped commits
//     lie between them, the result is ambiguous with those candidates.

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "config/config.hpp"

namespace perfbisect {

enum class BuildState { unknown, ok, failed };

// What is known of the commit at one position of the range.
struct CommitObservations {
    BuildState build = BuildState::unknown;
    std::string build_failure;       // when failed
    std::vector<double> values;      // successful samples, in the order taken
    int failed_runs = 0;             // probe runs that gave no value
    std::string last_probe_failure;  // reason of the latest failed run
};

// Indexed by position: [0] is good, back() is bad.
using Observations = std::vector<CommitObservations>;

enum class Verdict { untested, good, bad, skipped };
const char* to_string(Verdict verdict);

enum class SessionStatus {
    running,
    culprit_found,
    not_reproduced,
    ambiguous,
    gradual,
    budget_exhausted,
};
const char* to_string(SessionStatus status);

// The evidence for one culprit: parent (last good) vs culprit.
struct CulpritEvidence {
    std::size_t position = 0;
    std::size_t parent = 0;
    double effect = 0;   // relative change in the worse direction: +0.20 = 20 % worse
    double ci_low = 0;   // 95 % confidence interval of effect
    double ci_high = 0;
    double p_value = 1;  // two-sided Mann-Whitney U, parent vs culprit
    double confidence = 0;  // 1 - p_value
    double share = 0;    // fraction of the good -> bad shift explained by this step
};

struct Outcome {
    SessionStatus status = SessionStatus::running;
    std::vector<CulpritEvidence> culprits;
    std::vector<std::size_t> candidates;  // ambiguous: the positions that may hold the culprit
    std::string summary;                  // one line for humans
};

struct BuildAction {
    std::size_t position = 0;
};
// Measure the positions in `rounds` interleaved rounds, one probe run per
// position per round, in shuffled order.
struct MeasureAction {
    std::vector<std::size_t> positions;
    int rounds = 0;
};
struct DoneAction {
    Outcome outcome;
};
// The search cannot go on (good or bad does not build or probe). Not resumable
// without a change of configuration.
struct FailAction {
    std::string message;
};
using Action = std::variant<BuildAction, MeasureAction, DoneAction, FailAction>;

// One classification the planner made, with why.
struct Decision {
    std::size_t position = 0;
    Verdict verdict = Verdict::untested;
    std::string reason;
};

struct Plan {
    Action next;
    std::vector<Verdict> verdicts;    // per position
    std::vector<Decision> decisions;  // in the order made
    std::size_t lo = 0, hi = 0;       // the current search interval (last good, first bad)
};

struct PlannerSettings {
    DecideConfig decide;
    Direction direction = Direction::lower_is_better;
};

Plan plan_next(const PlannerSettings& settings, const Observations& observations);

// Relative change from `from` to `to` in the worse direction (+ = worse).
double worse_change(double from, double to, Direction direction);

}  // namespace perfbisect
