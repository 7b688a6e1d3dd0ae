// Fuzz target: a callgrind output file (its total instruction count), and the
// same bytes as a `perf stat -x,` CSV file.
#include <string>

#include "probes/metric.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)perfbisect::parse_callgrind_total(text);
    (void)perfbisect::parse_perf_stat_csv(text, "instructions");
    return 0;
}
