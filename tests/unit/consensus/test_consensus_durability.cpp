// Signed consensus messages, the write-ahead log (torn tails at every byte,
// corrupt records, repair), the double-sign guard, and ConsensusCore: real
// signatures, commits that verify, and a restart that restores the lock and
// never signs a conflicting message.
#include "consensus/core.h"
#include "consensus/evidence_app.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <ctime>
#include <functional>
#include <map>
#include <set>

using namespace fides;
using namespace fides::consensus;

namespace {

const std::string kChain = "durability-chain";

Value blockValue(std::uint64_t h, std::uint32_t tag) {
    Bytes data{static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(tag), 0x42};
    return Value{crypto::sha256(data), data};
}

struct Validators {
    std::vector<crypto::SecretKey> keys;  // in the set's (sorted) order
    ValidatorSet set;
    explicit Validators(std::size_t n) {
        std::vector<crypto::SecretKey> raw;
        std::vector<Validator> vs;
        for (std::size_t i = 0; i < n; ++i) {
            raw.push_back(crypto::SecretKey::generate());
            vs.push_back({raw.back().publicKey(), 10, "v" + std::to_string(i)});
        }
        set = ValidatorSet::create(vs).value();
        for (const auto& v : set.validators()) {
            for (auto& k : raw) {
                if (k.publicKey() == v.publicKey)
                    keys.push_back(
                        *crypto::SecretKey::fromBytes(Bytes(k.secretBytes().begin(), k.secretBytes().end())));
            }
        }
    }
    crypto::SecretKey key(std::size_t i) const {
        return *crypto::SecretKey::fromBytes(
            Bytes(keys[i].secretBytes().begin(), keys[i].secretBytes().end()));
    }
};

EngineHooks hooksFor(std::uint32_t tag) {
    EngineHooks h;
    h.getValue = [tag](std::uint64_t height) { return blockValue(height, tag); };
    h.valid = [](std::uint64_t, const Value& v) { return !v.data.empty(); };
    return h;
}

CoreConfig configFor(const Validators& vs, const QString& dir) {
    CoreConfig c;
    c.chainId = kChain;
    c.validators = vs.set;
    c.walDir = dir.toStdString();
    return c;
}

Bytes fileBytes(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    const QByteArray b = f.readAll();
    return Bytes(b.begin(), b.end());
}

void writeFile(const QString& path, const Bytes& data) {
    QFile f(path);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        f.write(reinterpret_cast<const char*>(data.data()), data.size());
}

// Delivers each core's output to the others until quiet; decisions are
// collected per core. Cores outside `active` receive but do not act.
void exchange(std::vector<std::unique_ptr<ConsensusCore>>& cores, const std::set<std::size_t>& active,
              std::map<std::size_t, std::vector<CoreDecision>>& decided, std::vector<CoreOutput>& box) {
    const std::size_t n = cores.size();
    for (int guard = 0; guard < 50; ++guard) {
        std::vector<CoreOutput> next(n);
        bool any = false;
        for (std::size_t from : active) {
            for (auto& d : box[from].decisions) decided[from].push_back(d);
            for (std::size_t to = 0; to < n; ++to) {
                if (to == from) continue;
                auto take = [&](Result<CoreOutput> o) {
                    QVERIFY2(o, o.status().toString().c_str());
                    if (active.count(to) == 0) return;  // delivered, but it does not act yet
                    for (auto& x : o->proposals) next[to].proposals.push_back(x);
                    for (auto& x : o->votes) next[to].votes.push_back(x);
                    for (auto& x : o->decisions) next[to].decisions.push_back(x);
                };
                for (const auto& p : box[from].proposals) take(cores[to]->onProposal(p)), any = true;
                for (const auto& v : box[from].votes) take(cores[to]->onVote(v)), any = true;
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (active.count(i) == 0) continue;
            box[i] = std::move(next[i]);
        }
        if (!any) break;
    }
}

}  // namespace

class TestConsensusDurability : public QObject {
    Q_OBJECT

private slots:
    void signedMessagesRoundTripAndVerify() {
        Validators vs(4);
        const Value v = blockValue(3, 1);
        const Vote vote{VoteType::Precommit, 3, 2, v.id, 1};
        SignedVote s = signVote(kChain, vs.keys[1], vote);
        auto back = SignedVote::decode(s.encode());
        QVERIFY(back);
        QCOMPARE(back->encode(), s.encode());
        auto checked = verifyVote(kChain, vs.set, *back);
        QVERIFY2(checked, checked.status().toString().c_str());
        QVERIFY(*checked == vote);
        // A precommit signs exactly what commits are checked against.
        QCOMPARE(voteDigest(kChain, VoteType::Precommit, 3, 2, v.id), precommitDigest(kChain, 3, 2, v.id));
        SignedVote tampered = s;
        tampered.round = 3;
        QCOMPARE(verifyVote(kChain, vs.set, tampered).status().code(), Code::Unauthenticated);
        QCOMPARE(verifyVote("other-chain", vs.set, s).status().code(), Code::Unauthenticated);
        SignedVote stranger = signVote(kChain, crypto::SecretKey::generate(), vote);
        QCOMPARE(verifyVote(kChain, vs.set, stranger).status().code(), Code::Unauthenticated);

        const Proposal p{3, 2, v, 1, 0};
        SignedProposal sp = signProposal(kChain, vs.keys[0], p);
        auto pb = SignedProposal::decode(sp.encode(), 1 << 20);
        QVERIFY(pb);
        auto pv = verifyProposal(kChain, vs.set, *pb);
        QVERIFY(pv);
        QCOMPARE(pv->validRound, 1);
        QCOMPARE(pv->value.id, v.id);
        QVERIFY(!SignedProposal::decode(sp.encode(), 2));  // value larger than allowed
        Bytes bad = sp.encode();
        bad.push_back(0);
        QVERIFY(!SignedProposal::decode(bad, 1 << 20));
    }

