#pragma once

// Fault-injection points for the crash tests (tests/e2e/sigkill_test.sh): a
// named point in the code where a test may make the process pause, so that a
// SIGKILL lands exactly there. Inert unless the environment asks for it:
//
//   PERFBISECT_FAULT_POINT=sample-write   the point to pause at
//   PERFBISECT_FAULT_PAUSE_MS=200         how long (default 200 ms)
//   PERFBISECT_FAULT_LOG=/path            a line "NAME" is appended here first,
//                                         so the test knows it has arrived
//
// The points: "sample-write" (Cache::store_samples, inside the transaction,
// after the rows are written and before COMMIT).

namespace perfbisect {

void fault_point(const char* name);

}  // namespace perfbisect
