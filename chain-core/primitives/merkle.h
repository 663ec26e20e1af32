// Merkle hash trees per RFC 6962 §2.1 / RFC 9162 §2.1: leaf hash
// SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right), the empty
// tree hashes to SHA-256(""). Inclusion (audit) paths and consistency proofs
// follow RFC 9162 §2.1.3 and §2.1.4, including the verification algorithms.
//
// Thread-safety: free functions, thread-safe.
#pragma once

#include "crypto/hash.h"
#include "util/status.h"

#include <cstdint>
#include <vector>

namespace fides::merkle {

using crypto::Hash256;

Hash256 leafHash(ByteView leaf);
Hash256 nodeHash(const Hash256& left, const Hash256& right);
Hash256 emptyRoot();

// Root over already-hashed leaves (MTH of RFC 6962 with leaf hashes given).
Hash256 rootFromLeafHashes(const std::vector<Hash256>& leafHashes);

// Inclusion path for leaf `index` in a tree over `leafHashes`
// (RFC 9162 PATH(m, D[n])), ordered from the leaf upwards.
Result<std::vector<Hash256>> inclusionProof(const std::vector<Hash256>& leafHashes, std::uint64_t index);
// Consistency proof between the first `oldSize` leaves and all of them
// (RFC 9162 PROOF(m, D[n])).
Result<std::vector<Hash256>> consistencyProof(const std::vector<Hash256>& leafHashes, std::uint64_t oldSize);

// The compact form of an append-only tree: its size and the roots of its
// perfect subtrees, largest first (one per set bit of the size), from which
// the RFC 6962 root of all leaves so far follows. Appending costs O(log n)
// hashes and never needs the earlier leaves: what an application keeps in
// its state to commit to a list that only grows (primitives/append_log.h).
class Frontier {
public:
    static constexpr std::size_t kMaxPeaks = 64;

    void append(const Hash256& leafHash);
    std::uint64_t size() const { return m_size; }
    // MTH of the leaves appended so far (emptyRoot() for none): equal to
    // rootFromLeafHashes of the same leaf hashes.
    Hash256 root() const;
    const std::vector<Hash256>& peaks() const { return m_peaks; }

    // u64 size || the peaks (32 bytes each, as many as size has set bits).
    Bytes encode() const;
    static Result<Frontier> decode(ByteView bytes);
    bool operator==(const Frontier&) const = default;

private:
    std::uint64_t m_size = 0;
    std::vector<Hash256> m_peaks;
};

// RFC 9162 §2.1.3.2: true if `proof` shows `leafHash` at `index` in the tree
// of `treeSize` leaves with root `root`.
[[nodiscard]] bool verifyInclusion(const Hash256& leafHash, std::uint64_t index, std::uint64_t treeSize,
                                   const std::vector<Hash256>& proof, const Hash256& root);
// RFC 9162 §2.1.4.2.
[[nodiscard]] bool verifyConsistency(std::uint64_t oldSize, std::uint64_t newSize, const Hash256& oldRoot,
                                     const Hash256& newRoot, const std::vector<Hash256>& proof);

}  // namespace fides::merkle
