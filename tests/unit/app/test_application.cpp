// Unit tests for the application seam (app/application.h, app/app_set.h,
// app/memory_chain.h): what an AppSet refuses, the prefix guard on writes,
// erasures, and when the hooks run, all in memory.
#include "app/append_log.h"
#include "app/memory_chain.h"
#include "kv_app.h"

#include <QtTest>

using namespace fides;
using testing::kKvTxType;
using testing::KvApp;
using testing::KvOp;
using testing::kvPayload;

namespace {

Genesis genesis() {
    Genesis g;
    g.chainId = "app-chain";
    g.genesisTimeMs = 1'000;
    g.validators = ValidatorSet::create({{crypto::SecretKey::generate().publicKey(), 10, "v0"},
                                         {crypto::SecretKey::generate().publicKey(), 10, "v1"}})
                       .value();
    return g;
}

Transaction kvTx(KvOp op, const std::string& key, const std::string& value = {}) {
    Transaction tx;
    tx.chainId = "app-chain";
    tx.type = kKvTxType;
    tx.payload = kvPayload(op, key, value);
    tx.expiry = 1;
    return tx;
}

std::unique_ptr<app::Application> kv(std::string name, std::string prefix, std::vector<std::uint16_t> types) {
    return std::make_unique<KvApp>(std::make_shared<KvApp::Log>(), std::move(name), std::move(prefix),
                                   std::move(types));
}

Status makeSet(std::vector<std::unique_ptr<app::Application>> apps) {
    return app::AppSet::make(std::move(apps)).status();
}

std::optional<std::string> valueOf(const app::MemoryChain& c, const std::string& key) {
    auto v = c.state().get(asBytes(key));
    if (!v || !*v) return std::nullopt;
    return std::string((*v)->begin(), (*v)->end());
}

}  // namespace

class TestApplication : public QObject {
    Q_OBJECT

private slots:
    void appSetRefusesConflicts() {
        const auto refused = [](std::vector<std::unique_ptr<app::Application>> apps, const char* words) {
            const Status st = makeSet(std::move(apps));
            QCOMPARE(st.code(), Code::InvalidArgument);
            QVERIFY2(st.message().find(words) != std::string::npos, st.message().c_str());
        };
        {
            std::vector<std::unique_ptr<app::Application>> apps;
            apps.push_back(kv("a", "a/", {1}));
            apps.push_back(kv("b", "b/", {1}));
            refused(std::move(apps), "transaction type 1 is declared by both 'a' and 'b'");
        }
        {
            std::vector<std::unique_ptr<app::Application>> apps;
            apps.push_back(kv("a", "a/", {1}));
            apps.push_back(kv("a", "b/", {2}));
            refused(std::move(apps), "two applications are named 'a'");
        }
        {
            std::vector<std::unique_ptr<app::Application>> apps;
            apps.push_back(kv("a", "", {1}));
            refused(std::move(apps), "declares no state prefix");
        }
        {
            // One prefix starting another, in either order: two writers of a key.
            std::vector<std::unique_ptr<app::Application>> apps;
            apps.push_back(kv("a", "fides/", {1}));
            apps.push_back(kv("b", "fides/validator-set/", {2}));
            refused(std::move(apps), "overlap");
            std::vector<std::unique_ptr<app::Application>> reversed;
            reversed.push_back(kv("b", "fides/validator-set/", {2}));
            reversed.push_back(kv("a", "fides/", {1}));
            refused(std::move(reversed), "overlap");
        }
        {
            std::vector<std::unique_ptr<app::Application>> apps;
            apps.push_back(kv("a", "a/", {1, 2}));
            apps.push_back(kv("b", "ab/", {3}));  // "a/" is not a prefix of "ab/"
            auto set = app::AppSet::make(std::move(apps));
            QVERIFY2(set, set.status().toString().c_str());
            QCOMPARE(set->handlerFor(2)->name(), std::string("a"));
            QCOMPARE(set->handlerFor(3)->name(), std::string("b"));
            QVERIFY(set->handlerFor(4) == nullptr);
            QCOMPARE(set->ownerOf(asBytes("ab/x")), 1u);
            QCOMPARE(set->ownerOf(asBytes("c/x")), 2u);
        }
    }

