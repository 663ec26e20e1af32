// Unit tests for the state tree (chain-core/state/state_tree.h): root hashes,
// shape, proofs, proof verification and the proof encoding, checked against
// the hash definitions of doc/spec/state-tree.md and a naive reference
// implementation written here.
#include "crypto/hash.h"
#include "state/state_tree.h"
#include "util/bytes.h"

#include <QtTest>

#include <algorithm>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

using fides::Bytes;
using fides::ByteView;
using fides::crypto::Hash256;
using fides::crypto::sha256;
using fides::state::keyHashOf;
using fides::state::StateProof;
using fides::state::StateTree;
using fides::state::verifyStateProof;

#define COMPARE_HASH(actual, expected) \
    QCOMPARE(QString::fromStdString((actual).hex()), QString::fromStdString((expected).hex()))

namespace {

using Entry = std::pair<Hash256, Hash256>;  // keyHash, valueHash

Hash256 leafHashOf(const Hash256& keyHash, const Hash256& valueHash) {
    Bytes b{0x00};
    b.insert(b.end(), keyHash.bytes().begin(), keyHash.bytes().end());
    b.insert(b.end(), valueHash.bytes().begin(), valueHash.bytes().end());
    return sha256(b);
}

Hash256 internalHashOf(const Hash256& left, const Hash256& right) {
    Bytes b{0x01};
    b.insert(b.end(), left.bytes().begin(), left.bytes().end());
    b.insert(b.end(), right.bytes().begin(), right.bytes().end());
    return sha256(b);
}

// Naive reference: the subtree at `depth` over entries sorted by key hash that
// all share their first `depth` bits.
Hash256 referenceHash(std::span<const Entry> e, std::size_t depth) {
    if (e.empty()) return Hash256();
    if (e.size() == 1) return leafHashOf(e[0].first, e[0].second);
    const auto mid =
        std::partition_point(e.begin(), e.end(), [&](const Entry& x) { return !x.first.bit(depth); });
    const auto split = static_cast<std::size_t>(mid - e.begin());
    return internalHashOf(referenceHash(e.subspan(0, split), depth + 1),
                          referenceHash(e.subspan(split), depth + 1));
}

void referenceProve(std::span<const Entry> e, const Hash256& keyHash, std::size_t depth, StateProof& proof) {
    if (e.empty()) {
        proof.terminal = StateProof::Terminal::Empty;
        return;
    }
    if (e.size() == 1) {
        proof.terminal = StateProof::Terminal::Leaf;
        proof.leafKeyHash = e[0].first;
        proof.leafValueHash = e[0].second;
        return;
    }
    const auto mid =
        std::partition_point(e.begin(), e.end(), [&](const Entry& x) { return !x.first.bit(depth); });
    const auto split = static_cast<std::size_t>(mid - e.begin());
    const auto left = e.subspan(0, split);
    const auto right = e.subspan(split);
    if (keyHash.bit(depth)) {
        proof.siblings.push_back(referenceHash(left, depth + 1));
        referenceProve(right, keyHash, depth + 1, proof);
    } else {
        proof.siblings.push_back(referenceHash(right, depth + 1));
        referenceProve(left, keyHash, depth + 1, proof);
    }
}

std::vector<Entry> sortedEntries(std::vector<Entry> e) {
    std::sort(e.begin(), e.end());
    return e;
}

bool sameProof(const StateProof& a, const StateProof& b) {
    if (a.siblings != b.siblings || a.terminal != b.terminal) return false;
    if (a.terminal == StateProof::Terminal::Leaf) {
        return a.leafKeyHash == b.leafKeyHash && a.leafValueHash == b.leafValueHash;
    }
    return true;
}

Bytes keyBytes(const std::string& prefix, int i) { return fides::toBytes(prefix + std::to_string(i)); }

Bytes randomBytes(std::mt19937_64& rng, std::size_t minLen, std::size_t maxLen) {
    std::uniform_int_distribution<std::size_t> len(minLen, maxLen);
    Bytes b(len(rng));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
}

Hash256 randomHash(std::mt19937_64& rng) {
    std::array<std::uint8_t, 32> a{};
    for (auto& x : a) x = static_cast<std::uint8_t>(rng());
    return Hash256(a);
}

Hash256 flipBit(const Hash256& h, std::size_t bit) {
    auto a = h.array();
    a[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
    return Hash256(a);
}

// A tree over keys prefix0..prefix(n-1) with values "v<i>".
struct Fixture {
    StateTree tree;
    std::vector<Bytes> keys;
    std::vector<Bytes> values;
};

Fixture makeFixture(int n, const std::string& prefix = "key-") {
    Fixture f;
    for (int i = 0; i < n; ++i) {
        f.keys.push_back(keyBytes(prefix, i));
        f.values.push_back(keyBytes("value-", i));
        f.tree.put(keyHashOf(f.keys.back()), sha256(f.values.back()));
    }
    return f;
}

}  // namespace

class TestStateTree : public QObject {
    Q_OBJECT

private slots:
    void emptyTree();
    void singleEntry();
    void twoEntriesShape();
    void knownAnswerVectors();
    void orderIndependence();
    void lookupAndSize();
    void replaceValue();
    void proofsForAllSizes();
    void tamperedInclusionProofs();
    void tamperedAbsenceProofs();
    void forgedLeafOffPath();
    void oversizedAndInvalidProofs();
    void encodeDecodeRoundTrip();
    void malformedEncodings();
    void matchesReference();
    void deepPaths();
    void moveKeepsContents();
    void eraseRestoresCanonicalShape();
    void speculateLeavesTheTreeUnchanged();
    void versionsShareNodesWithoutInterfering();
};

void TestStateTree::emptyTree() {
    StateTree t;
    QVERIFY(t.root().isZero());
    COMPARE_HASH(t.root(), Hash256());
    QCOMPARE(t.size(), std::size_t{0});
    const Bytes key = fides::toBytes("anything");
    const StateProof p = t.prove(keyHashOf(key));
    QVERIFY(p.siblings.empty());
    QVERIFY(p.terminal == StateProof::Terminal::Empty);
    QVERIFY(verifyStateProof(Hash256(), key, std::nullopt, p));
    QVERIFY(!verifyStateProof(Hash256(), key, fides::toBytes("v"), p));
    // The same proof does not hold against a non-empty root.
    QVERIFY(!verifyStateProof(sha256(key), key, std::nullopt, p));
}

void TestStateTree::singleEntry() {
    StateTree t;
    const Bytes key = fides::toBytes("alice");
    const Bytes value = fides::toBytes("balance=10");
    const Hash256 kh = keyHashOf(key);
    COMPARE_HASH(kh, sha256(key));
    t.put(kh, sha256(value));
    QCOMPARE(t.size(), std::size_t{1});
    // A single entry is the root leaf itself, at depth 0.
    const Hash256 expected = leafHashOf(kh, sha256(value));
    COMPARE_HASH(t.root(), expected);
    // Known-answer check of the leaf formula with a literal preimage.
    Bytes pre{0x00};
    pre.insert(pre.end(), kh.bytes().begin(), kh.bytes().end());
    const Hash256 vh = sha256(value);
    pre.insert(pre.end(), vh.bytes().begin(), vh.bytes().end());
    QCOMPARE(pre.size(), std::size_t{65});
    COMPARE_HASH(t.root(), sha256(pre));

    const StateProof p = t.prove(kh);
    QVERIFY(p.siblings.empty());
    QVERIFY(p.terminal == StateProof::Terminal::Leaf);
    COMPARE_HASH(p.leafKeyHash, kh);
    QVERIFY(verifyStateProof(t.root(), key, value, p));
    QVERIFY(!verifyStateProof(t.root(), key, std::nullopt, p));

    // Any other key is absent, proven by the other key's leaf at depth 0.
    const Bytes other = fides::toBytes("bob");
    const StateProof q = t.prove(keyHashOf(other));
    QVERIFY(q.siblings.empty());
    QVERIFY(q.terminal == StateProof::Terminal::Leaf);
    COMPARE_HASH(q.leafKeyHash, kh);
    QVERIFY(verifyStateProof(t.root(), other, std::nullopt, q));
    QVERIFY(!verifyStateProof(t.root(), other, value, q));
}

void TestStateTree::twoEntriesShape() {
    // Two key hashes that first differ at bit 3: internal nodes at depths
    // 0..3, the leaves at depth 4, empty siblings at depths 0..2.
    std::array<std::uint8_t, 32> a{};
    std::array<std::uint8_t, 32> b{};
    a[0] = 0b1010'0000;
    b[0] = 0b1011'0000;
    const Hash256 ka(a), kb(b), va = sha256(fides::toBytes("a")), vb = sha256(fides::toBytes("b"));
    StateTree t;
    t.put(kb, vb);
    t.put(ka, va);
    Hash256 h = internalHashOf(leafHashOf(ka, va), leafHashOf(kb, vb));  // depth 3
    h = internalHashOf(Hash256(), h);                                    // depth 2, bit 1
    h = internalHashOf(h, Hash256());                                    // depth 1, bit 0
    h = internalHashOf(Hash256(), h);                                    // depth 0, bit 1
    COMPARE_HASH(t.root(), h);

    const StateProof p = t.prove(ka);
    QCOMPARE(p.siblings.size(), std::size_t{4});
    QVERIFY(p.siblings[0].isZero() && p.siblings[1].isZero() && p.siblings[2].isZero());
    COMPARE_HASH(p.siblings[3], leafHashOf(kb, vb));
    // A key hash starting 0...: empty subtree right under the root.
    std::array<std::uint8_t, 32> c{};
    const StateProof q = t.prove(Hash256(c));
    QCOMPARE(q.siblings.size(), std::size_t{1});
    QVERIFY(q.terminal == StateProof::Terminal::Empty);
}

void TestStateTree::knownAnswerVectors() {
    // The example of doc/spec/state-tree.md, cross-checked with an
    // independent implementation of the spec (Python hashlib).
    StateTree t;
    auto put = [&](const char* k, const char* v) {
        t.put(keyHashOf(fides::asBytes(k)), sha256(fides::asBytes(v)));
    };
    put("alice", "10");
    const auto oneRoot = Hash256::fromHex("16911adbc37d526253fbb6e5d64d1d812978f9fbdd0024a11efa72ff16f5a008");
    QVERIFY(oneRoot.has_value());
    COMPARE_HASH(t.root(), *oneRoot);
    put("bob", "20");
    put("carol", "30");
    const Hash256 root =
        *Hash256::fromHex("f20577cd5250749d0ad240102da3a5d64c47789e5f382bc8c3b563ceef1e6864");
    COMPARE_HASH(t.root(), root);

    // "dave" is absent: its path ends at carol's leaf at depth 2.
    const std::string daveProofHex =
        "010002"
        "5ffd82384393ed7f289413d7063f419d0eec5c8b532af2fdd56b52966705ab74"
        "16911adbc37d526253fbb6e5d64d1d812978f9fbdd0024a11efa72ff16f5a008"
        "01"
        "4c26d9074c27d89ede59270c0ac14b71e071b15239519f75474b2f3ba63481f5"
        "624b60c58c9d8bfb6ff1886c2fd605d2adeb6ea4da576068201b6c6958ce93f4";
    const StateProof dave = t.prove(keyHashOf(fides::asBytes("dave")));
    QCOMPARE(QString::fromStdString(fides::toHex(dave.encode())), QString::fromStdString(daveProofHex));
    auto decoded = StateProof::decode(fides::fromHex(daveProofHex).value());
    QVERIFY(decoded.isOk());
    QVERIFY(verifyStateProof(root, fides::toBytes("dave"), std::nullopt, *decoded));
    QVERIFY(!verifyStateProof(root, fides::toBytes("dave"), fides::toBytes("40"), *decoded));
    // The same proof read for "carol" is her inclusion proof.
    QVERIFY(verifyStateProof(root, fides::toBytes("carol"), fides::toBytes("30"), *decoded));
    QVERIFY(!verifyStateProof(root, fides::toBytes("carol"), std::nullopt, *decoded));

    const std::string bobProofHex =
        "010001"
        "d28039a3a2d22b8987cbe8acc1fe583d7228d622356343d6307afcb03ff26d7a"
        "01"
        "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9"
        "f5ca38f748a1d6eaf726b8a42fb575c3c71f1864a8143301782de13da2d9202b";
    const StateProof bob = t.prove(keyHashOf(fides::asBytes("bob")));
    QCOMPARE(QString::fromStdString(fides::toHex(bob.encode())), QString::fromStdString(bobProofHex));
}

void TestStateTree::orderIndependence() {
    std::mt19937_64 rng(20240601);
    std::vector<Entry> entries;
    std::set<Bytes> seen;
    while (entries.size() < 1000) {
        Bytes key = randomBytes(rng, 1, 40);
        if (!seen.insert(key).second) continue;  // distinct keys, or the order would matter
        entries.emplace_back(keyHashOf(key), sha256(randomBytes(rng, 0, 20)));
    }
    StateTree a;
    for (const auto& [k, v] : entries) a.put(k, v);

    auto shuffled = entries;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    QVERIFY(shuffled != entries);
    StateTree b;
    int n = 0;
    for (const auto& [k, v] : shuffled) {
        b.put(k, v);
        if (++n % 37 == 0) (void)b.root();  // interleaved roots exercise the dirty tracking
    }
    QCOMPARE(a.size(), std::size_t{1000});
    QCOMPARE(b.size(), std::size_t{1000});
    COMPARE_HASH(a.root(), b.root());
    const auto sorted = sortedEntries(entries);
    COMPARE_HASH(a.root(), referenceHash(sorted, 0));

    // Reverse order too, and a different set gives a different root.
    StateTree c;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) c.put(it->first, it->second);
    COMPARE_HASH(c.root(), a.root());
    c.put(keyHashOf(fides::toBytes("one more")), sha256(fides::toBytes("x")));
    QVERIFY(c.root() != a.root());
}

