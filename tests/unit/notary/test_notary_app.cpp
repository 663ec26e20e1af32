// Unit tests for the notary's application logic, run in memory
// (app::MemoryChain) without a node or a store.
#include "app/memory_chain.h"
#include "notary/notary_app.h"

#include <QtTest>

using namespace fides;

class TestNotaryApp : public QObject {
    Q_OBJECT

    static Genesis genesis() {
        Genesis g;
        g.chainId = "notary-chain";
        g.genesisTimeMs = 1'000;
        g.validators = ValidatorSet::create({{crypto::SecretKey::generate().publicKey(), 10, "v0"}}).value();
        return g;
    }

private slots:
    void registersOnceWithWhereAndWho() {
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<notary::NotaryApp>());
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY2(chain, chain.status().toString().c_str());
        const auto alice = crypto::SecretKey::generate();
        const auto doc = crypto::sha256(asBytes("contract"));
        const Transaction first = notary::makeNotarizeTx("notary-chain", alice, doc, "contract 17", 1, 100);
        const Transaction again = notary::makeNotarizeTx("notary-chain", alice, doc, "again", 2, 100);
        QVERIFY(chain->checkTx(first).isOk());
        auto r = chain->runBlock(5'000, {first, again});
        QVERIFY2(r, r.status().toString().c_str());
        QVERIFY(r->txs[0].isOk());
        QCOMPARE(r->txs[1].code(), Code::AlreadyExists);  // twice in one block
        QCOMPARE(chain->checkTx(again).code(), Code::AlreadyExists);

        auto stored = chain->state().get(notary::documentKey(doc));
        QVERIFY(stored && *stored);
        auto reg = notary::Registration::decode(**stored);
        QVERIFY(reg);
        QCOMPARE(reg->height, 1u);
        QCOMPARE(reg->index, 0u);
        QCOMPARE(reg->timeMs, 5'000u);
        QCOMPARE(reg->label, std::string("contract 17"));
        QVERIFY(reg->registrant == alice.publicKey());
        QVERIFY(reg->txHash == txHash(first.encode()));
        // Every key it wrote is under its prefix.
        for (const auto& [k, v] : chain->state().entries()) {
            QVERIFY(std::string(k.begin(), k.end()).starts_with(notary::kStatePrefix));
        }
    }

    void malformedPayloadIsRefused() {
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<notary::NotaryApp>());
        auto chain = app::MemoryChain::make(genesis(), std::move(apps));
        QVERIFY(chain);
        Transaction tx = notary::makeNotarizeTx("notary-chain", crypto::SecretKey::generate(),
                                                crypto::sha256(asBytes("x")), "", 1, 100);
        tx.payload.push_back(0);  // trailing byte
        QCOMPARE(chain->checkTx(tx).code(), Code::InvalidArgument);
        auto r = chain->runBlock(5'000, {tx});
        QVERIFY(r);
        QCOMPARE(r->txs[0].code(), Code::InvalidArgument);
        QVERIFY(chain->state().entries().empty());
    }
};

QTEST_GUILESS_MAIN(TestNotaryApp)
#include "test_notary_app.moc"
