// Unit tests for the mempool: bounds, deduplication, order, the remembered
// committed hashes and the admission-race guard.
#include "mempool/mempool.h"

#include <QtTest>

using namespace fides;

namespace {
std::shared_ptr<const MempoolEntry> entry(int i, std::size_t size = 100) {
    auto e = std::make_shared<MempoolEntry>();
    e->encoded = Bytes(size, static_cast<std::uint8_t>(i));
    e->encoded[0] = static_cast<std::uint8_t>(i >> 8);
    e->hash = crypto::sha256(e->encoded);
    return e;
}
}  // namespace

class TestMempool : public QObject {
    Q_OBJECT

private slots:
    void boundedByCount() {
        Mempool pool({3, 1 << 20});
        for (int i = 0; i < 3; ++i) QVERIFY(pool.admit(entry(i), pool.generation()).isOk());
        const Status full = pool.admit(entry(3), pool.generation());
        QCOMPARE(full.code(), Code::ResourceExhausted);
        QCOMPARE(pool.size(), 3u);
    }

    void boundedByBytes() {
        Mempool pool({100, 250});
        QVERIFY(pool.admit(entry(1, 100), pool.generation()).isOk());
        QVERIFY(pool.admit(entry(2, 100), pool.generation()).isOk());
        QCOMPARE(pool.admit(entry(3, 100), pool.generation()).code(), Code::ResourceExhausted);
        QCOMPARE(pool.bytes(), 200u);
        QVERIFY(pool.admit(entry(4, 50), pool.generation()).isOk());
        QCOMPARE(pool.bytes(), 250u);
    }

    void deduplicatesByHash() {
        Mempool pool({10, 1 << 20});
        QVERIFY(pool.admit(entry(7), pool.generation()).isOk());
        QCOMPARE(pool.admit(entry(7), pool.generation()).code(), Code::AlreadyExists);
        QCOMPARE(pool.size(), 1u);
    }

    void frontIsFifoAndBounded() {
        Mempool pool({100, 1 << 20});
        for (int i = 0; i < 10; ++i) QVERIFY(pool.admit(entry(i), pool.generation()).isOk());
        auto batch = pool.front(4, 1 << 20);
        QCOMPARE(batch.size(), 4u);
        for (int i = 0; i < 4; ++i) QCOMPARE(batch[i]->hash, entry(i)->hash);
        QCOMPARE(pool.front(100, 350).size(), 3u);
        QCOMPARE(pool.size(), 10u);  // front() does not remove
    }

    void committedHashesAreRemembered() {
        Mempool pool({100, 1 << 20});
        QVERIFY(pool.admit(entry(1), pool.generation()).isOk());
        QVERIFY(pool.admit(entry(2), pool.generation()).isOk());
        pool.removeCommitted({entry(1)->hash}, {entry(2)->hash});
        QCOMPARE(pool.size(), 0u);
        QCOMPARE(pool.bytes(), 0u);
        QCOMPARE(pool.admit(entry(1), pool.generation()).code(), Code::AlreadyExists);  // committed
        QVERIFY(pool.admit(entry(2), pool.generation()).isOk());                        // only dropped
        // After kRememberedBlocks further blocks the store is the authority again.
        for (std::size_t i = 0; i < Mempool::kRememberedBlocks; ++i) pool.removeCommitted({}, {});
        QVERIFY(pool.admit(entry(1), pool.generation()).isOk());
    }

    void staleCheckIsRetried() {
        Mempool pool({100, 1 << 20});
        const std::uint64_t g = pool.generation();
        for (std::size_t i = 0; i < Mempool::kRememberedBlocks; ++i) pool.removeCommitted({}, {});
        QCOMPARE(pool.admit(entry(1), g).code(), Code::Unavailable);
        QVERIFY(pool.admit(entry(1), pool.generation()).isOk());
    }
};

QTEST_APPLESS_MAIN(TestMempool)
#include "test_mempool.moc"