void TestStateTree::lookupAndSize() {
    Fixture f = makeFixture(50);
    QCOMPARE(f.tree.size(), std::size_t{50});
    for (std::size_t i = 0; i < f.keys.size(); ++i) {
        const Hash256 kh = keyHashOf(f.keys[i]);
        QVERIFY(f.tree.contains(kh));
        const auto v = f.tree.valueHash(kh);
        QVERIFY(v.has_value());
        COMPARE_HASH(*v, sha256(f.values[i]));
    }
    for (int i = 0; i < 50; ++i) {
        const Hash256 kh = keyHashOf(keyBytes("absent-", i));
        QVERIFY(!f.tree.contains(kh));
        QVERIFY(!f.tree.valueHash(kh).has_value());
    }
    // Re-putting the same key does not grow the tree.
    f.tree.put(keyHashOf(f.keys[7]), sha256(f.values[7]));
    QCOMPARE(f.tree.size(), std::size_t{50});
}

void TestStateTree::replaceValue() {
    Fixture f = makeFixture(100);
    const Bytes& key = f.keys[42];
    const Bytes oldValue = f.values[42];
    const Bytes newValue = fides::toBytes("new value");
    const Hash256 kh = keyHashOf(key);

    const Hash256 oldRoot = f.tree.root();
    const StateProof oldProof = f.tree.prove(kh);
    QVERIFY(verifyStateProof(oldRoot, key, oldValue, oldProof));

    // Same value again: root unchanged.
    f.tree.put(kh, sha256(oldValue));
    COMPARE_HASH(f.tree.root(), oldRoot);

    f.tree.put(kh, sha256(newValue));
    QCOMPARE(f.tree.size(), std::size_t{100});
    const Hash256 newRoot = f.tree.root();
    QVERIFY(newRoot != oldRoot);
    COMPARE_HASH(*f.tree.valueHash(kh), sha256(newValue));
    QVERIFY(!verifyStateProof(newRoot, key, oldValue, oldProof));
    QVERIFY(!verifyStateProof(newRoot, key, newValue, oldProof));

    const StateProof newProof = f.tree.prove(kh);
    QVERIFY(verifyStateProof(newRoot, key, newValue, newProof));
    QVERIFY(!verifyStateProof(newRoot, key, oldValue, newProof));
    QVERIFY(!verifyStateProof(oldRoot, key, newValue, newProof));
    // Proofs of other keys changed too (the path to the root moved).
    const StateProof otherOld = [&] {
        Fixture g = makeFixture(100);
        return g.tree.prove(keyHashOf(f.keys[3]));
    }();
    QVERIFY(!verifyStateProof(newRoot, f.keys[3], f.values[3], otherOld));
    QVERIFY(verifyStateProof(newRoot, f.keys[3], f.values[3], f.tree.prove(keyHashOf(f.keys[3]))));

    // The tree with the replaced value equals a tree built with it directly.
    std::vector<Entry> entries;
    for (std::size_t i = 0; i < f.keys.size(); ++i) {
        entries.emplace_back(keyHashOf(f.keys[i]), sha256(i == 42 ? newValue : f.values[i]));
    }
    COMPARE_HASH(newRoot, referenceHash(sortedEntries(entries), 0));

    // Changing back restores the old root.
    f.tree.put(kh, sha256(oldValue));
    COMPARE_HASH(f.tree.root(), oldRoot);
}

