#pragma once

// The artifact store: the saved artifacts of every successful build, one
// directory per (build fingerprint, tree), so two commits with the same tree
// share one build and any built commit can be measured again without building.
// The files live under root/<fingerprint>/<tree>; the cache's artifacts table
// knows each entry's size and when it was last used, and the store evicts the
// least recently used entries beyond a size budget.
//
// Not thread-safe (it uses the caller's Cache). Two processes may share a
// store; an entry evicted by one while the other measures it makes that
// measurement fail, and the commit is built again.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache.hpp"

namespace perfbisect {

class ArtifactStore {
public:
    // max_bytes 0: no budget.
    ArtifactStore(Cache& cache, std::filesystem::path root, std::uint64_t max_bytes);

    // Where the artifacts of (fingerprint, tree) are (or are to be) saved.
    std::filesystem::path directory(const std::string& fingerprint, const std::string& tree) const;

    // The saved artifacts of tree, or nullopt when there are none (an entry
    // whose directory has gone is forgotten). A hit counts as a use.
    std::optional<std::filesystem::path> find(const std::string& fingerprint,
                                              const std::string& tree);

    // Records what is now in directory(fingerprint, tree) as used now, then
    // evicts least recently used entries until the store fits its budget. The
    // entry just added and the trees in keep (for this fingerprint) are never
    // evicted, so the store may stay above its budget. Returns the directories
    // removed.
    std::vector<std::filesystem::path> add(const std::string& fingerprint, const std::string& tree,
                                           const std::set<std::string>& keep);

    // The total size of the entries, bytes.
    std::uint64_t total_bytes();

private:
    Cache& m_cache;
    std::filesystem::path m_root;
    std::uint64_t m_max_bytes;
};

// The size of the regular files below path (symbolic links not followed), bytes.
std::uint64_t directory_bytes(const std::filesystem::path& path);

}  // namespace perfbisect
