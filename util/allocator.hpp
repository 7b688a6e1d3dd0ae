#pragma once

// glibc's allocator returns large freed blocks to the kernel (they are mapped
// one by one above 128 KiB-32 MiB, and the heap is trimmed above 128 KiB free).
// The session driver plans after every probe run with buffers as large as the
// session's samples (8 MB per million values), so each step faulted all of
// them in again: on a VM that tripled the planning time of a session holding
// a million samples (bench_cache). Call once at start: large blocks then come
// from the heap and freed memory stays there for the next step.
namespace perfbisect {

void keep_freed_memory();

}  // namespace perfbisect
