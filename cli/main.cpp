// The perfbisect executable: everything lives in the core library.
#include "cli/perfbisect_main.hpp"

int main(int argc, char** argv) { return perfbisect::perfbisect_main(argc, argv); }
