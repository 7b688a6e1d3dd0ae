// bench_suite: accuracy and cost of perfbisect's decision rules on simulated
// histories, against references measured in the same run on the same
// scenarios and seeds: a Pinpoint-like search (bench/pinpoint.hpp), a
// scripted git bisect and an idealised lower bound (bench/reference.hpp).
//
//   bench_suite [--seeds N] [--large-seeds N] [--quick] [--only TEXT]
//               [--threshold-draws N] [--self-check] [--trace]
//
// --seeds N         seeds per scenario (default 20); each scenario is one noise
//                   model of a kind, so an aggregated row has 9 N runs
// --large-seeds N   seeds per scenario for the 10,000-commit ranges (default: --seeds)
// --quick           --seeds 5 --large-seeds 2 --threshold-draws 300
// --only TEXT       run only rows whose name contains TEXT
// --self-check      check the noise models, the scoring and the references on
//                   hand-checked cases; exit 1 if any check fails
// --trace           one line per search: the expected answer and each method's
//
// Everything derives from one master seed, so a run is reproducible. Output:
// one table (a row per scenario kind; the +10 % single culprit at N=100 split
// by noise model) and a summary. Ratios only: the figures are relative to the
// references measured in this run.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/pinpoint.hpp"
#include "bench/reference.hpp"
#include "bench/scenarios.hpp"
#include "bisect/simulation.hpp"
#include "stats/summary.hpp"

using namespace perfbisect;
using namespace perfbisect::bench;

namespace {

constexpr std::uint64_t k_master_seed = 20240611;
constexpr std::uint64_t k_threshold_seed = 77;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
    SuiteOptions suite;
    bool large_seeds_given = false;
    int threshold_draws = 1000;
    std::string only;
    bool self_check = false;
    bool trace = false;
};

// Per method: perfbisect, Pinpoint, git bisect.
enum Method { k_perfbisect = 0, k_pinpoint = 1, k_git_bisect = 2, k_methods = 3 };

struct Tally {
    int right = 0;
    int false_culprits = 0;
    int both_found = 0;
    double probe_runs = 0;
    double builds = 0;
    double seconds = 0;

    void add(const Score& s, int runs, int built, double secs) {
        right += s.right;
        false_culprits += s.false_culprit;
        both_found += s.both_found;
        probe_runs += runs;
        builds += built;
        seconds += secs;
    }
};

struct Row {
    std::string kind;
    std::string noise_label;
    std::size_t commits = 0;
    double min_effect = 0;
    int runs = 0;
    int no_regression_runs = 0;
    int multi_culprit_runs = 0;
    int unfinished = 0;  // perfbisect searches that failed or did not end
    Tally tally[k_methods];
    // Per noise model: perfbisect's probe runs and the lower bound, summed.
    std::map<std::size_t, std::pair<double, double>> runs_and_bound;
    // What perfbisect and Pinpoint answered when wrong: status -> count.
    std::map<std::string, int> wrong[2];

    // pb/LB: total runs / total bound for a row of one noise model; over
    // several models the geometric mean of the per-model ratios, heavy-tailed
    // models left out (their sd makes the bound meaningless).
    double bound_ratio() const {
        if (runs_and_bound.size() == 1) {
            const auto& [total_runs, total_bound] = runs_and_bound.begin()->second;
            return total_bound > 0 ? total_runs / total_bound : NAN;
        }
        double log_sum = 0;
        int count = 0;
        for (const auto& [noise, sums] : runs_and_bound) {
            if (!noise_models()[noise].heavy_tailed && sums.second > 0 && sums.first > 0) {
                log_sum += std::log(sums.first / sums.second);
                ++count;
            }
        }
        return count > 0 ? std::exp(log_sum / count) : NAN;
    }
};

struct RunResult {
    Score score[k_methods];
};

double percent(int part, int whole) {
    return whole > 0 ? 100.0 * part / whole : NAN;
}

double ratio(double a, double b) {
    return b > 0 ? a / b : NAN;
}

