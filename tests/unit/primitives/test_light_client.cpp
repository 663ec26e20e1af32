// Unit tests of LightClient (primitives/light_client.h): a client that starts
// from the genesis set learns each validator-set change only from a header
// signed by the set before it that announces the new set, in height order,
// and refuses headers signed by a set it has not learned. Headers and
// commits are built directly with fresh keys; no node is involved.
#include "primitives/block.h"
#include "primitives/genesis.h"
#include "primitives/light_client.h"
#include "primitives/proof.h"
#include "primitives/validator_set.h"

#include <QtTest>

#include <algorithm>

using namespace fides;

namespace {

const std::string kChain = "chain-lc";

// A validator set with its secret keys (equal power 10 each).
struct Members {
    std::vector<crypto::SecretKey> keys;
    ValidatorSet set;

    explicit Members(std::size_t n) {
        std::vector<Validator> vs;
        for (std::size_t i = 0; i < n; ++i) {
            keys.push_back(crypto::SecretKey::generate());
            vs.push_back({keys.back().publicKey(), 10, "v" + std::to_string(i)});
        }
        set = ValidatorSet::create(vs).value();
    }

    // A commit of `h` by the members at `signers` (indices), in key order.
    Commit commit(const BlockHeader& h, const std::vector<std::size_t>& signers) const {
        Commit c;
        c.height = h.height;
        c.round = 0;
        c.blockHash = h.hash();
        std::vector<std::size_t> ordered = signers;
        std::sort(ordered.begin(), ordered.end(),
                  [&](std::size_t a, std::size_t b) { return keys[a].publicKey() < keys[b].publicKey(); });
        for (std::size_t i : ordered) {
            c.signatures.push_back(
                {keys[i].publicKey(),
                 crypto::sign(keys[i], precommitDigest(h.chainId, h.height, 0, c.blockHash))});
        }
        return c;
    }
    // A commit by all members.
    Commit commit(const BlockHeader& h) const {
        std::vector<std::size_t> all(keys.size());
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        return commit(h, all);
    }
};

BlockHeader header(std::uint64_t height, const ValidatorSet& signers, const ValidatorSet& next) {
    BlockHeader h;
    h.chainId = kChain;
    h.height = height;
    h.timeMs = 1'800'000'000'000ULL + height * 1000;
    h.prevHash = crypto::sha256(asBytes("block " + std::to_string(height - 1)));
    h.txRoot = Block::computeTxRoot({});
    h.stateRoot = crypto::sha256(asBytes("state " + std::to_string(height)));
    h.proposer = signers.validators().front().publicKey;
    h.validatorSetHash = signers.hash();
    h.nextValidatorSetHash = next.hash();
    return h;
}

// A header and its commit as canonical bytes, as a node sends them.
struct Signed {
    Bytes header;
    Bytes commit;
};

Signed sign(const BlockHeader& h, const Members& by) { return {h.encode(), by.commit(h).encode()}; }
Signed sign(const BlockHeader& h, const Members& by, const std::vector<std::size_t>& signers) {
    return {h.encode(), by.commit(h, signers).encode()};
}

Genesis genesisOf(const Members& m) {
    Genesis g;
    g.chainId = kChain;
    g.genesisTimeMs = 1'800'000'000'000ULL;
    g.validators = m.set;
    return g;
}

// A chain with two changes: A signs heights 1-4, header 4 announces B;
// B signs 5-8, header 8 announces C; C signs from 9.
struct TwoChanges {
    Members a{4}, b{4}, c{4};
    Signed announceB = sign(header(4, a.set, b.set), a);
    Signed announceC = sign(header(8, b.set, c.set), b);
};

}  // namespace

