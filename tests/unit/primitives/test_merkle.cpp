// Unit tests for primitives/merkle: RFC 6962 known answers (the CT 8-leaf
// reference tree, tests/data/rfc6962_vectors.json), agreement with a direct
// recursive transcription of RFC 9162's MTH / PATH / PROOF, and exhaustive
// verification (plus tampering) of every proof for trees of up to 64 leaves.
#include "crypto/hash.h"
#include "primitives/merkle.h"
#include "util/bytes.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

using fides::Bytes;
using fides::ByteView;
using fides::crypto::Hash256;
namespace merkle = fides::merkle;

namespace {

// ---- Reference implementation, written straight from the RFC text and
// independent of merkle.cpp (it hashes concatenated byte strings). ----

Hash256 refLeafHash(ByteView data) {
    Bytes buf{0x00};
    buf.insert(buf.end(), data.begin(), data.end());
    return fides::crypto::sha256(buf);
}

Hash256 refNodeHash(const Hash256& l, const Hash256& r) {
    Bytes buf{0x01};
    buf.insert(buf.end(), l.bytes().begin(), l.bytes().end());
    buf.insert(buf.end(), r.bytes().begin(), r.bytes().end());
    return fides::crypto::sha256(buf);
}

std::size_t refSplit(std::size_t n) {  // largest power of two < n, n > 1
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

std::vector<Hash256> slice(const std::vector<Hash256>& d, std::size_t from, std::size_t to) {
    return {d.begin() + static_cast<std::ptrdiff_t>(from), d.begin() + static_cast<std::ptrdiff_t>(to)};
}

// MTH(D[n]) over leaf hashes.
Hash256 refMth(const std::vector<Hash256>& d) {
    if (d.empty()) return fides::crypto::sha256(ByteView{});
    if (d.size() == 1) return d[0];
    const std::size_t k = refSplit(d.size());
    return refNodeHash(refMth(slice(d, 0, k)), refMth(slice(d, k, d.size())));
}

// PATH(m, D[n]).
std::vector<Hash256> refPath(std::size_t m, const std::vector<Hash256>& d) {
    const std::size_t n = d.size();
    if (n <= 1) return {};
    const std::size_t k = refSplit(n);
    std::vector<Hash256> out;
    if (m < k) {
        out = refPath(m, slice(d, 0, k));
        out.push_back(refMth(slice(d, k, n)));
    } else {
        out = refPath(m - k, slice(d, k, n));
        out.push_back(refMth(slice(d, 0, k)));
    }
    return out;
}

// SUBPROOF(m, D[n], b).
std::vector<Hash256> refSubproof(std::size_t m, const std::vector<Hash256>& d, bool b) {
    const std::size_t n = d.size();
    if (m == n) {
        if (b) return {};
        return {refMth(d)};
    }
    const std::size_t k = refSplit(n);
    std::vector<Hash256> out;
    if (m <= k) {
        out = refSubproof(m, slice(d, 0, k), b);
        out.push_back(refMth(slice(d, k, n)));
    } else {
        out = refSubproof(m - k, slice(d, k, n), false);
        out.push_back(refMth(slice(d, 0, k)));
    }
    return out;
}

std::vector<Hash256> refProof(std::size_t m, const std::vector<Hash256>& d) {
    return refSubproof(m, d, true);
}

// ---- helpers ----

Hash256 hashFromHex(const QString& s) {
    auto h = Hash256::fromHex(s.toStdString());
    if (!h) qFatal("bad hash hex in test vectors: %s", qPrintable(s));
    return *h;
}

std::vector<Hash256> hashesFromJson(const QJsonArray& a) {
    std::vector<Hash256> out;
    for (const auto& v : a) out.push_back(hashFromHex(v.toString()));
    return out;
}

Hash256 flipBit(const Hash256& h, std::size_t byte, int bit) {
    auto a = h.array();
    a[byte] ^= static_cast<std::uint8_t>(1u << bit);
    return Hash256(a);
}

Hash256 someHash(std::uint8_t tag) {
    std::array<std::uint8_t, Hash256::kSize> a{};
    a.fill(tag);
    return Hash256(a);
}

// Leaf hashes of leaves {0}, {1}, ... (distinct one-byte leaves).
std::vector<Hash256> makeLeafHashes(std::size_t n) {
    std::vector<Hash256> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8),
                                   static_cast<std::uint8_t>(i >> 16), 0x5a};
        out.push_back(merkle::leafHash(ByteView(b, i < 256 ? 1 : 4)));
    }
    return out;
}

