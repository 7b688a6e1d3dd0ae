// Generates tests/data/probes/google-benchmark-*.json: repetitions with their
// aggregates, a benchmark that reports an error, and one whose counter is NaN.
#include <benchmark/benchmark.h>
#include <cmath>
#include <limits>
#include <vector>

static void BM_sum(benchmark::State& state) {
    std::vector<int> v(static_cast<std::size_t>(state.range(0)), 1);
    for (auto _ : state) {
        long s = 0;
        for (int x : v) s += x;
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_sum)->Arg(1024)->Unit(benchmark::kMicrosecond);

static void BM_fails(benchmark::State& state) {
    for (auto _ : state) {
        state.SkipWithError("could not open the input file");
        break;
    }
}
BENCHMARK(BM_fails);

static void BM_nan_counter(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(state.iterations());
    }
    state.counters["ratio"] = std::numeric_limits<double>::quiet_NaN();
    state.counters["inf"] = std::numeric_limits<double>::infinity();
}
BENCHMARK(BM_nan_counter)->Unit(benchmark::kNanosecond);

BENCHMARK_MAIN();