    void writesOutsideThePrefixAreRefusedAndUndone() {
        struct Empty final : app::StateReader {
            Result<std::optional<Bytes>> get(ByteView) const override { return std::optional<Bytes>(); }
        } committed;
        app::StagedState staged(committed);
        app::BlockState view(staged, "kv/", "kv");
        QVERIFY(view.put(asBytes("kv/a"), Bytes{1}).isOk());
        const Status outside = view.put(asBytes("fides/validator-set/x"), Bytes{1});
        QCOMPARE(outside.code(), Code::Internal);
        QVERIFY2(outside.message().find("'kv' may write only keys under 'kv/'") != std::string::npos,
                 outside.message().c_str());
        QCOMPARE(view.erase(asBytes("kw/a")).code(), Code::Internal);
        QCOMPARE(view.put(asBytes("kv"), Bytes{1}).code(), Code::Internal);  // shorter than the prefix
        staged.commitTx();
        QCOMPARE(staged.writes().size(), 1u);

        // Through a chain: the transaction that tries is left out, its other
        // writes undone, and nothing outside the prefix is written.
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<KvApp>());
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY2(chain, chain.status().toString().c_str());
        auto r = chain->runBlock(2'000,
                                 {kvTx(KvOp::Put, "a", "1"), kvTx(KvOp::RawPut, "fides/validator-set/x", "y"),
                                  kvTx(KvOp::RawPut, "kv/b", "2")});
        QVERIFY2(r, r.status().toString().c_str());
        QVERIFY(r->txs[0].isOk());
        QCOMPARE(r->txs[1].code(), Code::Internal);
        QVERIFY(r->txs[2].isOk());  // a raw key inside the prefix is fine
        QCOMPARE(chain->state().entries().size(), 2u);
        QVERIFY(!valueOf(*chain, "fides/validator-set/x"));
    }

    void erasuresRemoveKeysAndTheLastWriteWins() {
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<KvApp>());
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY(chain);
        QVERIFY(chain->runBlock(2'000, {kvTx(KvOp::Put, "a", "1"), kvTx(KvOp::Put, "b", "2")}).isOk());
        QCOMPARE(valueOf(*chain, "kv/a").value(), std::string("1"));
        // Erase then put again in one block: the put wins; put then erase:
        // the erasure wins; erasing an absent key is no error.
        auto r = chain->runBlock(
            3'000, {kvTx(KvOp::Erase, "a"), kvTx(KvOp::Put, "a", "3"), kvTx(KvOp::Put, "c", "4"),
                    kvTx(KvOp::Erase, "c"), kvTx(KvOp::Erase, "b"), kvTx(KvOp::Erase, "never")});
        QVERIFY(r);
        for (const Status& st : r->txs) QVERIFY2(st.isOk(), st.toString().c_str());
        QCOMPARE(valueOf(*chain, "kv/a").value(), std::string("3"));
        QVERIFY(!valueOf(*chain, "kv/b"));
        QVERIFY(!valueOf(*chain, "kv/c"));
        QCOMPARE(chain->state().entries().size(), 1u);
    }

    void hooksRunInOrderInEveryBlock() {
        auto log = std::make_shared<KvApp::Log>();
        log->writeInEnd = true;
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<KvApp>(log));
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY(chain);
        QCOMPARE(log->calls, (std::vector<std::string>{"committed 0"}));
        QVERIFY(chain->runBlock(2'000, {kvTx(KvOp::Put, "a", "1")}).isOk());
        QVERIFY(chain->runBlock(2'500, {}).isOk());  // an empty block runs the hooks too
        QCOMPARE(log->calls, (std::vector<std::string>{"committed 0", "init 1", "begin 1", "end 1",
                                                       "committed 1", "begin 2", "end 2", "committed 2"}));
        QCOMPARE(log->lastBlockTimeMs, 2'500u);
        QCOMPARE(log->lastValidators, 2u);  // the schedule is readable
        QCOMPARE(valueOf(*chain, "kv/last").value(), std::string("2"));

        // A failing hook fails the block: nothing changes, the height stays.
        log->failBegin = true;
        auto failed = chain->runBlock(3'000, {kvTx(KvOp::Put, "z", "9")});
        QVERIFY(!failed);
        QCOMPARE(failed.status().code(), Code::Unavailable);
        QVERIFY2(
            failed.status().message().find("application 'kv' beginBlock of block 3") != std::string::npos,
            failed.status().message().c_str());
        QCOMPARE(chain->height(), 2u);
        QVERIFY(!valueOf(*chain, "kv/z"));
        // Block times only advance.
        log->failBegin = false;
        QCOMPARE(chain->runBlock(2'500, {}).status().code(), Code::InvalidArgument);
    }

    // An append log: its head commits to every item; a listing checked
    // against the head catches an altered, missing, extra or reordered item.
    void appendLogListingIsCheckedAgainstItsHead() {
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<KvApp>());
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY(chain);
        std::vector<std::string> items;
        for (int block = 0; block < 5; ++block) {
            std::vector<Transaction> txs;
            for (int i = 0; i < 7; ++i) {
                items.push_back("ballot " + std::to_string(items.size()));
                txs.push_back(kvTx(KvOp::Log, "", items.back()));
            }
            QVERIFY(chain->runBlock(2'000 + 1'000 * static_cast<std::uint64_t>(block), txs).isOk());
        }
        const ByteView base = asBytes("kv/log");
        auto head = app::logHead(chain->state(), base);
        QVERIFY(head);
        QCOMPARE(head->size(), items.size());
        QCOMPARE(app::logItem(chain->state(), base, 3).value().value(),
                 Bytes(asBytes(items[3]).begin(), asBytes(items[3]).end()));
        QVERIFY(!app::logItem(chain->state(), base, items.size()).value());

        const auto check = [&](const std::vector<std::string>& listed) {
            applog::ListingCheck c(*head);
            for (const auto& it : listed) {
                Status st = c.add(asBytes(it));
                if (!st) return st;
            }
            return c.finish();
        };
        QVERIFY(check(items).isOk());
        auto altered = items;
        altered[10] = "ballot x";
        QCOMPARE(check(altered).code(), Code::Unauthenticated);
        auto missing = items;
        missing.pop_back();
        QCOMPARE(check(missing).code(), Code::FailedPrecondition);
        auto extra = items;
        extra.push_back("one more");
        QCOMPARE(check(extra).code(), Code::InvalidArgument);
        auto swapped = items;
        std::swap(swapped[0], swapped[1]);
        QCOMPARE(check(swapped).code(), Code::Unauthenticated);
        // An empty (never written) log has an empty head that an empty listing matches.
        QVERIFY(
            applog::ListingCheck(app::logHead(chain->state(), asBytes("kv/none")).value()).finish().isOk());
    }

    void unknownTypeIsRefused() {
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<KvApp>());
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY(chain);
        Transaction tx = kvTx(KvOp::Put, "a", "1");
        tx.type = 9;
        QCOMPARE(chain->checkTx(tx).code(), Code::InvalidArgument);
        auto r = chain->runBlock(2'000, {tx});
        QVERIFY(r);
        QCOMPARE(r->txs[0].code(), Code::InvalidArgument);
        QVERIFY(chain->state().entries().empty());
    }
};

QTEST_GUILESS_MAIN(TestApplication)
#include "test_application.moc"
