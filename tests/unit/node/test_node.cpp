// Unit tests for the node pipeline in one process, over a real SQLCipher
// store: admission checks and their codes, block production, proofs that
// verify client-side, restart with the state rebuilt.
#include "consensus/governance.h"
#include "crypto/random.h"
#include "kv_app.h"
#include "node/node.h"
#include "notary/notary_app.h"
#include "notary/notary_proof.h"
#include "primitives/append_log.h"
#include "primitives/proof.h"

#include <QTemporaryDir>
#include <QtTest>

#include <ctime>
#include <limits>

using namespace fides;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    QTemporaryDir dir;
    crypto::SecretKey validator = crypto::SecretKey::generate();
    crypto::SecretKey user = crypto::SecretKey::generate();
    storage::StoreKey storeKey = storage::StoreKey(32, 7);
    Genesis genesis;

    Fixture() {
        genesis.chainId = "unit-chain";
        genesis.genesisTimeMs = 1;
        genesis.validators = ValidatorSet::create({{validator.publicKey(), 10, "v0"}}).value();
    }

    node::NodeConfig cfg;
    // When set, the node also runs a testing::KvApp logging here.
    std::shared_ptr<testing::KvApp::Log> kvLog;

    Result<std::unique_ptr<node::Node>> open() {
        cfg.storePath = dir.filePath("chain.db").toStdString();
        cfg.batchWait = 1ms;
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<notary::NotaryApp>());
        if (kvLog) apps.push_back(std::make_unique<testing::KvApp>(kvLog));
        auto key = crypto::SecretKey::fromBytes(
            Bytes(validator.secretBytes().begin(), validator.secretBytes().end()));
        return node::Node::open(genesis, std::move(*key), storeKey, cfg, std::move(apps));
    }

    Transaction notarize(const std::string& doc, std::uint64_t expiry = 0) {
        if (expiry == 0) expiry = static_cast<std::uint64_t>(std::time(nullptr)) + 600;
        return notary::makeNotarizeTx(genesis.chainId, user, crypto::sha256(asBytes(doc)), "label " + doc,
                                      crypto::randomU64(), expiry);
    }

    Transaction kv(testing::KvOp op, const std::string& key, const std::string& value = {}) {
        return makeSignedTransaction(genesis.chainId, testing::kKvTxType, testing::kvPayload(op, key, value),
                                     user, static_cast<std::uint64_t>(std::time(nullptr)) + 600);
    }
};

// Submits `tx` and waits for its block: the commit's status (the drop
// reason when execution left it out).
Status commitOne(node::Node& n, const Transaction& tx) {
    auto h = n.submit(tx.encode());
    if (!h) return h.status();
    return n.waitForCommit(*h, std::chrono::steady_clock::now() + 10s).status();
}

// Whether the node's answer for `key` proves `value` (nullopt: absence)
// against its signed header.
bool proves(node::Node& n, const std::string& key, const std::optional<std::string>& value) {
    auto a = n.query(asBytes(key));
    if (!a) return false;
    const std::optional<Bytes> v =
        value ? std::optional<Bytes>(Bytes(value->begin(), value->end())) : std::nullopt;
    if (a->value != v) return false;
    return state::verifyStateProof(a->signedHeader.header.stateRoot, asBytes(key), v, a->proof);
}

notary::NotarizationEvidence evidence(node::Node& n, const crypto::Hash256& doc) {
    notary::NotarizationEvidence ev;
    auto a = n.query(notary::documentKey(doc));
    ev.stateHeader = a->signedHeader.header.encode();
    ev.stateCommit = a->signedHeader.commit.encode();
    ev.stateProof = a->proof.encode();
    ev.value = a->value;
    if (ev.value) {
        auto reg = notary::Registration::decode(*ev.value);
        auto t = n.transaction(reg->txHash);
        ev.transaction = t->transaction;
        ev.txHeight = t->height;
        ev.txIndex = t->index;
        ev.inclusionProof = t->proof;
        ev.txHeader = t->signedHeader.header.encode();
        ev.txCommit = t->signedHeader.commit.encode();
    }
    return ev;
}

}  // namespace