    void walTornTailAtEveryOffsetIsCutSafely() {
        QTemporaryDir dir;
        std::vector<Bytes> bodies;
        {
            auto wal = Wal::open(dir.path().toStdString(), 7, nullptr);
            QVERIFY(wal);
            for (int i = 0; i < 6; ++i) {
                bodies.push_back(Bytes(static_cast<std::size_t>(1 + i * 37), static_cast<std::uint8_t>(i)));
                QVERIFY((*wal)->append(WalKind::VoteIn, bodies.back()).isOk());
            }
            QVERIFY((*wal)->sync().isOk());
        }
        const QString path = QString::fromStdString(Wal::pathFor(dir.path().toStdString(), 7));
        const Bytes full = fileBytes(path);
        std::vector<std::size_t> ends;
        std::size_t o = 0;
        for (const auto& b : bodies) ends.push_back(o += 12 + 1 + b.size());
        QCOMPARE(ends.back(), full.size());
        for (std::size_t cut = 0; cut <= full.size(); ++cut) {
            QTemporaryDir d2;
            writeFile(QString::fromStdString(Wal::pathFor(d2.path().toStdString(), 7)),
                      Bytes(full.begin(), full.begin() + cut));
            WalOpenReport rep;
            auto wal = Wal::open(d2.path().toStdString(), 7, &rep);
            QVERIFY2(wal, qPrintable(QString("cut at %1: %2").arg(cut).arg(wal.status().toString().c_str())));
            std::size_t complete = 0;
            while (complete < ends.size() && ends[complete] <= cut) ++complete;
            QCOMPARE(rep.records.size(), complete);
            for (std::size_t i = 0; i < complete; ++i) QCOMPARE(rep.records[i].body, bodies[i]);
            const std::size_t kept = complete == 0 ? 0 : ends[complete - 1];
            QCOMPARE(rep.droppedTailBytes, cut - kept);
            QCOMPARE(fileBytes(QString::fromStdString(Wal::pathFor(d2.path().toStdString(), 7))).size(),
                     kept);
        }
    }

