// Fuzz target: `hyperfine[:<first line>]` over the rest of the input as
// hyperfine's --export-json file.
#include "probes/metric.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto [command, output] = perfbisect::fuzz::split_first_line(data, size);
    const auto spec = perfbisect::parse_metric(command.empty() ? "hyperfine" : "hyperfine:" + command);
    if (spec) {
        (void)perfbisect::extract_json_metric(*spec, output, "fuzz");
    }
    return 0;
}
