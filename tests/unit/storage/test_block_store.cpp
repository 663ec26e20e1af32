// Unit tests for the SQLCipher block store and store keys: commit, reopen,
// wrong key (clear error, files untouched), ordering, chain id, key files,
// rows pending their bucket's merge, migration from schema version 1.
#include "crypto/random.h"
#include "primitives/transaction.h"
#include "storage/block_store.h"
#include "storage/store_key.h"
#include "test_files.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

using namespace fides;
using namespace fides::storage;
using fides::test::folderDigest;

namespace {

StoreKey randomKey() {
    StoreKey k(32);
    crypto::randomBytes(k.data(), k.size());
    return k;
}

Block makeBlock(std::uint64_t height, int txs) {
    Block b;
    b.header.chainId = "test-chain";
    b.header.height = height;
    b.header.timeMs = 1000 + height;
    b.header.proposer = crypto::SecretKey::generate().publicKey();
    for (int i = 0; i < txs; ++i) {
        Bytes tx(100, static_cast<std::uint8_t>(i));
        tx[0] = static_cast<std::uint8_t>(height);
        b.transactions.push_back(tx);
    }
    b.header.txCount = static_cast<std::uint32_t>(txs);
    b.header.txRoot = Block::computeTxRoot(b.transactions);
    b.commit.height = height;
    b.commit.blockHash = b.header.hash();
    return b;
}

std::vector<crypto::Hash256> hashes(const Block& b) {
    std::vector<crypto::Hash256> out;
    for (const auto& tx : b.transactions) out.push_back(txHash(tx));
    return out;
}

}  // namespace