class TestNode : public QObject {
    Q_OBJECT

private slots:
    // Admission and execution must agree on which application decides a
    // transaction type, and a key has one writer: two handlers for one type,
    // or an application whose prefix overlaps governance's, are refused at open.
    void overlappingApplicationsAreRefused() {
        const auto openWith = [](std::unique_ptr<app::Application> extra) {
            Fixture f;
            f.cfg.storePath = f.dir.filePath("chain.db").toStdString();
            std::vector<std::unique_ptr<app::Application>> apps;
            apps.push_back(std::make_unique<notary::NotaryApp>());
            apps.push_back(std::move(extra));
            auto key = crypto::SecretKey::fromBytes(
                Bytes(f.validator.secretBytes().begin(), f.validator.secretBytes().end()));
            return node::Node::open(f.genesis, std::move(*key), f.storeKey, f.cfg, std::move(apps)).status();
        };
        const auto log = std::make_shared<testing::KvApp::Log>();
        Status st =
            openWith(std::make_unique<testing::KvApp>(log, "kv", "kv/", std::vector<std::uint16_t>{1}));
        QCOMPARE(st.code(), Code::InvalidArgument);
        QVERIFY2(st.message().find("transaction type 1 is declared by both 'notary' and 'kv'") !=
                     std::string::npos,
                 st.message().c_str());
        st = openWith(std::make_unique<testing::KvApp>(log, "kv", "fides/validator-set/"));
        QCOMPARE(st.code(), Code::InvalidArgument);
        QVERIFY2(st.message().find("overlap") != std::string::npos, st.message().c_str());
        // The built-in governance's transaction type cannot be taken either.
        st = openWith(std::make_unique<testing::KvApp>(
            log, "kv", "kv/", std::vector<std::uint16_t>{consensus::kValidatorUpdateTxType}));
        QCOMPARE(st.code(), Code::InvalidArgument);
    }

    // An application cannot write outside its prefix: a write that would
    // have been read as a validator-set change is refused, the transaction
    // left out, and the schedule unchanged.
    void applicationCannotScheduleAValidatorSet() {
        Fixture f;
        f.kvLog = std::make_shared<testing::KvApp::Log>();
        auto n = f.open();
        QVERIFY2(n, n.status().toString().c_str());
        (*n)->start();
        const Bytes setKey = ValidatorSchedule::stateKey(5);
        const Bytes forged = f.genesis.validators.encodeFull();
        const Status st =
            commitOne(**n, f.kv(testing::KvOp::RawPut, std::string(setKey.begin(), setKey.end()),
                                std::string(forged.begin(), forged.end())));
        QCOMPARE(st.code(), Code::Internal);
        QVERIFY2(st.message().find("'kv' may write only keys under 'kv/'") != std::string::npos,
                 st.message().c_str());
        QCOMPARE((*n)->validatorSchedule().lastChangeHeight(), 1u);
        QVERIFY(proves(**n, std::string(setKey.begin(), setKey.end()), std::nullopt));
        // Its hooks ran in every block, after the node opened.
        QVERIFY(commitOne(**n, f.kv(testing::KvOp::Put, "a", "1")).isOk());
        const auto& calls = f.kvLog->calls;
        QCOMPARE(calls.front(), std::string("committed 0"));
        QVERIFY(std::find(calls.begin(), calls.end(), "init 1") != calls.end());
        QVERIFY(std::find(calls.begin(), calls.end(), "end 2") != calls.end());
        QCOMPARE(calls.back(), std::string("committed 2"));
    }