void TestStateTree::proofsForAllSizes() {
    StateTree t;
    std::vector<Bytes> keys;
    std::vector<Bytes> values;
    std::size_t emptyTerminals = 0;
    std::size_t otherLeafTerminals = 0;
    std::size_t maxDepth = 0;
    for (int n = 1; n <= 300; ++n) {
        keys.push_back(keyBytes("present-", n));
        values.push_back(keyBytes("v", n * 7));
        t.put(keyHashOf(keys.back()), sha256(values.back()));
        QCOMPARE(t.size(), static_cast<std::size_t>(n));
        const Hash256 root = t.root();

        for (std::size_t i = 0; i < keys.size(); ++i) {
            const StateProof p = t.prove(keyHashOf(keys[i]));
            QVERIFY(p.terminal == StateProof::Terminal::Leaf);
            maxDepth = std::max(maxDepth, p.siblings.size());
            if (!verifyStateProof(root, keys[i], values[i], p)) {
                QFAIL(qPrintable(QStringLiteral("inclusion failed n=%1 i=%2").arg(n).arg(i)));
            }
            QVERIFY(!verifyStateProof(root, keys[i], std::nullopt, p));
            QVERIFY(!verifyStateProof(root, keys[i],
                                      values[(i + 1) % values.size()] == values[i]
                                          ? fides::toBytes("x")
                                          : values[(i + 1) % values.size()],
                                      p));
        }
        const int absentCount = n % 10 == 0 ? 300 : 20;
        for (int j = 0; j < absentCount; ++j) {
            const Bytes absent = keyBytes("absent-" + std::to_string(n) + "-", j);
            const StateProof p = t.prove(keyHashOf(absent));
            if (p.terminal == StateProof::Terminal::Empty) {
                ++emptyTerminals;
            } else {
                QVERIFY(p.leafKeyHash != keyHashOf(absent));
                ++otherLeafTerminals;
            }
            if (!verifyStateProof(root, absent, std::nullopt, p)) {
                QFAIL(qPrintable(QStringLiteral("absence failed n=%1 j=%2").arg(n).arg(j)));
            }
            QVERIFY(!verifyStateProof(root, absent, fides::toBytes("v"), p));
        }
    }
    QVERIFY2(emptyTerminals > 0, "no absence proof ended at an empty subtree");
    QVERIFY2(otherLeafTerminals > 0, "no absence proof ended at another key's leaf");
    QVERIFY(maxDepth > 8);  // 300 keys: paths are well below the root
}

