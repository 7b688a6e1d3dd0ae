#include "util/allocator.hpp"

#include <malloc.h>

namespace perfbisect {

void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's largest allowed
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
}

}  // namespace perfbisect
