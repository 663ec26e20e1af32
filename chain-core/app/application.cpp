#include "app/application.h"

namespace fides::app {

Result<std::optional<Bytes>> BlockState::get(ByteView key) const {
    Bytes k(key.begin(), key.end());
    if (auto it = m_txWrites.find(k); it != m_txWrites.end()) return std::optional<Bytes>(it->second);
    if (auto it = m_blockWrites.find(k); it != m_blockWrites.end()) return std::optional<Bytes>(it->second);
    return m_committed.get(key);
}

Result<bool> BlockState::exists(ByteView key) const {
    Bytes k(key.begin(), key.end());
    if (m_txWrites.count(k) != 0 || m_blockWrites.count(k) != 0) return true;
    return m_committed.exists(key);
}

void BlockState::put(ByteView key, Bytes value) {
    m_txWrites[Bytes(key.begin(), key.end())] = std::move(value);
}

void BlockState::commitTx() {
    for (auto& [k, v] : m_txWrites) m_blockWrites[k] = std::move(v);
    m_txWrites.clear();
}

}  // namespace fides::app