    void walCorruptRecordIsRefusedThenRepaired() {
        QTemporaryDir dir;
        {
            auto wal = Wal::open(dir.path().toStdString(), 3, nullptr);
            for (int i = 0; i < 5; ++i)
                QVERIFY((*wal)->append(WalKind::VoteIn, Bytes(50, static_cast<std::uint8_t>(i))).isOk());
            QVERIFY((*wal)->sync().isOk());
        }
        const QString path = QString::fromStdString(Wal::pathFor(dir.path().toStdString(), 3));
        Bytes data = fileBytes(path);
        data[2 * 63 + 30] ^= 0x40;  // inside the third record
        writeFile(path, data);
        auto refused = Wal::open(dir.path().toStdString(), 3, nullptr);
        QVERIFY(!refused);
        QCOMPARE(refused.status().code(), Code::DataLoss);
        QVERIFY(refused.status().message().find("wal-repair") != std::string::npos);
        QCOMPARE(fileBytes(path), data);  // refused means untouched
        auto removed = Wal::repair(dir.path().toStdString(), 3);
        QVERIFY(removed);
        QCOMPARE(*removed, std::uint64_t(3 * 63));
        WalOpenReport rep;
        QVERIFY(Wal::open(dir.path().toStdString(), 3, &rep));
        QCOMPARE(rep.records.size(), 2u);
        // A damaged length in the middle is not mistaken for a torn tail.
        Bytes again = fileBytes(path);
        for (int i = 0; i < 3; ++i) again.insert(again.end(), again.begin(), again.begin() + 63);
        again[63] = 0x7f;  // second record's length now runs past the end
        writeFile(path, again);
        QCOMPARE(Wal::open(dir.path().toStdString(), 3, nullptr).status().code(), Code::DataLoss);
    }

    void walPruneKeepsCurrentHeights() {
        QTemporaryDir dir;
        for (std::uint64_t h : {1, 2, 3, 10}) QVERIFY(Wal::open(dir.path().toStdString(), h, nullptr));
        QVERIFY(Wal::pruneBelow(dir.path().toStdString(), 3).isOk());
        const QStringList left = QDir(dir.path()).entryList(QDir::Files, QDir::Name);
        QCOMPARE(left, QStringList({"wal-10.log", "wal-3.log"}));
    }

    void signerRefusesConflicts() {
        Validators vs(1);
        GuardedSigner signer(kChain, vs.key(0));
        const Value x = blockValue(1, 1);
        const Value y = blockValue(1, 2);
        bool fresh = false;
        auto a = signer.sign(Vote{VoteType::Prevote, 1, 0, x.id, 0}, &fresh);
        QVERIFY(a && fresh);
        auto again = signer.sign(Vote{VoteType::Prevote, 1, 0, x.id, 0}, &fresh);
        QVERIFY(again && !fresh);
        QCOMPARE(again->signature, a->signature);
        QCOMPARE(signer.sign(Vote{VoteType::Prevote, 1, 0, y.id, 0}).status().code(),
                 Code::FailedPrecondition);
        QCOMPARE(signer.sign(Vote{VoteType::Prevote, 1, 0, std::nullopt, 0}).status().code(),
                 Code::FailedPrecondition);
        QVERIFY(signer.sign(Vote{VoteType::Precommit, 1, 0, x.id, 0}));
        // Going back to an earlier step or round is refused.
        QCOMPARE(signer.sign(Proposal{1, 0, y, -1, 0}).status().code(), Code::FailedPrecondition);
        QVERIFY(signer.sign(Proposal{1, 1, y, -1, 0}));
        QCOMPARE(signer.sign(Proposal{1, 1, x, -1, 0}).status().code(), Code::FailedPrecondition);

        // A new guard restored from what was signed refuses the same conflicts.
        GuardedSigner restored(kChain, vs.key(0));
        QVERIFY(restored.restore(*a).isOk());
        QCOMPARE(restored.sign(Vote{VoteType::Prevote, 1, 0, y.id, 0}).status().code(),
                 Code::FailedPrecondition);
        auto same = restored.sign(Vote{VoteType::Prevote, 1, 0, x.id, 0}, &fresh);
        QVERIFY(same && !fresh);
        QCOMPARE(same->signature, a->signature);
    }