void TestStateTree::tamperedInclusionProofs() {
    Fixture f = makeFixture(200);
    const Hash256 root = f.tree.root();
    for (std::size_t i = 0; i < f.keys.size(); i += 13) {
        const Bytes& key = f.keys[i];
        const Bytes& value = f.values[i];
        const StateProof good = f.tree.prove(keyHashOf(key));
        QVERIFY(verifyStateProof(root, key, value, good));
        QVERIFY(!good.siblings.empty());

        // Any single bit flip in any sibling.
        for (std::size_t s = 0; s < good.siblings.size(); ++s) {
            for (std::size_t bit : {std::size_t{0}, std::size_t{100}, std::size_t{255}}) {
                StateProof p = good;
                p.siblings[s] = flipBit(p.siblings[s], bit);
                QVERIFY(!verifyStateProof(root, key, value, p));
            }
        }
        // Sibling dropped (first or last) or added (front, back, zero or not).
        {
            StateProof p = good;
            p.siblings.erase(p.siblings.begin());
            QVERIFY(!verifyStateProof(root, key, value, p));
            p = good;
            p.siblings.pop_back();
            QVERIFY(!verifyStateProof(root, key, value, p));
            p = good;
            p.siblings.push_back(Hash256());
            QVERIFY(!verifyStateProof(root, key, value, p));
            p = good;
            p.siblings.insert(p.siblings.begin(), Hash256());
            QVERIFY(!verifyStateProof(root, key, value, p));
            p = good;
            p.siblings.push_back(good.siblings.back());
            QVERIFY(!verifyStateProof(root, key, value, p));
        }
        // Wrong value, wrong key, wrong root.
        QVERIFY(!verifyStateProof(root, key, fides::toBytes("not the value"), good));
        QVERIFY(!verifyStateProof(root, key, Bytes{}, good));
        QVERIFY(!verifyStateProof(root, f.keys[(i + 1) % f.keys.size()], value, good));
        QVERIFY(!verifyStateProof(flipBit(root, 0), key, value, good));
        // Presented as an absence proof.
        QVERIFY(!verifyStateProof(root, key, std::nullopt, good));
        // Leaf terminal swapped for Empty, either way of reading it.
        {
            StateProof p = good;
            p.terminal = StateProof::Terminal::Empty;
            QVERIFY(!verifyStateProof(root, key, value, p));
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
        }
        // Leaf hashes altered.
        {
            StateProof p = good;
            p.leafValueHash = flipBit(p.leafValueHash, 7);
            QVERIFY(!verifyStateProof(root, key, value, p));
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
            p = good;
            p.leafKeyHash = flipBit(p.leafKeyHash, 255);
            QVERIFY(!verifyStateProof(root, key, value, p));
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
        }
    }
}

