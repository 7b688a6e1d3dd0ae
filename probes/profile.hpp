#pragma once

// Flat profiles (the cost of each function, with and without its callees)
// read from the profilers' outputs, and the diff of two of them that a report
// shows for a culprit: the functions whose share of the program's cost grew
// most from the parent to the culprit. Pure: no processes, no files.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace perfbisect {

struct FunctionCost {
    double inclusive = 0;  // the function and everything it calls
    double self = 0;       // the function's own code (inlined callees included)
};

// Costs are in the tool's unit: nanoseconds of CPU clock (perf), instructions
// (callgrind), samples (folded stacks). Only shares of `total` are compared.
struct FlatProfile {
    double total = 0;
    std::map<std::string, FunctionCost> functions;  // by name, as the tool demangled it
    int runs = 0;                                   // profiles merged into this one

    // Adds other's costs and runs to this one's.
    void merge(const FlatProfile& other);
};

// `perf report --stdio --children --sort sym -g none -n` (a profile recorded
// with call graphs): the "Children" column is the inclusive share, "Self" the
// self share, "# Event count (approx.)" the total.
Result<FlatProfile> parse_perf_report(std::string_view text);

// One callgrind output file (callgrind_out format): self cost from the cost
// lines, inclusive cost adding the cost of the calls each function makes
// (direct self-recursion counted once). The first event (Ir) is the cost.
Result<FlatProfile> parse_callgrind_profile(std::string_view text);

// Folded stacks, one per line: "main;parse;tokenize 42" (outermost frame
// first, then a count), as flamegraph's stackcollapse scripts write them.
Result<FlatProfile> parse_folded_stacks(std::string_view text);

struct FunctionChange {
    std::string function;     // full name
    double parent_share = 0;  // inclusive cost / total, 0..1
    double culprit_share = 0;
    double parent_self = 0;  // self cost / total
    double culprit_self = 0;

    double change() const { return culprit_share - parent_share; }  // in shares (0.05 = 5 points)
};

struct ProfileDiff {
    // Functions in both profiles whose inclusive share grew, most first.
    std::vector<FunctionChange> grew;
    // Functions only the culprit's profile has (new code, or code the
    // compiler inlined into a caller in the parent), largest share first.
    std::vector<FunctionChange> appeared;
    double total_change = 0;  // culprit's total per run / parent's - 1
};

// At most `top` entries in each list; functions below 0.1 % of both
// profiles, shares that grew by less than 0.05 points, and unresolved
// addresses ("0x4011a0") are left out.
ProfileDiff diff_profiles(const FlatProfile& parent, const FlatProfile& culprit, std::size_t top);

// A readable name for a demangled C++ symbol: template arguments and
// parameter lists shortened to <…> and (…), the return type and a trailing
// parameter list dropped: "void ns::sort<std::vector<int>>(It, It)" ->
// "ns::sort<…>". Names that are not C++ come back unchanged.
std::string short_function_name(std::string_view name);

}  // namespace perfbisect
