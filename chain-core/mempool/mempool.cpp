#include "mempool/mempool.h"

namespace fides {

std::uint64_t Mempool::generation() const {
    std::lock_guard lock(m_mutex);
    return m_generation;
}

Status Mempool::admit(std::shared_ptr<const MempoolEntry> entry, std::uint64_t generationAtCheck) {
    std::lock_guard lock(m_mutex);
    return admitLocked(std::move(entry), generationAtCheck);
}

std::vector<Status> Mempool::admit(std::vector<std::shared_ptr<const MempoolEntry>> entries,
                                   std::uint64_t generationAtCheck) {
    std::vector<Status> out;
    out.reserve(entries.size());
    std::lock_guard lock(m_mutex);
    for (auto& e : entries) out.push_back(admitLocked(std::move(e), generationAtCheck));
    return out;
}

Status Mempool::admitLocked(std::shared_ptr<const MempoolEntry> entry, std::uint64_t generationAtCheck) {
    if (m_generation - generationAtCheck >= kRememberedBlocks) {
        return Status::unavailable("node is busy committing blocks; retry the submission");
    }
    if (m_index.count(entry->hash) != 0)
        return Status::alreadyExists("transaction is already in the mempool");
    if (m_recent.count(entry->hash) != 0) return Status::alreadyExists("transaction is already committed");
    if (m_fifo.size() >= m_limits.maxTransactions || m_bytes + entry->encoded.size() > m_limits.maxBytes) {
        return Status::resourceExhausted("mempool is full (" + std::to_string(m_fifo.size()) +
                                         " transactions, " + std::to_string(m_bytes) +
                                         " bytes); retry later");
    }
    m_bytes += entry->encoded.size();
    const crypto::Hash256 hash = entry->hash;
    m_fifo.push_back(std::move(entry));
    m_index.emplace(hash, std::prev(m_fifo.end()));
    return Status::ok();
}

std::vector<std::shared_ptr<const MempoolEntry>> Mempool::find(
    const std::vector<crypto::Hash256>& hashes) const {
    std::vector<std::shared_ptr<const MempoolEntry>> out;
    out.reserve(hashes.size());
    std::lock_guard lock(m_mutex);
    for (const auto& h : hashes) {
        auto it = m_index.find(h);
        out.push_back(it == m_index.end() ? nullptr : *it->second);
    }
    return out;
}

std::vector<std::shared_ptr<const MempoolEntry>> Mempool::front(std::size_t maxTxs,
                                                                std::size_t maxBytes) const {
    std::lock_guard lock(m_mutex);
    std::vector<std::shared_ptr<const MempoolEntry>> out;
    std::size_t bytes = 0;
    for (const auto& e : m_fifo) {
        if (out.size() >= maxTxs || bytes + e->encoded.size() > maxBytes) break;
        bytes += e->encoded.size();
        out.push_back(e);
    }
    return out;
}

void Mempool::eraseLocked(const crypto::Hash256& hash) {
    auto it = m_index.find(hash);
    if (it == m_index.end()) return;
    m_bytes -= (*it->second)->encoded.size();
    m_fifo.erase(it->second);
    m_index.erase(it);
}

void Mempool::removeCommitted(const std::vector<crypto::Hash256>& included,
                              const std::vector<crypto::Hash256>& dropped) {
    std::lock_guard lock(m_mutex);
    for (const auto& h : included) eraseLocked(h);
    for (const auto& h : dropped) eraseLocked(h);
    m_recentBlocks.push_back(included);
    m_recent.insert(included.begin(), included.end());
    while (m_recentBlocks.size() > kRememberedBlocks) {
        for (const auto& h : m_recentBlocks.front()) m_recent.erase(h);
        m_recentBlocks.pop_front();
    }
    ++m_generation;
}

std::vector<crypto::Hash256> Mempool::evictExpired(std::uint64_t blockTimeMs) {
    std::vector<crypto::Hash256> out;
    std::lock_guard lock(m_mutex);
    const std::uint64_t second = blockTimeMs / 1000;
    if (second <= m_expiryScannedSecond) return out;
    m_expiryScannedSecond = second;
    for (const auto& e : m_fifo) {
        if (e->tx.expiry * 1000 <= blockTimeMs) out.push_back(e->hash);
    }
    for (const auto& h : out) eraseLocked(h);
    return out;
}

std::size_t Mempool::size() const {
    std::lock_guard lock(m_mutex);
    return m_fifo.size();
}

std::size_t Mempool::bytes() const {
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

}  // namespace fides