void TestStateTree::tamperedAbsenceProofs() {
    Fixture f = makeFixture(200);
    const Hash256 root = f.tree.root();
    int sawEmpty = 0;
    int sawLeaf = 0;
    for (int j = 0; j < 200; ++j) {
        const Bytes key = keyBytes("missing-", j);
        const StateProof good = f.tree.prove(keyHashOf(key));
        QVERIFY(verifyStateProof(root, key, std::nullopt, good));
        // Presented as inclusion of any value.
        QVERIFY(!verifyStateProof(root, key, fides::toBytes("v"), good));
        QVERIFY(!verifyStateProof(root, key, Bytes{}, good));
        // Against another root.
        QVERIFY(!verifyStateProof(flipBit(root, 200), key, std::nullopt, good));
        for (std::size_t s = 0; s < good.siblings.size(); ++s) {
            StateProof p = good;
            p.siblings[s] = flipBit(p.siblings[s], 31);
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
        }
        {
            StateProof p = good;
            p.siblings.pop_back();
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
            p = good;
            p.siblings.push_back(Hash256());
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
        }
        if (good.terminal == StateProof::Terminal::Empty) {
            ++sawEmpty;
            // Empty swapped for a leaf of the key itself (claiming presence).
            StateProof p = good;
            p.terminal = StateProof::Terminal::Leaf;
            p.leafKeyHash = keyHashOf(key);
            p.leafValueHash = sha256(fides::toBytes("v"));
            QVERIFY(!verifyStateProof(root, key, fides::toBytes("v"), p));
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
        } else {
            ++sawLeaf;
            // Leaf terminal swapped for Empty.
            StateProof p = good;
            p.terminal = StateProof::Terminal::Empty;
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
            // The other leaf's own inclusion, but claimed for our key.
            const auto idx = std::find_if(f.keys.begin(), f.keys.end(),
                                          [&](const Bytes& k) { return keyHashOf(k) == good.leafKeyHash; });
            QVERIFY(idx != f.keys.end());
            const Bytes& otherValue = f.values[static_cast<std::size_t>(idx - f.keys.begin())];
            QVERIFY(verifyStateProof(root, *idx, otherValue, good));  // true for the other key
            QVERIFY(!verifyStateProof(root, key, otherValue, good));  // not for ours
            // Leaf value altered.
            p = good;
            p.leafValueHash = flipBit(p.leafValueHash, 0);
            QVERIFY(!verifyStateProof(root, key, std::nullopt, p));
        }
    }
    QVERIFY(sawEmpty > 0);
    QVERIFY(sawLeaf > 0);
}

void TestStateTree::forgedLeafOffPath() {
    // The verifier must reject a Leaf terminal whose key hash does not share
    // the path's prefix, even if the hashes fold to the given root. Build such
    // a "root" by hand with the fold algorithm.
    const Bytes key = fides::toBytes("forged");
    const Hash256 kh = keyHashOf(key);
    const Hash256 sibling = sha256(fides::toBytes("sibling"));
    for (std::size_t d : {std::size_t{1}, std::size_t{5}, std::size_t{9}}) {
        for (bool offPath : {false, true}) {
            Hash256 lk = flipBit(kh, 200);  // another key hash, same first d bits
            if (offPath) lk = flipBit(lk, d - 1);
            const Hash256 lv = sha256(fides::toBytes("lv"));
            StateProof p;
            p.terminal = StateProof::Terminal::Leaf;
            p.leafKeyHash = lk;
            p.leafValueHash = lv;
            p.siblings.assign(d, sibling);
            Hash256 h = leafHashOf(lk, lv);
            for (std::size_t i = d; i-- > 0;) {
                h = kh.bit(i) ? internalHashOf(sibling, h) : internalHashOf(h, sibling);
            }
            QCOMPARE(verifyStateProof(h, key, std::nullopt, p), !offPath);
        }
    }
    // Empty terminal folds the same way.
    StateProof e;
    e.siblings.assign(3, sibling);
    Hash256 h;
    for (std::size_t i = 3; i-- > 0;) {
        h = kh.bit(i) ? internalHashOf(sibling, h) : internalHashOf(h, sibling);
    }
    QVERIFY(verifyStateProof(h, key, std::nullopt, e));
    QVERIFY(!verifyStateProof(h, key, Bytes{}, e));
}

void TestStateTree::oversizedAndInvalidProofs() {
    const Bytes key = fides::toBytes("k");
    StateProof p;
    p.siblings.assign(257, Hash256());
    QVERIFY(!verifyStateProof(Hash256(), key, std::nullopt, p));
    p.terminal = StateProof::Terminal::Leaf;
    QVERIFY(!verifyStateProof(Hash256(), key, std::nullopt, p));

    // An unknown terminal value is rejected.
    StateProof q;
    q.terminal = static_cast<StateProof::Terminal>(7);
    QVERIFY(!verifyStateProof(Hash256(), key, std::nullopt, q));
    QVERIFY(!verifyStateProof(Hash256(), key, Bytes{}, q));
}

