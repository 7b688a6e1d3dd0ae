#include "report/reporter.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace perfbisect {
namespace {

double steady_seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

StderrReporter::StderrReporter() : m_start(steady_seconds()) {}

void StderrReporter::progress(std::string_view line) {
    const double elapsed = steady_seconds() - m_start;
    fmt::print(stderr, "[{:6.1f}s] {}\n", elapsed, line);
    std::fflush(stderr);
}

}  // namespace perfbisect