class TestLightClient : public QObject {
    Q_OBJECT

private slots:
    void genesisSetVerifies() {
        Members a(4);
        const LightClient lc(genesisOf(a));
        QCOMPARE(lc.chainId(), kChain);
        QCOMPARE(lc.latestChange(), 1u);
        QCOMPARE(lc.changesLearned(), 0u);
        const Signed s = sign(header(1, a.set, a.set), a, {0, 1, 2});
        auto v = lc.verify(s.header, s.commit);
        QVERIFY2(v, v.status().toString().c_str());
        QCOMPARE(v->header.height, 1u);
        QCOMPARE(v->signatures, 3u);
        QCOMPARE(v->signedPower, 30u);
        QCOMPARE(v->totalPower, 40u);
        // Too little power, and another chain.
        const Signed weak = sign(header(2, a.set, a.set), a, {0, 1});
        QCOMPARE(lc.verify(weak.header, weak.commit).status().code(), Code::Unauthenticated);
        BlockHeader other = header(2, a.set, a.set);
        other.chainId = "chain-other";
        const Signed foreign = sign(other, a);
        QVERIFY(!lc.verify(foreign.header, foreign.commit));
    }

    void learnsAnAnnouncedChange() {
        TwoChanges net;
        LightClient lc(genesisOf(net.a));
        const Status learned = lc.learnSet(5, net.b.set, net.announceB.header, net.announceB.commit);
        QVERIFY2(learned.isOk(), learned.toString().c_str());
        QCOMPARE(lc.changesLearned(), 1u);
        QCOMPARE(lc.latestChange(), 5u);
        QCOMPARE(lc.setAt(4).hash(), net.a.set.hash());
        QCOMPARE(lc.setAt(5).hash(), net.b.set.hash());
        QCOMPARE(lc.setAt(1000).hash(), net.b.set.hash());
        QCOMPARE(lc.changesUpTo(0), 0u);  // before any block: no change yet (was an underflow)
        QCOMPARE(lc.changesUpTo(4), 0u);
        QCOMPARE(lc.changesUpTo(5), 1u);

        const Signed byB = sign(header(5, net.b.set, net.b.set), net.b, {1, 2, 3});
        auto v = lc.verify(byB.header, byB.commit);
        QVERIFY2(v, v.status().toString().c_str());
        QCOMPARE(v->signatures, 3u);
        QCOMPARE(v->totalPower, 40u);
        // Older headers still verify against the set of their height.
        const Signed byA = sign(header(3, net.a.set, net.a.set), net.a);
        QVERIFY(lc.verify(byA.header, byA.commit));
        // After the change, the old set no longer signs.
        const Signed oldSetLate = sign(header(6, net.a.set, net.a.set), net.a);
        QCOMPARE(lc.verify(oldSetLate.header, oldSetLate.commit).status().code(), Code::FailedPrecondition);
        // Learning the same change again is a no-op; a different set at the same height is refused.
        QVERIFY(lc.learnSet(5, net.b.set, net.announceB.header, net.announceB.commit).isOk());
        QCOMPARE(lc.learnSet(5, net.c.set, net.announceB.header, net.announceB.commit).code(),
                 Code::Unauthenticated);
        QCOMPARE(lc.changesLearned(), 1u);
    }

    void newSetRefusedBeforeLearning() {
        TwoChanges net;
        const LightClient lc(genesisOf(net.a));
        const Signed byB = sign(header(5, net.b.set, net.b.set), net.b);
        QCOMPARE(lc.verify(byB.header, byB.commit).status().code(), Code::FailedPrecondition);
    }

    void forgedAnnouncementIsRefused() {
        TwoChanges net;
        LightClient lc(genesisOf(net.a));
        const BlockHeader h4 = header(4, net.a.set, net.b.set);
        // Signed by non-members (the new set itself).
        const Signed byOutsiders = sign(h4, net.b);
        QCOMPARE(lc.learnSet(5, net.b.set, byOutsiders.header, byOutsiders.commit).code(),
                 Code::Unauthenticated);
        // Signed by members holding only half the power (2 of 4 is not > 2/3).
        const Signed byTooFew = sign(h4, net.a, {0, 1});
        QCOMPARE(lc.learnSet(5, net.b.set, byTooFew.header, byTooFew.commit).code(), Code::Unauthenticated);
        // Exactly 2/3 is not enough either.
        Members three(3);
        LightClient lc3(genesisOf(three));
        const Signed twoThirds = sign(header(4, three.set, net.b.set), three, {0, 1});
        QCOMPARE(lc3.learnSet(5, net.b.set, twoThirds.header, twoThirds.commit).code(),
                 Code::Unauthenticated);
        // A header claiming to be signed by the new set, signed by it.
        const Signed selfSigned = sign(header(4, net.b.set, net.b.set), net.b);
        QVERIFY(!lc.learnSet(5, net.b.set, selfSigned.header, selfSigned.commit).isOk());
        // Nothing was learned: the new set's headers are still refused.
        QCOMPARE(lc.changesLearned(), 0u);
        QCOMPARE(lc3.changesLearned(), 0u);
        const Signed byB = sign(header(5, net.b.set, net.b.set), net.b);
        QCOMPARE(lc.verify(byB.header, byB.commit).status().code(), Code::FailedPrecondition);
    }

