// Hand-driven unit tests of the Tendermint engine: proposer weighting, the
// single-validator path, a four-validator happy path, locking, equivocation
// evidence, decisions from block sync, and the round skip.
#include "consensus/engine.h"

#include <QtTest>

#include <map>

using namespace fides;
using namespace fides::consensus;

namespace {

Value value(std::uint64_t h, std::uint32_t tag) {
    Value v;
    Bytes seed{static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(tag),
               static_cast<std::uint8_t>(tag >> 8)};
    v.id = crypto::sha256(seed);
    v.data = seed;
    return v;
}

Engine makeEngine(std::vector<std::uint64_t> powers, ValidatorIndex self, std::uint32_t tag = 0) {
    EngineHooks hooks;
    hooks.getValue = [self, tag](std::uint64_t h) { return value(h, tag ? tag : 100 + self); };
    hooks.valid = [](std::uint64_t, const Value& v) { return !v.data.empty() && v.data[0] != 0xff; };
    return Engine(std::move(powers), self, TimeoutConfig{}, hooks);
}

Vote vote(VoteType t, std::uint64_t h, std::uint32_t r, std::optional<ValueId> v, ValidatorIndex who) {
    return Vote{t, h, r, v, who};
}

}  // namespace

class TestConsensusEngine : public QObject {
    Q_OBJECT

private slots:
    void proposerScheduleIsWeightedByPower() {
        ProposerSchedule equal({1, 1, 1, 1});
        for (std::uint64_t h = 1; h <= 8; ++h)
            QCOMPARE(equal.proposer(h, 0), static_cast<ValidatorIndex>((h - 1) % 4));
        QCOMPARE(equal.proposer(1, 1), ValidatorIndex(1));  // rounds rotate too

        ProposerSchedule weighted({1, 2, 3});
        std::map<ValidatorIndex, int> counts;
        for (std::uint64_t h = 1; h <= 600; ++h) ++counts[weighted.proposer(h, 0)];
        QCOMPARE(counts[0], 100);
        QCOMPARE(counts[1], 200);
        QCOMPARE(counts[2], 300);
        // Asking for an earlier height again gives the same answer.
        ProposerSchedule again({1, 2, 3});
        for (std::uint64_t h = 1; h <= 50; ++h) QCOMPARE(again.proposer(h, 2), weighted.proposer(h, 2));
    }

    void singleValidatorDecidesAtOnce() {
        Engine e = makeEngine({10}, 0);
        Effects fx = e.start(1);
        QCOMPARE(fx.proposals.size(), 1u);
        QCOMPARE(fx.votes.size(), 2u);  // its prevote and precommit
        QCOMPARE(fx.decisions.size(), 1u);
        QCOMPARE(fx.decisions[0].height, 1u);
        QCOMPARE(fx.decisions[0].precommits.size(), 1u);
        QVERIFY(e.decided());
        // Nothing more happens at a decided height until start(h + 1).
        QVERIFY(e.onTimeout({1, 0, Step::Precommit}).empty());
        fx = e.start(2);
        QCOMPARE(fx.decisions.size(), 1u);
        QCOMPARE(fx.decisions[0].height, 2u);
    }

    void fourValidatorsDecideWhenMessagesFlow() {
        std::vector<Engine> nodes;
        for (ValidatorIndex i = 0; i < 4; ++i) nodes.push_back(makeEngine({1, 1, 1, 1}, i));
        std::vector<Effects> pending;
        for (auto& n : nodes) pending.push_back(n.start(1));
        std::map<ValidatorIndex, ValueId> decided;
        // Deliver everything to everyone until quiet.
        for (int guard = 0; guard < 100; ++guard) {
            std::vector<Effects> next(nodes.size());
            bool any = false;
            for (ValidatorIndex from = 0; from < nodes.size(); ++from) {
                for (const auto& d : pending[from].decisions) decided[from] = d.value.id;
                for (ValidatorIndex to = 0; to < nodes.size(); ++to) {
                    if (to == from) continue;
                    for (const auto& p : pending[from].proposals)
                        next[to].append(nodes[to].onProposal(p)), any = true;
                    for (const auto& v : pending[from].votes)
                        next[to].append(nodes[to].onVote(v)), any = true;
                }
            }
            pending = std::move(next);
            if (!any) break;
        }
        QCOMPARE(decided.size(), 4u);
        for (auto& [i, id] : decided) QCOMPARE(id, value(1, 100 + nodes[0].proposer(1, 0)).id);
    }

