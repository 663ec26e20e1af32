// Merkle hash trees per RFC 6962 §2.1 / RFC 9162 §2.1 (see merkle.h).
//
// Roots are computed bottom-up with a stack of perfect-subtree roots (the
// shape of a compact range): pushing leaf i merges the stack as many times as
// i + 1 has trailing zero bits, and the remaining entries are folded right to
// left at the end. This yields exactly MTH's left-balanced tree (split at the
// largest power of two smaller than n) with n - 1 node hashes and O(log n)
// memory. Proofs walk RFC 9162's recursion iteratively over index ranges
// without copying leaf vectors.
//
// Thread-safety: all functions are safe to call concurrently; leafHash and
// nodeHash reuse a thread_local SHA-256 instance, the others a local one.
#include "primitives/merkle.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <string>

namespace fides::merkle {

namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;

Hash256 hashNode(crypto::Sha256& sha, const Hash256& left, const Hash256& right) {
    return sha.update(kNodePrefix).update(left).update(right).finish();
}

// Largest power of two strictly smaller than n; requires n >= 2.
std::size_t splitPoint(std::size_t n) { return std::bit_floor(n - 1); }

// MTH over the leaf hashes p[0..n).
Hash256 rangeRoot(const Hash256* p, std::size_t n, crypto::Sha256& sha) {
    if (n == 0) return emptyRoot();
    // At most one entry per set bit of the running count: 64 suffices.
    Hash256 stack[64];
    std::size_t top = 0;
    for (std::size_t i = 0; i < n; ++i) {
        Hash256 h = p[i];
        for (std::size_t count = i + 1; (count & 1) == 0; count >>= 1) {
            h = hashNode(sha, stack[--top], h);
        }
        stack[top++] = h;
    }
    Hash256 root = stack[--top];
    while (top > 0) root = hashNode(sha, stack[--top], root);
    return root;
}

}  // namespace

Hash256 leafHash(ByteView leaf) {
    thread_local crypto::Sha256 sha;
    return sha.update(kLeafPrefix).update(leaf).finish();
}

Hash256 nodeHash(const Hash256& left, const Hash256& right) {
    thread_local crypto::Sha256 sha;
    return hashNode(sha, left, right);
}

Hash256 emptyRoot() {
    // SHA-256 of the empty string.
    static const Hash256 kEmpty(std::array<std::uint8_t, Hash256::kSize>{
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55});
    return kEmpty;
}

Hash256 rootFromLeafHashes(const std::vector<Hash256>& leafHashes) {
    if (leafHashes.empty()) return emptyRoot();
    crypto::Sha256 sha;
    return rangeRoot(leafHashes.data(), leafHashes.size(), sha);
}

Result<std::vector<Hash256>> inclusionProof(const std::vector<Hash256>& leafHashes, std::uint64_t index) {
    const std::size_t n = leafHashes.size();
    if (index >= n) {
        return Status::invalidArgument("inclusion proof: leaf index " + std::to_string(index) +
                                       " out of range for tree size " + std::to_string(n));
    }
    // PATH(m, D[lo:hi]): split at k; the sibling subtree is appended after the
    // sub-path, so siblings collected top-down are reversed at the end.
    crypto::Sha256 sha;
    std::vector<Hash256> path;
    path.reserve(64);
    const Hash256* d = leafHashes.data();
    std::size_t lo = 0;
    std::size_t hi = n;
    const auto m = static_cast<std::size_t>(index);
    while (hi - lo > 1) {
        const std::size_t k = splitPoint(hi - lo);
        if (m < lo + k) {
            path.push_back(rangeRoot(d + lo + k, hi - lo - k, sha));
            hi = lo + k;
        } else {
            path.push_back(rangeRoot(d + lo, k, sha));
            lo += k;
        }
    }
    std::reverse(path.begin(), path.end());
    return path;
}

