// HashFilter: a scalable Bloom filter over 32-byte hashes (Almeida et al.,
// "Scalable Bloom Filters", 2007): answers "certainly absent" or "maybe
// present", never a false "absent". The block store keeps one over the
// committed transaction hashes, so that admission's replay check (a new
// transaction, almost always absent) needs no SQL read transaction.
//
// Levels of 2^23, 2^24, ... bits, each filled to one entry per 10 bits with
// 7 probes; a full level is followed by one twice as large. The filter is
// blocked (Putze, Sanders, Singler, "Cache-, Hash- and Space-Efficient Bloom
// Filters", 2007): a hash's 7 probes fall in one 512-bit block, one cache
// line, at about 1 % false positives per full level instead of 0.8 %. The
// probes are words of the hash itself: the hashes are SHA-256 outputs.
// Someone who grinds hashes to collide only makes the store look the answer
// up in SQL.
//
// Thread-safety: one writer (insert) and any number of concurrent readers
// (mayContain). A reader sees every insert that happened before something it
// synchronised with (the bits are atomics; a new level is published with
// release semantics).
#pragma once

#include "crypto/hash.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace fides::storage {

class HashFilter {
public:
    HashFilter();
    ~HashFilter();
    HashFilter(const HashFilter&) = delete;
    HashFilter& operator=(const HashFilter&) = delete;

    void insert(const crypto::Hash256& h);
    bool mayContain(const crypto::Hash256& h) const;

    std::uint64_t size() const { return m_inserted.load(std::memory_order_relaxed); }
    std::size_t levels() const { return m_levels.load(std::memory_order_acquire); }
    std::size_t memoryBytes() const;

    static constexpr unsigned kFirstLevelBits = 23;
    static constexpr unsigned kMaxLevels = 24;  // up to 2^46 bits: far beyond any chain
    static constexpr unsigned kProbes = 7;
    static constexpr unsigned kBitsPerEntry = 10;

private:
    struct Level;
    std::array<std::unique_ptr<Level>, kMaxLevels> m_level;
    std::atomic<std::size_t> m_levels{0};
    std::uint64_t m_inLast = 0;  // entries in the last level (writer only)
    std::atomic<std::uint64_t> m_inserted{0};
};

}  // namespace fides::storage
