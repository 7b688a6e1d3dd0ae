// Fuzz target: `regex:<first line>` over the rest of the input as the probe's
// output.
#include "probes/metric.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto [pattern, output] = perfbisect::fuzz::split_first_line(data, size);
    const auto spec = perfbisect::parse_metric("regex:" + pattern);
    if (spec) {
        const perfbisect::ProcessResult process;
        (void)perfbisect::extract_metric(*spec, process, output);
    }
    return 0;
}