    void coresDecideWithCommitsThatVerify() {
        Validators vs(4);
        std::vector<QTemporaryDir> dirs(4);
        std::vector<std::unique_ptr<ConsensusCore>> cores;
        std::vector<CoreOutput> outbox(4);
        for (std::size_t i = 0; i < 4; ++i) {
            auto c = ConsensusCore::open(configFor(vs, dirs[i].path()), vs.key(i),
                                         hooksFor(static_cast<std::uint32_t>(i)), 1, &outbox[i]);
            QVERIFY2(c, c.status().toString().c_str());
            cores.push_back(std::move(*c));
        }
        std::map<std::size_t, std::vector<CoreDecision>> decided;
        for (std::uint64_t height = 1; height <= 3; ++height) {
            for (int guard = 0; guard < 50; ++guard) {
                std::vector<CoreOutput> next(4);
                bool any = false;
                for (std::size_t from = 0; from < 4; ++from) {
                    for (auto& d : outbox[from].decisions) decided[from].push_back(d);
                    for (std::size_t to = 0; to < 4; ++to) {
                        if (to == from) continue;
                        for (const auto& p : outbox[from].proposals) {
                            auto o = cores[to]->onProposal(p);
                            QVERIFY2(o, o.status().toString().c_str());
                            for (auto& x : o->proposals) next[to].proposals.push_back(x);
                            for (auto& x : o->votes) next[to].votes.push_back(x);
                            for (auto& x : o->decisions) next[to].decisions.push_back(x);
                            any = true;
                        }
                        for (const auto& v : outbox[from].votes) {
                            auto o = cores[to]->onVote(v);
                            QVERIFY2(o, o.status().toString().c_str());
                            for (auto& x : o->proposals) next[to].proposals.push_back(x);
                            for (auto& x : o->votes) next[to].votes.push_back(x);
                            for (auto& x : o->decisions) next[to].decisions.push_back(x);
                            any = true;
                        }
                    }
                }
                outbox = std::move(next);
                if (!any) break;
            }
            for (auto& o : outbox) {
                (void)o;
            }
            for (std::size_t i = 0; i < 4; ++i) {
                QCOMPARE(decided[i].size(), static_cast<std::size_t>(height));
                const CoreDecision& d = decided[i].back();
                QCOMPARE(d.height, height);
                QCOMPARE(d.value.id, decided[0].back().value.id);
                QVERIFY2(vs.set.verifyCommit(kChain, height, d.value.id, d.commit).isOk(),
                         "commit does not verify");
            }
            if (height < 3) {
                for (std::size_t i = 0; i < 4; ++i) {
                    auto o = cores[i]->startHeight(height + 1);
                    QVERIFY2(o, o.status().toString().c_str());
                    outbox[i] = std::move(*o);
                }
            }
        }
        // Older logs are pruned.
        QCOMPARE(QDir(dirs[0].path()).entryList(QDir::Files), QStringList({"wal-3.log"}));
    }

    // Regression (found by the e2e test): votes for the next height arrive
    // before it starts; the engine keeps them and decides from them at
    // start, so the core must have kept their signatures too, or the commit
    // it builds lacks them.
    void regressionCommitFromVotesThatArrivedBeforeTheHeightStarted() {
        Validators vs(4);
        std::vector<QTemporaryDir> dirs(4);
        std::vector<std::unique_ptr<ConsensusCore>> cores;
        std::vector<CoreOutput> pending(4);
        for (std::size_t i = 0; i < 4; ++i) {
            auto c = ConsensusCore::open(configFor(vs, dirs[i].path()), vs.key(i),
                                         hooksFor(static_cast<std::uint32_t>(i)), 1, &pending[i]);
            QVERIFY(c);
            cores.push_back(std::move(*c));
        }
        std::map<std::size_t, std::vector<CoreDecision>> decided;
        exchange(cores, {0, 1, 2, 3}, decided, pending);
        for (std::size_t i = 0; i < 4; ++i) QCOMPARE(decided[i].size(), 1u);
        // Height 2 runs among 1, 2, 3 while core 0 has not started it yet:
        // it receives everything (the engine keeps it) but does not act.
        std::vector<CoreOutput> box(4);
        for (std::size_t i = 1; i < 4; ++i) box[i] = std::move(*cores[i]->startHeight(2));
        exchange(cores, {1, 2, 3}, decided, box);
        for (std::size_t i = 1; i < 4; ++i) QCOMPARE(decided[i].size(), 2u);
        auto start = cores[0]->startHeight(2);
        QVERIFY2(start, start.status().toString().c_str());
        QCOMPARE(start->decisions.size(), 1u);
        const CoreDecision& d = start->decisions[0];
        QCOMPARE(d.value.id, decided[1].back().value.id);
        QVERIFY2(vs.set.verifyCommit(kChain, 2, d.value.id, d.commit).isOk(),
                 "the commit built from kept votes lacks their signatures");
    }