void TestStateTree::encodeDecodeRoundTrip() {
    Fixture f = makeFixture(120);
    std::vector<StateProof> proofs;
    proofs.push_back(StateTree().prove(keyHashOf(fides::toBytes("x"))));  // empty tree
    for (std::size_t i = 0; i < 40; ++i) proofs.push_back(f.tree.prove(keyHashOf(f.keys[i])));
    for (int i = 0; i < 40; ++i) proofs.push_back(f.tree.prove(keyHashOf(keyBytes("nope-", i))));
    StateProof deep;
    deep.siblings.assign(256, sha256(fides::toBytes("s")));
    proofs.push_back(deep);

    bool sawLeaf = false;
    bool sawEmptyWithSiblings = false;
    for (const StateProof& p : proofs) {
        const Bytes enc = p.encode();
        const std::size_t leafBytes = p.terminal == StateProof::Terminal::Leaf ? 64 : 0;
        QCOMPARE(enc.size(), 1 + 2 + 32 * p.siblings.size() + 1 + leafBytes);
        QCOMPARE(enc[0], std::uint8_t{1});
        QCOMPARE(static_cast<std::size_t>((enc[1] << 8) | enc[2]), p.siblings.size());
        for (std::size_t s = 0; s < p.siblings.size(); ++s) {
            QVERIFY(std::equal(enc.begin() + 3 + static_cast<std::ptrdiff_t>(32 * s),
                               enc.begin() + 3 + static_cast<std::ptrdiff_t>(32 * (s + 1)),
                               p.siblings[s].bytes().begin()));
        }
        QCOMPARE(enc[3 + 32 * p.siblings.size()], static_cast<std::uint8_t>(p.terminal));
        sawLeaf = sawLeaf || leafBytes != 0;
        sawEmptyWithSiblings = sawEmptyWithSiblings || (leafBytes == 0 && !p.siblings.empty());

        auto dec = StateProof::decode(enc);
        QVERIFY2(dec.isOk(), dec.status().toString().c_str());
        QVERIFY(sameProof(*dec, p));
        QVERIFY(dec->encode() == enc);
    }
    QVERIFY(sawLeaf && sawEmptyWithSiblings);

    // A decoded proof still verifies.
    const Bytes enc = f.tree.prove(keyHashOf(f.keys[5])).encode();
    auto dec = StateProof::decode(enc);
    QVERIFY(dec.isOk());
    QVERIFY(verifyStateProof(f.tree.root(), f.keys[5], f.values[5], *dec));

    // Exact bytes of a small Leaf proof.
    StateProof small;
    small.siblings.push_back(Hash256::fromHex(std::string(64, 'a')).value());
    small.terminal = StateProof::Terminal::Leaf;
    small.leafKeyHash = Hash256::fromHex(std::string(64, 'b')).value();
    small.leafValueHash = Hash256::fromHex(std::string(64, 'c')).value();
    const std::string expectedHex =
        "01"
        "0001" +
        std::string(64, 'a') + "01" + std::string(64, 'b') + std::string(64, 'c');
    QCOMPARE(QString::fromStdString(fides::toHex(small.encode())), QString::fromStdString(expectedHex));
    // An empty-tree proof: version, zero count, Empty terminal.
    QCOMPARE(QString::fromStdString(fides::toHex(StateProof().encode())), QStringLiteral("01000000"));
}

void TestStateTree::malformedEncodings() {
    auto rejects = [](const Bytes& b) { return !StateProof::decode(b).isOk(); };
    Fixture f = makeFixture(30);
    const Bytes leafEnc = f.tree.prove(keyHashOf(f.keys[0])).encode();
    StateProof emptyProof;
    emptyProof.siblings.assign(2, sha256(fides::toBytes("z")));
    const Bytes emptyEnc = emptyProof.encode();
    QVERIFY(StateProof::decode(leafEnc).isOk());
    QVERIFY(StateProof::decode(emptyEnc).isOk());

    QVERIFY(rejects({}));
    QVERIFY(rejects({0x01}));
    QVERIFY(rejects({0x01, 0x00}));
    QVERIFY(rejects({0x01, 0x00, 0x00}));  // no terminal
    // Wrong version.
    for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{0xFF}}) {
        Bytes b = leafEnc;
        b[0] = v;
        QVERIFY(rejects(b));
    }
    // Every strict prefix is rejected.
    for (std::size_t n = 0; n < leafEnc.size(); ++n) {
        QVERIFY(rejects(Bytes(leafEnc.begin(), leafEnc.begin() + static_cast<std::ptrdiff_t>(n))));
    }
    for (std::size_t n = 0; n < emptyEnc.size(); ++n) {
        QVERIFY(rejects(Bytes(emptyEnc.begin(), emptyEnc.begin() + static_cast<std::ptrdiff_t>(n))));
    }
    // Trailing bytes.
    {
        Bytes b = leafEnc;
        b.push_back(0);
        QVERIFY(rejects(b));
        b = emptyEnc;
        b.push_back(0);
        QVERIFY(rejects(b));
        // Empty terminal followed by leaf hashes.
        b = emptyEnc;
        b.insert(b.end(), 64, 0x11);
        QVERIFY(rejects(b));
    }
    // Unknown terminal.
    for (std::uint8_t t : {std::uint8_t{2}, std::uint8_t{0x80}, std::uint8_t{0xFF}}) {
        Bytes b = emptyEnc;
        b.back() = t;
        QVERIFY(rejects(b));
        b.insert(b.end(), 64, 0x11);
        QVERIFY(rejects(b));
    }
    // Sibling count above 256, with enough bytes behind it to fill it.
    {
        Bytes b{0x01, 0x01, 0x01};  // 257
        b.insert(b.end(), 257 * 32, 0x22);
        b.push_back(0x00);
        QVERIFY(rejects(b));
        Bytes ok{0x01, 0x01, 0x00};  // 256
        ok.insert(ok.end(), 256 * 32, 0x22);
        ok.push_back(0x00);
        QVERIFY(StateProof::decode(ok).isOk());
        Bytes huge{0x01, 0xFF, 0xFF};
        QVERIFY(rejects(huge));
    }
    // Count larger than the siblings present (the terminal read as a sibling).
    {
        Bytes b = emptyEnc;
        b[2] = 3;
        QVERIFY(rejects(b));
        b[2] = 1;  // fewer: the remaining bytes misparse
        QVERIFY(rejects(b));
    }
}

