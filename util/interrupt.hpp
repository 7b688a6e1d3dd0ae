#pragma once

// Cooperative interruption. SIGINT, SIGTERM and SIGHUP set a flag; the process
// runner kills the child in flight and the session driver stops before its next
// action, so a Ctrl-C leaves a resumable session behind (exit 130).

namespace perfbisect {

// Installs the signal handlers (idempotent).
void install_interrupt_handlers();
bool interrupt_requested();
// Sets the flag by hand: for tests and for the handlers themselves.
void request_interrupt();
void clear_interrupt();

}  // namespace perfbisect