    // Erasures reach the state tree (absence proofs), the store (pending
    // rows, then the tables once the key's bucket merges) and a restart; a
    // follower that validates the same blocks reaches the same roots.
    void erasuresAreProvenAbsentAndSurviveRestarts() {
        Fixture f;
        f.kvLog = std::make_shared<testing::KvApp::Log>();
        const std::vector<std::string> keys = {"a", "b", "c", "d", "e", "f", "g", "h"};
        {
            auto n = f.open();
            QVERIFY2(n, n.status().toString().c_str());
            (*n)->start();
            for (const auto& k : keys) QVERIFY(commitOne(**n, f.kv(testing::KvOp::Put, k, "v" + k)).isOk());
            QVERIFY(commitOne(**n, f.kv(testing::KvOp::Erase, "a")).isOk());
            QVERIFY(proves(**n, "kv/a", std::nullopt));
            QVERIFY(proves(**n, "kv/b", "vb"));
        }
        {
            // Right after the erasing block: its row is still pending, rebuilt
            // from recent_writes.
            auto n = f.open();
            QVERIFY2(n, n.status().toString().c_str());
            QVERIFY(proves(**n, "kv/a", std::nullopt));
            (*n)->start();
            // Erase the rest, put one back, then enough blocks for every
            // bucket to merge.
            for (std::size_t i = 1; i < keys.size(); ++i) {
                QVERIFY(commitOne(**n, f.kv(testing::KvOp::Erase, keys[i])).isOk());
            }
            QVERIFY(commitOne(**n, f.kv(testing::KvOp::Put, "c", "again")).isOk());
            for (int i = 0; i < 18; ++i)
                QVERIFY(commitOne(**n, f.notarize("pad " + std::to_string(i))).isOk());
            QVERIFY(proves(**n, "kv/b", std::nullopt));
            QVERIFY(proves(**n, "kv/c", "again"));
        }
        auto n = f.open();
        QVERIFY2(n, n.status().toString().c_str());
        for (const auto& k : keys)
            QVERIFY(proves(**n, "kv/" + k, k == "c" ? std::optional<std::string>("again") : std::nullopt));
        QCOMPARE((*n)->query(asBytes("kv/a"))->value, std::optional<Bytes>());

        // A follower replays every block through validateBlock (the tree
        // built beside the committed one) and reaches the same roots.
        Fixture g;
        g.genesis = f.genesis;
        g.validator = *crypto::SecretKey::fromBytes(
            Bytes(f.validator.secretBytes().begin(), f.validator.secretBytes().end()));
        g.kvLog = std::make_shared<testing::KvApp::Log>();
        g.cfg.consensus = true;
        auto follower = g.open();
        QVERIFY2(follower, follower.status().toString().c_str());
        for (std::uint64_t h = 1; h <= (*n)->height(); ++h) {
            auto b = (*n)->block(h);
            QVERIFY(b);
            const Commit commit = b->commit;
            const crypto::Hash256 root = b->header.stateRoot;
            auto ex = (*follower)->validateBlock(std::move(*b));
            QVERIFY2(ex, ex.status().toString().c_str());
            QCOMPARE(ex->block.header.stateRoot, root);
            QVERIFY((*follower)->commitBlock(std::move(*ex), commit).isOk());
        }
        QCOMPARE((*follower)->status().stateRoot, (*n)->status().stateRoot);
        QVERIFY(proves(**follower, "kv/a", std::nullopt));
    }

    // Several keys proven against one header; an append log listed in pages
    // from the store and checked against its proven head.
    void queryManyAndLogPagesAreProven() {
        Fixture f;
        f.kvLog = std::make_shared<testing::KvApp::Log>();
        auto n = f.open();
        QVERIFY2(n, n.status().toString().c_str());
        (*n)->start();
        std::vector<Bytes> hashes;
        for (int i = 0; i < 25; ++i) {
            auto h = (*n)->submit(f.kv(testing::KvOp::Log, "", "record " + std::to_string(i)).encode());
            QVERIFY(h);
            hashes.push_back(Bytes(h->bytes().begin(), h->bytes().end()));
        }
        QVERIFY(commitOne(**n, f.kv(testing::KvOp::Put, "a", "1")).isOk());
        QTRY_COMPARE((*n)->mempoolSize(), 0u);

        const std::vector<Bytes> keys = {toBytes("kv/a"), toBytes("kv/missing"),
                                         applog::headKey(asBytes("kv/log"))};
        auto many = (*n)->queryMany(keys);
        QVERIFY2(many, many.status().toString().c_str());
        QCOMPARE(many->entries.size(), 3u);
        const crypto::Hash256 root = many->signedHeader.header.stateRoot;
        QVERIFY(state::verifyStateProof(root, keys[0], toBytes("1"), many->entries[0].proof));
        QVERIFY(!many->entries[1].value);
        QVERIFY(state::verifyStateProof(root, keys[1], std::nullopt, many->entries[1].proof));
        QVERIFY(state::verifyStateProof(root, keys[2], many->entries[2].value, many->entries[2].proof));
        QCOMPARE((*n)->queryMany({}).status().code(), Code::InvalidArgument);
        QCOMPARE(
            (*n)->queryMany(std::vector<Bytes>(node::Node::kMaxQueryKeys + 1, toBytes("k"))).status().code(),
            Code::InvalidArgument);

        // Pages of 10: the head proven, the items checked against it.
        auto first = (*n)->listLog(asBytes("kv/log"), 0, 10);
        QVERIFY2(first, first.status().toString().c_str());
        QCOMPARE(first->size, 25u);
        QVERIFY(state::verifyStateProof(first->head.signedHeader.header.stateRoot,
                                        applog::headKey(asBytes("kv/log")), first->head.value,
                                        first->head.proof));
        applog::ListingCheck check(merkle::Frontier::decode(*first->head.value).value());
        std::uint64_t from = 0;
        while (from < 25) {
            auto page = (*n)->listLog(asBytes("kv/log"), from, 10);
            QVERIFY(page);
            QCOMPARE(page->from, from);
            QVERIFY(!page->items.empty());
            for (const auto& item : page->items) QVERIFY(check.add(item).isOk());
            from += page->items.size();
        }
        QVERIFY(check.finish().isOk());
        // The end of the log, a log never written (provably empty), a key that is no log.
        QVERIFY((*n)->listLog(asBytes("kv/log"), 25, 10)->items.empty());
        auto none = (*n)->listLog(asBytes("kv/none"), 0, 10);
        QVERIFY(none && !none->head.value && none->size == 0);
        QVERIFY(state::verifyStateProof(none->head.signedHeader.header.stateRoot,
                                        applog::headKey(asBytes("kv/none")), std::nullopt, none->head.proof));
        QVERIFY(commitOne(**n, f.kv(testing::KvOp::Put, "x/head", "not a log")).isOk());
        QCOMPARE((*n)->listLog(asBytes("kv/x"), 0, 10).status().code(), Code::FailedPrecondition);
        QCOMPARE((*n)->listLog({}, 0, 10).status().code(), Code::InvalidArgument);
    }