QString hexList(const std::vector<Hash256>& v) {
    QStringList parts;
    for (const auto& h : v) parts << QString::fromStdString(h.hex());
    return "[" + parts.join(", ") + "]";
}

std::vector<Hash256> with(std::vector<Hash256> v, std::size_t pos, const Hash256& h) {
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(pos), h);
    return v;
}

std::vector<Hash256> without(std::vector<Hash256> v, std::size_t pos) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
    return v;
}

constexpr std::size_t kMaxExhaustive = 64;

}  // namespace

class TestMerkle : public QObject {
    Q_OBJECT

private:
    QJsonObject m_vectors;
    std::vector<Hash256> m_refLeafHashes;  // the 8 CT reference leaves
    std::vector<Hash256> m_refRoots;       // m_refRoots[i] = root of i + 1 leaves

    void checkInclusionTampering(const std::vector<Hash256>& leaves, std::size_t size, std::size_t index,
                                 const std::vector<Hash256>& roots);
    void checkConsistencyTampering(std::size_t m, std::size_t n, const std::vector<Hash256>& proof,
                                   const std::vector<Hash256>& roots);

private slots:
    void initTestCase();

    void emptyTree();
    void leafAndNodeHashes();
    void referenceRoots();
    void referenceInclusionProofs();
    void referenceConsistencyProofs();
    void rootMatchesRecursiveReference();
    void proofsMatchRecursiveReference();
    void proofArgumentErrors();
    void verifyDegenerateInputs();
    void exhaustiveInclusion();
    void exhaustiveConsistency();
    void largeTree();
    void frontierMatchesTheRootOfEveryPrefix();
};

void TestMerkle::initTestCase() {
    QFile f(QStringLiteral(FIDES_TEST_DATA_DIR "/rfc6962_vectors.json"));
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable("cannot open " + f.fileName()));
    QJsonParseError err{};
    const auto doc = QJsonDocument::fromJson(f.readAll(), &err);
    QVERIFY2(err.error == QJsonParseError::NoError, qPrintable(err.errorString()));
    m_vectors = doc.object();

    const auto leaves = m_vectors["leaves"].toArray();
    QCOMPARE(leaves.size(), 8);
    for (const auto& v : leaves) {
        auto bytes = fides::fromHex(v.toString().toStdString());
        QVERIFY(bytes.has_value());
        m_refLeafHashes.push_back(merkle::leafHash(*bytes));
    }
    m_refRoots = hashesFromJson(m_vectors["roots"].toArray());
    QCOMPARE(m_refRoots.size(), std::size_t{8});
}

