#pragma once

namespace perfbisect {

// Parses the command line, runs one subcommand, and maps every error to an
// exit code of util/exit_code.hpp. Never throws.
int perfbisect_main(int argc, char** argv);

}  // namespace perfbisect