    void announcementOfAnotherSetIsRefused() {
        TwoChanges net;
        LightClient lc(genesisOf(net.a));
        // Header 4 announces C; the node offers B.
        const Signed announcesC = sign(header(4, net.a.set, net.c.set), net.a);
        QCOMPARE(lc.learnSet(5, net.b.set, announcesC.header, announcesC.commit).code(),
                 Code::Unauthenticated);
        // Header 4 announces no change.
        const Signed noChange = sign(header(4, net.a.set, net.a.set), net.a);
        QVERIFY(!lc.learnSet(5, net.a.set, noChange.header, noChange.commit).isOk());
        // The announcing header must be the one just before the set's first height.
        QCOMPARE(lc.learnSet(6, net.b.set, net.announceB.header, net.announceB.commit).code(),
                 Code::InvalidArgument);
        // A change cannot replace the genesis set.
        QCOMPARE(lc.learnSet(1, net.b.set, net.announceB.header, net.announceB.commit).code(),
                 Code::Unauthenticated);
        QCOMPARE(lc.changesLearned(), 0u);
    }

    void outOfOrderLearningIsRefused() {
        TwoChanges net;
        LightClient lc(genesisOf(net.a));
        // Change 2 first: its announcing header is signed by B, not yet learned.
        QCOMPARE(lc.learnSet(9, net.c.set, net.announceC.header, net.announceC.commit).code(),
                 Code::FailedPrecondition);
        QCOMPARE(lc.changesLearned(), 0u);
        QVERIFY(lc.learnSet(5, net.b.set, net.announceB.header, net.announceB.commit).isOk());
        const Status second = lc.learnSet(9, net.c.set, net.announceC.header, net.announceC.commit);
        QVERIFY2(second.isOk(), second.toString().c_str());
        QCOMPARE(lc.changesLearned(), 2u);
        QCOMPARE(lc.latestChange(), 9u);
        // A change before the latest learned one is refused, even if announced correctly.
        Members d(4);
        const Signed announceD = sign(header(6, net.b.set, d.set), net.b);
        QCOMPARE(lc.learnSet(7, d.set, announceD.header, announceD.commit).code(), Code::FailedPrecondition);
        QCOMPARE(lc.changesLearned(), 2u);
        const Signed byC = sign(header(9, net.c.set, net.c.set), net.c);
        QVERIFY(lc.verify(byC.header, byC.commit));
    }

    void hiddenChangeIsCaught() {
        // The node reports change 1 but hides change 2.
        TwoChanges net;
        LightClient lc(genesisOf(net.a));
        QVERIFY(lc.learnSet(5, net.b.set, net.announceB.header, net.announceB.commit).isOk());
        const Signed byC = sign(header(10, net.c.set, net.c.set), net.c);
        auto refused = lc.verify(byC.header, byC.commit);
        QCOMPARE(refused.status().code(), Code::FailedPrecondition);
        QVERIFY(refused.status().message().find("not verified") != std::string::npos);
        // The announcement itself is signed by the set the client knows, so once
        // shown it is learned and the header verifies.
        QVERIFY(lc.learnSet(9, net.c.set, net.announceC.header, net.announceC.commit).isOk());
        QVERIFY(lc.verify(byC.header, byC.commit));
    }
};

QTEST_APPLESS_MAIN(TestLightClient)
#include "test_light_client.moc"
