// A small real program for the probe tests (not a mock): it allocates a known
// amount of memory, or spins a loop whose instruction count is proportional to
// its argument, and prints what it did. Only the C library, so that valgrind
// sees few instructions besides the loop.
//   probe_helper alloc MIB   touch MIB MiB of fresh memory; prints "allocated=MIB"
//   probe_helper spin N      N iterations of a data-dependent loop; prints "value=…"
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: probe_helper alloc MIB | spin N\n", stderr);
        return 2;
    }
    const unsigned long n = std::strtoul(argv[2], nullptr, 10);
    if (std::strcmp(argv[1], "alloc") == 0) {
        const unsigned long bytes = n << 20;
        char* volatile memory = static_cast<char*>(std::malloc(bytes + 1));
        for (unsigned long i = 0; i < bytes; i += 4096) {
            memory[i] = 1;  // touch every page, so it is resident
        }
        std::printf("allocated=%lu\n", n);
        std::free(memory);
        return 0;
    }
    if (std::strcmp(argv[1], "spin") == 0) {
        volatile unsigned long acc = 0;
        for (unsigned long i = 0; i < n; ++i) {
            acc = acc + (i ^ (acc >> 3));
        }
        std::printf("value=%lu\n", static_cast<unsigned long>(acc % 1000));
        return 0;
    }
    std::fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
