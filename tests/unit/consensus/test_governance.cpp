// Governance of the validator set (consensus/governance.h) and the schedule
// (primitives/validator_schedule.h): strict encodings, each kind of change,
// approvals by more than 2/3 of the power of the set the proposal names,
// one pending change at a time, no replay, and the state entries written.
#include "consensus/governance.h"

#include <QtTest>

#include <map>

using namespace fides;
using namespace fides::consensus;

namespace {
const std::string kChain = "gov-chain";

struct MapState final : app::StateReader {
    std::map<Bytes, Bytes> entries;
    Result<std::optional<Bytes>> get(ByteView key) const override {
        auto it = entries.find(Bytes(key.begin(), key.end()));
        if (it == entries.end()) return std::optional<Bytes>();
        return std::optional<Bytes>(it->second);
    }
};

struct Net {
    std::vector<crypto::SecretKey> keys;
    ValidatorSet set;
    explicit Net(std::vector<std::uint64_t> powers) {
        std::vector<fides::Validator> vs;
        for (std::size_t i = 0; i < powers.size(); ++i) {
            keys.push_back(crypto::SecretKey::generate());
            vs.push_back({keys.back().publicKey(), powers[i], "v" + std::to_string(i)});
        }
        set = ValidatorSet::create(vs).value();
    }
    const crypto::SecretKey& keyOf(std::size_t sortedIndex) const {
        for (const auto& k : keys) {
            if (k.publicKey() == set.validators()[sortedIndex].publicKey) return k;
        }
        return keys.front();
    }
};

std::uint64_t expiry() { return static_cast<std::uint64_t>(std::time(nullptr)) + 600; }
}  // namespace

class TestGovernance : public QObject {
    Q_OBJECT

private slots:
    void encodingsRoundTripAndAreStrict() {
        GovernanceProposal p;
        p.baseSetHash = crypto::sha256(asBytes(std::string("base")));
        p.nonce = 42;
        p.description = "add the DPA";
        const auto a = crypto::SecretKey::generate().publicKey();
        const auto b = crypto::SecretKey::generate().publicKey();
        p.changes = {{ChangeOp::Add, a, 5, "dpa", {}},
                     {ChangeOp::Remove, b, 0, "", {}},
                     {ChangeOp::SetPower, a, 7, "", {}},
                     {ChangeOp::RotateKey, a, 0, "", b}};
        GovernancePayload pay;
        pay.proposal = p;
        pay.approve(kChain, crypto::SecretKey::generate());
        pay.approve(kChain, crypto::SecretKey::generate());
        const Bytes enc = pay.encode();
        auto back = GovernancePayload::decode(enc);
        QVERIFY2(back, back.status().toString().c_str());
        QCOMPARE(back->encode(), enc);
        QCOMPARE(back->proposal.changes, p.changes);
        QCOMPARE(back->proposal.digest(kChain), p.digest(kChain));
        QVERIFY(p.digest(kChain) != p.digest("other-chain"));
        // Truncations and trailing bytes are refused.
        for (std::size_t n = 0; n < enc.size(); ++n)
            QVERIFY(!GovernancePayload::decode(ByteView(enc.data(), n)));
        Bytes longer = enc;
        longer.push_back(0);
        QVERIFY(!GovernancePayload::decode(longer));
        // An empty proposal and an unknown operation are refused.
        GovernanceProposal empty = p;
        empty.changes.clear();
        QVERIFY(!GovernanceProposal::decode(empty.encode()));
        Bytes unknownOp = p.encode();
        const std::size_t opAt = 1 + 32 + 8 + 4 + p.description.size() + 4;
        unknownOp[opAt] = 9;
        QVERIFY(!GovernanceProposal::decode(unknownOp));
    }