    void notarizeCommitAndProve() {
        Fixture f;
        auto n = f.open();
        QVERIFY2(n, n.status().toString().c_str());
        (*n)->start();
        const Transaction tx = f.notarize("contract.pdf");
        auto hash = (*n)->submit(tx.encode());
        QVERIFY2(hash, hash.status().toString().c_str());
        auto loc = (*n)->waitForCommit(*hash, std::chrono::steady_clock::now() + 10s);
        QVERIFY2(loc, loc.status().toString().c_str());
        QCOMPARE(loc->height, 1u);

        const crypto::Hash256 doc = crypto::sha256(asBytes(std::string("contract.pdf")));
        auto v = notary::verifyNotarization(f.genesis, doc, evidence(**n, doc));
        QVERIFY2(v, v.status().toString().c_str());
        QVERIFY(v->registered);
        QCOMPARE(v->registration->label, std::string("label contract.pdf"));
        QCOMPARE(v->registration->registrant, f.user.publicKey());

        const crypto::Hash256 other = crypto::sha256(asBytes(std::string("never registered")));
        auto absent = notary::verifyNotarization(f.genesis, other, evidence(**n, other));
        QVERIFY2(absent, absent.status().toString().c_str());
        QVERIFY(!absent->registered);

        // Evidence checked against another validator set fails.
        Genesis forged = f.genesis;
        forged.validators =
            ValidatorSet::create({{crypto::SecretKey::generate().publicKey(), 10, "x"}}).value();
        QVERIFY(!notary::verifyNotarization(forged, doc, evidence(**n, doc)));
        // A swapped value (claiming the other document's absence proof is for this one) fails.
        auto ev = evidence(**n, doc);
        ev.value.reset();
        QVERIFY(!notary::verifyNotarization(f.genesis, doc, ev));
    }

    void badInputIsRefusedAndChangesNothing() {
        Fixture f;
        auto n = f.open();
        QVERIFY(n);
        (*n)->start();
        auto first = (*n)->submit(f.notarize("a").encode());
        QVERIFY(first);
        QVERIFY((*n)->waitForCommit(*first, std::chrono::steady_clock::now() + 10s));
        const auto before = (*n)->status();

        auto code = [&](const Bytes& b) { return (*n)->submit(b).status().code(); };
        QCOMPARE(code(Bytes{1, 2, 3}), Code::InvalidArgument);       // malformed
        QCOMPARE(code(Bytes(70 * 1024, 1)), Code::InvalidArgument);  // oversize
        Transaction wrongChain = f.notarize("b");
        wrongChain.chainId = "other";
        wrongChain.sign(f.user);
        QCOMPARE(code(wrongChain.encode()), Code::InvalidArgument);
        Transaction badSig = f.notarize("c");
        badSig.nonce ^= 1;  // signature no longer matches
        QCOMPARE(code(badSig.encode()), Code::Unauthenticated);
        QCOMPARE(code(f.notarize("d", 1000).encode()), Code::InvalidArgument);  // expired
        Transaction unknownType = f.notarize("e");
        unknownType.type = 999;
        unknownType.sign(f.user);
        QCOMPARE(code(unknownType.encode()), Code::InvalidArgument);
        Transaction badPayload = f.notarize("f");
        badPayload.payload = {9, 9};
        badPayload.sign(f.user);
        QCOMPARE(code(badPayload.encode()), Code::InvalidArgument);
        auto replay = (*n)->block(1)->transactions[0];
        QCOMPARE(code(replay), Code::AlreadyExists);                    // the very same transaction
        QCOMPARE(code(f.notarize("a").encode()), Code::AlreadyExists);  // same document again

        QTest::qWait(50);
        const auto after = (*n)->status();
        QCOMPARE(after.height, before.height);
        QCOMPARE(after.stateRoot, before.stateRoot);
        QCOMPARE(after.mempoolSize, 0u);
    }

