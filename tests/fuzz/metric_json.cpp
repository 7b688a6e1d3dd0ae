// Fuzz target: `json:<first line>` (an RFC 6901 pointer) over the rest of the
// input as the probe's output.
#include "probes/metric.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto [pointer, output] = perfbisect::fuzz::split_first_line(data, size);
    const auto spec = perfbisect::parse_metric("json:" + pointer);
    if (spec) {
        (void)perfbisect::extract_json_metric(*spec, output, "fuzz");
    }
    return 0;
}
