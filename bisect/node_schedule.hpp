#pragma once

// Which node runs which entry of a round of a measure action, when W nodes
// measure at once ([executor] nodes, docs/slurm.md). The session driver
// dispatches by it and the simulator (bisect/simulation.hpp) models it, so the
// figures of bench_parallel describe what the driver does.

#include <cstddef>
#include <cstdint>

#include "config/config.hpp"

namespace perfbisect {

// NodeBlocking ([executor] blocking) is declared in config/config.hpp.

// The node of entry j in round `round` (any count of the session's rounds)
// on `nodes` nodes, for off and rotate. (full runs every entry on every node.)
// The driver's lanes follow rotate's rule for off too, but with off they are
// not pinned and Slurm picks the node; the simulator's off (j mod W: a
// commit always on the same node) is the worst case of that.
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