    void batchAdmissionGivesEachTransactionItsOwnResult() {
        Fixture f;
        f.cfg.mempool.maxTransactions = 4;
        auto n = f.open();
        QVERIFY(n);
        // Not started: nothing drains the pool.
        const Bytes pooled = f.notarize("pooled").encode();
        QVERIFY((*n)->submit(pooled));
        const Bytes good = f.notarize("good").encode();
        Transaction badSig = f.notarize("bad signature");
        badSig.nonce ^= 1;
        const Bytes badSigBytes = badSig.encode();
        const Bytes malformed{1, 2, 3};
        const Bytes fills = f.notarize("fills the pool").encode();
        const Bytes another = f.notarize("another").encode();
        const Bytes tooMany = f.notarize("one too many").encode();
        const std::vector<ByteView> batch{good, malformed, pooled,  badSigBytes,
                                          good, fills,     another, tooMany};
        const auto r = (*n)->submitBatch(batch);
        QCOMPARE(r.size(), batch.size());
        QVERIFY(r[0]);
        QCOMPARE(*r[0], txHash(good));
        QCOMPARE(r[1].status().code(), Code::InvalidArgument);
        QCOMPARE(r[2].status().code(), Code::AlreadyExists);  // pooled before the batch
        QCOMPARE(r[3].status().code(), Code::Unauthenticated);
        QCOMPARE(r[4].status().code(), Code::AlreadyExists);  // repeated within the batch: admitted once
        QVERIFY(r[5]);
        QVERIFY(r[6]);
        QCOMPARE(r[7].status().code(), Code::ResourceExhausted);  // the pool holds 4
        QCOMPARE((*n)->status().mempoolSize, 4u);
        // A single submit answers exactly as the batch did.
        QCOMPARE((*n)->submit(badSigBytes).status().code(), Code::Unauthenticated);
        QCOMPARE((*n)->submit(good).status().code(), Code::AlreadyExists);
        QVERIFY((*n)->submitBatch({}).empty());
    }

    void duplicateDocumentInOneBatchIsDroppedWithError() {
        Fixture f;
        auto n = f.open();
        QVERIFY(n);
        // Not started yet: both enter the mempool, then one block executes both.
        auto h1 = (*n)->submit(f.notarize("same").encode());
        auto h2 = (*n)->submit(f.notarize("same").encode());
        QVERIFY(h1 && h2);
        (*n)->start();
        auto l1 = (*n)->waitForCommit(*h1, std::chrono::steady_clock::now() + 10s);
        auto l2 = (*n)->waitForCommit(*h2, std::chrono::steady_clock::now() + 10s);
        QVERIFY(l1);
        QCOMPARE(l2.status().code(), Code::AlreadyExists);
        QCOMPARE((*n)->block(1)->transactions.size(), 1u);
    }

