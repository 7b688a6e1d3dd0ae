#pragma once

// Reading a config file's text as TOML, shared by the two config parsers
// (config.cpp and server_config.cpp, the only translation units that include
// toml11: it is heavy to compile).

#include <string>

#include <toml.hpp>

#include "util/error.hpp"

namespace perfbisect {

// The TOML document in `text`, or a usage error on one line naming `origin`
// (a file name) and the problem: text that is not UTF-8 (toml11 3.7 reads
// past the end of its buffer on some malformed sequences: found by
// fuzzing), or a syntax error, "F:LINE: invalid TOML: … (fix the syntax)".
Result<toml::value> parse_toml_text(const std::string& text, const std::string& origin);

}  // namespace perfbisect
