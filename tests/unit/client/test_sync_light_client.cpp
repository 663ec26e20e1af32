// Unit tests of client::syncLightClient against an in-process fake node
// (fake_node.h): it learns every announced validator-set change in height
// order and skips the ones not yet announced; a listed hash or set that does
// not check out stops it; a node that hides a change gets its later headers
// refused by LightClient::verify; an unreachable node is a node error, not a
// verification failure.
#include "client/node_client.h"
#include "fake_node.h"

#include <QtTest>

#include <algorithm>

using namespace fides;
using fides::testing::FakeNode;

namespace {

Result<VerifiedHeader> verifyBlock(const client::NodeClient& c, const LightClient& lc, std::uint64_t height) {
    auto b = c.block(height);
    if (!b) return b.status();
    return lc.verify(asBytes(b->signed_header().header()), asBytes(b->signed_header().commit()));
}

}  // namespace

class TestSyncLightClient : public QObject {
    Q_OBJECT

private slots:
    void followsEveryAnnouncedChange() {
        FakeNode node;
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        auto listed = c.validatorSets();
        QVERIFY2(listed, listed.status().toString().c_str());
        QCOMPARE(listed->sets_size(), 4);
        QCOMPARE(listed->height(), FakeNode::kHeight);

        LightClient lc(node.genesis());
        QCOMPARE(verifyBlock(c, lc, FakeNode::kHeight).status().code(), Code::FailedPrecondition);
        const Status s = client::syncLightClient(c, lc);
        QVERIFY2(s.isOk(), s.toString().c_str());
        // B from 5 and C from 9; D (from 14) is not announced by any committed header yet.
        QCOMPARE(lc.changesLearned(), 2u);
        QCOMPARE(lc.latestChange(), 9u);
        QCOMPARE(lc.setAt(9).hash(), node.set(2).hash());
        for (std::uint64_t h = 1; h <= FakeNode::kHeight; ++h) {
            auto v = verifyBlock(c, lc, h);
            QVERIFY2(v, (std::to_string(h) + ": " + v.status().toString()).c_str());
        }
        // Syncing again changes nothing.
        QVERIFY(client::syncLightClient(c, lc).isOk());
        QCOMPARE(lc.changesLearned(), 2u);
    }

    void learnsInHeightOrderWhateverTheListingOrder() {
        FakeNode node;
        auto entries = node.listedSets();
        std::reverse(entries.begin(), entries.end());
        node.setListedSets(entries);
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        LightClient lc(node.genesis());
        const Status s = client::syncLightClient(c, lc);
        QVERIFY2(s.isOk(), s.toString().c_str());
        QCOMPARE(lc.changesLearned(), 2u);
    }

    void hiddenChangeIsRefusedAtVerify() {
        FakeNode node;
        node.hideChange(9);
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        LightClient lc(node.genesis());
        QVERIFY(client::syncLightClient(c, lc).isOk());
        QCOMPARE(lc.changesLearned(), 1u);
        QVERIFY(verifyBlock(c, lc, 8));
        auto refused = verifyBlock(c, lc, 9);
        QCOMPARE(refused.status().code(), Code::FailedPrecondition);
        QVERIFY(client::isVerificationFailure(refused.status()));
    }

    void listedHashMustBeTheSetsOwn() {
        FakeNode node;
        auto entries = node.listedSets();
        entries[2].set_hash(toStdString(node.set(1).hash().bytes()));  // C listed with B's hash
        node.setListedSets(entries);
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        LightClient lc(node.genesis());
        const Status s = client::syncLightClient(c, lc);
        QCOMPARE(s.code(), Code::Unauthenticated);
        QVERIFY2(s.message().find("height 9") != std::string::npos, s.message().c_str());
        QCOMPARE(lc.changesLearned(), 1u);  // B, before the error, stays learned
    }

    void substitutedSetIsRefused() {
        // The node lists D (with its true hash) where header 8 announced C.
        FakeNode node;
        auto entries = node.listedSets();
        entries[2].set_validator_set(entries[3].validator_set());
        entries[2].set_hash(entries[3].hash());
        node.setListedSets(entries);
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        LightClient lc(node.genesis());
        const Status s = client::syncLightClient(c, lc);
        QCOMPARE(s.code(), Code::Unauthenticated);
        QVERIFY(client::isVerificationFailure(s));
        QCOMPARE(lc.latestChange(), 5u);
    }

    void undecodableSetIsRefused() {
        FakeNode node;
        auto entries = node.listedSets();
        entries[1].set_validator_set("not a validator set");
        node.setListedSets(entries);
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        LightClient lc(node.genesis());
        const Status s = client::syncLightClient(c, lc);
        QVERIFY(!s.isOk());
        QVERIFY(client::isVerificationFailure(s));
        QCOMPARE(lc.changesLearned(), 0u);
    }

    void nodeRefusingIsANodeErrorWhateverItsCode() {
        // A node that answers GetBlock with INVALID_ARGUMENT has refused, not
        // shown a forged commit: the CLI must say "node error" (exit 4).
        FakeNode node;
        node.refuseBlocks({grpc::StatusCode::INVALID_ARGUMENT, "request refused"});
        client::NodeClient c(node.address(), std::chrono::seconds(10));
        LightClient lc(node.genesis());
        const Status s = client::syncLightClient(c, lc);
        QVERIFY(!s.isOk());
        QVERIFY2(!client::isVerificationFailure(s), s.toString().c_str());
        QCOMPARE(s.code(), Code::Unavailable);
        QVERIFY2(s.message().find("INVALID_ARGUMENT") != std::string::npos, s.toString().c_str());
        QVERIFY2(s.message().find("request refused") != std::string::npos, s.toString().c_str());
        QCOMPARE(lc.changesLearned(), 0u);
    }

    void unreachableNodeIsANodeError() {
        // The fake node only gives the genesis; nothing listens on port 1.
        FakeNode node;
        client::NodeClient c("127.0.0.1:1", std::chrono::seconds(5));
        LightClient lc(node.genesis());
        const Status s = client::syncLightClient(c, lc);
        QVERIFY(!s.isOk());
        QVERIFY2(!client::isVerificationFailure(s), s.toString().c_str());
        QVERIFY(s.message().find("fetching the validator sets") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSyncLightClient)
#include "test_sync_light_client.moc"