void TestMerkle::emptyTree() {
    const Hash256 expected = hashFromHex(m_vectors["emptyRoot"].toString());
    QCOMPARE(merkle::emptyRoot().hex(),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QVERIFY(merkle::emptyRoot() == expected);
    QVERIFY(merkle::emptyRoot() == fides::crypto::sha256(ByteView{}));
    QVERIFY(merkle::rootFromLeafHashes({}) == expected);
}

void TestMerkle::leafAndNodeHashes() {
    const Bytes data = fides::toBytes("some leaf data");
    QVERIFY(merkle::leafHash(data) == refLeafHash(data));
    QVERIFY(merkle::leafHash(ByteView{}) == refLeafHash(ByteView{}));
    // leafHash("") is the 1-leaf root of the CT reference tree.
    QVERIFY(merkle::leafHash(ByteView{}) == m_refRoots[0]);
    // Not plain SHA-256: the 0x00 prefix is there.
    QVERIFY(merkle::leafHash(data) != fides::crypto::sha256(data));

    const Hash256 a = merkle::leafHash(fides::toBytes("a"));
    const Hash256 b = merkle::leafHash(fides::toBytes("b"));
    QVERIFY(merkle::nodeHash(a, b) == refNodeHash(a, b));
    QVERIFY(merkle::nodeHash(a, b) != merkle::nodeHash(b, a));
    // Domain separation: a 64-byte leaf equal to a || b is not the node (a, b).
    Bytes concat(a.bytes().begin(), a.bytes().end());
    concat.insert(concat.end(), b.bytes().begin(), b.bytes().end());
    QVERIFY(merkle::leafHash(concat) != merkle::nodeHash(a, b));
    // Repeated calls (reused hasher state) stay deterministic.
    QVERIFY(merkle::nodeHash(a, b) == merkle::nodeHash(a, b));
    QVERIFY(merkle::rootFromLeafHashes({a, b}) == merkle::nodeHash(a, b));
    QVERIFY(merkle::rootFromLeafHashes({a}) == a);
}

void TestMerkle::referenceRoots() {
    for (std::size_t n = 1; n <= 8; ++n) {
        const auto prefix = slice(m_refLeafHashes, 0, n);
        QVERIFY2(merkle::rootFromLeafHashes(prefix) == m_refRoots[n - 1],
                 qPrintable(QString("size %1: got %2")
                                .arg(n)
                                .arg(QString::fromStdString(merkle::rootFromLeafHashes(prefix).hex()))));
    }
}

void TestMerkle::referenceInclusionProofs() {
    const auto cases = m_vectors["inclusion"].toArray();
    QVERIFY(cases.size() >= 5);
    for (const auto& cv : cases) {
        const auto c = cv.toObject();
        const auto index = static_cast<std::uint64_t>(c["index"].toInteger());
        const auto size = static_cast<std::size_t>(c["size"].toInteger());
        const auto expected = hashesFromJson(c["path"].toArray());
        const auto leaves = slice(m_refLeafHashes, 0, size);

        auto proof = merkle::inclusionProof(leaves, index);
        QVERIFY(proof.isOk());
        QVERIFY2(*proof == expected, qPrintable(QString("leaf %1 of %2: got %3 want %4")
                                                    .arg(index)
                                                    .arg(size)
                                                    .arg(hexList(*proof), hexList(expected))));
        QVERIFY(merkle::verifyInclusion(m_refLeafHashes[index], index, size, expected, m_refRoots[size - 1]));
        checkInclusionTampering(m_refLeafHashes, size, index, m_refRoots);
        if (QTest::currentTestFailed()) return;
    }
}

void TestMerkle::referenceConsistencyProofs() {
    const auto cases = m_vectors["consistency"].toArray();
    QVERIFY(cases.size() >= 5);
    for (const auto& cv : cases) {
        const auto c = cv.toObject();
        const auto m = static_cast<std::size_t>(c["oldSize"].toInteger());
        const auto n = static_cast<std::size_t>(c["newSize"].toInteger());
        const auto expected = hashesFromJson(c["proof"].toArray());
        const auto leaves = slice(m_refLeafHashes, 0, n);

        auto proof = merkle::consistencyProof(leaves, m);
        QVERIFY(proof.isOk());
        QVERIFY2(
            *proof == expected,
            qPrintable(
                QString("%1 -> %2: got %3 want %4").arg(m).arg(n).arg(hexList(*proof), hexList(expected))));
        QVERIFY(merkle::verifyConsistency(m, n, m_refRoots[m - 1], m_refRoots[n - 1], expected));
        checkConsistencyTampering(m, n, expected, m_refRoots);
        if (QTest::currentTestFailed()) return;
    }
}

void TestMerkle::rootMatchesRecursiveReference() {
    const auto leaves = makeLeafHashes(1100);
    for (std::size_t n = 0; n <= 300; ++n) {
        const auto prefix = slice(leaves, 0, n);
        QVERIFY2(merkle::rootFromLeafHashes(prefix) == refMth(prefix), qPrintable(QString("size %1").arg(n)));
    }
    for (std::size_t n : {511u, 512u, 513u, 1023u, 1024u, 1025u, 1100u}) {
        const auto prefix = slice(leaves, 0, n);
        QVERIFY2(merkle::rootFromLeafHashes(prefix) == refMth(prefix), qPrintable(QString("size %1").arg(n)));
    }
    // The order of the leaves matters.
    auto swapped = slice(leaves, 0, 5);
    std::swap(swapped[1], swapped[2]);
    QVERIFY(merkle::rootFromLeafHashes(swapped) != merkle::rootFromLeafHashes(slice(leaves, 0, 5)));
}

void TestMerkle::proofsMatchRecursiveReference() {
    const auto leaves = makeLeafHashes(kMaxExhaustive);
    for (std::size_t n = 1; n <= kMaxExhaustive; ++n) {
        const auto tree = slice(leaves, 0, n);
        for (std::size_t i = 0; i < n; ++i) {
            auto proof = merkle::inclusionProof(tree, i);
            QVERIFY(proof.isOk());
            QVERIFY2(*proof == refPath(i, tree), qPrintable(QString("PATH(%1, D[%2])").arg(i).arg(n)));
        }
        for (std::size_t m = 1; m <= n; ++m) {
            auto proof = merkle::consistencyProof(tree, m);
            QVERIFY(proof.isOk());
            QVERIFY2(*proof == refProof(m, tree), qPrintable(QString("PROOF(%1, D[%2])").arg(m).arg(n)));
        }
    }
}

void TestMerkle::proofArgumentErrors() {
    const auto leaves = makeLeafHashes(5);
    const std::vector<Hash256> empty;

    auto r = merkle::inclusionProof(leaves, 5);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::inclusionProof(leaves, 6).status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::inclusionProof(leaves, UINT64_MAX).status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::inclusionProof(empty, 0).status().code(), fides::Code::InvalidArgument);
    QVERIFY(merkle::inclusionProof(leaves, 4).isOk());

    QCOMPARE(merkle::consistencyProof(leaves, 0).status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::consistencyProof(leaves, 6).status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::consistencyProof(leaves, UINT64_MAX).status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::consistencyProof(empty, 0).status().code(), fides::Code::InvalidArgument);
    QCOMPARE(merkle::consistencyProof(empty, 1).status().code(), fides::Code::InvalidArgument);

    auto same = merkle::consistencyProof(leaves, 5);
    QVERIFY(same.isOk());
    QVERIFY(same->empty());

    // A single-leaf tree: empty path, root == leaf hash.
    auto one = merkle::inclusionProof(slice(leaves, 0, 1), 0);
    QVERIFY(one.isOk());
    QVERIFY(one->empty());
}

