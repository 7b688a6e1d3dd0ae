#pragma once

// Placeholders in commands: `{commit}`, `{short}`, `{worktree}`, `{artifacts}`,
// `{out}`. A placeholder is `{` + lower-case letters/underscores + `}` not
// preceded by `$` (so `${HOME}` and awk's `{print $1}` pass through); `{{` and
// `}}` stand for literal braces.

#include <map>
#include <string>
#include <vector>

namespace perfbisect {

// The placeholder names used in text, in order of appearance.
std::vector<std::string> find_placeholders(const std::string& text);

// Replaces each placeholder with its value; with shell_quote the values are
// quoted for /bin/sh (paths with spaces stay one word). Names without a value
// are left as written (configs are validated when loaded).
std::string expand_placeholders(const std::string& text,
                                const std::map<std::string, std::string>& values,
                                bool shell_quote);

}  // namespace perfbisect
