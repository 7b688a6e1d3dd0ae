#pragma once

// The search, as a pure function: (decision settings, everything observed so
// far) -> the next action. The planner keeps no state of its own, so the
// session driver can call it again after every result, a resumed session
// continues where it stopped, and tests and benches run whole searches
// in-process against simulated histories.
//
// The rule (docs/how-it-decides.md has the reasoning and the error budget):
//  1. reproduce: measure good and bad in interleaved rounds, in looks of
//     samples, then about 1.4 times more each look, up to max_samples; the
//     regression is reproduced when bad is significantly worse (Mann-Whitney)
//     and its estimated effect is at least min_effect; not reproduced when the
//     effect's upper confidence bound is below min_effect;
//  2. segmentation: tested commits form segments of equal level, each with a
//     pool of all its members' values; the commit in the middle of each gap
//     whose step is a regression is measured, a few values at a time, until a
//     t test against the pooled levels (one noise estimate shared by all
//     commits, outliers left out, corrected for drift) puts it on the left
//     level, the right level, or a level of its own between them;
//  3. every gap narrowed to two adjacent commits is confirmed or rejected on
//     rounds the two share; a level whose ends still differ is split; gaps
//     hidden by skipped commits are ambiguous; a shift no confirmed step
//     explains is gradual.
// Every call judges all decisions again on all values, so values added later
// (confirmation rounds) can correct a candidate misjudged during a burst of
// load.

#include <cstddef>
#include <cstdint>
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
    std::vector<std::int64_t> rounds;  // the interleaving round of each value (same length)
    // The node that measured each value, when several nodes measure (same
    // length, or empty: all on one node).
    std::vector<int> nodes;
    int failed_runs = 0;             // probe runs that gave no value
    std::string last_probe_failure;  // reason of the latest failed run
};

// Indexed by position: [0] is good, back() is bad.
using Observations = std::vector<CommitObservations>;

// good: at the level of the good end; bad: at the level of the bad end;
// between: a level of its own between the two (a second culprit is near).
enum class Verdict { untested, good, bad, between, skipped };
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
// Measure the positions in `rounds` interleaved rounds: each round runs every
// entry of `positions` once, in shuffled order. A position may be listed more
// than once (a candidate measured several times beside one run of a reference).
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
    std::vector<std::size_t> open;    // positions still to be searched (empty when done)
    std::string why;                  // why `next` was chosen, one line (the event log)
};

struct PlannerSettings {
    DecideConfig decide;
    BudgetConfig budget;
    Direction direction = Direction::lower_is_better;
    // W: how many probe runs may run at once (nodes). With W > 1 a gap is
    // searched by k-section: one measure action holds up to W candidates of
    // the gap, chosen at the W quantiles of the posterior of the step's
    // location (docs/how-it-decides.md, "Parallel search"). 1 (or 0): one
    // candidate per action, as on one machine.
    std::size_t parallel = 1;
    // Node blocking: when the values carry nodes and some commit was measured
    // on several of them, each node's constant offset (estimated within
    // commits) is taken out of its values before any decision, so a node
    // that measures slower than the others does not look like a regression.
    // Off (the default): values of all nodes are taken as they are. The
    // driver sets it for [executor] blocking = "full" or "rotate"
    // (bisect/node_schedule.hpp), which give every node's offset commits
    // measured on several nodes; the simulator models both.
    bool node_blocking = false;
};

// elapsed_seconds: wall time the session has run so far, for budget.max_seconds.
Plan plan_next(const PlannerSettings& settings, const Observations& observations,
               double elapsed_seconds = 0);

// The evidence of a step from parent to culprit (positions, parent < culprit)
// as a confirmed culprit's is computed: the rounds both were measured in, the
// session's pooled noise. For `compare`, which reports it whatever the
// verdict. Zero rounds in common: effect 0, p-value 1.
CulpritEvidence step_evidence(const PlannerSettings& settings, const Observations& observations,
                              std::size_t parent, std::size_t culprit);

// The significance level of the stricter decisions ("a level of its own")
// for a range of n commits: alpha shared among the ~log2 n + 2 decisions a
// search makes.
double decision_alpha(const DecideConfig& decide, std::size_t commits);

}  // namespace perfbisect
