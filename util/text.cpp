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

namespace {

// The length of the valid UTF-8 sequence at the start of text, or 0.
std::size_t utf8_sequence(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
        high = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) {
            return 0;
        }
    }
    return length;
}

}  // namespace

std::string one_line(std::string_view text) {
    const std::string trimmed = trim(text);
    std::string out;
    out.reserve(trimmed.size());
    std::string_view rest = trimmed;
    while (!rest.empty()) {
        const auto c = static_cast<unsigned char>(rest.front());
        if (c < 0x80) {
            const bool space = c == '\n' || c == '\r' || c == '\t';
            out += space ? ' ' : (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);
            rest.remove_prefix(1);
        } else if (const std::size_t n = utf8_sequence(rest); n > 0) {
            out += rest.substr(0, n);
            rest.remove_prefix(n);
        } else {
            out += '?';  // not UTF-8: binary output
            rest.remove_prefix(1);
        }
    }
    return out;
}

std::optional<std::string> not_utf8(std::string_view text) {
    std::size_t line = 1;
    for (std::size_t at = 0; at < text.size();) {
        const auto c = static_cast<unsigned char>(text[at]);
        if (c < 0x80) {
            line += c == '\n' ? 1 : 0;
            ++at;
        } else if (const std::size_t n = utf8_sequence(text.substr(at)); n > 0) {
            at += n;
        } else {
            return fmt::format("line {}, byte {:#04x} at offset {}", line, c, at);
        }
    }
    return std::nullopt;
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