    void lockedValidatorPrevotesOnlyItsLock() {
        // Validator 1 sees a polka for value A in round 0 and locks on it.
        Engine e = makeEngine({1, 1, 1, 1}, 1);
        e.start(1);
        const ValidatorIndex p0 = e.proposer(1, 0);
        QVERIFY(p0 != 1);
        const Value a = value(1, 7);
        e.onProposal({1, 0, a, -1, p0});
        for (ValidatorIndex v : {0u, 2u, 3u}) e.onVote(vote(VoteType::Prevote, 1, 0, a.id, v));
        QCOMPARE(e.lockedRound(), 0);
        QCOMPARE(*e.lockedValue(), a.id);
        // Round 1: precommits for nil move everyone on; a fresh proposal for B.
        for (ValidatorIndex v : {0u, 2u, 3u}) e.onVote(vote(VoteType::Precommit, 1, 0, std::nullopt, v));
        Effects fx = e.onTimeout({1, 0, Step::Precommit});
        QCOMPARE(e.round(), 1u);
        const ValidatorIndex p1 = e.proposer(1, 1);
        const Value b = value(1, 8);
        if (p1 != 1) {
            fx = e.onProposal({1, 1, b, -1, p1});
            QCOMPARE(fx.votes.size(), 1u);
            QVERIFY(!fx.votes[0].value.has_value());  // locked on A: prevote nil for B
        } else {
            QCOMPARE(fx.proposals.size(), 1u);
            QCOMPARE(fx.proposals[0].value.id, a.id);  // re-proposes its valid value
            QCOMPARE(fx.proposals[0].validRound, 0);
        }
    }

    void conflictingVotesBecomeEvidence() {
        Engine e = makeEngine({1, 1, 1, 1}, 0);
        e.start(1);
        QVERIFY(e.onVote(vote(VoteType::Prevote, 1, 0, value(1, 1).id, 2)).evidence.empty());
        Effects fx = e.onVote(vote(VoteType::Prevote, 1, 0, value(1, 2).id, 2));
        QCOMPARE(fx.evidence.size(), 1u);
        QCOMPARE(fx.evidence[0].first.validator, 2u);
        QVERIFY(fx.evidence[0].first.value != fx.evidence[0].second.value);
        // The same vote again is not evidence.
        QVERIFY(e.onVote(vote(VoteType::Prevote, 1, 0, value(1, 1).id, 2)).evidence.empty());
    }

    void decisionFromBlockSyncNeedsAQuorum() {
        Engine e = makeEngine({1, 1, 1, 1}, 3);
        e.start(1);
        const Value v = value(1, 9);
        Decision weak{
            1, 0, v, {vote(VoteType::Precommit, 1, 0, v.id, 0), vote(VoteType::Precommit, 1, 0, v.id, 1)}};
        QVERIFY(e.onDecision(weak).decisions.empty());
        Decision dup = weak;
        dup.precommits.push_back(dup.precommits[0]);  // the same signer twice does not count
        QVERIFY(e.onDecision(dup).decisions.empty());
        Decision strong = weak;
        strong.precommits.push_back(vote(VoteType::Precommit, 1, 0, v.id, 2));
        Effects fx = e.onDecision(strong);
        QCOMPARE(fx.decisions.size(), 1u);
        QVERIFY(e.decided());
    }

    void skipsToARoundWithOneThirdOfThePower() {
        Engine e = makeEngine({1, 1, 1, 1}, 0);
        e.start(1);
        e.onVote(vote(VoteType::Prevote, 1, 5, std::nullopt, 1));
        QCOMPARE(e.round(), 0u);  // 1/4 of the power is not enough
        e.onVote(vote(VoteType::Prevote, 1, 5, std::nullopt, 2));
        QCOMPARE(e.round(), 5u);
    }

    void messagesForTheNextHeightAreKept() {
        Engine e = makeEngine({1, 1, 1, 1}, 0);
        e.start(1);
        const Value v = value(2, 3);
        const ValidatorIndex p = e.proposer(2, 0);
        if (p != 0) e.onProposal({2, 0, v, -1, p});
        for (ValidatorIndex w : {1u, 2u, 3u}) {
            e.onVote(vote(VoteType::Prevote, 2, 0, v.id, w));
            e.onVote(vote(VoteType::Precommit, 2, 0, v.id, w));
        }
        QCOMPARE(e.height(), 1u);
        // Height 1 decided by sync; height 2 then decides from the kept messages.
        const Value one = value(1, 1);
        e.onDecision({1,
                      0,
                      one,
                      {vote(VoteType::Precommit, 1, 0, one.id, 1), vote(VoteType::Precommit, 1, 0, one.id, 2),
                       vote(VoteType::Precommit, 1, 0, one.id, 3)}});
        Effects fx = e.start(2);
        if (p != 0) {
            QCOMPARE(fx.decisions.size(), 1u);
            QCOMPARE(fx.decisions[0].value.id, v.id);
        }
    }
};

QTEST_APPLESS_MAIN(TestConsensusEngine)
#include "test_consensus_engine.moc"
