#include "tests/support/shell.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>
#include <sys/wait.h>

#include "util/text.hpp"

namespace perfbisect::testing {

ShellOutput sh(const std::string& script, const std::filesystem::path& cwd) {
    std::string command = "exec 2>&1; ";
    if (!cwd.empty()) {
        command += "cd " + shell_quote(cwd.string()) + " && ";
    }
    command += "{ " + script + "\n}";
    ShellOutput result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("popen failed");
    }
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        result.out.append(buffer.data(), n);
    }
    int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string sh_ok(const std::string& script, const std::filesystem::path& cwd) {
    ShellOutput result = sh(script, cwd);
    if (result.exit_code != 0) {
        throw std::runtime_error("command failed (" + std::to_string(result.exit_code) +
                                 "): " + script + "\n" + result.out);
    }
    return result.out;
}

}  // namespace perfbisect::testing
