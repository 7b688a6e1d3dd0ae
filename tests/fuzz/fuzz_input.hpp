#pragma once

// Shared by the fuzz targets: how one fuzz input is split into the parts a
// parser takes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace perfbisect::fuzz {

// The first line (a metric's argument: a pattern, a pointer, a benchmark's
// name) and the rest (the probe's output).
inline std::pair<std::string, std::string> split_first_line(const std::uint8_t* data,
                                                            std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    if (newline == std::string::npos) {
        return {input, ""};
    }
    return {input.substr(0, newline), input.substr(newline + 1)};
}

}  // namespace perfbisect::fuzz
