#pragma once

// Which node runs which entry of a round of a measure action, when W nodes
// measure at once ([executor] nodes, docs/slurm.md). The session driver
// dispatches by it and the simulator (bisect/simulation.hpp) models it, so the
// figures of bench_parallel describe what the driver does.

#include <cstddef>
#include <cstdint>

namespace perfbisect {

// [executor] blocking.
//  off:    entry j of a round runs on node j mod W: W runs at a time, each
//          node its own commits, no run more than on one node.
//  full:   every node runs every entry of the round, each node as a round of
//          its own: W times the runs, and each node's round compares commits
//          on that node alone (Pinpoint's device affinity).
//  rotate: entry j of round r runs on node (j + r) mod W: no more runs than
//          off, and a commit measured in W rounds has visited every node, so
//          the planner can estimate each node's offset within commits.
enum class NodeBlocking { off, full, rotate };

inline const char* to_string(NodeBlocking blocking) {
    switch (blocking) {
        case NodeBlocking::full:
            return "full";
        case NodeBlocking::rotate:
            return "rotate";
        case NodeBlocking::off:
            break;
    }
    return "off";
}

// The node of entry j in round `round` (any count of the session's rounds)
// on `nodes` nodes, for off and rotate. (full runs every entry on every node.)
inline std::size_t node_of_entry(NodeBlocking blocking, std::size_t entry, std::size_t nodes,
                                 std::int64_t round) {
    if (nodes <= 1) {
        return 0;
    }
    const std::size_t shift =
        blocking == NodeBlocking::rotate ? static_cast<std::size_t>(round < 0 ? -round : round) : 0;
    return (entry + shift) % nodes;
}

}  // namespace perfbisect
