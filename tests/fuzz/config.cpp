// Fuzz target: a config file's text (TOML, then perfbisect's validation).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto config = perfbisect::parse_config(text, "/nonexistent/fuzz", "fuzz.toml");
    if (config) {
        (void)config->build_fingerprint();
        (void)config->probe_fingerprint();
    }
    return 0;
}