    void changesApplyOrExplain() {
        Net net({10, 10, 10});
        const auto newcomer = crypto::SecretKey::generate().publicKey();
        const auto member = net.set.validators()[0].publicKey;
        auto added = applyChanges(net.set, {{ChangeOp::Add, newcomer, 4, "new", {}}});
        QVERIFY(added);
        QCOMPARE(added->totalPower(), 34u);
        QVERIFY(added->find(newcomer) != nullptr);
        auto removed = applyChanges(net.set, {{ChangeOp::Remove, member, 0, "", {}}});
        QVERIFY(removed && removed->find(member) == nullptr);
        auto powered = applyChanges(net.set, {{ChangeOp::SetPower, member, 25, "", {}}});
        QVERIFY(powered && powered->find(member)->power == 25);
        auto rotated = applyChanges(net.set, {{ChangeOp::RotateKey, member, 0, "", newcomer}});
        QVERIFY(rotated && rotated->find(member) == nullptr && rotated->find(newcomer)->power == 10);
        QCOMPARE(rotated->find(newcomer)->name, net.set.validators()[0].name);
        // What does not fit is refused with a reason.
        QCOMPARE(applyChanges(net.set, {{ChangeOp::Add, member, 1, "", {}}}).status().code(),
                 Code::InvalidArgument);
        QCOMPARE(applyChanges(net.set, {{ChangeOp::Remove, newcomer, 0, "", {}}}).status().code(),
                 Code::InvalidArgument);
        QCOMPARE(applyChanges(net.set, {{ChangeOp::SetPower, member, 0, "", {}}}).status().code(),
                 Code::InvalidArgument);
        QCOMPARE(applyChanges(net.set, {{ChangeOp::Add, newcomer, 0, "", {}}}).status().code(),
                 Code::InvalidArgument);
        std::vector<ValidatorChange> all;
        for (const auto& v : net.set.validators()) all.push_back({ChangeOp::Remove, v.publicKey, 0, "", {}});
        QCOMPARE(applyChanges(net.set, all).status().code(), Code::InvalidArgument);
    }

    void approvalsNeedMoreThanTwoThirds() {
        Net net({10, 10, 10, 10});
        GovernancePayload pay;
        pay.proposal.baseSetHash = net.set.hash();
        pay.proposal.changes = {{ChangeOp::SetPower, net.set.validators()[0].publicKey, 20, "", {}}};
        QCOMPARE(verifyApprovals(kChain, net.set, pay).code(), Code::PermissionDenied);
        pay.approve(kChain, net.keyOf(0));
        pay.approve(kChain, net.keyOf(1));
        QCOMPARE(verifyApprovals(kChain, net.set, pay).code(), Code::PermissionDenied);  // 20 of 40
        pay.approve(kChain, net.keyOf(1));  // approving twice counts once
        QCOMPARE(pay.approvals.size(), 2u);
        pay.approve(kChain, net.keyOf(3));
        QVERIFY(verifyApprovals(kChain, net.set, pay).isOk());  // 30 of 40
        // A signature for another chain, an outsider, a wrong order.
        GovernancePayload other = pay;
        other.approvals[0].signature = crypto::sign(net.keyOf(0), pay.proposal.digest("other"));
        QCOMPARE(verifyApprovals(kChain, net.set, other).code(), Code::Unauthenticated);
        GovernancePayload outsider = pay;
        outsider.approve(kChain, crypto::SecretKey::generate());
        QCOMPARE(verifyApprovals(kChain, net.set, outsider).code(), Code::Unauthenticated);
        GovernancePayload unordered = pay;
        std::swap(unordered.approvals[0], unordered.approvals[1]);
        QCOMPARE(verifyApprovals(kChain, net.set, unordered).code(), Code::InvalidArgument);
    }

