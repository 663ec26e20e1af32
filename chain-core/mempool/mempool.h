// Mempool: transactions admitted (decoded, signature verified once, checked
// by their application) and waiting for a block. Bounded by count and bytes;
// a full pool answers RESOURCE_EXHAUSTED (back-pressure, never unbounded
// memory). Deduplicated by transaction hash, including against the hashes of
// the last few committed blocks, which closes the window between "not yet in
// the store" and "no longer in the pool" (see admit()).
//
// Order is first-in, first-out. The block producer reads a batch from the
// front with front(), and after the block is durable calls
// removeCommitted() with what it included or dropped.
//
// Thread-safety: thread-safe.
#pragma once

#include "crypto/hash.h"
#include "primitives/transaction.h"
#include "util/status.h"

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

namespace fides {

struct MempoolLimits {
    std::size_t maxTransactions = 200'000;
    std::size_t maxBytes = 256u << 20;
};

struct MempoolEntry {
    crypto::Hash256 hash;
    Bytes encoded;
    Transaction tx;
};

class Mempool {
public:
    explicit Mempool(MempoolLimits limits) : m_limits(limits) {}

    // A token taken before checking the store for a transaction hash; admit()
    // uses it to tell whether blocks were committed in the meantime.
    std::uint64_t generation() const;

    // ALREADY_EXISTS if pooled or committed within the remembered blocks;
    // RESOURCE_EXHAUSTED if full; UNAVAILABLE if more blocks were committed
    // since `generationAtCheck` than are remembered (the caller retries).
    Status admit(std::shared_ptr<const MempoolEntry> entry, std::uint64_t generationAtCheck);
    // admit() for each entry, in order, under one lock.
    std::vector<Status> admit(std::vector<std::shared_ptr<const MempoolEntry>> entries,
                              std::uint64_t generationAtCheck);

    // The pooled entry for each hash (nullptr where absent), under one lock:
    // a validator checking a proposed block reuses what admission decoded
    // and verified.
    std::vector<std::shared_ptr<const MempoolEntry>> find(const std::vector<crypto::Hash256>& hashes) const;
    // Up to maxTxs / maxBytes entries from the front, without removing them.
    std::vector<std::shared_ptr<const MempoolEntry>> front(std::size_t maxTxs, std::size_t maxBytes) const;
    // Removes the given entries (included in or dropped from a durable
    // block) and remembers the hashes of the included ones.
    void removeCommitted(const std::vector<crypto::Hash256>& included,
                         const std::vector<crypto::Hash256>& dropped);
    // Removes every entry that expired by `blockTimeMs` (expiry * 1000 <=
    // it) and returns their hashes: a committed block's time has passed
    // their expiry, so no valid block can include them any more. Every
    // validator calls it after each commit (not only the proposer, which
    // drops them from what it builds). Scans the pool at most once per
    // second of block time, since expiries are in whole seconds.
    std::vector<crypto::Hash256> evictExpired(std::uint64_t blockTimeMs);

    std::size_t size() const;
    std::size_t bytes() const;

    static constexpr std::size_t kRememberedBlocks = 16;

private:
    void eraseLocked(const crypto::Hash256& hash);
    Status admitLocked(std::shared_ptr<const MempoolEntry> entry, std::uint64_t generationAtCheck);

    MempoolLimits m_limits;
    mutable std::mutex m_mutex;
    std::list<std::shared_ptr<const MempoolEntry>> m_fifo;
    crypto::Hash256Map<std::list<std::shared_ptr<const MempoolEntry>>::iterator> m_index;
    std::size_t m_bytes = 0;
    std::uint64_t m_generation = 0;
    std::uint64_t m_expiryScannedSecond = 0;
    std::deque<std::vector<crypto::Hash256>> m_recentBlocks;
    crypto::Hash256Set m_recent;
};

}  // namespace fides