void TestMerkle::verifyDegenerateInputs() {
    const Hash256 leaf = merkle::leafHash(fides::toBytes("data"));
    const std::vector<Hash256> none;
    // Single-entry tree: root is the leaf hash, proof empty.
    QVERIFY(merkle::verifyInclusion(leaf, 0, 1, none, leaf));
    QVERIFY(!merkle::verifyInclusion(leaf, 0, 1, none, merkle::emptyRoot()));
    QVERIFY(!merkle::verifyInclusion(merkle::emptyRoot(), 0, 1, none, leaf));
    // index >= treeSize, even with root == leaf hash.
    QVERIFY(!merkle::verifyInclusion(leaf, 0, 0, none, leaf));
    QVERIFY(!merkle::verifyInclusion(leaf, 1, 0, none, leaf));
    QVERIFY(!merkle::verifyInclusion(leaf, 1, 1, none, leaf));
    QVERIFY(!merkle::verifyInclusion(leaf, 2, 1, none, leaf));
    QVERIFY(!merkle::verifyInclusion(leaf, UINT64_MAX, UINT64_MAX, none, leaf));
    // Extra element for a 1-leaf tree.
    QVERIFY(!merkle::verifyInclusion(leaf, 0, 1, {leaf}, merkle::nodeHash(leaf, leaf)));

    const Hash256 r1 = someHash(1);
    const Hash256 r2 = someHash(2);
    // Same size: consistent iff roots equal and proof empty.
    QVERIFY(merkle::verifyConsistency(1, 1, r1, r1, none));
    QVERIFY(merkle::verifyConsistency(7, 7, r2, r2, none));
    QVERIFY(!merkle::verifyConsistency(1, 1, r1, r2, none));
    QVERIFY(!merkle::verifyConsistency(1, 1, r1, r1, {r1}));
    QVERIFY(!merkle::verifyConsistency(3, 3, r1, r1, {r1}));
    // Time travel to the past.
    QVERIFY(!merkle::verifyConsistency(2, 1, r1, r2, none));
    QVERIFY(!merkle::verifyConsistency(1, 0, r1, r2, none));
    QVERIFY(!merkle::verifyConsistency(2, 1, r1, r1, {r1}));
    // Nothing is proven from the empty tree.
    QVERIFY(!merkle::verifyConsistency(0, 1, merkle::emptyRoot(), r2, none));
    QVERIFY(!merkle::verifyConsistency(0, 1, merkle::emptyRoot(), r2, {r2}));
    // Empty proof for distinct sizes.
    QVERIFY(!merkle::verifyConsistency(1, 2, r1, r2, none));
    QVERIFY(!merkle::verifyConsistency(2, 4, r1, r2, none));
    // Huge sizes do not overflow or loop.
    QVERIFY(!merkle::verifyConsistency(UINT64_MAX - 1, UINT64_MAX, r1, r2, {r1, r2}));
    QVERIFY(!merkle::verifyInclusion(leaf, UINT64_MAX - 1, UINT64_MAX, {r1, r2}, r2));
}