    // A conflicting vote for the height decided last (the engine is past
    // it) is still evidence: a lagging twin of a validator is caught.
    void lateConflictingVoteForTheDecidedHeightIsEvidence() {
        Validators vs(4);
        std::vector<QTemporaryDir> dirs(4);
        std::vector<std::unique_ptr<ConsensusCore>> cores;
        std::vector<CoreOutput> box(4);
        for (std::size_t i = 0; i < 4; ++i) {
            auto c = ConsensusCore::open(configFor(vs, dirs[i].path()), vs.key(i),
                                         hooksFor(static_cast<std::uint32_t>(i)), 1, &box[i]);
            QVERIFY(c);
            cores.push_back(std::move(*c));
        }
        std::map<std::size_t, std::vector<CoreDecision>> decided;
        exchange(cores, {0, 1, 2, 3}, decided, box);
        QCOMPARE(decided[0].size(), 1u);
        const ValueId block = decided[0][0].value.id;
        auto started = cores[0]->startHeight(2);
        QVERIFY(started);
        // Validator 3 prevoted the block at height 1, round 0; its twin
        // prevotes nil there, after the decision.
        const SignedVote twin = signVote(kChain, vs.keys[3], Vote{VoteType::Prevote, 1, 0, std::nullopt, 3});
        auto out = cores[0]->onVote(twin);
        QVERIFY2(out, out.status().toString().c_str());
        QCOMPARE(out->evidence.size(), 1u);
        QCOMPARE(out->evidence[0].first.value, std::optional<ValueId>(block));
        QCOMPARE(out->evidence[0].second.value, std::optional<ValueId>());
        QVERIFY(out->votes.empty() && out->decisions.empty());  // the engine did not move
        // Reported once.
        out = cores[0]->onVote(
            signVote(kChain, vs.keys[3], Vote{VoteType::Prevote, 1, 0, blockValue(1, 77).id, 3}));
        QVERIFY(out);
        QVERIFY(out->evidence.empty());
        // The same late vote again is no evidence; a forged conflicting one is refused.
        out = cores[0]->onVote(signVote(kChain, vs.keys[2], Vote{VoteType::Precommit, 1, 0, block, 2}));
        QVERIFY(out && out->evidence.empty());
        SignedVote forged = signVote(kChain, vs.keys[2], Vote{VoteType::Precommit, 1, 0, block, 2});
        forged.value = std::nullopt;  // the signature no longer matches
        QCOMPARE(cores[0]->onVote(forged).status().code(), Code::Unauthenticated);
        // Two heights back: nothing is held any more, nothing is reported.
        QVERIFY(cores[0]->startHeight(3));
        out =
            cores[0]->onVote(signVote(kChain, vs.keys[1], Vote{VoteType::Precommit, 1, 0, std::nullopt, 1}));
        QVERIFY(out && out->evidence.empty());
    }

    void evidenceAppRecordsRealEquivocationsOnce() {
        Validators vs(4);
        consensus::EvidenceApp app(kChain, vs.set);
        struct Empty final : app::StateReader {
            Result<std::optional<Bytes>> get(ByteView) const override { return std::optional<Bytes>(); }
        } committed;
        const auto submitter = crypto::SecretKey::generate();
        const Value x = blockValue(5, 1);
        const Value y = blockValue(5, 2);
        const SignedVote a = signVote(kChain, vs.keys[2], Vote{VoteType::Precommit, 5, 1, x.id, 2});
        const SignedVote b = signVote(kChain, vs.keys[2], Vote{VoteType::Precommit, 5, 1, y.id, 2});
        const auto expiry = static_cast<std::uint64_t>(std::time(nullptr)) + 600;
        const Transaction good = makeEvidenceTx(kChain, submitter, b, a, expiry);  // any order
        QVERIFY2(app.checkTx(good, committed).isOk(), app.checkTx(good, committed).toString().c_str());
        app::StagedState state(committed);
        app::BlockState view(state, app.statePrefix(), app.name());
        QVERIFY(app.deliverTx(good, {9, 1, 0, {}}, view).isOk());
        state.commitTx();
        QCOMPARE(state.writes().size(), 1u);
        QVERIFY(state.writes().count(evidenceKey(vs.keys[2].publicKey(), 5, 1, VoteType::Precommit)) == 1);
        // The same equivocation again (reported by someone else) is refused.
        QCOMPARE(app.deliverTx(makeEvidenceTx(kChain, crypto::SecretKey::generate(), a, b, expiry),
                               {9, 1, 1, {}}, view)
                     .code(),
                 Code::AlreadyExists);
        // Not evidence: the same vote twice, different rounds, different validators, a forged vote, an
        // outsider.
        auto code = [&](const SignedVote& u, const SignedVote& v) {
            return app.checkTx(makeEvidenceTx(kChain, submitter, u, v, expiry), committed).code();
        };
        const SignedVote sameAgain = signVote(kChain, vs.keys[2], Vote{VoteType::Precommit, 5, 1, x.id, 2});
        QCOMPARE(code(a, sameAgain), Code::InvalidArgument);
        QCOMPARE(code(a, signVote(kChain, vs.keys[2], Vote{VoteType::Precommit, 5, 2, y.id, 2})),
                 Code::InvalidArgument);
        QCOMPARE(code(a, signVote(kChain, vs.keys[3], Vote{VoteType::Precommit, 5, 1, y.id, 3})),
                 Code::InvalidArgument);
        SignedVote forged = b;
        forged.round = 1;
        forged.value = blockValue(5, 3).id;  // signature no longer matches
        QCOMPARE(code(a, forged), Code::Unauthenticated);
        const auto stranger = crypto::SecretKey::generate();
        QCOMPARE(code(signVote(kChain, stranger, Vote{VoteType::Prevote, 5, 1, x.id, 0}),
                      signVote(kChain, stranger, Vote{VoteType::Prevote, 5, 1, y.id, 0})),
                 Code::Unauthenticated);
    }

