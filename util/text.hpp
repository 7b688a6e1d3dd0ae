#pragma once

// Small string helpers with no knowledge of perfbisect.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perfbisect {

std::string trim(std::string_view text);
// Trimmed, with newlines and tabs turned into spaces, other control characters
// and bytes that are not UTF-8 into '?': for quoting output (binary output
// included) in one-line messages.
std::string one_line(std::string_view text);
std::vector<std::string> split_lines(std::string_view text);
// Where text stops being well-formed UTF-8 ("line 3, byte 0xdf at offset 41"),
// or nullopt when all of it is.
std::optional<std::string> not_utf8(std::string_view text);
// The text itself when at most `most` bytes, else its first `most` bytes and
// "… (N bytes)": for quoting values of unbounded size in messages.
std::string shorten(std::string_view text, std::size_t most = 40);
// Quotes a value for /bin/sh (single quotes; safe for any byte string).
std::string shell_quote(std::string_view value);
// FNV-1a 64-bit, as 16 hex digits: stable across builds and platforms, for
// fingerprints (not for security).
std::string fnv1a_hex(std::string_view data);
// "1.5s", "2m03s", "1h02m": compact durations for humans.
std::string format_seconds(double seconds);
// ISO 8601 UTC time, e.g. "2026-11-28T14:47:39Z".
std::string format_utc(std::int64_t unix_seconds);

}  // namespace perfbisect

namespace perfbisect {
// A JSON string literal (with quotes) for text; for small hand-built JSON
// objects in event payloads.
std::string json_quote(std::string_view text);
}  // namespace perfbisect