    void appSchedulesOneChangeAtATimeAndNeverTwice() {
        Net net({10, 10, 10, 10});
        auto schedule = std::make_shared<ValidatorSchedule>(net.set);
        GovernanceApp app(kChain, schedule);
        MapState committed;
        app.setCommittedHeight(9);
        const auto newcomer = crypto::SecretKey::generate();
        GovernancePayload pay;
        pay.proposal.baseSetHash = net.set.hash();
        pay.proposal.nonce = 1;
        pay.proposal.changes = {{ChangeOp::Add, newcomer.publicKey(), 10, "newcomer", {}}};
        for (std::size_t i = 0; i < 3; ++i) pay.approve(kChain, net.keyOf(i));
        const auto submitter = crypto::SecretKey::generate();
        const Transaction tx = makeGovernanceTx(kChain, submitter, pay, expiry());
        QVERIFY2(app.checkTx(tx, committed).isOk(), app.checkTx(tx, committed).toString().c_str());

        app::StagedState block(committed);
        app::BlockState view(block, app.statePrefix(), app.name());
        QVERIFY(app.deliverTx(tx, {10, 1, 0, {}}, view).isOk());
        block.commitTx();
        QCOMPARE(block.writes().size(), 2u);
        const Bytes setKey = ValidatorSchedule::stateKey(12);
        QVERIFY(block.writes().count(setKey) == 1);
        auto scheduled = ValidatorSet::decodeFull(*block.writes().at(setKey));
        QVERIFY(scheduled && scheduled->find(newcomer.publicKey()) != nullptr);
        QCOMPARE(ValidatorSchedule::parseStateKey(setKey).value(), 12u);
        QVERIFY(!ValidatorSchedule::parseStateKey(asBytes(std::string("fides/validator-set/x"))));

        // A second change in the same block is refused.
        GovernancePayload second = pay;
        second.proposal.nonce = 2;
        second.approvals.clear();
        for (std::size_t i = 0; i < 3; ++i) second.approve(kChain, net.keyOf(i));
        QCOMPARE(
            app.deliverTx(makeGovernanceTx(kChain, submitter, second, expiry()), {10, 1, 1, {}}, view).code(),
            Code::FailedPrecondition);

        // Committed: while it is pending (heights 11), nothing else; once it
        // took effect, a proposal must name the new set; the applied one is
        // never applied again.
        for (const auto& [k, v] : block.writes()) committed.entries[k] = *v;
        QVERIFY(schedule->add(12, *scheduled).isOk());
        app.setCommittedHeight(10);
        QCOMPARE(app.checkTx(makeGovernanceTx(kChain, submitter, second, expiry()), committed).code(),
                 Code::FailedPrecondition);
        app.setCommittedHeight(11);
        QCOMPARE(app.checkTx(makeGovernanceTx(kChain, submitter, second, expiry()), committed).code(),
                 Code::FailedPrecondition);  // base set is no longer the set in force
        QCOMPARE(
            app.checkTx(makeGovernanceTx(kChain, crypto::SecretKey::generate(), pay, expiry()), committed)
                .code(),
            Code::FailedPrecondition);
        QCOMPARE(schedule->at(11)->hash(), net.set.hash());
        QCOMPARE(schedule->at(12)->hash(), scheduled->hash());
        QVERIFY(schedule->everMember(newcomer.publicKey()));
        QCOMPARE(schedule->lastChangeHeight(), 12u);
        // The schedule refuses out-of-order or conflicting entries.
        QCOMPARE(schedule->add(12, net.set).code(), Code::FailedPrecondition);
        QCOMPARE(schedule->add(5, net.set).code(), Code::FailedPrecondition);
        QVERIFY(schedule->add(12, *scheduled).isOk());

        // The new set (5 members, 50 power) approves the next change with 4 of 5.
        GovernancePayload third;
        third.proposal.baseSetHash = scheduled->hash();
        third.proposal.changes = {{ChangeOp::Remove, net.keyOf(0).publicKey(), 0, "", {}}};
        third.approve(kChain, newcomer);
        for (std::size_t i = 1; i < 3; ++i) third.approve(kChain, net.keyOf(i));
        QCOMPARE(app.checkTx(makeGovernanceTx(kChain, submitter, third, expiry()), committed).code(),
                 Code::PermissionDenied);  // 30 of 50
        third.approve(kChain, net.keyOf(3));
        QVERIFY(app.checkTx(makeGovernanceTx(kChain, submitter, third, expiry()), committed).isOk());
        // A change that would change nothing is refused.
        GovernancePayload noop;
        noop.proposal.baseSetHash = scheduled->hash();
        noop.proposal.changes = {{ChangeOp::SetPower, newcomer.publicKey(), 10, "", {}}};
        noop.approve(kChain, newcomer);
        for (std::size_t i = 0; i < 4; ++i) noop.approve(kChain, net.keyOf(i));
        QCOMPARE(app.checkTx(makeGovernanceTx(kChain, submitter, noop, expiry()), committed).code(),
                 Code::InvalidArgument);
    }

    void fullSetEncodingIsStrict() {
        Net net({3, 5, 7});
        const Bytes enc = net.set.encodeFull();
        auto back = ValidatorSet::decodeFull(enc);
        QVERIFY(back);
        QCOMPARE(back->hash(), net.set.hash());
        QCOMPARE(back->validators()[1].name, net.set.validators()[1].name);
        for (std::size_t n = 0; n < enc.size(); ++n)
            QVERIFY(!ValidatorSet::decodeFull(ByteView(enc.data(), n)));
        // Members out of key order: a second encoding of the same set.
        Bytes swapped = enc;
        const std::size_t first = 1 + 4;
        const std::size_t memberSize = 32 + 8 + 4 + 2;  // key, power, name "vN"
        std::swap_ranges(swapped.begin() + first, swapped.begin() + first + memberSize,
                         swapped.begin() + first + memberSize);
        QVERIFY(!ValidatorSet::decodeFull(swapped));
    }
};

QTEST_GUILESS_MAIN(TestGovernance)
#include "test_governance.moc"