class TestBlockStore : public QObject {
    Q_OBJECT

private slots:
    void commitAndReopen() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chain.db").toStdString();
        const StoreKey key = randomKey();
        std::vector<Block> blocks;
        {
            auto store = BlockStore::open(path, key, "test-chain");
            QVERIFY2(store, store.status().toString().c_str());
            QCOMPARE((*store)->height(), 0u);
            for (std::uint64_t h = 1; h <= 3; ++h) {
                blocks.push_back(makeBlock(h, static_cast<int>(h * 5)));
                std::vector<StateWrite> writes{
                    {toBytes("k" + std::to_string(h)), toBytes("v" + std::to_string(h))},
                    {toBytes("shared"), toBytes("from " + std::to_string(h))}};
                QVERIFY((*store)->append(blocks.back(), hashes(blocks.back()), writes).isOk());
            }
        }
        auto store = BlockStore::open(path, key, "test-chain");
        QVERIFY2(store, store.status().toString().c_str());
        QCOMPARE((*store)->height(), 3u);
        for (const auto& b : blocks) {
            auto got = (*store)->block(b.header.height);
            QVERIFY(got);
            QCOMPARE(got->header.hash(), b.header.hash());
            QCOMPARE(got->transactions, b.transactions);
            QCOMPARE(got->commit.blockHash, b.commit.blockHash);
            auto loc = (*store)->findTx(txHash(b.transactions[2]));
            QVERIFY(loc && loc->has_value());
            QCOMPARE((*loc)->height, b.header.height);
            QCOMPARE((*loc)->index, 2u);
        }
        // The filter in front of the index was rebuilt from it at open.
        QCOMPARE((*store)->committedTxFilter().size(), 5u + 10u + 15u);
        auto absent = (*store)->findTx(crypto::sha256(toBytes("never submitted")));
        QVERIFY(absent && !absent->has_value());
        auto v = (*store)->getState(toBytes("shared"));
        QVERIFY(v && v->has_value());
        QCOMPARE(**v, toBytes("from 3"));
        auto missing = (*store)->getState(toBytes("nope"));
        QVERIFY(missing && !missing->has_value());
        QCOMPARE((*store)->block(4).status().code(), Code::NotFound);
        int entries = 0;
        QVERIFY(
            (*store)->forEachState([&](const crypto::Hash256&, ByteView, ByteView) { ++entries; }).isOk());
        QCOMPARE(entries, 4);
    }

    // Index rows and state writes wait in memory for their bucket's turn
    // (ADR 0017): reads must see the latest value at every height, before
    // and after the merge, and after a reopen at any point of the cycle.
    void pendingRowsReadTheSameBeforeAndAfterMergeAndReopen() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chain.db").toStdString();
        const StoreKey key = randomKey();
        std::map<Bytes, Bytes> expected;
        std::map<crypto::Hash256, TxLocation> located;
        const std::uint64_t blocks = 3 * BlockStore::kBuckets + 5;
        auto store = BlockStore::open(path, key, "test-chain");
        QVERIFY(store);
        const auto checkAll = [&](const BlockStore& s) {
            for (const auto& [k, v] : expected) {
                auto got = s.getState(k);
                QVERIFY2(got && got->has_value(), std::string(k.begin(), k.end()).c_str());
                QCOMPARE(**got, v);
            }
            for (const auto& [th, loc] : located) {
                auto got = s.findTx(th);
                QVERIFY(got && got->has_value());
                QCOMPARE((*got)->height, loc.height);
                QCOMPARE((*got)->index, loc.index);
            }
            std::map<Bytes, Bytes> seen;
            QVERIFY(s.forEachState([&](const crypto::Hash256& kh, ByteView k, ByteView v) {
                         QCOMPARE(kh, crypto::sha256(k));
                         QVERIFY(seen.emplace(Bytes(k.begin(), k.end()), Bytes(v.begin(), v.end())).second);
                     }).isOk());
            QCOMPARE(seen, expected);
        };
        std::size_t maxPending = 0;
        for (std::uint64_t h = 1; h <= blocks; ++h) {
            Block b = makeBlock(h, static_cast<int>(h % 7) + 3);
            std::vector<StateWrite> writes;
            for (int i = 0; i < 12; ++i) {
                // Keys written again and again across blocks, and new ones.
                const std::string k =
                    (i < 4 ? "hot-" + std::to_string(i) : "k-" + std::to_string(h) + "-" + std::to_string(i));
                StateWrite w{toBytes(k), toBytes("v" + std::to_string(h) + "-" + std::to_string(i))};
                // The "never stored" hint: right for the new keys; for the
                // hot keys wrong every third block (their row is in the
                // table, or pending): the store must update them all the same.
                w.created = i >= 4 || h % 3 == 0;
                writes.push_back(std::move(w));
            }
            if (h % 20 == 0 || h % 20 == 5) {
                // A key written again only after its row is merged into the
                // table, always with the hint "never stored": wrong from its
                // second write on, so the store's insert fails and it updates.
                StateWrite w{toBytes("warm-" + std::to_string(h % 20)), toBytes("w" + std::to_string(h))};
                w.created = true;
                writes.push_back(std::move(w));
            }
            QVERIFY((*store)->append(b, hashes(b), writes).isOk());
            for (const auto& w : writes) expected[w.key] = w.value;
            const auto hs = hashes(b);
            for (std::uint32_t i = 0; i < hs.size(); ++i) located[hs[i]] = TxLocation{h, i};
            maxPending = std::max(maxPending, (*store)->pendingRows());
            checkAll(**store);
            if (h % 11 == 0 || h == blocks) {
                // Reopen (as after a crash: nothing is flushed on close).
                const std::size_t pending = (*store)->pendingRows();
                store->reset();
                store = BlockStore::open(path, key, "test-chain");
                QVERIFY2(store, store.status().toString().c_str());
                QCOMPARE((*store)->height(), h);
                QCOMPARE((*store)->pendingRows(), pending);
                checkAll(**store);
            }
        }
        // Rows did wait (else this test proves nothing), and never more than
        // one cycle's worth.
        QVERIFY(maxPending > 0);
        QVERIFY(maxPending < BlockStore::kBuckets * (12 + 10));
    }

    void schemaVersion1StoreIsMigrated() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chain.db").toStdString();
        const StoreKey key = randomKey();
        Block b1 = makeBlock(1, 4);
        Block b2 = makeBlock(2, 3);
        {
            // A store as schema version 1 wrote it.
            auto db = Database::open(path, key, /*create=*/true);
            QVERIFY(db);
            QVERIFY((*db)
                        ->exec(R"sql(
CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL, header BLOB NOT NULL, body BLOB NOT NULL,
  commit_sig BLOB NOT NULL);
CREATE TABLE txs (hash BLOB PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE state (key BLOB PRIMARY KEY, value BLOB NOT NULL, height INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('chain_id', CAST('test-chain' AS BLOB)), ('schema_version', CAST('1' AS BLOB));
)sql")
                        .isOk());
            auto insBlock = (*db)->prepare("INSERT INTO blocks VALUES (?, ?, ?, ?, ?)");
            auto insTx = (*db)->prepare("INSERT INTO txs VALUES (?, ?, ?)");
            auto insState = (*db)->prepare("INSERT INTO state VALUES (?, ?, ?)");
            QVERIFY(insBlock && insTx && insState);
            for (const Block* b : {&b1, &b2}) {
                const auto h = static_cast<std::int64_t>(b->header.height);
                QVERIFY(insBlock->bind(1, h)
                            .bind(2, b->header.hash().bytes())
                            .bind(3, b->header.encode())
                            .bind(4, Block::encodeBody(b->transactions))
                            .bind(5, b->commit.encode())
                            .run()
                            .isOk());
                const auto hs = hashes(*b);
                for (std::size_t i = 0; i < hs.size(); ++i) {
                    QVERIFY(insTx->bind(1, hs[i].bytes())
                                .bind(2, h)
                                .bind(3, static_cast<std::int64_t>(i))
                                .run()
                                .isOk());
                }
            }
            QVERIFY(
                insState->bind(1, toBytes("a")).bind(2, toBytes("1")).bind(3, std::int64_t{1}).run().isOk());
            QVERIFY(
                insState->bind(1, toBytes("b")).bind(2, toBytes("2")).bind(3, std::int64_t{2}).run().isOk());
        }
        {
            auto store = BlockStore::open(path, key, "test-chain");
            QVERIFY2(store, store.status().toString().c_str());
            QCOMPARE((*store)->height(), 2u);
            QCOMPARE((*store)->pendingRows(), 0u);
            auto a = (*store)->getState(toBytes("a"));
            QVERIFY(a && a->has_value());
            QCOMPARE(**a, toBytes("1"));
            auto loc = (*store)->findTx(txHash(b2.transactions[1]));
            QVERIFY(loc && loc->has_value());
            QCOMPARE((*loc)->height, 2u);
            int entries = 0;
            QVERIFY((*store)
                        ->forEachState([&](const crypto::Hash256&, ByteView, ByteView) { ++entries; })
                        .isOk());
            QCOMPARE(entries, 2);
            Block b3 = makeBlock(3, 2);
            QVERIFY((*store)->append(b3, hashes(b3), {{toBytes("b"), toBytes("3")}}).isOk());
        }
        auto store = BlockStore::open(path, key, "test-chain");
        QVERIFY2(store, store.status().toString().c_str());
        QCOMPARE((*store)->height(), 3u);
        auto b = (*store)->getState(toBytes("b"));
        QVERIFY(b && b->has_value());
        QCOMPARE(**b, toBytes("3"));
        auto db = Database::open(path, key, /*create=*/false);
        QVERIFY(db);
        auto ver = (*db)->prepare("SELECT CAST(v AS TEXT) FROM meta WHERE k = 'schema_version'");
        QVERIFY(ver);
        auto row = ver->step();
        QVERIFY(row && *row);
        QCOMPARE(ver->columnBlob(0), toBytes("2"));
    }

    void missingRecentWritesIsDataLoss() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chain.db").toStdString();
        const StoreKey key = randomKey();
        {
            auto store = BlockStore::open(path, key, "test-chain");
            QVERIFY(store);
            for (std::uint64_t h = 1; h <= 3; ++h) {
                Block b = makeBlock(h, 2);
                QVERIFY((*store)
                            ->append(b, hashes(b), {{toBytes("k" + std::to_string(h)), toBytes("v")}})
                            .isOk());
            }
        }
        {
            auto db = Database::open(path, key, /*create=*/false);
            QVERIFY(db);
            QVERIFY((*db)->exec("DELETE FROM recent_writes WHERE height = 2").isOk());
        }
        auto store = BlockStore::open(path, key, "test-chain");
        QVERIFY(!store);
        QCOMPARE(store.status().code(), Code::DataLoss);
        QVERIFY2(store.status().message().find("block 2") != std::string::npos,
                 store.status().toString().c_str());
    }

    void wrongKeyIsRefusedAndChangesNothing() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chain.db").toStdString();
        const StoreKey key = randomKey();
        {
            auto store = BlockStore::open(path, key, "test-chain");
            QVERIFY(store);
            Block b = makeBlock(1, 3);
            QVERIFY((*store)->append(b, hashes(b), {}).isOk());
        }
        const QByteArray before = folderDigest(dir.path());
        auto wrong = BlockStore::open(path, randomKey(), "test-chain");
        QVERIFY(!wrong);
        QCOMPARE(wrong.status().code(), Code::FailedPrecondition);
        QVERIFY(wrong.status().message().find("wrong store key") != std::string::npos);
        QCOMPARE(folderDigest(dir.path()), before);
        // The right key still opens it, intact.
        auto again = BlockStore::open(path, key, "test-chain");
        QVERIFY(again);
        QCOMPARE((*again)->height(), 1u);
    }

    void outOfOrderAppendChangesNothing() {
        QTemporaryDir dir;
        auto store = BlockStore::open(dir.filePath("chain.db").toStdString(), randomKey(), "test-chain");
        QVERIFY(store);
        Block b2 = makeBlock(2, 1);
        QCOMPARE((*store)->append(b2, hashes(b2), {}).code(), Code::FailedPrecondition);
        QCOMPARE((*store)->height(), 0u);
        Block b1 = makeBlock(1, 2);
        QVERIFY((*store)->append(b1, hashes(b1), {}).isOk());
        // A transaction hash already stored makes the whole block fail, atomically.
        Block dup = makeBlock(2, 1);
        dup.transactions[0] = b1.transactions[0];
        QVERIFY(!(*store)->append(dup, hashes(dup), {{toBytes("x"), toBytes("y")}}).isOk());
        QCOMPARE((*store)->height(), 1u);
        auto x = (*store)->getState(toBytes("x"));
        QVERIFY(x && !x->has_value());
        QCOMPARE((*store)->block(2).status().code(), Code::NotFound);
        // A transaction twice in one block: refused before any change.
        Block twice = makeBlock(2, 3);
        twice.transactions[2] = twice.transactions[0];
        const Status st = (*store)->append(twice, hashes(twice), {{toBytes("x"), toBytes("y")}});
        QCOMPARE(st.code(), Code::InvalidArgument);
        QVERIFY2(st.message().find("twice") != std::string::npos, st.toString().c_str());
        QCOMPARE((*store)->height(), 1u);
        QVERIFY((*store)->getState(toBytes("x")).value() == std::nullopt);
    }

    void otherChainIsRefused() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chain.db").toStdString();
        const StoreKey key = randomKey();
        QVERIFY(BlockStore::open(path, key, "chain-a"));
        auto other = BlockStore::open(path, key, "chain-b");
        QVERIFY(!other);
        QCOMPARE(other.status().code(), Code::FailedPrecondition);
    }

    void keyFiles() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("store.key").toStdString();
        QVERIFY(createKeyFile(path).isOk());
        QCOMPARE(QFile::permissions(QString::fromStdString(path)) & 0x0077, QFileDevice::Permissions());
        QCOMPARE(createKeyFile(path).code(), Code::AlreadyExists);
        auto k1 = loadKeyFile(path);
        QVERIFY(k1);
        QCOMPARE(k1->size(), 32u);
        QFile bad(dir.filePath("bad.key"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("not hex at all");
        bad.close();
        QVERIFY(bad.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QCOMPARE(loadKeyFile(bad.fileName().toStdString()).status().code(), Code::InvalidArgument);
        QVERIFY(QFile::setPermissions(QString::fromStdString(path), QFileDevice::ReadOwner |
                                                                        QFileDevice::WriteOwner |
                                                                        QFileDevice::ReadOther));
        QCOMPARE(loadKeyFile(path).status().code(), Code::PermissionDenied);
        QCOMPARE(loadKeyFile(dir.filePath("missing").toStdString()).status().code(), Code::NotFound);
    }

    void passphraseDerivation() {
        QTemporaryDir dir;
        const std::string salt = dir.filePath("chain.db.salt").toStdString();
        QCOMPARE(deriveFromPassphrase("correct horse battery", salt, false).status().code(), Code::DataLoss);
        QVERIFY(!QFile::exists(QString::fromStdString(salt)));
        auto a = deriveFromPassphrase("correct horse battery", salt, true);
        QVERIFY(a);
        auto b = deriveFromPassphrase("correct horse battery", salt, false);
        QVERIFY(b);
        QVERIFY(*a == *b);
        auto c = deriveFromPassphrase("correct horse battery!", salt, false);
        QVERIFY(c);
        QVERIFY(*a != *c);
        QCOMPARE(deriveFromPassphrase("short", salt, false).status().code(), Code::InvalidArgument);
    }
};

QTEST_APPLESS_MAIN(TestBlockStore)
#include "test_block_store.moc"
