#include "builders/artifact_store.hpp"

#include <spdlog/spdlog.h>

namespace perfbisect {

std::uint64_t directory_bytes(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::uint64_t total = 0;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
            total += it->file_size(ec);
        }
    }
    return total;
}

ArtifactStore::ArtifactStore(Cache& cache, std::filesystem::path root, std::uint64_t max_bytes)
    : m_cache(cache), m_root(std::move(root)), m_max_bytes(max_bytes) {}

std::filesystem::path ArtifactStore::directory(const std::string& fingerprint,
                                               const std::string& tree) const {
    return m_root / fingerprint / tree;
}

std::optional<std::filesystem::path> ArtifactStore::find(const std::string& fingerprint,
                                                         const std::string& tree) {
    const auto found = m_cache.find_artifact(fingerprint, tree);
    if (!found) {
        return std::nullopt;
    }
    if (!std::filesystem::is_directory(found->path)) {
        m_cache.remove_artifact(fingerprint, tree);
        return std::nullopt;
    }
    m_cache.touch_artifact(fingerprint, tree);
    return std::filesystem::path(found->path);
}

std::vector<std::filesystem::path> ArtifactStore::add(const std::string& fingerprint,
                                                      const std::string& tree,
                                                      const std::set<std::string>& keep) {
    ArtifactRecord record;
    record.fingerprint = fingerprint;
    record.tree_id = tree;
    record.path = directory(fingerprint, tree).string();
    record.bytes = static_cast<std::int64_t>(directory_bytes(record.path));
    m_cache.store_artifact(record);

    std::vector<std::filesystem::path> evicted;
    if (m_max_bytes == 0) {
        return evicted;
    }
    std::uint64_t total = total_bytes();
    for (const auto& entry : m_cache.list_artifacts()) {
        if (total <= m_max_bytes) {
            break;
        }
        const bool kept = entry.fingerprint == fingerprint &&
                          (entry.tree_id == tree || keep.count(entry.tree_id) != 0);
        if (kept) {
            continue;
        }
        std::error_code ec;
        std::filesystem::remove_all(entry.path, ec);
        if (ec) {
            spdlog::warn("cannot evict {}: {}", entry.path, ec.message());
            continue;
        }
        m_cache.remove_artifact(entry.fingerprint, entry.tree_id);
        total -= std::min<std::uint64_t>(total, static_cast<std::uint64_t>(entry.bytes));
        evicted.emplace_back(entry.path);
        spdlog::debug("evicted {} ({} bytes) to stay within the artifact budget", entry.path,
                      entry.bytes);
    }
    return evicted;
}

std::uint64_t ArtifactStore::total_bytes() {
    std::uint64_t total = 0;
    for (const auto& entry : m_cache.list_artifacts()) {
        total += static_cast<std::uint64_t>(entry.bytes);
    }
    return total;
}

}  // namespace perfbisect
