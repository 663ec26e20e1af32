// Authenticated application state: a compressed binary sparse Merkle tree
// (a Patricia trie over 256-bit key hashes), root hash in every block header.
//
// Keys are arbitrary byte strings; their position in the tree is
// keyHash = SHA-256(key). Each subtree that holds exactly one entry is
// represented by that entry's leaf, placed at the shallowest depth where its
// key-hash prefix is unique; subtrees holding none are "empty". Hashes
// (doc/spec/state-tree.md):
//   empty    = 32 zero bytes
//   leaf     = SHA-256(0x00 || keyHash || SHA-256(value))
//   internal = SHA-256(0x01 || left || right)
// The shape depends only on the set of keys, so equal contents give equal
// roots regardless of insertion order.
//
// A proof for a key walks from the root to where the key's path ends: it
// lists the sibling hashes top-down and the terminal it found there — the
// key's own leaf (inclusion), an empty subtree, or a leaf of another key that
// shares the path (absence). verifyStateProof checks it against a root.
//
// Thread-safety: StateTree is not thread-safe; the node serialises access.
// A Version is immutable once built and may outlive changes to the tree.
// StateProof and verifyStateProof are plain values/functions.
#pragma once

#include "crypto/hash.h"
#include "util/bytes.h"
#include "util/status.h"

#include <memory>
#include <optional>
#include <vector>

namespace fides::state {

using crypto::Hash256;

struct StateProof {
    enum class Terminal : std::uint8_t { Empty = 0, Leaf = 1 };
    std::vector<Hash256> siblings;  // from the root down; size = depth of the terminal
    Terminal terminal = Terminal::Empty;
    Hash256 leafKeyHash;    // when terminal == Leaf
    Hash256 leafValueHash;  // when terminal == Leaf

    Bytes encode() const;  // canonical, doc/spec/state-tree.md
    static Result<StateProof> decode(ByteView bytes);
};

// Verifies `proof` for `key` against `root`. If `value` is set, succeeds only
// if the proof shows key -> value (inclusion); if it is nullopt, succeeds only
// if the proof shows the key absent.
[[nodiscard]] bool verifyStateProof(const Hash256& root, ByteView key, const std::optional<Bytes>& value,
                                    const StateProof& proof);

class StateTree {
    struct Node;
    using NodePtr = std::shared_ptr<Node>;

public:
    // The tree with one block's writes applied, built beside the tree without
    // changing it: unchanged subtrees are shared, changed paths are copies,
    // hashes are computed once. A block is executed into a Version when it
    // is proposed or validated; committing it adopts the Version (no second
    // pass over its writes, no second hashing).
    class Version {
    public:
        const Hash256& root() const { return m_rootHash; }

    private:
        friend class StateTree;
        NodePtr m_root;
        std::size_t m_size = 0;
        Hash256 m_rootHash;
        std::uint64_t m_baseGeneration = 0;  // the tree's generation it was built on
    };

    StateTree();
    ~StateTree();
    StateTree(StateTree&&) noexcept;
    StateTree& operator=(StateTree&&) noexcept;

    // Inserts or replaces by key hash (the tree stores hashes only; values
    // live in storage).
    void put(const Hash256& keyHash, const Hash256& valueHash);
    // Removes an entry, restoring the canonical shape (a subtree left with
    // one entry becomes that entry's leaf). False if it was absent.
    bool erase(const Hash256& keyHash);
    // The tree with `writes` applied (key hash, value hash; later writes
    // win), then `erasures` removed (keys absent are ignored); the tree
    // itself does not change. The writes go in in key-hash order, so that
    // consecutive ones walk shared paths still in cache.
    Version speculate(std::vector<std::pair<Hash256, Hash256>> writes,
                      const std::vector<Hash256>& erasures = {});
    // Moves the tree to `version` if it was built on the tree as it is now;
    // false (and no change) if the tree changed since.
    bool adopt(const Version& version);
    bool contains(const Hash256& keyHash) const;
    std::optional<Hash256> valueHash(const Hash256& keyHash) const;
    std::size_t size() const;

    // Recomputes hashes of changed subtrees only.
    Hash256 root();
    // Proof for a key hash against the current root().
    StateProof prove(const Hash256& keyHash);

private:
    static void putInto(NodePtr& root, std::size_t& size, const Hash256& keyHash, const Hash256& valueHash,
                        std::uint64_t epoch);
    static bool eraseFrom(NodePtr& root, std::size_t& size, const Hash256& keyHash, std::uint64_t epoch);
    NodePtr m_root;
    std::size_t m_size = 0;
    // Nodes stamped with m_epoch belong to this tree alone and change in
    // place; any other node may be shared with a Version and is copied
    // before it changes. m_generation is fresh after every change of the
    // tree (unique across trees): a Version adopts only onto its own base.
    std::uint64_t m_epoch;
    std::uint64_t m_generation;
};

// Convenience: keyHash for a key.
Hash256 keyHashOf(ByteView key);

}  // namespace fides::state