    void restartRestoresTheLockAndNeverSignsAConflict() {
        Validators vs(4);
        QTemporaryDir dir;
        // The validator under test is one that does not propose round 0 or 1 at height 1.
        ProposerSchedule schedule(powersOf(vs.set));
        std::size_t me = 0;
        while (me == schedule.proposer(1, 0) || me == schedule.proposer(1, 1)) ++me;
        const std::size_t p0 = schedule.proposer(1, 0);
        const std::size_t p1 = schedule.proposer(1, 1);
        const Value x = blockValue(1, 77);
        std::size_t walRecordsBefore = 0;
        {
            CoreOutput first;
            auto core = ConsensusCore::open(configFor(vs, dir.path()), vs.key(me), hooksFor(9), 1, &first);
            QVERIFY(core);
            // Round 0: X is proposed and gets a polka (me + two others): me locks X.
            QVERIFY((*core)->onProposal(
                signProposal(kChain, vs.keys[p0], Proposal{1, 0, x, -1, static_cast<ValidatorIndex>(p0)})));
            int others = 0;
            for (std::size_t i = 0; i < 4 && others < 2; ++i) {
                if (i == me) continue;
                ++others;
                auto o = (*core)->onVote(signVote(
                    kChain, vs.keys[i], Vote{VoteType::Prevote, 1, 0, x.id, static_cast<ValidatorIndex>(i)}));
                QVERIFY2(o, o.status().toString().c_str());
            }
            QCOMPARE((*core)->engine().lockedRound(), 0);
            QCOMPARE(*(*core)->engine().lockedValue(), x.id);
            QCOMPARE((*core)->engine().step(), Step::Precommit);
            WalOpenReport peek;
            walRecordsBefore =
                fileBytes(QString::fromStdString(Wal::pathFor(dir.path().toStdString(), 1))).size();
            (void)peek;
        }  // "crash": the core is gone, only the WAL remains

        CoreOutput resumed;
        WalOpenReport report;
        auto core =
            ConsensusCore::open(configFor(vs, dir.path()), vs.key(me), hooksFor(9), 1, &resumed, &report);
        QVERIFY2(core, core.status().toString().c_str());
        QCOMPARE(report.droppedTailBytes, 0u);
        QCOMPARE((*core)->engine().round(), 0u);
        QCOMPARE((*core)->engine().step(), Step::Precommit);
        QCOMPARE((*core)->engine().lockedRound(), 0);
        QCOMPARE(*(*core)->engine().lockedValue(), x.id);
        // The replay signed nothing new: the log did not grow.
        QCOMPARE(fileBytes(QString::fromStdString(Wal::pathFor(dir.path().toStdString(), 1))).size(),
                 walRecordsBefore);
        // It sends again what it holds; of its own, exactly what it had signed:
        // a prevote and a precommit for X.
        std::size_t own = 0;
        for (const auto& v : resumed.votes) {
            QCOMPARE(*v.value, x.id);
            if (v.validator == vs.keys[me].publicKey()) ++own;
        }
        QCOMPARE(own, 2u);
        QCOMPARE(resumed.votes.size(), 4u);  // and the two prevotes it had received
        QVERIFY(!resumed.timeouts.empty());

        // Round 1: a fresh proposal for Y. Locked on X, it must prevote nil.
        QVERIFY((*core)->onTimeout({1, 0, Step::Precommit}));
        QCOMPARE((*core)->engine().round(), 1u);
        const Value y = blockValue(1, 88);
        auto out = (*core)->onProposal(
            signProposal(kChain, vs.keys[p1], Proposal{1, 1, y, -1, static_cast<ValidatorIndex>(p1)}));
        QVERIFY(out);
        QCOMPARE(out->votes.size(), 1u);
        QVERIFY(!out->votes[0].value.has_value());
    }

