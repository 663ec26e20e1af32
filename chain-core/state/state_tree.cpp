// Compressed binary sparse Merkle tree; see state_tree.h and
// doc/spec/state-tree.md for the shape, hashes and proof format.
#include "state/state_tree.h"

#include "util/encoding.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <string>
#include <utility>

namespace fides::state {

namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kInternalPrefix = 0x01;
constexpr std::uint8_t kProofVersion = 1;
constexpr std::size_t kMaxDepth = 256;  // bits in a key hash

// Index of the first bit at or after `from` where a and b differ; a != b and
// their first `from` bits are equal.
std::size_t firstDifferingBit(const Hash256& a, const Hash256& b, std::size_t from) {
    for (std::size_t byte = from / 8; byte < Hash256::kSize; ++byte) {
        const auto x = static_cast<std::uint8_t>(a.array()[byte] ^ b.array()[byte]);
        if (x != 0) return byte * 8 + static_cast<std::size_t>(std::countl_zero(x));
    }
    return kMaxDepth;  // unreachable for distinct hashes
}

// True if the first `bits` bits of a and b are equal.
bool samePrefix(const Hash256& a, const Hash256& b, std::size_t bits) {
    const std::size_t full = bits / 8;
    for (std::size_t i = 0; i < full; ++i) {
        if (a.array()[i] != b.array()[i]) return false;
    }
    const std::size_t rest = bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
    return ((a.array()[full] ^ b.array()[full]) & mask) == 0;
}

Hash256 leafHash(crypto::Sha256& sha, const Hash256& keyHash, const Hash256& valueHash) {
    return sha.update(kLeafPrefix).update(keyHash).update(valueHash).finish();
}

Hash256 internalHash(crypto::Sha256& sha, const Hash256& left, const Hash256& right) {
    return sha.update(kInternalPrefix).update(left).update(right).finish();
}

// Epochs and generations are drawn from one process-wide counter, so no two
// trees (or a tree before and after a move) ever share one.
std::uint64_t nextStamp() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

}  // namespace

// A node is a Leaf or an Internal node; an empty subtree is a null pointer.
// Every node caches its hash; `dirty` means the cached hash is stale. Nodes
// are shared between the tree and Versions built on it; `epoch` says which
// of them created the node and may change it in place (see own()). The
// helpers are members because StateTree::Node is private to StateTree.
struct StateTree::Node {
    struct Leaf;
    struct Internal;

    Node(bool isLeaf, std::uint64_t e) : leaf(isLeaf), epoch(e) {}
    virtual ~Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    Leaf& asLeaf();
    const Leaf& asLeaf() const;
    Internal& asInternal();
    const Internal& asInternal() const;

    // Brings the cached hash of `node` (and of its dirty descendants) up to date.
    static const Hash256& refresh(Node& node, crypto::Sha256& sha);
    // The leaf for keyHash, or nullptr.
    static const Leaf* findLeaf(const Node* node, const Hash256& keyHash);
    // The node in `slot`, made changeable by `epoch`: a node another epoch
    // created (possibly shared) is replaced by a copy first.
    static Node& own(NodePtr& slot, std::uint64_t epoch);

    Hash256 hash;
    bool leaf;
    bool dirty = true;
    std::uint64_t epoch;
};

struct StateTree::Node::Leaf final : StateTree::Node {
    Leaf(const Hash256& k, const Hash256& v, std::uint64_t e) : Node(true, e), keyHash(k), valueHash(v) {}
    Hash256 keyHash;
    Hash256 valueHash;
};

struct StateTree::Node::Internal final : StateTree::Node {
    explicit Internal(std::uint64_t e) : Node(false, e) {}
    NodePtr child[2];  // [bit 0 = left, bit 1 = right]; null = empty
};

StateTree::Node::Leaf& StateTree::Node::asLeaf() { return static_cast<Leaf&>(*this); }
const StateTree::Node::Leaf& StateTree::Node::asLeaf() const { return static_cast<const Leaf&>(*this); }
StateTree::Node::Internal& StateTree::Node::asInternal() { return static_cast<Internal&>(*this); }
const StateTree::Node::Internal& StateTree::Node::asInternal() const {
    return static_cast<const Internal&>(*this);
}