bool parse_args(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--seeds" || arg == "--large-seeds" || arg == "--threshold-draws" ||
            arg == "--only") {
            const char* v = value();
            if (v == nullptr) {
                fmt::print(stderr, "bench_suite: {} needs a value\n", arg);
                return false;
            }
            if (arg == "--only") {
                options.only = v;
                continue;
            }
            const int n = std::atoi(v);
            if (n < 1) {
                fmt::print(stderr, "bench_suite: {} needs a positive number, not '{}'\n", arg, v);
                return false;
            }
            if (arg == "--seeds") {
                options.suite.seeds = n;
            } else if (arg == "--large-seeds") {
                options.suite.large_seeds = n;
                options.large_seeds_given = true;
            } else {
                options.threshold_draws = n;
            }
        } else if (arg == "--quick") {
            options.suite.seeds = 5;
            options.suite.large_seeds = 2;
            options.large_seeds_given = true;
            options.threshold_draws = 300;
        } else if (arg == "--self-check") {
            options.self_check = true;
        } else if (arg == "--trace") {
            options.trace = true;
        } else {
            fmt::print(stderr,
                       "usage: bench_suite [--seeds N] [--large-seeds N] [--quick] [--only TEXT] "
                       "[--threshold-draws N] [--self-check] [--trace]\n");
            return false;
        }
    }
    if (!options.large_seeds_given) {
        options.suite.large_seeds = options.suite.seeds;
    }
    return true;
}

std::string positions(const std::vector<std::size_t>& list) {
    return list.size() > 8
               ? fmt::format("{} positions {}..{}", list.size(), list.front(), list.back())
               : fmt::format("{}", fmt::join(list, ","));
}

std::string describe(const Expected& e) {
    if (e.status == SessionStatus::ambiguous) {
        return fmt::format("ambiguous [{}..{}]", e.block_first, e.culprits.front());
    }
    return fmt::format("{} {{{}}}", to_string(e.status), positions(e.culprits));
}

std::string describe(const Outcome& o, const Score& s, int runs) {
    std::vector<std::size_t> named;
    for (const auto& c : o.culprits) {
        named.push_back(c.position);
    }
    std::string text =
        fmt::format("{} {} {{{}}}", s.right ? "ok " : "BAD", to_string(o.status), positions(named));
    if (o.status == SessionStatus::ambiguous) {
        text += fmt::format(" candidates {{{}}}", positions(o.candidates));
    }
    return text + fmt::format(" {} runs", runs);
}

// Runs the three methods on one instance and adds them to the row; with
// trace, prints the expected answer and each method's.
void run_one(const Scenario& scenario, int seed_index, const SameThresholds& thresholds, bool trace,
             Row& row) {
    const std::uint64_t scenario_seed = mix_seed(
        k_master_seed, hash_name(fmt::format("{} | N={} | {}", scenario.kind, scenario.commits,
                                             noise_models()[scenario.noise].name)));
    const std::uint64_t run_seed = mix_seed(scenario_seed, static_cast<std::uint64_t>(seed_index));
    std::mt19937_64 rng(run_seed);
    const Instance instance = scenario.make(rng, seed_index);

    PlannerSettings settings;
    settings.decide.min_effect = scenario.min_effect;
    settings.direction = Direction::lower_is_better;

    auto start = Clock::now();
    const SimulationResult pb = simulate_search(settings, instance.history, mix_seed(run_seed, 1));
    const double pb_seconds = seconds_since(start);
    start = Clock::now();
    const ReferenceResult pp =
        run_pinpoint(instance.history, scenario.min_effect, thresholds, mix_seed(run_seed, 2));
    const double pp_seconds = seconds_since(start);
    start = Clock::now();
    const ReferenceResult gb =
        run_git_bisect(instance.history, scenario.min_effect, mix_seed(run_seed, 3));
    const double gb_seconds = seconds_since(start);

    Score pb_score = score(instance.expected, pb.outcome);
    if (!pb.finished) {
        pb_score = Score{};
        ++row.unfinished;
    }
    row.tally[k_perfbisect].add(pb_score, pb.probe_runs, pb.builds, pb_seconds);
    row.tally[k_pinpoint].add(score(instance.expected, pp.outcome), pp.probe_runs, pp.builds,
                              pp_seconds);
    row.tally[k_git_bisect].add(score(instance.expected, gb.outcome), gb.probe_runs, gb.builds,
                                gb_seconds);
    ++row.runs;
    row.no_regression_runs += instance.expected.status == SessionStatus::not_reproduced;
    row.multi_culprit_runs += instance.expected.culprits.size() >= 2;
    const double bound =
        lower_bound_runs(scenario.commits, noise_models()[scenario.noise].relative_sd,
                         instance.located_steps, instance.reproduce_shift);
    auto& [noise_runs, noise_bound] = row.runs_and_bound[scenario.noise];
    noise_runs += pb.probe_runs;
    noise_bound += bound;
    const auto note_wrong = [&](int method, const Score& s, const Outcome& o, bool finished) {
        if (s.right) {
            return;
        }
        std::string what = finished ? to_string(o.status) : "failed";
        if (o.status == SessionStatus::culprit_found) {
            what += fmt::format(" ({} named)", o.culprits.size());
        }
        ++row.wrong[method][what];
    };
    note_wrong(k_perfbisect, pb_score, pb.outcome, pb.finished);
    note_wrong(k_pinpoint, score(instance.expected, pp.outcome), pp.outcome, true);
    if (trace) {
        fmt::print("trace {} | {} seed {}: expected {}\n  pb {}{}\n  pp {}\n  gb {}\n",
                   scenario.row, noise_models()[scenario.noise].name, seed_index,
                   describe(instance.expected), describe(pb.outcome, pb_score, pb.probe_runs),
                   pb.finished ? "" : " (" + pb.failure + ")",
                   describe(pp.outcome, score(instance.expected, pp.outcome), pp.probe_runs),
                   describe(gb.outcome, score(instance.expected, gb.outcome), gb.probe_runs));
    }
}

