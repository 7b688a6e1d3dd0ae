// Fuzz target: `pyperf[:<first line>]` over the rest of the input as a pyperf
// JSON file.
#include "probes/metric.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto [name, output] = perfbisect::fuzz::split_first_line(data, size);
    const auto spec = perfbisect::parse_metric(name.empty() ? "pyperf" : "pyperf:" + name);
    if (spec) {
        (void)perfbisect::extract_json_metric(*spec, output, "fuzz");
    }
    return 0;
}