    void restartRebuildsStateAndContinuesTheChain() {
        Fixture f;
        crypto::Hash256 root;
        crypto::Hash256 tip;
        {
            auto n = f.open();
            QVERIFY(n);
            (*n)->start();
            for (int i = 0; i < 20; ++i) {
                auto h = (*n)->submit(f.notarize("doc" + std::to_string(i)).encode());
                QVERIFY(h);
                QVERIFY((*n)->waitForCommit(*h, std::chrono::steady_clock::now() + 10s));
            }
            root = (*n)->status().stateRoot;
            tip = (*n)->status().latestBlockHash;
        }
        auto n = f.open();
        QVERIFY2(n, n.status().toString().c_str());
        QCOMPARE((*n)->status().stateRoot, root);
        // Keys written before the restart still exist (the filter of written
        // keys is rebuilt from the stored state): a document again is refused.
        for (int i = 0; i < 20; ++i) {
            QCOMPARE((*n)->submit(f.notarize("doc" + std::to_string(i)).encode()).status().code(),
                     Code::AlreadyExists);
        }
        (*n)->start();
        auto h = (*n)->submit(f.notarize("after restart").encode());
        QVERIFY(h);
        auto loc = (*n)->waitForCommit(*h, std::chrono::steady_clock::now() + 10s);
        QVERIFY(loc);
        auto b = (*n)->block(loc->height);
        QCOMPARE(b->header.prevHash, tip);
        QVERIFY(f.genesis.validators
                    .verifyCommit(f.genesis.chainId, b->header.height, b->header.hash(), b->commit)
                    .isOk());
    }

    void fullMempoolAnswersResourceExhausted() {
        Fixture f;
        f.cfg.mempool.maxTransactions = 3;
        auto n = f.open();
        QVERIFY(n);
        // Not started: nothing drains the pool.
        for (int i = 0; i < 3; ++i) QVERIFY((*n)->submit(f.notarize("m" + std::to_string(i)).encode()));
        const Status full = (*n)->submit(f.notarize("one too many").encode()).status();
        QCOMPARE(full.code(), Code::ResourceExhausted);
        QCOMPARE((*n)->status().mempoolSize, 3u);
        (*n)->start();
        QVERIFY((*n)->waitForHeight(1, std::chrono::steady_clock::now() + 10s));
        QTRY_COMPARE((*n)->status().mempoolSize, 0u);
        QVERIFY((*n)->submit(f.notarize("one too many").encode()));  // room again
    }

    void emptyBlocksAtTheConfiguredInterval() {
        Fixture f;
        f.cfg.emptyBlockInterval = 50ms;
        auto n = f.open();
        QVERIFY(n);
        (*n)->start();
        QVERIFY((*n)->waitForHeight(3, std::chrono::steady_clock::now() + 10s));
        auto b = (*n)->block(2);
        QVERIFY(b);
        QCOMPARE(b->header.txCount, 0u);
        QCOMPARE(b->header.txRoot, Block::computeTxRoot({}));
        QVERIFY(b->header.timeMs > (*n)->block(1)->header.timeMs);
    }