void print_header(const Options& options, const SameThresholds& thresholds, double table_seconds) {
    fmt::print("perfbisect bench_suite: simulated bisects, lower is better, master seed {}\n",
               k_master_seed);
    fmt::print(
        "seeds per scenario: {} ({} for N=10000); a scenario is one kind under one noise "
        "model, 'all' rows aggregate the {} noise models\n",
        options.suite.seeds, options.suite.large_seeds, noise_models().size());
    fmt::print("noise models (sd / level): ");
    for (std::size_t i = 0; i < noise_models().size(); ++i) {
        fmt::print("{}{} ({:.2f}%)", i ? ", " : "", noise_models()[i].name,
                   noise_models()[i].relative_sd * 100);
    }
    fmt::print(
        "\nPinpoint 'same' thresholds: 99th pct of p for normal samples m IQRs apart, {} "
        "draws per cell ({:.1f} s):\n",
        options.threshold_draws, table_seconds);
    fmt::print("  {:>6}", "m\\n");
    for (std::size_t n : k_pinpoint_sizes) {
        fmt::print(" {:>8}", n);
    }
    fmt::print("\n");
    for (std::size_t i = 0; i < thresholds.magnitudes().size(); ++i) {
        fmt::print("  {:>6.2f}", thresholds.magnitudes()[i]);
        for (std::size_t j = 0; j < k_pinpoint_sizes.size(); ++j) {
            fmt::print(" {:>8.3g}", thresholds.threshold(i, j));
        }
        fmt::print("\n");
    }
    fmt::print(
        "lower bound LB: k = ceil(log2 N) halvings per located step d, each n(d) = "
        "ceil((z_(1-a) * sigma / (d/2))^2) runs,\n"
        "  a one-sided z-test with known sigma of the candidate against the midpoint of the two "
        "levels, per-step error a = 0.01/k at either level;\n"
        "  plus the good/bad reproduce check once, n(total shift) (no regression: "
        "n(min_effect)): LB = n(shift) + sum_d k * n(d).\n"
        "  sigma = the noise model's sd; gradual rows count only the reproduce check; the "
        "outlier model's sd (26%) makes its LB no bound for rank tests.\n"
        "right: exact culprit set with status culprit_found; ambiguous is right only when the "
        "culprit cannot be isolated\n"
        "  (the commits just before it are broken) and the candidates lie in that block; gradual "
        "and no regression: the status.\n"
        "  Pinpoint has no 'gradual': its 'reproduced, but no culprit found' is mapped to it, so "
        "it scores on gradual rows when it gives up.\n"
        "columns: pb = perfbisect (bisect/planner), pp = Pinpoint reference, gb = git bisect "
        "(5 samples, midpoint threshold);\n"
        "  runs = probe runs (mean per search), bld = builds (mean), pb/pp = ratio of total probe "
        "runs, pb/LB = the same per noise model,\n"
        "  over several models their geometric mean without the outlier model; pb ms = "
        "perfbisect ms per search (the planner re-runs after every action), row s = the row's "
        "time, all methods\n\n");
}