void TestStateTree::matchesReference() {
    std::mt19937_64 rng(77);
    for (int round = 0; round < 40; ++round) {
        std::uniform_int_distribution<int> sizeDist(0, round < 20 ? 12 : 600);
        const int n = sizeDist(rng);
        std::vector<Entry> entries;
        StateTree t;
        for (int i = 0; i < n; ++i) {
            entries.emplace_back(randomHash(rng), randomHash(rng));
            t.put(entries.back().first, entries.back().second);
            if (rng() % 50 == 0) (void)t.root();
        }
        // Replace some values.
        for (int i = 0; i < n / 5; ++i) {
            auto& e = entries[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(n))];
            e.second = randomHash(rng);
            t.put(e.first, e.second);
        }
        const auto sorted = sortedEntries(entries);
        QCOMPARE(t.size(), sorted.size());
        COMPARE_HASH(t.root(), referenceHash(sorted, 0));
        // Proofs equal the reference's, for present and absent key hashes.
        for (int i = 0; i < std::min(n, 50); ++i) {
            const Hash256& kh = entries[static_cast<std::size_t>(i)].first;
            StateProof expected;
            referenceProve(sorted, kh, 0, expected);
            QVERIFY(sameProof(t.prove(kh), expected));
        }
        for (int i = 0; i < 50; ++i) {
            const Hash256 kh = randomHash(rng);
            StateProof expected;
            referenceProve(sorted, kh, 0, expected);
            QVERIFY(sameProof(t.prove(kh), expected));
        }
    }
}

void TestStateTree::deepPaths() {
    // Key hashes with long common prefixes (put() takes hashes, so they can
    // be chosen freely): chains of internal nodes down to depth 256.
    std::mt19937_64 rng(5);
    const Hash256 base = randomHash(rng);
    std::vector<Entry> entries;
    entries.emplace_back(base, randomHash(rng));
    entries.emplace_back(flipBit(base, 255), randomHash(rng));  // differ in the last bit only
    entries.emplace_back(flipBit(base, 254), randomHash(rng));
    entries.emplace_back(flipBit(base, 128), randomHash(rng));
    entries.emplace_back(flipBit(base, 0), randomHash(rng));
    StateTree t;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        t.put(entries[i].first, entries[i].second);
        const auto sorted =
            sortedEntries({entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(i + 1)});
        COMPARE_HASH(t.root(), referenceHash(sorted, 0));
    }
    const StateProof p = t.prove(base);
    QCOMPARE(p.siblings.size(), std::size_t{256});
    QVERIFY(p.terminal == StateProof::Terminal::Leaf);
    COMPARE_HASH(p.leafKeyHash, base);
    StateProof expected;
    referenceProve(sortedEntries(entries), base, 0, expected);
    QVERIFY(sameProof(p, expected));
    auto dec = StateProof::decode(p.encode());
    QVERIFY(dec.isOk());
    QVERIFY(sameProof(*dec, p));

    // An absent hash branching off at depth 200 ends at an empty subtree.
    const StateProof q = t.prove(flipBit(base, 200));
    QCOMPARE(q.siblings.size(), std::size_t{201});
    QVERIFY(q.terminal == StateProof::Terminal::Empty);
    for (const auto& e : entries) QVERIFY(t.contains(e.first));
    QVERIFY(!t.contains(flipBit(base, 200)));
}

void TestStateTree::moveKeepsContents() {
    Fixture f = makeFixture(20);
    const Hash256 root = f.tree.root();
    StateTree moved(std::move(f.tree));
    COMPARE_HASH(moved.root(), root);
    QCOMPARE(moved.size(), std::size_t{20});
    StateTree assigned;
    assigned = std::move(moved);
    COMPARE_HASH(assigned.root(), root);
    QCOMPARE(assigned.size(), std::size_t{20});
    QVERIFY(assigned.contains(keyHashOf(f.keys[3])));
}

// Erasing any subset gives exactly the tree built from the remaining entries
// (roots and proofs), whatever the insertion and erasure orders.
void TestStateTree::eraseRestoresCanonicalShape() {
    std::mt19937_64 rng(20261121);
    for (int round = 0; round < 60; ++round) {
        const std::size_t n = 1 + rng() % 200;
        std::vector<std::pair<Hash256, Hash256>> entries;
        for (std::size_t i = 0; i < n; ++i) entries.emplace_back(randomHash(rng), randomHash(rng));
        // Deep shared prefixes too: keys that differ only in a late bit.
        if (round % 3 == 0 && n > 2) entries[1].first = flipBit(entries[0].first, 200 + rng() % 50);
        StateTree tree;
        for (const auto& [k, v] : entries) tree.put(k, v);
        std::shuffle(entries.begin(), entries.end(), rng);
        const std::size_t removeCount = rng() % (n + 1);
        for (std::size_t i = 0; i < removeCount; ++i) QVERIFY(tree.erase(entries[i].first));
        QVERIFY(!tree.erase(randomHash(rng)));  // absent
        StateTree fresh;
        std::vector<std::pair<Hash256, Hash256>> rest(
            entries.begin() + static_cast<std::ptrdiff_t>(removeCount), entries.end());
        std::shuffle(rest.begin(), rest.end(), rng);
        for (const auto& [k, v] : rest) fresh.put(k, v);
        QCOMPARE(tree.size(), rest.size());
        QCOMPARE(tree.root(), fresh.root());
        for (std::size_t i = 0; i < std::min<std::size_t>(removeCount, 5); ++i) {
            QVERIFY(!tree.contains(entries[i].first));
            QCOMPARE(tree.prove(entries[i].first).siblings.size(),
                     fresh.prove(entries[i].first).siblings.size());
        }
    }
    StateTree single;
    const Hash256 k(std::array<std::uint8_t, 32>{1});
    single.put(k, k);
    QVERIFY(single.erase(k));
    QCOMPARE(single.root(), Hash256());
    QCOMPARE(single.size(), 0u);
}