void TestMerkle::checkInclusionTampering(const std::vector<Hash256>& leaves, std::size_t size,
                                         std::size_t index, const std::vector<Hash256>& roots) {
    const auto tree = slice(leaves, 0, size);
    auto res = merkle::inclusionProof(tree, index);
    QVERIFY(res.isOk());
    const std::vector<Hash256> proof = *res;
    const Hash256& root = roots[size - 1];
    const Hash256& leaf = leaves[index];
    const QString ctx = QString("leaf %1 of %2").arg(index).arg(size);

    QVERIFY2(merkle::verifyInclusion(leaf, index, size, proof, root), qPrintable(ctx));

    auto rejects = [&](std::uint64_t i, std::uint64_t s, const std::vector<Hash256>& p, const Hash256& r,
                       const Hash256& l, const char* what) {
        QVERIFY2(!merkle::verifyInclusion(l, i, s, p, r), qPrintable(ctx + ": accepted " + what));
    };

    // Flip a bit in each element (two different positions).
    for (std::size_t j = 0; j < proof.size(); ++j) {
        auto p = proof;
        p[j] = flipBit(proof[j], 0, 3);
        rejects(index, size, p, root, leaf, "bit flip (byte 0)");
        p[j] = flipBit(proof[j], 31, 0);
        rejects(index, size, p, root, leaf, "bit flip (byte 31)");
    }
    if (QTest::currentTestFailed()) return;
    // Missing elements.
    if (!proof.empty()) {
        rejects(index, size, without(proof, proof.size() - 1), root, leaf, "dropped last element");
        rejects(index, size, without(proof, 0), root, leaf, "dropped first element");
        rejects(index, size, {}, root, leaf, "empty proof");
    }
    // Extra elements.
    rejects(index, size, with(proof, proof.size(), someHash(0)), root, leaf, "appended zero hash");
    rejects(index, size, with(proof, proof.size(), root), root, leaf, "appended root");
    rejects(index, size, with(proof, 0, someHash(0)), root, leaf, "prepended zero hash");
    rejects(index, size, with(proof, 0, root), root, leaf, "prepended root");
    rejects(index, size, with(proof, 0, leaf), root, leaf, "prepended leaf");
    if (!proof.empty()) {
        rejects(index, size, with(proof, proof.size(), proof.back()), root, leaf, "duplicated last");
        rejects(index, size, with(proof, proof.size() / 2, someHash(7)), root, leaf, "inserted middle");
    }
    // Wrong index: every other position in the tree, and out of range.
    for (std::size_t j = 0; j < size + 2; ++j) {
        if (j != index) rejects(j, size, proof, root, leaf, "wrong index");
    }
    rejects(index ^ 2, size, proof, root, leaf, "index ^ 2");
    // Wrong tree size.
    rejects(index, size * 2, proof, root, leaf, "size * 2");
    rejects(index, size / 2, proof, root, leaf, "size / 2");
    rejects(index, index, proof, root, leaf, "size == index");
    rejects(index, 0, proof, root, leaf, "size 0");
    // Wrong root.
    rejects(index, size, proof, flipBit(root, 5, 7), leaf, "modified root");
    rejects(index, size, proof, merkle::emptyRoot(), leaf, "empty root");
    if (size >= 2) rejects(index, size, proof, roots[size - 2], leaf, "root of size - 1");
    if (size < roots.size()) rejects(index, size, proof, roots[size], leaf, "root of size + 1");
    // Wrong leaf.
    rejects(index, size, proof, root, flipBit(leaf, 0, 0), "modified leaf");
    rejects(index, size, proof, root, leaves[(index + 1) % leaves.size()], "other leaf");
}