void print_table(const std::vector<Row>& rows) {
    fmt::print(
        "{:<30} {:>5} {:<16} {:>4} {:>5} {:>6} {:>6} {:>6} {:>8} {:>8} {:>6} {:>6} {:>6} "
        "{:>6} {:>7} {:>6}\n",
        "kind", "N", "noise", "min%", "runs", "pb%", "pp%", "gb%", "pb runs", "pp runs", "pb/pp",
        "pb/LB", "pb bld", "pp bld", "pb ms", "row s");
    for (const Row& r : rows) {
        const Tally& pb = r.tally[k_perfbisect];
        const Tally& pp = r.tally[k_pinpoint];
        const Tally& gb = r.tally[k_git_bisect];
        const double n = r.runs;
        fmt::print(
            "{:<30} {:>5} {:<16} {:>4.0f} {:>5} {:>6.1f} {:>6.1f} {:>6.1f} {:>8.1f} {:>8.1f} "
            "{:>6.2f} {:>6.2f} {:>6.1f} {:>6.1f} {:>7.2f} {:>6.1f}\n",
            r.kind, r.commits, r.noise_label, r.min_effect * 100, r.runs, percent(pb.right, r.runs),
            percent(pp.right, r.runs), percent(gb.right, r.runs), pb.probe_runs / n,
            pp.probe_runs / n, ratio(pb.probe_runs, pp.probe_runs), r.bound_ratio(), pb.builds / n,
            pp.builds / n, pb.seconds * 1000 / n, pb.seconds + pp.seconds + gb.seconds);
    }
}

// What perfbisect and Pinpoint answered when they were wrong, per row.
void print_wrong_answers(const std::vector<Row>& rows) {
    fmt::print("\nwrong answers (status given instead of the expected one: count)\n");
    const char* names[2] = {"pb", "pp"};
    for (const Row& r : rows) {
        for (int m = 0; m < 2; ++m) {
            if (r.wrong[m].empty()) {
                continue;
            }
            std::string line;
            for (const auto& [what, count] : r.wrong[m]) {
                line += fmt::format("{}{}: {}", line.empty() ? "" : ", ", what, count);
            }
            fmt::print("  {:<30} {:>5} {:<16} {}  {}\n", r.kind, r.commits, r.noise_label, names[m],
                       line);
        }
    }
}

void print_summary(const std::vector<Row>& rows, double wall_seconds) {
    int runs = 0, no_regression = 0, multi = 0, unfinished = 0;
    Tally total[k_methods];
    double log_ratio_sum = 0;
    int log_ratio_rows = 0;
    for (const Row& r : rows) {
        runs += r.runs;
        no_regression += r.no_regression_runs;
        multi += r.multi_culprit_runs;
        unfinished += r.unfinished;
        for (int m = 0; m < k_methods; ++m) {
            total[m].right += r.tally[m].right;
            total[m].false_culprits += r.tally[m].false_culprits;
            total[m].both_found += r.tally[m].both_found;
            total[m].probe_runs += r.tally[m].probe_runs;
            total[m].builds += r.tally[m].builds;
            total[m].seconds += r.tally[m].seconds;
        }
        const double row_ratio =
            ratio(r.tally[k_perfbisect].probe_runs, r.tally[k_pinpoint].probe_runs);
        if (row_ratio > 0) {
            log_ratio_sum += std::log(row_ratio);
            ++log_ratio_rows;
        }
    }
    const char* names[k_methods] = {"perfbisect", "Pinpoint ref", "git bisect"};
    fmt::print("\nsummary over {} searches per method ({} rows)\n", runs, rows.size());
    fmt::print("  {:<13} {:>9} {:>16} {:>16} {:>11} {:>9} {:>8}\n", "", "accuracy",
               "false culprits", "both of 2 found", "runs/search", "builds", "time s");
    for (int m = 0; m < k_methods; ++m) {
        fmt::print(
            "  {:<13} {:>8.1f}% {:>9.1f}% of {:>3} {:>9.1f}% of {:>3} {:>11.1f} {:>9.1f} "
            "{:>8.2f}\n",
            names[m], percent(total[m].right, runs),
            percent(total[m].false_culprits, no_regression), no_regression,
            percent(total[m].both_found, multi), multi, total[m].probe_runs / runs,
            total[m].builds / runs, total[m].seconds);
    }
    fmt::print(
        "  probe runs perfbisect / Pinpoint: {:.2f} (ratio of totals), {:.2f} (geometric "
        "mean of the row ratios)\n",
        ratio(total[k_perfbisect].probe_runs, total[k_pinpoint].probe_runs),
        log_ratio_rows > 0 ? std::exp(log_ratio_sum / log_ratio_rows) : NAN);
    fmt::print("  accuracy perfbisect - Pinpoint: {:+.1f} points\n",
               percent(total[k_perfbisect].right, runs) - percent(total[k_pinpoint].right, runs));
    if (unfinished > 0) {
        fmt::print("  perfbisect searches that failed or did not end (scored wrong): {}\n",
                   unfinished);
    }
    fmt::print("  wall time of the whole suite: {:.1f} s\n", wall_seconds);
}

