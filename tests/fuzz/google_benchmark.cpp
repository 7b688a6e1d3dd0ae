// Fuzz target: `google-benchmark:<first line>` over the rest of the input as
// Google Benchmark's JSON output (the name may end in :cpu_time).
#include "probes/metric.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto [name, output] = perfbisect::fuzz::split_first_line(data, size);
    const auto spec = perfbisect::parse_metric("google-benchmark:" + name);
    if (spec) {
        (void)perfbisect::extract_json_metric(*spec, output, "fuzz");
    }
    return 0;
}
