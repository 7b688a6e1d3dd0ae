#include "bench/scenarios.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include <fmt/format.h>

namespace perfbisect::bench {

namespace {

double gaussian(std::mt19937_64& rng, double cv) {
    return 1 + cv * std::normal_distribution<double>(0, 1)(rng);
}

std::vector<NoiseModel> make_noise_models() {
    std::vector<NoiseModel> models;
    for (double cv : {0.01, 0.03, 0.05}) {
        models.push_back(
            {fmt::format("gauss {:.0f}%", cv * 100),
             [cv](double level, double, std::mt19937_64& rng) { return level * gaussian(rng, cv); },
             cv});
    }
    {
        constexpr double k_sigma = 0.03;
        models.push_back({"lognormal 3%",
                          [](double level, double, std::mt19937_64& rng) {
                              return level * std::lognormal_distribution<double>(0, k_sigma)(rng);
                          },
                          std::sqrt(std::expm1(k_sigma * k_sigma) * std::exp(k_sigma * k_sigma))});
    }
    {
        // 1 % of runs multiplied by U(2, 5), on top of gaussian 2 %.
        // E[M] = 0.99 + 0.01 * 3.5, E[M^2] = 0.99 + 0.01 * E[U^2], E[U^2] = 13.
        constexpr double k_cv = 0.02;
        const double m1 = 0.99 + 0.01 * 3.5;
        const double m2 = 0.99 + 0.01 * 13.0;
        models.push_back({"outliers 1% x2-5",
                          [](double level, double, std::mt19937_64& rng) {
                              const double base = level * gaussian(rng, k_cv);
                              if (std::bernoulli_distribution(0.01)(rng)) {
                                  return base * std::uniform_real_distribution<double>(2, 5)(rng);
                              }
                              return base;
                          },
                          std::sqrt(m2 * (1 + k_cv * k_cv) - m1 * m1), true});
    }
    {
        // Two modes 6 % apart, 50/50, each gaussian 1 %.
        constexpr double k_cv = 0.01;
        const double m1 = 1.03;
        const double m2 = (1 + 1.06 * 1.06) / 2;
        models.push_back({"bimodal 6%",
                          [](double level, double, std::mt19937_64& rng) {
                              const double mode =
                                  std::bernoulli_distribution(0.5)(rng) ? 1.06 : 1.0;
                              return level * mode * gaussian(rng, k_cv);
                          },
                          std::sqrt(m2 * (1 + k_cv * k_cv) - m1 * m1)});
    }
    {
        // The machine slows down by 5 % per 1000 probe runs, plus gaussian 2 %.
        constexpr double k_cv = 0.02;
        models.push_back({"drift 5%/1k runs",
                          [](double level, double time, std::mt19937_64& rng) {
                              return level * (1 + 0.00005 * time) * gaussian(rng, k_cv);
                          },
                          k_cv});
    }
    {
        // A timer with a fixed tick of 2 % of the base level, plus gaussian 2 %.
        // Rounding adds a uniform error of variance tick^2 / 12.
        constexpr double k_cv = 0.02;
        constexpr double k_tick = 0.02 * k_base_level;
        models.push_back({"timer ticks 2%",
                          [](double level, double, std::mt19937_64& rng) {
                              return std::round(level * gaussian(rng, k_cv) / k_tick) * k_tick;
                          },
                          std::sqrt(k_cv * k_cv + 0.02 * 0.02 / 12)});
    }
    {
        // Load phases, as on a shared machine (the demo's CI run that named a
        // wrong culprit; timings under a compile on the sibling vCPU): runs
        // come in quiet and loaded stretches. A quiet run starts a loaded
        // phase with probability 2 %, a loaded one ends it with 8 % (phases
        // of 12.5 runs on average, 20 % of runs loaded). A phase slows each of
        // its runs by (f - 1) u, f ~ U(1.2, 2) drawn per phase, u ~ U(0.8, 1)
        // per run; gaussian 2 % on top. Unlike the models above the runs are
        // not independent: a phase covers consecutive runs, so it can hit a
        // candidate's values and not its references'.
        // The state is the chain's; a search starts (time goes back) from the
        // stationary distribution. One search at a time, as the suite runs.
        constexpr double k_cv = 0.02;
        constexpr double k_start = 0.005;
        constexpr double k_end = 0.02;
        constexpr double k_loaded = k_start / (k_start + k_end);
        // X = (f - 1) u: E[f - 1] = 0.6, E[(f - 1)^2] = (1 - 0.2^3) / (3 * 0.8),
        // E[u] = 0.9, E[u^2] = (1 - 0.8^3) / (3 * 0.2).
        const double ex = 0.6 * 0.9;
        const double ex2 = (1 - 0.008) / 2.4 * (0.488 / 0.6);
        const double m1 = 1 + k_loaded * ex;
        const double m2 = 1 + 2 * k_loaded * ex + k_loaded * ex2;
        struct Phase {
            double last_time = -1;
            bool loaded = false;
            double factor = 1;
        };
        auto state = std::make_shared<Phase>();
        auto draw = [state](double level, double time, std::mt19937_64& rng) {
            Phase& phase = *state;
            auto start = [&] {
                phase.loaded = true;
                phase.factor = std::uniform_real_distribution<double>(1.2, 2.0)(rng);
            };
            if (time < phase.last_time) {
                phase.loaded = false;
                if (std::bernoulli_distribution(k_loaded)(rng)) {
                    start();
                }
            } else if (phase.loaded) {
                phase.loaded = !std::bernoulli_distribution(k_end)(rng);
            } else if (std::bernoulli_distribution(k_start)(rng)) {
                start();
            }
            phase.last_time = time;
            double slow = 1;
            if (phase.loaded) {
                slow += (phase.factor - 1) * std::uniform_real_distribution<double>(0.8, 1)(rng);
            }
            return level * slow * gaussian(rng, k_cv);
        };
        models.push_back({"load phases", draw, std::sqrt(m2 * (1 + k_cv * k_cv) - m1 * m1), true});
    }
    return models;
}

std::size_t uniform(std::mt19937_64& rng, std::size_t low, std::size_t high) {
    return std::uniform_int_distribution<std::size_t>(low, high)(rng);
}

// Levels that step to level * (1 + step) at each culprit, compounding.
SimulatedHistory step_levels(std::size_t commits, const std::vector<std::size_t>& culprits,
                             const std::vector<double>& steps) {
    SimulatedHistory h;
    h.levels.assign(commits, k_base_level);
    for (std::size_t i = 0; i < culprits.size(); ++i) {
        for (std::size_t p = culprits[i]; p < commits; ++p) {
            h.levels[p] *= 1 + steps[i];
        }
    }
    return h;
}

Instance single_culprit(std::size_t commits, double step, std::mt19937_64& rng) {
    const std::size_t c = uniform(rng, 1, commits - 1);
    Instance in;
    in.history = step_levels(commits, {c}, {step});
    in.expected = expected_for_culprits(in.history, {c});
    in.located_steps = {step};
    in.reproduce_shift = step;
    return in;
}

// Two culprits sharing a total shift of `total`: the first moves the level by
// share * total (of the base level), the second by the rest.
Instance two_culprits(std::size_t commits, double total, double first_share, std::mt19937_64& rng) {
    std::size_t a = uniform(rng, 1, commits - 1);
    std::size_t b = a;
    while (b == a) {
        b = uniform(rng, 1, commits - 1);
    }
    const std::size_t first = std::min(a, b);
    const std::size_t second = std::max(a, b);
    const double first_step = total * first_share;
    const double second_step = (1 + total) / (1 + first_step) - 1;
    Instance in;
    in.history = step_levels(commits, {first, second}, {first_step, second_step});
    in.expected = expected_for_culprits(in.history, {first, second});
    in.located_steps = {first_step, second_step};
    in.reproduce_shift = total;
    return in;
}

// An improvement of 10 % at one commit, a regression of 20 % at a later one;
// only the regression is a culprit (only the regression direction is chased).
Instance improvement_then_regression(std::size_t commits, std::mt19937_64& rng) {
    const std::size_t improvement = uniform(rng, 1, commits - 2);
    const std::size_t regression = uniform(rng, improvement + 1, commits - 1);
    Instance in;
    in.history = step_levels(commits, {improvement, regression}, {-0.10, 0.20});
    in.expected = expected_for_culprits(in.history, {regression});
    in.located_steps = {0.20};
    in.reproduce_shift = 0.9 * 1.2 - 1;
    return in;
}

// A 10 % culprit with `before` broken commits right before it and `after`
// right after it.
Instance broken_neighbours(std::size_t commits, std::size_t before, std::size_t after,
                           std::mt19937_64& rng) {
    const std::size_t c = uniform(rng, before + 1, commits - 2 - after);
    Instance in;
    in.history = step_levels(commits, {c}, {0.10});
    in.history.unbuildable.assign(commits, false);
    for (std::size_t p = c - before; p <= c + after; ++p) {
        in.history.unbuildable[p] = p != c;
    }
    in.expected = expected_for_culprits(in.history, {c});
    in.located_steps = {0.10};
    in.reproduce_shift = 0.10;
    return in;
}

// 20 consecutive steps of 0.5 % of the base level each.
Instance gradual(std::size_t commits, std::mt19937_64& rng) {
    constexpr std::size_t k_steps = 20;
    constexpr double k_step = 0.005;
    const std::size_t start = uniform(rng, 1, commits - k_steps);
    Instance in;
    in.history.levels.resize(commits);
    for (std::size_t p = 0; p < commits; ++p) {
        const std::size_t done = p < start ? 0 : std::min(k_steps, p - start + 1);
        in.history.levels[p] = k_base_level * (1 + k_step * static_cast<double>(done));
    }
    in.expected.status = SessionStatus::gradual;
    in.reproduce_shift = k_step * k_steps;
    return in;
}

Instance no_regression(std::size_t commits, double min_effect) {
    Instance in;
    in.history.levels.assign(commits, k_base_level);
    in.expected.status = SessionStatus::not_reproduced;
    in.reproduce_shift = min_effect;
    return in;
}

using Maker = std::function<Instance(std::mt19937_64&, int)>;

// Adds one scenario per noise model (or only `only_noise`), aggregated into
// one row unless split_by_noise.
void add(std::vector<Scenario>& out, const std::string& kind, std::size_t commits,
         double min_effect, int seeds, bool split_by_noise, const Maker& make) {
    const auto& models = noise_models();
    for (std::size_t n = 0; n < models.size(); ++n) {
        Scenario s;
        s.kind = kind;
        s.noise_label = split_by_noise ? models[n].name : "all";
        s.commits = commits;
        s.min_effect = min_effect;
        s.noise = n;
        s.seeds = seeds;
        s.row = fmt::format("{} | N={} | {}", kind, commits, s.noise_label);
        // The instance carries the noise of its scenario.
        s.make = [make, n](std::mt19937_64& rng, int seed_index) {
            Instance in = make(rng, seed_index);
            in.history.noise = noise_models()[n].draw;
            return in;
        };
        out.push_back(std::move(s));
    }
}

}  // namespace

const std::vector<NoiseModel>& noise_models() {
    static const std::vector<NoiseModel> models = make_noise_models();
    return models;
}

std::vector<Scenario> suite_scenarios(const SuiteOptions& options) {
    std::vector<Scenario> out;
    const int seeds = options.seeds;
    // A step must be at least min_effect: 1 % for the 2 % step, 2 % otherwise.
    const auto single = [](std::size_t commits, double step) {
        return [commits, step](std::mt19937_64& rng, int) {
            return single_culprit(commits, step, rng);
        };
    };
    add(out, "1 culprit +10%", 100, 0.02, seeds, true, single(100, 0.10));
    add(out, "1 culprit +2%", 100, 0.01, seeds, false, single(100, 0.02));
    add(out, "1 culprit +5%", 100, 0.02, seeds, false, single(100, 0.05));
    add(out, "1 culprit +30%", 100, 0.02, seeds, false, single(100, 0.30));
    add(out, "1 culprit +10%", 16, 0.02, seeds, false, single(16, 0.10));
    add(out, "1 culprit +10%", 1000, 0.02, seeds, false, single(1000, 0.10));
    add(out, "1 culprit +10%", 10000, 0.02, options.large_seeds, false, single(10000, 0.10));
    add(out, "2 culprits 50/50 of +20%", 100, 0.02, seeds, false,
        [](std::mt19937_64& rng, int) { return two_culprits(100, 0.20, 0.5, rng); });
    add(out, "2 culprits 70/30 of +20%", 100, 0.02, seeds, false,
        [](std::mt19937_64& rng, int) { return two_culprits(100, 0.20, 0.7, rng); });
    add(out, "-10% then +20% later", 100, 0.02, seeds, false,
        [](std::mt19937_64& rng, int) { return improvement_then_regression(100, rng); });
    // Broken commits next to a +10 % culprit; 1-3 of them, cycling with the seed.
    add(out, "+10%, 1-3 broken just before", 100, 0.02, seeds, false,
        [](std::mt19937_64& rng, int i) {
            return broken_neighbours(100, 1 + static_cast<std::size_t>(i % 3), 0, rng);
        });
    add(out, "+10%, 1-3 broken just after", 100, 0.02, seeds, false,
        [](std::mt19937_64& rng, int i) {
            return broken_neighbours(100, 0, 1 + static_cast<std::size_t>(i % 3), rng);
        });
    add(out, "+10%, 2-3 broken around", 100, 0.02, seeds, false, [](std::mt19937_64& rng, int i) {
        const std::size_t k = 2 + static_cast<std::size_t>(i % 2);
        return broken_neighbours(100, (k + 1) / 2, k / 2, rng);
    });
    add(out, "gradual 20 x +0.5%", 100, 0.02, seeds, false,
        [](std::mt19937_64& rng, int) { return gradual(100, rng); });
    add(out, "no regression", 100, 0.02, seeds, false,
        [](std::mt19937_64&, int) { return no_regression(100, 0.02); });
    return out;
}

Expected expected_for_culprits(const SimulatedHistory& history,
                               const std::vector<std::size_t>& culprits) {
    Expected e;
    e.culprits = culprits;
    const auto broken = [&](std::size_t p) {
        return !history.unbuildable.empty() && history.unbuildable[p];
    };
    if (culprits.size() == 1 && culprits.front() > 1 && broken(culprits.front() - 1)) {
        std::size_t first = culprits.front() - 1;
        while (first > 0 && broken(first - 1)) {
            --first;
        }
        e.status = SessionStatus::ambiguous;
        e.block_first = first;
    }
    return e;
}

Score score(const Expected& expected, const Outcome& outcome) {
    std::vector<std::size_t> named;
    for (const auto& c : outcome.culprits) {
        named.push_back(c.position);
    }
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());

    Score s;
    switch (expected.status) {
        case SessionStatus::culprit_found:
            s.right = outcome.status == SessionStatus::culprit_found && named == expected.culprits;
            break;
        case SessionStatus::ambiguous: {
            const std::size_t c = expected.culprits.front();
            const auto& cand = outcome.candidates;
            s.right = outcome.status == SessionStatus::ambiguous &&
                      std::find(cand.begin(), cand.end(), c) != cand.end() &&
                      std::all_of(cand.begin(), cand.end(), [&](std::size_t p) {
                          return p >= expected.block_first && p <= c;
                      });
            break;
        }
        default:
            s.right = outcome.status == expected.status;
            break;
    }
    s.false_culprit = expected.status == SessionStatus::not_reproduced && !named.empty();
    s.both_found = expected.culprits.size() >= 2 &&
                   std::includes(named.begin(), named.end(), expected.culprits.begin(),
                                 expected.culprits.end());
    return s;
}

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
    auto splitmix = [](std::uint64_t x) {
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
    };
    return splitmix(a ^ splitmix(b));
}

std::uint64_t hash_name(const std::string& text) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char ch : text) {
        h = (h ^ ch) * 0x100000001b3ULL;
    }
    return h;
}

}  // namespace perfbisect::bench
