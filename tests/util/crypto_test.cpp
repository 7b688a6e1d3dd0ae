#include <catch2/catch.hpp>

#include "util/crypto.hpp"

using namespace perfbisect;

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[crypto]") {
    // RFC 4231, test case 2.
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // A different key or body gives a different signature.
    CHECK(hmac_sha256_hex("Jeff", "what do ya want for nothing?") !=
          hmac_sha256_hex("Jefe", "what do ya want for nothing?"));
    CHECK(hmac_sha256_hex("", "").size() == 64);
}

TEST_CASE("SHA-256 matches FIPS 180-2", "[crypto]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("constant_time_equal compares contents and lengths", "[crypto]") {
    CHECK(constant_time_equal("abc", "abc"));
    CHECK(constant_time_equal("", ""));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "abcd"));
    CHECK_FALSE(constant_time_equal("", "a"));
}
