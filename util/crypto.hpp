#pragma once

// The few cryptographic primitives the webhook server needs (OpenSSL): an
// HMAC-SHA256 to check signed alerts and sign callbacks, a SHA-256 digest, and
// a comparison whose time does not depend on where two secrets differ.

#include <string>
#include <string_view>

namespace perfbisect {

// HMAC-SHA256 of data under key, as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// SHA-256 of data, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// True when a and b are equal. For equal lengths the time taken does not
// depend on the contents (CRYPTO_memcmp); a different length returns false at
// once, so callers compare values of a fixed length (hex digests), never a
// secret against an input of the sender's choosing.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace perfbisect