    // An application that needs a block at a time (an election's close)
    // gets one then, though no transaction comes and empty blocks are off;
    // once a block reached that time, no more.
    void applicationDeadlineMakesABlockOnTime() {
        Fixture f;
        f.kvLog = std::make_shared<testing::KvApp::Log>();
        const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::system_clock::now().time_since_epoch())
                                                        .count());
        f.kvLog->deadlineMs = now + 400;
        auto n = f.open();
        QVERIFY(n);
        (*n)->start();
        QVERIFY((*n)->waitForHeight(1, std::chrono::steady_clock::now() + 10s));
        auto b = (*n)->block(1);
        QVERIFY(b);
        QVERIFY(b->header.timeMs >= now + 400);
        QCOMPARE(b->header.txCount, 0u);
        QVERIFY(!(*n)->waitForHeight(2, std::chrono::steady_clock::now() + 700ms));
    }

    // A follower evicts what expired by a committed block's time, as the
    // proposer does, and a client waiting on it gets the reason at once
    // (before: followers kept expired transactions forever).
    void everyValidatorEvictsExpiredTransactions() {
        Fixture a;
        Fixture b;
        b.genesis = a.genesis;
        b.validator = *crypto::SecretKey::fromBytes(
            Bytes(a.validator.secretBytes().begin(), a.validator.secretBytes().end()));
        b.cfg.consensus = true;
        b.cfg.storePath = b.dir.filePath("chain.db").toStdString();
        const auto realNowMs = [] {
            return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count());
        };
        auto na = a.open();
        QVERIFY(na);
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<notary::NotaryApp>());
        // b's clock is 20 s behind: it still admits a transaction that expired 10 s ago.
        auto nb = node::Node::open(b.genesis,
                                   *crypto::SecretKey::fromBytes(Bytes(a.validator.secretBytes().begin(),
                                                                       a.validator.secretBytes().end())),
                                   b.storeKey, b.cfg, std::move(apps), [&] { return realNowMs() - 20'000; });
        QVERIFY2(nb, nb.status().toString().c_str());
        const Transaction stale = b.notarize("stale", realNowMs() / 1000 - 10);
        auto staleHash = (*nb)->submit(stale.encode());
        QVERIFY2(staleHash, staleHash.status().toString().c_str());
        QCOMPARE((*nb)->mempoolSize(), 1u);

        (*na)->start();
        auto h = (*na)->submit(a.notarize("fresh").encode());
        QVERIFY(h);
        QVERIFY((*na)->waitForCommit(*h, std::chrono::steady_clock::now() + 10s));
        auto blk = (*na)->block(1);
        QVERIFY(blk);
        const Commit commit = blk->commit;
        auto ex = (*nb)->validateBlock(std::move(*blk));
        QVERIFY2(ex, ex.status().toString().c_str());
        QVERIFY((*nb)->commitBlock(std::move(*ex), commit).isOk());
        QCOMPARE((*nb)->mempoolSize(), 0u);
        const Status why = (*nb)->waitForCommit(*staleHash, std::chrono::steady_clock::now() + 1s).status();
        QCOMPARE(why.code(), Code::InvalidArgument);
        QVERIFY2(why.message().find("expired") != std::string::npos, why.message().c_str());
    }

    // A deadline centuries away (or UINT64_MAX) neither makes blocks nor
    // spins the producer (the time arithmetic is clamped before it overflows).
    void farDeadlineDoesNotSpin() {
        Fixture f;
        f.kvLog = std::make_shared<testing::KvApp::Log>();
        f.kvLog->deadlineMs = std::numeric_limits<std::uint64_t>::max();
        auto n = f.open();
        QVERIFY(n);
        (*n)->start();
        const std::clock_t cpu0 = std::clock();
        QVERIFY(!(*n)->waitForHeight(1, std::chrono::steady_clock::now() + 800ms));
        const double cpuMs = 1000.0 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
        QVERIFY2(cpuMs < 400, qPrintable(QString("the process used %1 ms of CPU in 800 ms idle").arg(cpuMs)));
    }

    void noEmptyBlocksByDefault() {
        Fixture f;
        auto n = f.open();
        QVERIFY(n);
        (*n)->start();
        QVERIFY(!(*n)->waitForHeight(1, std::chrono::steady_clock::now() + 300ms));
        QCOMPARE((*n)->height(), 0u);
    }

    void builtBlockValidatesOnAnotherNodeAndTamperingIsCaught() {
        Fixture a;
        Fixture b;
        b.genesis = a.genesis;
        b.validator = *crypto::SecretKey::fromBytes(
            Bytes(a.validator.secretBytes().begin(), a.validator.secretBytes().end()));
        // Validity never depends on a local setting: b proposes blocks of at
        // most 2 transactions, and accepts a valid block of 5.
        b.cfg.maxBlockTransactions = 2;
        auto na = a.open();
        auto nb = b.open();
        QVERIFY(na && nb);
        for (int i = 0; i < 5; ++i) QVERIFY((*na)->submit(a.notarize("doc " + std::to_string(i)).encode()));
        QVERIFY((*na)->submit(a.notarize("doc 0").encode()));  // same document again: dropped at execution
        const auto now = static_cast<std::uint64_t>(std::time(nullptr)) * 1000;
        auto ex = (*na)->buildBlock(now);
        QVERIFY2(ex, ex.status().toString().c_str());
        QCOMPARE(ex->block.transactions.size(), 5u);
        QCOMPARE(ex->dropped.size(), 1u);
        QCOMPARE(ex->dropped[0].second.code(), Code::AlreadyExists);
        QCOMPARE((*na)->status().height, 0u);  // nothing committed by building

        const auto rootBefore = (*nb)->status().stateRoot;
        auto vb = (*nb)->validateBlock(ex->block);
        QVERIFY2(vb, vb.status().toString().c_str());
        QCOMPARE(vb->block.header.stateRoot, ex->block.header.stateRoot);
        QCOMPARE((*nb)->status().stateRoot, rootBefore);  // nor by validating
        // With the hashes the caller already has (the compact proposal's):
        // the same result; a count that does not match is refused.
        auto withHashes = (*nb)->validateBlock(ex->block, ex->txHashes);
        QVERIFY2(withHashes, withHashes.status().toString().c_str());
        QCOMPARE(withHashes->block.header.stateRoot, ex->block.header.stateRoot);
        QCOMPARE(withHashes->txHashes, ex->txHashes);
        auto fewer = ex->txHashes;
        fewer.pop_back();
        QCOMPARE((*nb)->validateBlock(ex->block, fewer).status().code(), Code::InvalidArgument);

        auto refuse = [&](Block blk, Code code, const char* what) {
            auto r = (*nb)->validateBlock(blk);
            QVERIFY2(!r, what);
            QVERIFY2(r.status().code() == code, (std::string(what) + ": " + r.status().toString()).c_str());
        };
        auto withTxs = [&](std::vector<Bytes> txs) {
            Block blk = ex->block;
            blk.transactions = std::move(txs);
            blk.header.txCount = static_cast<std::uint32_t>(blk.transactions.size());
            blk.header.txRoot = Block::computeTxRoot(blk.transactions);
            return blk;
        };
        Block wrongState = ex->block;
        wrongState.header.stateRoot = crypto::sha256(asBytes(std::string("x")));
        refuse(wrongState, Code::InvalidArgument, "wrong state root");
        Block wrongTxRoot = ex->block;
        wrongTxRoot.header.txRoot = crypto::Hash256();
        refuse(wrongTxRoot, Code::InvalidArgument, "wrong tx root");
        Block wrongCount = ex->block;
        wrongCount.header.txCount += 1;
        refuse(wrongCount, Code::InvalidArgument, "wrong tx count");
        Transaction forged = a.notarize("forged");
        forged.nonce ^= 1;  // signature no longer valid
        auto txs = ex->block.transactions;
        txs.push_back(forged.encode());
        refuse(withTxs(txs), Code::Unauthenticated, "bad signature");
        txs = ex->block.transactions;
        txs.push_back(txs[0]);
        refuse(withTxs(txs), Code::InvalidArgument, "duplicate transaction");
        txs = ex->block.transactions;
        txs.push_back(a.notarize("doc 1").encode());
        refuse(withTxs(txs), Code::AlreadyExists, "transaction failing its application's rules");
        Block wrongHeight = ex->block;
        wrongHeight.header.height = 2;
        refuse(wrongHeight, Code::InvalidArgument, "wrong height");
        Block wrongPrev = ex->block;
        wrongPrev.header.prevHash = crypto::sha256(asBytes(std::string("p")));
        refuse(wrongPrev, Code::InvalidArgument, "wrong previous hash");
        Block future = ex->block;
        future.header.timeMs = now + 3'600'000;
        refuse(future, Code::InvalidArgument, "time far in the future");
        Block outsider = ex->block;
        outsider.header.proposer = crypto::SecretKey::generate().publicKey();
        refuse(outsider, Code::Unauthenticated, "proposer not a validator");

        // Both commit the same block with the same commit and agree.
        const crypto::Hash256 blockHash = ex->block.header.hash();
        Commit commit;
        commit.height = 1;
        commit.blockHash = blockHash;
        commit.signatures.push_back(
            {a.validator.publicKey(),
             crypto::sign(a.validator, precommitDigest(a.genesis.chainId, 1, 0, blockHash))});
        QVERIFY((*nb)->commitBlock(std::move(*vb), commit).isOk());
        QVERIFY((*na)->commitBlock(std::move(*ex), commit).isOk());
        QCOMPARE((*na)->status().stateRoot, (*nb)->status().stateRoot);
        QCOMPARE((*na)->status().latestBlockHash, (*nb)->status().latestBlockHash);
        QCOMPARE((*na)->status().mempoolSize, 0u);  // included and dropped ones left the pool
        auto stored = (*nb)->block(1);
        QVERIFY(a.genesis.validators.verifyCommit(a.genesis.chainId, 1, stored->header.hash(), stored->commit)
                    .isOk());
        QCOMPARE((*nb)->validateBlock(stored->header.height == 1 ? stored.value() : Block{}).status().code(),
                 Code::InvalidArgument);  // height 1 is done
    }

    void wrongStoreKeyIsRefused() {
        Fixture f;
        { QVERIFY(f.open()); }
        f.storeKey = storage::StoreKey(32, 8);
        auto n = f.open();
        QVERIFY(!n);
        QCOMPARE(n.status().code(), Code::FailedPrecondition);
    }

    void validatorNotInGenesisIsRefused() {
        Fixture f;
        f.genesis.validators =
            ValidatorSet::create({{crypto::SecretKey::generate().publicKey(), 10, "x"}}).value();
        auto n = f.open();
        QVERIFY(!n);
        QCOMPARE(n.status().code(), Code::InvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestNode)
#include "test_node.moc"
