#pragma once

// Cooperative interruption. SIGINT, SIGTERM and SIGHUP ask the process to
// stop; SIGUSR1 (sent by `perfbisect abort`) asks it to drop the session it
// runs and go on, which matters to `perfbisect serve`, whose worker then takes
// the next alert. Either sets a flag; the process runner kills the child in
// flight and the session driver stops before its next action, so a Ctrl-C
// leaves a resumable session behind (exit 130).

namespace perfbisect {

// Installs the signal handlers (idempotent).
void install_interrupt_handlers();
// A stop or an abort is pending: cut the work in flight.
bool interrupt_requested();
// A stop is pending (SIGINT, SIGTERM, SIGHUP): the process ends.
bool stop_requested();
// Sets the stop flag by hand: for tests and for the handlers themselves.
void request_interrupt();
// Sets the abort flag by hand, as SIGUSR1 does.
void request_abort();
void clear_interrupt();
// Forgets an abort request once the aborted session has stopped.
void clear_abort_request();

}  // namespace perfbisect
