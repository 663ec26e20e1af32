#include "app/application.h"

namespace fides::app {

Result<std::optional<Bytes>> BlockState::get(ByteView key) const {
    if (auto it = m_txWrites.find(key); it != m_txWrites.end()) return std::optional<Bytes>(it->second);
    if (auto it = m_blockWrites.find(key); it != m_blockWrites.end()) return std::optional<Bytes>(it->second);
    return m_committed.get(key);
}

Result<bool> BlockState::exists(ByteView key) const {
    if (m_txWrites.find(key) != m_txWrites.end() || m_blockWrites.find(key) != m_blockWrites.end()) return true;
    return m_committed.exists(key);
}

void BlockState::put(ByteView key, Bytes value) {
    if (auto it = m_txWrites.find(key); it != m_txWrites.end()) {
        it->second = std::move(value);
    } else {
        m_txWrites.emplace(Bytes(key.begin(), key.end()), std::move(value));
    }
}

void BlockState::commitTx() {
    // Moves the transaction's entries over (no key copies); a key the block
    // wrote already takes the newer value.
    for (auto it = m_txWrites.begin(); it != m_txWrites.end();) {
        auto node = m_txWrites.extract(it++);
        m_blockWrites.insert_or_assign(std::move(node.key()), std::move(node.mapped()));
    }
}

}  // namespace fides::app
