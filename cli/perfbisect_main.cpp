#include "cli/perfbisect_main.hpp"

namespace perfbisect {

int perfbisect_main(int /*argc*/, char** /*argv*/) { return 0; }

}  // namespace perfbisect