// ---- self-check ---------------------------------------------------------

struct Checker {
    int failures = 0;
    void expect(bool ok, const std::string& what) {
        fmt::print("  [{}] {}\n", ok ? "ok" : "FAIL", what);
        failures += !ok;
    }
};

// Accuracy of a reference over `seeds` instances of one scenario recipe.
template <typename Make, typename Run>
double reference_accuracy(int seeds, Make make, Run run) {
    int right = 0;
    for (int i = 0; i < seeds; ++i) {
        std::mt19937_64 rng(mix_seed(k_master_seed ^ 0x5e1f, static_cast<std::uint64_t>(i)));
        const Instance in = make(rng);
        right += score(in.expected, run(in, mix_seed(i, 9)).outcome).right;
    }
    return 100.0 * right / seeds;
}

// The planner's own cost on a range of 100,000 commits: one whole search
// (a +10 % step at 70 %, lognormal 3 % noise), timed.
void print_large_range() {
    constexpr std::size_t k_commits = 100000;
    PlannerSettings settings;
    settings.decide.min_effect = 0.02;
    const SimulatedHistory history = step_history(k_commits, k_commits * 7 / 10 + 3, 0.10);
    const auto start = Clock::now();
    const SimulationResult r = simulate_search(settings, history, 1, 100000);
    const double seconds = seconds_since(start);
    fmt::print("planner on a {}-commit range: {} at {} with {} probe runs and {} builds; "
               "{:.2f} s of planning for the whole search\n",
               k_commits, to_string(r.outcome.status),
               r.outcome.culprits.empty() ? 0 : r.outcome.culprits.front().position, r.probe_runs,
               r.builds, seconds);
}

