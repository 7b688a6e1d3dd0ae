// Fuzz target: an alert's body, as HTTP delivers it, through the format
// detection and every format's reader (generic, Horreum change/new, Otava).
#include <cstddef>
#include <cstdint>
#include <string>

#include "alerts/alert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    (void)perfbisect::detect_alert_source(body);
    (void)perfbisect::parse_generic_alert(body);
    (void)perfbisect::parse_horreum_event(body);
    (void)perfbisect::parse_otava_report(body, perfbisect::OtavaSettings{});
    return 0;
}
