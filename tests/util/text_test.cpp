// The text helpers that quote outside output in messages.
#include <catch2/catch.hpp>

#include "util/text.hpp"

using namespace perfbisect;

TEST_CASE("one_line makes any output one printable line", "[text]") {
    CHECK(one_line("  first\nsecond\tthird\r\n") == "first second third");
    // UTF-8 stays; control characters and bytes that are not UTF-8 (binary
    // output, a tail cut inside a sequence) become '?'.
    CHECK(one_line("µs → 12 ✓") == "µs → 12 ✓");
    CHECK(one_line(std::string("a\x01\x1b[31mb\x7f\0", 10)) == "a??[31mb??");  // NUL too
    CHECK(one_line("\xff\xfe ok \xc3") == "?? ok ?");
    CHECK(one_line("\xa9 tail") == "? tail");            // a continuation byte alone
    CHECK(one_line("\xc0\xaf \xed\xa0\x80") == "?? ???");  // overlong form, a surrogate
    CHECK(one_line("\xf4\x90\x80\x80") == "????");       // above U+10FFFF
    CHECK(one_line("\xf0\x9f\x98\x80!") == "\xf0\x9f\x98\x80!");
}

TEST_CASE("shorten keeps short text and marks what it cut", "[text]") {
    CHECK(shorten("12.5") == "12.5");
    CHECK(shorten(std::string(41, '9')) == std::string(40, '9') + "… (41 bytes)");
    CHECK(shorten("abcdef", 3) == "abc… (6 bytes)");
}