void TestMerkle::checkConsistencyTampering(std::size_t m, std::size_t n, const std::vector<Hash256>& proof,
                                           const std::vector<Hash256>& roots) {
    const Hash256& r1 = roots[m - 1];
    const Hash256& r2 = roots[n - 1];
    const QString ctx = QString("%1 -> %2").arg(m).arg(n);
    QVERIFY2(merkle::verifyConsistency(m, n, r1, r2, proof), qPrintable(ctx));

    auto rejects = [&](std::uint64_t a, std::uint64_t b, const Hash256& ra, const Hash256& rb,
                       const std::vector<Hash256>& p, const char* what) {
        QVERIFY2(!merkle::verifyConsistency(a, b, ra, rb, p), qPrintable(ctx + ": accepted " + what));
    };

    if (m == n) {
        QVERIFY(proof.empty());
        rejects(m, n, r1, r2, {r1}, "non-empty proof for equal sizes");
        rejects(m, n, r1, flipBit(r2, 0, 0), proof, "different roots for equal sizes");
        rejects(m, n, r1, merkle::emptyRoot(), proof, "empty root for equal sizes");
        return;
    }

    QVERIFY(!proof.empty());
    // Flip a bit in each element.
    for (std::size_t j = 0; j < proof.size(); ++j) {
        auto p = proof;
        p[j] = flipBit(proof[j], 0, 4);
        rejects(m, n, r1, r2, p, "bit flip (byte 0)");
        p[j] = flipBit(proof[j], 17, 1);
        rejects(m, n, r1, r2, p, "bit flip (byte 17)");
    }
    if (QTest::currentTestFailed()) return;
    // Missing elements.
    rejects(m, n, r1, r2, {}, "empty proof");
    rejects(m, n, r1, r2, without(proof, proof.size() - 1), "dropped last element");
    rejects(m, n, r1, r2, without(proof, 0), "dropped first element");
    // Extra elements.
    rejects(m, n, r1, r2, with(proof, proof.size(), someHash(0)), "appended zero hash");
    rejects(m, n, r1, r2, with(proof, proof.size(), r1), "appended root1");
    rejects(m, n, r1, r2, with(proof, proof.size(), r2), "appended root2");
    rejects(m, n, r1, r2, with(proof, proof.size(), proof.back()), "duplicated last");
    rejects(m, n, r1, r2, with(proof, 0, someHash(0)), "prepended zero hash");
    rejects(m, n, r1, r2, with(proof, 0, r1), "prepended root1");
    rejects(m, n, r1, r2, with(proof, 0, r2), "prepended root2");
    rejects(m, n, r1, r2, with(proof, 0, proof[0]), "duplicated first");
    rejects(m, n, r1, r2, with(proof, proof.size() / 2, someHash(9)), "inserted middle");
    // Wrong sizes.
    rejects(m - 1, n, r1, r2, proof, "oldSize - 1");
    rejects(m + 1, n, r1, r2, proof, "oldSize + 1");
    rejects(m ^ 2, n, r1, r2, proof, "oldSize ^ 2");
    rejects(m, n * 2, r1, r2, proof, "newSize * 2");
    rejects(m, n / 2, r1, r2, proof, "newSize / 2");
    rejects(0, n, r1, r2, proof, "oldSize 0");
    rejects(n, m, r1, r2, proof, "sizes swapped");
    // Wrong roots.
    rejects(m, n, r2, r1, proof, "swapped roots");
    rejects(m, n, flipBit(r1, 3, 3), r2, proof, "modified root1");
    rejects(m, n, r1, flipBit(r2, 3, 3), proof, "modified root2");
    rejects(m, n, merkle::emptyRoot(), r2, proof, "empty root1");
    if (m >= 2) rejects(m, n, roots[m - 2], r2, proof, "root1 of oldSize - 1");
    rejects(m, n, roots[m], r2, proof, "root1 of oldSize + 1");
    rejects(m, n, r1, roots[n - 2], proof, "root2 of newSize - 1");
    if (n < roots.size()) rejects(m, n, r1, roots[n], proof, "root2 of newSize + 1");
}

void TestMerkle::exhaustiveInclusion() {
    const auto leaves = makeLeafHashes(kMaxExhaustive);
    std::vector<Hash256> roots;
    for (std::size_t n = 1; n <= kMaxExhaustive; ++n) roots.push_back(refMth(slice(leaves, 0, n)));

    std::size_t checked = 0;
    for (std::size_t n = 1; n <= kMaxExhaustive; ++n) {
        for (std::size_t i = 0; i < n; ++i) {
            checkInclusionTampering(leaves, n, i, roots);
            if (QTest::currentTestFailed()) return;
            ++checked;
        }
    }
    QCOMPARE(checked, kMaxExhaustive * (kMaxExhaustive + 1) / 2);
}