Result<std::vector<Hash256>> consistencyProof(const std::vector<Hash256>& leafHashes, std::uint64_t oldSize) {
    const std::size_t n = leafHashes.size();
    if (oldSize == 0 || oldSize > n) {
        return Status::invalidArgument("consistency proof: old size " + std::to_string(oldSize) +
                                       " not in [1, " + std::to_string(n) + "]");
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled. Each step appends one subtree hash
    // after the recursive part, so the collected hashes are reversed at the end.
    crypto::Sha256 sha;
    std::vector<Hash256> proof;
    proof.reserve(64);
    const Hash256* d = leafHashes.data();
    std::size_t lo = 0;
    std::size_t hi = n;
    auto m = static_cast<std::size_t>(oldSize);
    bool completeSubtree = true;  // RFC's b: D[lo:lo+m] is the old tree itself
    while (m != hi - lo) {
        const std::size_t k = splitPoint(hi - lo);
        if (m <= k) {
            proof.push_back(rangeRoot(d + lo + k, hi - lo - k, sha));
            hi = lo + k;
        } else {
            proof.push_back(rangeRoot(d + lo, k, sha));
            lo += k;
            m -= k;
            completeSubtree = false;
        }
    }
    if (!completeSubtree) proof.push_back(rangeRoot(d + lo, hi - lo, sha));
    std::reverse(proof.begin(), proof.end());
    return proof;
}

bool verifyInclusion(const Hash256& leafHash, std::uint64_t index, std::uint64_t treeSize,
                     const std::vector<Hash256>& proof, const Hash256& root) {
    // RFC 9162 §2.1.3.2.
    // 1. leaf_index must be < tree_size.
    if (index >= treeSize) return false;
    // 2.-3.
    std::uint64_t fn = index;
    std::uint64_t sn = treeSize - 1;
    crypto::Sha256 sha;
    Hash256 r = leafHash;
    // 4.
    for (const Hash256& p : proof) {
        // a.
        if (sn == 0) return false;
        // b.
        if ((fn & 1) != 0 || fn == sn) {
            r = hashNode(sha, p, r);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = hashNode(sha, r, p);
        }
        // c.
        fn >>= 1;
        sn >>= 1;
    }
    // 5.
    return sn == 0 && r == root;
}

bool verifyConsistency(std::uint64_t oldSize, std::uint64_t newSize, const Hash256& oldRoot,
                       const Hash256& newRoot, const std::vector<Hash256>& proof) {
    // Cases outside RFC 9162's 0 < first < second: a tree is consistent with
    // itself (empty proof, equal roots, as PROOF(n, D[n]) is empty); nothing
    // is proven from the empty tree or towards a smaller tree.
    if (oldSize > newSize) return false;
    if (oldSize == newSize) return proof.empty() && oldRoot == newRoot;
    if (oldSize == 0) return false;

    // RFC 9162 §2.1.4.2.
    // 1.
    if (proof.empty()) return false;
    // 2. A power-of-two old tree is a complete subtree whose root the proof
    //    omits: it is taken as the first path element.
    const bool prependOld = std::has_single_bit(oldSize);
    const std::size_t total = proof.size() + (prependOld ? 1 : 0);
    auto element = [&](std::size_t i) -> const Hash256& {
        if (prependOld) return i == 0 ? oldRoot : proof[i - 1];
        return proof[i];
    };
    // 3.
    std::uint64_t fn = oldSize - 1;
    std::uint64_t sn = newSize - 1;
    // 4.
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    // 5.
    Hash256 fr = element(0);
    Hash256 sr = element(0);
    crypto::Sha256 sha;
    // 6.
    for (std::size_t i = 1; i < total; ++i) {
        const Hash256& c = element(i);
        // a.
        if (sn == 0) return false;
        // b.
        if ((fn & 1) != 0 || fn == sn) {
            fr = hashNode(sha, c, fr);
            sr = hashNode(sha, c, sr);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = hashNode(sha, sr, c);
        }
        // c.
        fn >>= 1;
        sn >>= 1;
    }
    // 7.
    return fr == oldRoot && sr == newRoot && sn == 0;
}

}  // namespace fides::merkle

namespace fides::merkle {

void Frontier::append(const Hash256& leafHash) {
    // The new leaf is a perfect subtree of size 1; while the previous peak
    // covers a subtree of the same size (the low bits of the old size), the
    // two merge.
    Hash256 carry = leafHash;
    std::uint64_t n = m_size;
    while ((n & 1u) != 0) {
        carry = nodeHash(m_peaks.back(), carry);
        m_peaks.pop_back();
        n >>= 1;
    }
    m_peaks.push_back(carry);
    ++m_size;
}

Hash256 Frontier::root() const {
    if (m_peaks.empty()) return emptyRoot();
    // RFC 6962 splits at the largest power of two: the root folds the peaks
    // from the smallest (rightmost) to the largest.
    Hash256 h = m_peaks.back();
    for (std::size_t i = m_peaks.size() - 1; i-- > 0;) h = nodeHash(m_peaks[i], h);
    return h;
}

Bytes Frontier::encode() const {
    Bytes out;
    out.reserve(8 + 32 * m_peaks.size());
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(m_size >> shift));
    for (const auto& p : m_peaks) out.insert(out.end(), p.bytes().begin(), p.bytes().end());
    return out;
}

Result<Frontier> Frontier::decode(ByteView bytes) {
    if (bytes.size() < 8) return Status::invalidArgument("log head: shorter than its size field");
    Frontier f;
    for (std::size_t i = 0; i < 8; ++i) f.m_size = (f.m_size << 8) | bytes[i];
    const auto peaks = static_cast<std::size_t>(std::popcount(f.m_size));
    if (bytes.size() != 8 + 32 * peaks) {
        return Status::invalidArgument("log head: a size of " + std::to_string(f.m_size) + " needs " +
                                       std::to_string(peaks) + " subtree roots");
    }
    for (std::size_t i = 0; i < peaks; ++i) {
        f.m_peaks.push_back(*Hash256::fromBytes(bytes.subspan(8 + 32 * i, 32)));
    }
    return f;
}

}  // namespace fides::merkle
