#include "util/text.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace perfbisect {

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string one_line(std::string_view text) {
    std::string out = trim(text);
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

std::string shorten(std::string_view text, std::size_t most) {
    if (text.size() <= most) {
        return std::string(text);
    }
    return std::string(text.substr(0, most)) + "… (" + std::to_string(text.size()) + " bytes)";
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        lines.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::string shell_quote(std::string_view value) {
    std::string quoted = "'";
    for (char c : value) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    quoted += '\'';
    return quoted;
}

std::string fnv1a_hex(std::string_view data) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : data) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return fmt::format("{:016x}", hash);
}

std::string format_seconds(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        return "?";
    }
    if (seconds < 60) {
        return fmt::format("{:.1f}s", seconds);
    }
    const auto total = static_cast<long long>(std::llround(seconds));
    if (total < 3600) {
        return fmt::format("{}m{:02}s", total / 60, total % 60);
    }
    return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

std::string format_utc(std::int64_t unix_seconds) {
    const std::time_t time = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&time, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace perfbisect

namespace perfbisect {

std::string json_quote(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
    return out;
}

}  // namespace perfbisect
