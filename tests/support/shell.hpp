#pragma once

// Test-side helpers that run real commands (git, sh) through /bin/sh.

#include <filesystem>
#include <string>

#include "util/text.hpp"  // shell_quote

namespace perfbisect::testing {

struct ShellOutput {
    int exit_code = -1;
    std::string out;  // stdout and stderr, interleaved
};

// Runs script with /bin/sh -c in cwd; never throws for a failing command.
ShellOutput sh(const std::string& script, const std::filesystem::path& cwd = {});

// Like sh() but throws std::runtime_error with the output when it fails.
std::string sh_ok(const std::string& script, const std::filesystem::path& cwd = {});

}  // namespace perfbisect::testing