StateTree::Node& StateTree::Node::own(NodePtr& slot, std::uint64_t epoch) {
    if (slot->epoch != epoch) {
        NodePtr copy;
        if (slot->leaf) {
            const Leaf& l = slot->asLeaf();
            copy = std::make_shared<Leaf>(l.keyHash, l.valueHash, epoch);
        } else {
            auto in = std::make_shared<Internal>(epoch);
            in->child[0] = slot->asInternal().child[0];
            in->child[1] = slot->asInternal().child[1];
            copy = std::move(in);
        }
        copy->hash = slot->hash;
        copy->dirty = slot->dirty;
        slot = std::move(copy);
    }
    return *slot;
}

const Hash256& StateTree::Node::refresh(Node& node, crypto::Sha256& sha) {
    if (!node.dirty) return node.hash;
    if (node.leaf) {
        const Leaf& l = node.asLeaf();
        node.hash = leafHash(sha, l.keyHash, l.valueHash);
    } else {
        Internal& in = node.asInternal();
        const Hash256 zero;
        const Hash256 left = in.child[0] ? refresh(*in.child[0], sha) : zero;
        const Hash256 right = in.child[1] ? refresh(*in.child[1], sha) : zero;
        node.hash = internalHash(sha, left, right);
    }
    node.dirty = false;
    return node.hash;
}

const StateTree::Node::Leaf* StateTree::Node::findLeaf(const Node* node, const Hash256& keyHash) {
    std::size_t depth = 0;
    while (node != nullptr) {
        if (node->leaf) {
            const Leaf& l = node->asLeaf();
            return l.keyHash == keyHash ? &l : nullptr;
        }
        node = node->asInternal().child[keyHash.bit(depth)].get();
        ++depth;
    }
    return nullptr;
}

// ---------------------------------------------------------------- StateProof

Bytes StateProof::encode() const {
    Writer w;
    w.u8(kProofVersion);
    w.u16(static_cast<std::uint16_t>(siblings.size()));
    for (const Hash256& s : siblings) w.fixed(s.bytes());
    w.u8(static_cast<std::uint8_t>(terminal));
    if (terminal == Terminal::Leaf) {
        w.fixed(leafKeyHash.bytes());
        w.fixed(leafValueHash.bytes());
    }
    return std::move(w).take();
}

