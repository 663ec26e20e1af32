#include "app/application.h"

namespace fides::app {

Result<std::optional<Bytes>> StagedState::get(ByteView key) const {
    if (auto it = m_txWrites.find(key); it != m_txWrites.end()) return it->second;
    if (auto it = m_blockWrites.find(key); it != m_blockWrites.end()) return it->second;
    return m_committed.get(key);
}

Result<bool> StagedState::exists(ByteView key) const {
    if (auto it = m_txWrites.find(key); it != m_txWrites.end()) return it->second.has_value();
    if (auto it = m_blockWrites.find(key); it != m_blockWrites.end()) return it->second.has_value();
    return m_committed.exists(key);
}

void StagedState::stage(ByteView key, std::optional<Bytes> value) {
    if (auto it = m_txWrites.find(key); it != m_txWrites.end()) {
        it->second = std::move(value);
    } else {
        m_txWrites.emplace(Bytes(key.begin(), key.end()), std::move(value));
    }
}

void StagedState::commitTx() {
    // Moves the transaction's entries over (no key copies); a key the block
    // wrote already takes the newer value (or erasure).
    for (auto it = m_txWrites.begin(); it != m_txWrites.end();) {
        auto node = m_txWrites.extract(it++);
        m_blockWrites.insert_or_assign(std::move(node.key()), std::move(node.mapped()));
    }
}

Status BlockState::allowed(ByteView key, const char* what) const {
    const bool inside = key.size() >= m_prefix.size() &&
                        std::equal(m_prefix.begin(), m_prefix.end(), key.begin(),
                                   [](char c, std::uint8_t b) { return static_cast<std::uint8_t>(c) == b; });
    if (!inside) {
        return Status::internal("application '" + std::string(m_owner) + "' may " + what +
                                " only keys under '" + std::string(m_prefix) + "'");
    }
    return Status::ok();
}

Status BlockState::put(ByteView key, Bytes value) {
    FIDES_RETURN_IF_ERROR(allowed(key, "write"));
    m_staged.put(key, std::move(value));
    return Status::ok();
}

Status BlockState::erase(ByteView key) {
    FIDES_RETURN_IF_ERROR(allowed(key, "erase"));
    m_staged.erase(key);
    return Status::ok();
}

}  // namespace fides::app