int self_check(const SameThresholds& thresholds) {
    Checker check;
    fmt::print("noise models: sample sd vs the declared sd (200000 draws at level 100, time 0)\n");
    for (const NoiseModel& model : noise_models()) {
        std::mt19937_64 rng(1);
        std::vector<double> v(200000);
        for (double& x : v) {
            x = model.draw(k_base_level, 0, rng);
        }
        const double mean = stats::mean(v);
        double ss = 0;
        for (double x : v) {
            ss += (x - mean) * (x - mean);
        }
        const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1)) / k_base_level;
        check.expect(
            std::abs(sd / model.relative_sd - 1) < 0.05,
            fmt::format("{}: sample {:.4f}, declared {:.4f}", model.name, sd, model.relative_sd));
    }

    fmt::print("scoring, hand-made outcomes\n");
    {
        Expected found{SessionStatus::culprit_found, {40}, 0};
        Outcome o;
        o.status = SessionStatus::culprit_found;
        o.culprits.push_back(CulpritEvidence{.position = 40});
        check.expect(score(found, o).right, "culprit_found {40} for {40} is right");
        o.culprits.push_back(CulpritEvidence{.position = 70});
        check.expect(!score(found, o).right, "culprit_found {40,70} for {40} is wrong");
        Expected two{SessionStatus::culprit_found, {40, 70}, 0};
        check.expect(score(two, o).right && score(two, o).both_found,
                     "culprit_found {40,70} for {40,70} is right, both found");
        o.culprits.push_back(CulpritEvidence{.position = 90});
        check.expect(!score(two, o).right && score(two, o).both_found,
                     "culprit_found {40,70,90} for {40,70}: wrong, but both found");
        Expected flat{SessionStatus::not_reproduced, {}, 0};
        check.expect(!score(flat, o).right && score(flat, o).false_culprit,
                     "a culprit on no regression is wrong and a false culprit");
        Outcome nr;
        nr.status = SessionStatus::not_reproduced;
        check.expect(score(flat, nr).right && !score(flat, nr).false_culprit,
                     "not_reproduced on no regression is right");
    }
    {
        // Culprit 50 with 48 and 49 broken: not isolatable, block [48, 50].
        SimulatedHistory h;
        h.levels.assign(100, 100);
        h.unbuildable.assign(100, false);
        h.unbuildable[48] = h.unbuildable[49] = true;
        const Expected e = expected_for_culprits(h, {50});
        check.expect(e.status == SessionStatus::ambiguous && e.block_first == 48,
                     "culprit 50 after broken 48, 49: expected ambiguous, block from 48");
        Outcome o;
        o.status = SessionStatus::ambiguous;
        o.candidates = {48, 49, 50};
        check.expect(score(e, o).right, "ambiguous {48,49,50} is right");
        o.candidates = {47, 48, 49, 50};
        check.expect(!score(e, o).right, "ambiguous {47..50} is wrong (47 builds)");
        o.candidates = {48, 49};
        check.expect(!score(e, o).right, "ambiguous without the culprit is wrong");
        Outcome guess;
        guess.status = SessionStatus::culprit_found;
        guess.culprits.push_back(CulpritEvidence{.position = 50});
        check.expect(!score(e, guess).right, "culprit_found {50} there is a guess: wrong");
        h.unbuildable[48] = h.unbuildable[49] = false;
        h.unbuildable[51] = true;
        check.expect(expected_for_culprits(h, {50}).status == SessionStatus::culprit_found,
                     "culprit 50 with 51 broken: expected culprit_found");
    }

    fmt::print("lower bound, by hand\n");
    {
        // N = 100: k = 7, alpha = 0.01/7, z = 2.9845; sigma 3 %, d = 10 %:
        // n = ceil((2.9845 * 0.03 / 0.05)^2) = ceil(3.207) = 4; LB = 4 + 7 * 4 = 32.
        const double steps[] = {0.10};
        const double lb = lower_bound_runs(100, 0.03, steps, 0.10);
        check.expect(std::abs(normal_quantile(0.975) - 1.959964) < 1e-5,
                     fmt::format("z_0.975 = {:.6f}", normal_quantile(0.975)));
        check.expect(lb == 32, fmt::format("LB(N=100, sd 3%, +10%) = {} (32 by hand)", lb));
    }

    fmt::print("Pinpoint thresholds\n");
    check.expect(
        thresholds.high_threshold(1.0, 10) > thresholds.high_threshold(1.0, 40) &&
            thresholds.high_threshold(0.5, 20) > thresholds.high_threshold(2.0, 20),
        fmt::format("decrease with n and magnitude: m=1 n=10 {:.3g}, n=40 {:.3g}; "
                    "n=20 m=0.5 {:.3g}, m=2 {:.3g}",
                    thresholds.high_threshold(1.0, 10), thresholds.high_threshold(1.0, 40),
                    thresholds.high_threshold(0.5, 20), thresholds.high_threshold(2.0, 20)));

    fmt::print("references on easy cases (100 seeds each, N=100)\n");
    const auto& models = noise_models();
    const auto with_noise = [&](Instance in, std::size_t noise) {
        in.history.noise = models[noise].draw;
        return in;
    };
    const auto single = [&](double step, std::size_t noise) {
        return [=](std::mt19937_64& rng) {
            const std::size_t c = std::uniform_int_distribution<std::size_t>(1, 99)(rng);
            Instance in;
            in.history = step_history(100, c, step);
            in.expected = Expected{SessionStatus::culprit_found, {c}, 0};
            return with_noise(in, noise);
        };
    };
    const auto pinpoint = [&](const Instance& in, std::uint64_t seed) {
        return run_pinpoint(in.history, 0.02, thresholds, seed);
    };
    const auto git = [&](const Instance& in, std::uint64_t seed) {
        return run_git_bisect(in.history, 0.02, seed);
    };
    double a = reference_accuracy(100, single(0.30, 1), pinpoint);
    check.expect(a >= 95, fmt::format("Pinpoint, +30% at gauss 3%: {:.0f}% right", a));
    a = reference_accuracy(100, single(0.10, 0), pinpoint);
    check.expect(a >= 95, fmt::format("Pinpoint, +10% at gauss 1%: {:.0f}% right", a));
    a = reference_accuracy(100, single(0.30, 0), git);
    check.expect(a >= 95, fmt::format("git bisect, +30% at gauss 1%: {:.0f}% right", a));
    const auto flat = [&](std::mt19937_64&) {
        Instance in;
        in.history.levels.assign(100, k_base_level);
        in.expected.status = SessionStatus::not_reproduced;
        return with_noise(in, 1);
    };
    a = reference_accuracy(100, flat, pinpoint);
    check.expect(a >= 95, fmt::format("Pinpoint, no regression at gauss 3%: {:.0f}% right", a));
    {
        // Broken 48, 49 before a +30 % culprit at 50: Pinpoint and git bisect must
        // both answer ambiguous {48, 49, 50}.
        SimulatedHistory h = step_history(100, 50, 0.30);
        h.unbuildable.assign(100, false);
        h.unbuildable[48] = h.unbuildable[49] = true;
        h.noise = models[0].draw;
        const Expected e = expected_for_culprits(h, {50});
        const ReferenceResult pp = run_pinpoint(h, 0.02, thresholds, 5);
        const ReferenceResult gb = run_git_bisect(h, 0.02, 5);
        check.expect(score(e, pp.outcome).right,
                     fmt::format("Pinpoint, broken 48-49 before 50: {} with {} candidates",
                                 to_string(pp.outcome.status), pp.outcome.candidates.size()));
        check.expect(score(e, gb.outcome).right,
                     fmt::format("git bisect, broken 48-49 before 50: {} with {} candidates",
                                 to_string(gb.outcome.status), gb.outcome.candidates.size()));
    }
    {
        // Two culprits 30 and 60 of +10 % each at gauss 1 %: Pinpoint finds both.
        SimulatedHistory h;
        h.levels.assign(100, k_base_level);
        for (std::size_t p = 30; p < 100; ++p) {
            h.levels[p] *= p >= 60 ? 1.21 : 1.10;
        }
        h.noise = models[0].draw;
        const ReferenceResult pp = run_pinpoint(h, 0.02, thresholds, 6);
        const Expected e{SessionStatus::culprit_found, {30, 60}, 0};
        check.expect(
            score(e, pp.outcome).right,
            fmt::format("Pinpoint, culprits 30 and 60: {}, {} culprits, {} runs",
                        to_string(pp.outcome.status), pp.outcome.culprits.size(), pp.probe_runs));
    }
    fmt::print("{} check(s) failed\n", check.failures);
    return check.failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const auto suite_start = Clock::now();
    Options options;
    if (!parse_args(argc, argv, options)) {
        return 2;
    }
    const auto table_start = Clock::now();
    const SameThresholds thresholds(options.threshold_draws, k_threshold_seed);
    const double table_seconds = seconds_since(table_start);
    if (options.self_check) {
        return self_check(thresholds);
    }

    print_header(options, thresholds, table_seconds);
    std::vector<Row> rows;
    std::map<std::string, std::size_t> row_index;
    for (const Scenario& scenario : suite_scenarios(options.suite)) {
        if (!options.only.empty() && scenario.row.find(options.only) == std::string::npos) {
            continue;
        }
        auto [it, inserted] = row_index.emplace(scenario.row, rows.size());
        if (inserted) {
            Row row;
            row.kind = scenario.kind;
            row.noise_label = scenario.noise_label;
            row.commits = scenario.commits;
            row.min_effect = scenario.min_effect;
            rows.push_back(row);
        }
        for (int i = 0; i < scenario.seeds; ++i) {
            run_one(scenario, i, thresholds, options.trace, rows[it->second]);
        }
    }
    print_table(rows);
    print_wrong_answers(rows);
    print_summary(rows, seconds_since(suite_start));
    if (options.only.empty()) {
        print_large_range();
    }
    return 0;
}