Result<StateProof> StateProof::decode(ByteView bytes) {
    Reader r(bytes);
    std::uint8_t version = 0;
    FIDES_RETURN_IF_ERROR(r.u8(version));
    if (version != kProofVersion) {
        return Status::invalidArgument("state proof: unknown version " + std::to_string(version));
    }
    std::uint16_t count = 0;
    FIDES_RETURN_IF_ERROR(r.u16(count));
    if (count > kMaxDepth) {
        return Status::invalidArgument("state proof: " + std::to_string(count) +
                                       " siblings exceed the maximum depth 256");
    }
    StateProof proof;
    proof.siblings.reserve(count);
    std::array<std::uint8_t, Hash256::kSize> buf{};
    for (std::uint16_t i = 0; i < count; ++i) {
        FIDES_RETURN_IF_ERROR(r.fixed(buf));
        proof.siblings.emplace_back(buf);
    }
    std::uint8_t terminal = 0;
    FIDES_RETURN_IF_ERROR(r.u8(terminal));
    if (terminal == static_cast<std::uint8_t>(Terminal::Empty)) {
        proof.terminal = Terminal::Empty;
    } else if (terminal == static_cast<std::uint8_t>(Terminal::Leaf)) {
        proof.terminal = Terminal::Leaf;
        FIDES_RETURN_IF_ERROR(r.fixed(buf));
        proof.leafKeyHash = Hash256(buf);
        FIDES_RETURN_IF_ERROR(r.fixed(buf));
        proof.leafValueHash = Hash256(buf);
    } else {
        return Status::invalidArgument("state proof: unknown terminal " + std::to_string(terminal));
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    return proof;
}

bool verifyStateProof(const Hash256& root, ByteView key, const std::optional<Bytes>& value,
                      const StateProof& proof) {
    const std::size_t depth = proof.siblings.size();
    if (depth > kMaxDepth) return false;
    const Hash256 keyHash = keyHashOf(key);
    crypto::Sha256 sha;

    Hash256 h;  // Empty terminal: 32 zero bytes
    if (proof.terminal == StateProof::Terminal::Leaf) {
        // The leaf sits where the key's path ends, so it shares that path.
        if (!samePrefix(proof.leafKeyHash, keyHash, depth)) return false;
        if (value.has_value()) {
            if (proof.leafKeyHash != keyHash) return false;
            if (proof.leafValueHash != crypto::sha256(*value)) return false;
        } else if (proof.leafKeyHash == keyHash) {
            return false;  // the key is present: not an absence proof
        }
        h = leafHash(sha, proof.leafKeyHash, proof.leafValueHash);
    } else if (proof.terminal == StateProof::Terminal::Empty) {
        if (value.has_value()) return false;  // an empty subtree proves absence only
    } else {
        return false;
    }

    for (std::size_t i = depth; i-- > 0;) {
        h = keyHash.bit(i) ? internalHash(sha, proof.siblings[i], h)
                           : internalHash(sha, h, proof.siblings[i]);
    }
    return h == root;
}

// ----------------------------------------------------------------- StateTree

StateTree::StateTree() : m_epoch(nextStamp()), m_generation(nextStamp()) {}
StateTree::~StateTree() = default;
StateTree::StateTree(StateTree&& other) noexcept
    : m_root(std::move(other.m_root)),
      m_size(std::exchange(other.m_size, 0)),
      m_epoch(std::exchange(other.m_epoch, nextStamp())),
      m_generation(nextStamp()) {
    other.m_generation = nextStamp();
}
StateTree& StateTree::operator=(StateTree&& other) noexcept {
    if (this != &other) {
        m_root = std::move(other.m_root);
        m_size = std::exchange(other.m_size, 0);
        m_epoch = std::exchange(other.m_epoch, nextStamp());
        m_generation = nextStamp();
        other.m_generation = nextStamp();
    }
    return *this;
}

void StateTree::putInto(NodePtr& root, std::size_t& size, const Hash256& keyHash, const Hash256& valueHash,
                        std::uint64_t epoch) {
    NodePtr* slot = &root;
    std::size_t depth = 0;
    while (*slot && !(*slot)->leaf) {
        Node& node = Node::own(*slot, epoch);
        node.dirty = true;
        slot = &node.asInternal().child[keyHash.bit(depth)];
        ++depth;
    }
    if (!*slot) {  // empty subtree: the new leaf goes here
        *slot = std::make_shared<Node::Leaf>(keyHash, valueHash, epoch);
        ++size;
        return;
    }
    const Node::Leaf& existing = (*slot)->asLeaf();
    if (existing.keyHash == keyHash) {  // replace
        if (existing.valueHash != valueHash) {
            Node::Leaf& mine = Node::own(*slot, epoch).asLeaf();
            mine.valueHash = valueHash;
            mine.dirty = true;
        }
        return;
    }
    // Split: both keys share bits [0, depth); internal nodes from `depth` down
    // to the first differing bit, where the two leaves part. The old leaf
    // itself does not change, so it stays shared.
    const std::size_t split = firstDifferingBit(keyHash, existing.keyHash, depth);
    NodePtr old = std::move(*slot);
    for (std::size_t d = depth; d < split; ++d) {
        auto chain = std::make_shared<Node::Internal>(epoch);
        NodePtr* next = &chain->child[keyHash.bit(d)];
        *slot = std::move(chain);
        slot = next;
    }
    auto fork = std::make_shared<Node::Internal>(epoch);
    const bool newBit = keyHash.bit(split);
    fork->child[newBit] = std::make_shared<Node::Leaf>(keyHash, valueHash, epoch);
    fork->child[!newBit] = std::move(old);
    *slot = std::move(fork);
    ++size;
}

void StateTree::put(const Hash256& keyHash, const Hash256& valueHash) {
    m_generation = nextStamp();
    putInto(m_root, m_size, keyHash, valueHash, m_epoch);
}

bool StateTree::eraseFrom(NodePtr& root, std::size_t& size, const Hash256& keyHash, std::uint64_t epoch) {
    if (Node::findLeaf(root.get(), keyHash) == nullptr) return false;
    std::vector<NodePtr*> path;  // slots of the internal nodes walked through
    NodePtr* slot = &root;
    std::size_t depth = 0;
    while (!(*slot)->leaf) {
        path.push_back(slot);
        slot = &Node::own(*slot, epoch).asInternal().child[keyHash.bit(depth)];
        ++depth;
    }
    slot->reset();
    --size;
    // Bottom-up: an internal node left with a single leaf below it (and an
    // empty sibling) is replaced by that leaf; one left with nothing goes.
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
        Node::Internal& in = (**it)->asInternal();  // owned on the way down
        in.dirty = true;
        const bool has0 = static_cast<bool>(in.child[0]);
        const bool has1 = static_cast<bool>(in.child[1]);
        if (has0 && has1) continue;  // still two subtrees: shape fixed above too, but hashes are dirty
        NodePtr& only = has0 ? in.child[0] : in.child[1];
        if (!has0 && !has1) {
            (*it)->reset();
        } else if (only->leaf) {
            NodePtr lifted = std::move(only);
            **it = std::move(lifted);
        }
        // An internal only-child holds at least two entries: keep the chain.
    }
    return true;
}