    void replayTakesTheLoggedVerdictNotTheHooksAnswerNow() {
        // The application's answer can change across a restart (a compact
        // proposal's transactions could be fetched before the crash and are
        // gone after it). The replay must take the same decisions: with the
        // hook's answer of now it would prevote nil where it had prevoted X,
        // and the signer would refuse to start.
        Validators vs(4);
        QTemporaryDir dir;
        ProposerSchedule schedule(powersOf(vs.set));
        std::size_t me = 0;
        while (me == schedule.proposer(1, 0)) ++me;
        const std::size_t p0 = schedule.proposer(1, 0);
        const Value x = blockValue(1, 77);
        {
            auto core = ConsensusCore::open(configFor(vs, dir.path()), vs.key(me), hooksFor(9), 1, nullptr);
            QVERIFY(core);
            auto out = (*core)->onProposal(
                signProposal(kChain, vs.keys[p0], Proposal{1, 0, x, -1, static_cast<ValidatorIndex>(p0)}));
            QVERIFY(out);
            QCOMPARE(out->votes.size(), 1u);
            QCOMPARE(*out->votes[0].value, x.id);  // prevote for X
        }                                          // crash
        EngineHooks nowInvalid = hooksFor(9);
        int asked = 0;
        nowInvalid.valid = [&asked](std::uint64_t, const Value&) {
            ++asked;
            return false;
        };
        CoreOutput resumed;
        auto core = ConsensusCore::open(configFor(vs, dir.path()), vs.key(me), nowInvalid, 1, &resumed);
        QVERIFY2(core, core.status().toString().c_str());
        QCOMPARE(asked, 0);
        std::size_t own = 0;
        for (const auto& v : resumed.votes) {
            if (v.validator != vs.keys[me].publicKey()) continue;
            ++own;
            QVERIFY(v.value.has_value());
            QCOMPARE(*v.value, x.id);
        }
        QCOMPARE(own, 1u);
        // A value first seen after the restart is asked about.
        QVERIFY((*core)->onTimeout({1, 0, Step::Propose}));
        QVERIFY((*core)->onTimeout({1, 0, Step::Prevote}));
        QVERIFY((*core)->onTimeout({1, 0, Step::Precommit}));
        const std::size_t p1 = schedule.proposer(1, 1);
        if (p1 != me) {
            const Value y = blockValue(1, 88);
            auto out = (*core)->onProposal(
                signProposal(kChain, vs.keys[p1], Proposal{1, 1, y, -1, static_cast<ValidatorIndex>(p1)}));
            QVERIFY(out);
            QCOMPARE(asked, 1);
        }
    }

    void restartAfterATornWriteResumes() {
        Validators vs(4);
        QTemporaryDir dir;
        {
            auto core = ConsensusCore::open(configFor(vs, dir.path()), vs.key(0), hooksFor(1), 1, nullptr);
            QVERIFY(core);
            for (std::size_t i = 1; i < 4; ++i) {
                QVERIFY((*core)->onVote(
                    signVote(kChain, vs.keys[i],
                             Vote{VoteType::Prevote, 1, 0, std::nullopt, static_cast<ValidatorIndex>(i)})));
            }
        }
        const QString path = QString::fromStdString(Wal::pathFor(dir.path().toStdString(), 1));
        Bytes data = fileBytes(path);
        data.resize(data.size() - 5);  // the last record was being written
        writeFile(path, data);
        WalOpenReport report;
        auto core =
            ConsensusCore::open(configFor(vs, dir.path()), vs.key(0), hooksFor(1), 1, nullptr, &report);
        QVERIFY2(core, core.status().toString().c_str());
        QVERIFY(report.droppedTailBytes > 0);
    }
};

QTEST_GUILESS_MAIN(TestConsensusDurability)
#include "test_consensus_durability.moc"
