#include "util/fault.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace perfbisect {

void fault_point(const char* name) {
    static const char* const point = std::getenv("PERFBISECT_FAULT_POINT");
    if (point == nullptr || std::string(point) != name) {
        return;
    }
    if (const char* log = std::getenv("PERFBISECT_FAULT_LOG"); log != nullptr && *log != '\0') {
        std::ofstream(log, std::ios::app) << name << '\n';  // closed (so flushed) at once
    }
    const char* pause = std::getenv("PERFBISECT_FAULT_PAUSE_MS");
    const int ms = pause != nullptr ? std::atoi(pause) : 200;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace perfbisect