bool StateTree::erase(const Hash256& keyHash) {
    if (Node::findLeaf(m_root.get(), keyHash) == nullptr) return false;
    m_generation = nextStamp();
    return eraseFrom(m_root, m_size, keyHash, m_epoch);
}

StateTree::Version StateTree::speculate(std::vector<std::pair<Hash256, Hash256>> writes,
                                        const std::vector<Hash256>& erasures) {
    // Stable: of two writes of one key, the later one still goes in last.
    std::stable_sort(writes.begin(), writes.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    root();  // the shared nodes' hashes are final, so the version never writes to them
    // The tree's own nodes become shared with the version: from now on the
    // tree copies them before changing them.
    m_epoch = nextStamp();
    Version v;
    v.m_root = m_root;
    v.m_size = m_size;
    v.m_baseGeneration = m_generation;
    const std::uint64_t epoch = nextStamp();
    for (const auto& [k, h] : writes) putInto(v.m_root, v.m_size, k, h, epoch);
    for (const auto& k : erasures) eraseFrom(v.m_root, v.m_size, k, epoch);
    if (v.m_root) {
        crypto::Sha256 sha;
        v.m_rootHash = Node::refresh(*v.m_root, sha);
    }
    return v;
}

bool StateTree::adopt(const Version& version) {
    if (version.m_baseGeneration != m_generation) return false;
    m_root = version.m_root;
    m_size = version.m_size;
    m_generation = nextStamp();
    return true;
}

bool StateTree::contains(const Hash256& keyHash) const {
    return Node::findLeaf(m_root.get(), keyHash) != nullptr;
}

std::optional<Hash256> StateTree::valueHash(const Hash256& keyHash) const {
    const Node::Leaf* l = Node::findLeaf(m_root.get(), keyHash);
    if (l == nullptr) return std::nullopt;
    return l->valueHash;
}

std::size_t StateTree::size() const { return m_size; }

Hash256 StateTree::root() {
    if (!m_root) return Hash256();
    if (!m_root->dirty) return m_root->hash;
    crypto::Sha256 sha;
    return Node::refresh(*m_root, sha);
}

StateProof StateTree::prove(const Hash256& keyHash) {
    root();
    StateProof proof;
    const Node* node = m_root.get();
    std::size_t depth = 0;
    while (node != nullptr) {
        if (node->leaf) {
            const Node::Leaf& l = node->asLeaf();
            proof.terminal = StateProof::Terminal::Leaf;
            proof.leafKeyHash = l.keyHash;
            proof.leafValueHash = l.valueHash;
            return proof;
        }
        const Node::Internal& in = node->asInternal();
        const bool b = keyHash.bit(depth);
        const Node* sibling = in.child[!b].get();
        proof.siblings.push_back(sibling ? sibling->hash : Hash256());
        node = in.child[b].get();
        ++depth;
    }
    proof.terminal = StateProof::Terminal::Empty;
    return proof;
}

Hash256 keyHashOf(ByteView key) { return crypto::sha256(key); }

}  // namespace fides::state