void TestStateTree::speculateLeavesTheTreeUnchanged() {
    std::mt19937_64 rng(7);
    StateTree tree;
    std::vector<std::pair<Hash256, Hash256>> base;
    for (int i = 0; i < 300; ++i) base.emplace_back(randomHash(rng), randomHash(rng));
    for (const auto& [k, v] : base) tree.put(k, v);
    const Hash256 before = tree.root();
    // New keys, replaced values, and one key written twice (the last wins).
    std::vector<std::pair<Hash256, Hash256>> writes;
    for (int i = 0; i < 50; ++i) writes.emplace_back(randomHash(rng), randomHash(rng));
    for (int i = 0; i < 20; ++i)
        writes.emplace_back(base[static_cast<std::size_t>(i)].first, randomHash(rng));
    writes.emplace_back(writes[0].first, randomHash(rng));
    StateTree applied;
    for (const auto& [k, v] : base) applied.put(k, v);
    for (const auto& [k, v] : writes) applied.put(k, v);
    QCOMPARE(tree.speculate(writes).root(), applied.root());
    QCOMPARE(tree.root(), before);
    QCOMPARE(tree.size(), base.size());
    for (const auto& [k, v] : base) QCOMPARE(*tree.valueHash(k), v);
    QCOMPARE(tree.speculate({}).root(), before);
}

// Versions built on a tree share its nodes: adopting one, changing the
// tree afterwards (put, erase) or building another never changes what a
// version holds, and a version built on an older tree is refused.
void TestStateTree::versionsShareNodesWithoutInterfering() {
    std::mt19937_64 rng(11);
    StateTree tree;
    std::vector<std::pair<Hash256, Hash256>> base;
    for (int i = 0; i < 500; ++i) base.emplace_back(randomHash(rng), randomHash(rng));
    for (const auto& [k, v] : base) tree.put(k, v);
    const Hash256 before = tree.root();
    auto reference = [&](const std::vector<std::pair<Hash256, Hash256>>& writes) {
        StateTree r;
        for (const auto& [k, v] : base) r.put(k, v);
        for (const auto& [k, v] : writes) r.put(k, v);
        return r.root();
    };
    std::vector<std::pair<Hash256, Hash256>> a;
    std::vector<std::pair<Hash256, Hash256>> b;
    for (int i = 0; i < 60; ++i) a.emplace_back(randomHash(rng), randomHash(rng));
    for (int i = 0; i < 30; ++i) a.emplace_back(base[static_cast<std::size_t>(i)].first, randomHash(rng));
    for (int i = 0; i < 40; ++i) b.emplace_back(randomHash(rng), randomHash(rng));
    for (int i = 10; i < 50; ++i) b.emplace_back(base[static_cast<std::size_t>(i)].first, randomHash(rng));
    const StateTree::Version va = tree.speculate(a);
    const StateTree::Version vb = tree.speculate(b);  // two candidates for one height
    QCOMPARE(va.root(), reference(a));
    QCOMPARE(vb.root(), reference(b));
    QCOMPARE(tree.root(), before);
    QVERIFY(tree.adopt(va));
    QCOMPARE(tree.root(), va.root());
    QCOMPARE(tree.size(), base.size() + 60);
    for (const auto& [k, v] : a) QCOMPARE(*tree.valueHash(k), v);
    // The other candidate was built on the tree before: refused, no change.
    QVERIFY(!tree.adopt(vb));
    QCOMPARE(tree.root(), va.root());
    // Changing the adopted tree in place leaves the version as it was: a
    // proof from the tree verifies against the new root, and vb (which shares
    // the old nodes) still has its root.
    const Hash256 fresh = randomHash(rng);
    tree.put(fresh, randomHash(rng));
    QVERIFY(tree.erase(a[0].first));
    QVERIFY(tree.erase(base[100].first));
    StateTree direct;
    for (const auto& [k, v] : base) direct.put(k, v);
    for (const auto& [k, v] : a) direct.put(k, v);
    direct.put(fresh, *tree.valueHash(fresh));
    QVERIFY(direct.erase(a[0].first));
    QVERIFY(direct.erase(base[100].first));
    QCOMPARE(tree.root(), direct.root());
    QCOMPARE(vb.root(), reference(b));
    QCOMPARE(va.root(), reference(a));
    const StateProof p = tree.prove(fresh);
    QVERIFY(p.terminal == StateProof::Terminal::Leaf);
    // A version of the changed tree adopts; adopting the same version twice does not.
    const StateTree::Version vc = tree.speculate({{randomHash(rng), randomHash(rng)}});
    tree.put(randomHash(rng), randomHash(rng));
    QVERIFY(!tree.adopt(vc));
    const StateTree::Version vd = tree.speculate({{randomHash(rng), randomHash(rng)}});
    QVERIFY(tree.adopt(vd));
    QVERIFY(!tree.adopt(vd));
    QCOMPARE(tree.root(), vd.root());
    // A tree moved into place is another tree: a version of the old one is
    // refused, whatever either saw before.
    StateTree first;
    StateTree second;
    for (int i = 0; i < 3; ++i) first.put(randomHash(rng), randomHash(rng));
    for (int i = 0; i < 2; ++i) second.put(randomHash(rng), randomHash(rng));
    const StateTree::Version ofFirst = first.speculate({{randomHash(rng), randomHash(rng)}});
    const Hash256 secondRoot = second.root();
    first = std::move(second);
    QVERIFY(!first.adopt(ofFirst));
    QCOMPARE(first.root(), secondRoot);
}

QTEST_APPLESS_MAIN(TestStateTree)
#include "test_state_tree.moc"
