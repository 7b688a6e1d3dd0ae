// A small real program for the profiler tests (not a mock): two functions the
// compiler keeps apart, each spinning a data-dependent loop for as many
// iterations as its argument says, so a test controls each one's share of
// the program's cost.
//   profile_helper STEADY EXTRA   prints "value=…"
#include <cstdio>
#include <cstdlib>

__attribute__((noinline)) unsigned long steady_work(unsigned long n) {
    volatile unsigned long acc = 1;
    for (unsigned long i = 0; i < n; ++i) {
        acc = acc + (i ^ (acc >> 3));
    }
    return acc;
}

__attribute__((noinline)) unsigned long extra_work(unsigned long n) {
    volatile unsigned long acc = 2;
    for (unsigned long i = 0; i < n; ++i) {
        acc = acc + (i ^ (acc >> 5));
    }
    return acc;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: profile_helper STEADY EXTRA\n", stderr);
        return 2;
    }
    const unsigned long a = steady_work(std::strtoul(argv[1], nullptr, 10));
    const unsigned long b = extra_work(std::strtoul(argv[2], nullptr, 10));
    std::printf("value=%lu\n", (a + b) % 1000);
    return 0;
}