void TestMerkle::exhaustiveConsistency() {
    const auto leaves = makeLeafHashes(kMaxExhaustive);
    std::vector<Hash256> roots;
    for (std::size_t n = 1; n <= kMaxExhaustive; ++n) roots.push_back(refMth(slice(leaves, 0, n)));

    std::size_t checked = 0;
    for (std::size_t n = 1; n <= kMaxExhaustive; ++n) {
        const auto tree = slice(leaves, 0, n);
        for (std::size_t m = 1; m <= n; ++m) {
            auto proof = merkle::consistencyProof(tree, m);
            QVERIFY(proof.isOk());
            checkConsistencyTampering(m, n, *proof, roots);
            if (QTest::currentTestFailed()) return;
            ++checked;
        }
    }
    QCOMPARE(checked, kMaxExhaustive * (kMaxExhaustive + 1) / 2);
}

void TestMerkle::largeTree() {
    // Block-sized tree (about one block's worth of transactions).
    constexpr std::size_t kN = 20000;
    const auto leaves = makeLeafHashes(kN);
    QElapsedTimer timer;
    timer.start();
    const Hash256 root = merkle::rootFromLeafHashes(leaves);
    const qint64 ms = timer.elapsed();
    qInfo("root over %zu leaf hashes: %lld ms", kN, static_cast<long long>(ms));
    QVERIFY(root == refMth(leaves));

    for (std::uint64_t i : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{8191}, std::uint64_t{16383},
                            std::uint64_t{16384}, std::uint64_t{19998}, std::uint64_t{19999}}) {
        auto proof = merkle::inclusionProof(leaves, i);
        QVERIFY(proof.isOk());
        QVERIFY(*proof == refPath(i, leaves));
        QVERIFY(merkle::verifyInclusion(leaves[i], i, kN, *proof, root));
        QVERIFY(!merkle::verifyInclusion(leaves[(i + 1) % kN], i, kN, *proof, root));
    }
    for (std::uint64_t m : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{12345}, std::uint64_t{16384},
                            std::uint64_t{16385}, std::uint64_t{19999}, std::uint64_t{20000}}) {
        auto proof = merkle::consistencyProof(leaves, m);
        QVERIFY(proof.isOk());
        const Hash256 oldRoot = merkle::rootFromLeafHashes(slice(leaves, 0, m));
        QVERIFY(*proof == refProof(m, leaves));
        QVERIFY(merkle::verifyConsistency(m, kN, oldRoot, root, *proof));
        if (m < kN) QVERIFY(!merkle::verifyConsistency(m, kN, root, oldRoot, *proof));
    }
}

// The compact append-only form (merkle::Frontier) gives the RFC 6962 root of
// every prefix, as rootFromLeafHashes does (checked against the recursive
// reference there), and its encoding is strict.
void TestMerkle::frontierMatchesTheRootOfEveryPrefix() {
    std::vector<Hash256> leaves;
    merkle::Frontier f;
    QCOMPARE(f.root(), merkle::emptyRoot());
    for (int i = 0; i < 300; ++i) {
        leaves.push_back(merkle::leafHash(fides::asBytes("item " + std::to_string(i))));
        f.append(leaves.back());
        QCOMPARE(f.size(), leaves.size());
        QCOMPARE(f.root(), merkle::rootFromLeafHashes(leaves));
        QCOMPARE(f.peaks().size(), static_cast<std::size_t>(std::popcount(leaves.size())));
        auto again = merkle::Frontier::decode(f.encode());
        QVERIFY(again);
        QVERIFY(*again == f);
    }
    Bytes enc = f.encode();
    enc.push_back(0);
    QVERIFY(!merkle::Frontier::decode(enc));  // a peak too many
    enc.resize(enc.size() - 33);
    QVERIFY(!merkle::Frontier::decode(enc));  // one too few
    QVERIFY(!merkle::Frontier::decode(Bytes(7, 0)));
    QVERIFY(merkle::Frontier::decode(Bytes(8, 0)));  // the empty log
}

QTEST_APPLESS_MAIN(TestMerkle)
#include "test_merkle.moc"
