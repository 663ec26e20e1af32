// The client's checks of multi-key and append-log answers
// (client::verifyStatesAnswer, client::fetchVerifiedLog) against a real
// in-process node served over loopback gRPC, and against a node that lies
// about one item or stops listing early.
#include "client/node_client.h"
#include "kv_app.h"
#include "node/node.h"
#include "notary/notary_app.h"
#include "primitives/append_log.h"
#include "rpc/node_service.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace fides;
using namespace std::chrono_literals;
namespace v1 = fides::node::v1;

namespace {

// Answers ListLog and QueryStates through the real service, then changes
// what it says as told.
class LyingService final : public v1::NodeService::Service {
public:
    explicit LyingService(node::Node& n) : m_real(n) {}
    enum class Lie { None, AlterItem, StopEarly, SwapHead, DropEntry } lie = Lie::None;

    grpc::Status ListLog(grpc::ServerContext* ctx, const v1::ListLogRequest* req,
                         v1::ListLogResponse* resp) override {
        grpc::Status st = m_real.ListLog(ctx, req, resp);
        if (!st.ok()) return st;
        if (lie == Lie::AlterItem && resp->items_size() > 3) resp->set_items(3, "forged record");
        if (lie == Lie::StopEarly && req->from() > 0) resp->clear_items();
        if (lie == Lie::SwapHead) {
            merkle::Frontier small;
            small.append(merkle::leafHash(asBytes(resp->items(0))));
            resp->mutable_head()->set_value(toStdString(small.encode()));
        }
        return st;
    }
    grpc::Status QueryStates(grpc::ServerContext* ctx, const v1::QueryStatesRequest* req,
                             v1::QueryStatesResponse* resp) override {
        grpc::Status st = m_real.QueryStates(ctx, req, resp);
        if (st.ok() && lie == Lie::DropEntry && resp->entries_size() > 1) {
            resp->mutable_entries(1)->set_found(false);
            resp->mutable_entries(1)->clear_value();
        }
        return st;
    }

private:
    rpc::NodeServiceImpl m_real;
};

}  // namespace

class TestVerifiedQueries : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    crypto::SecretKey m_validator = crypto::SecretKey::generate();
    crypto::SecretKey m_user = crypto::SecretKey::generate();
    Genesis m_genesis;
    std::unique_ptr<node::Node> m_node;
    std::unique_ptr<LyingService> m_service;
    std::unique_ptr<grpc::Server> m_server;
    int m_port = 0;

    Transaction kv(testing::KvOp op, const std::string& key, const std::string& value) {
        return makeSignedTransaction(m_genesis.chainId, testing::kKvTxType,
                                     testing::kvPayload(op, key, value), m_user,
                                     static_cast<std::uint64_t>(std::time(nullptr)) + 600);
    }

private slots:
    void initTestCase() {
        m_genesis.chainId = "verified-queries";
        m_genesis.genesisTimeMs = 1;
        m_genesis.validators = ValidatorSet::create({{m_validator.publicKey(), 10, "v0"}}).value();
        node::NodeConfig cfg;
        cfg.storePath = m_dir.filePath("chain.db").toStdString();
        cfg.batchWait = 1ms;
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<notary::NotaryApp>());
        apps.push_back(std::make_unique<testing::KvApp>());
        auto key = crypto::SecretKey::fromBytes(
            Bytes(m_validator.secretBytes().begin(), m_validator.secretBytes().end()));
        auto n = node::Node::open(m_genesis, std::move(*key), storage::StoreKey(32, 5), cfg, std::move(apps));
        QVERIFY2(n, n.status().toString().c_str());
        m_node = std::move(*n);
        m_node->start();
        crypto::Hash256 last;
        for (int i = 0; i < 25; ++i)
            last = *m_node->submit(kv(testing::KvOp::Log, "", "record " + std::to_string(i)).encode());
        m_node->submit(kv(testing::KvOp::Put, "a", "1").encode()).value();
        QVERIFY(m_node->waitForCommit(last, std::chrono::steady_clock::now() + 10s));
        QTRY_COMPARE(m_node->mempoolSize(), 0u);

        m_service = std::make_unique<LyingService>(*m_node);
        grpc::ServerBuilder b;
        b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &m_port);
        b.RegisterService(m_service.get());
        m_server = b.BuildAndStart();
        QVERIFY(m_server && m_port != 0);
    }

    void cleanupTestCase() {
        if (m_server) m_server->Shutdown();
        m_node->stop();
    }

    void wholeLogInPagesIsVerified() {
        m_service->lie = LyingService::Lie::None;
        client::NodeClient c("127.0.0.1:" + std::to_string(m_port));
        const LightClient light(m_genesis);
        for (std::uint32_t page : {1u, 7u, 25u, 1000u}) {
            auto log = client::fetchVerifiedLog(c, light, asBytes("kv/log"), page);
            QVERIFY2(log, log.status().toString().c_str());
            QCOMPARE(log->items.size(), 25u);
            QCOMPARE(log->items[24], toBytes("record 24"));
        }
        // Fresh enough: the answer's height is the chain's; asking for a
        // later height than any answer can have is refused, as is an empty page size.
        QCOMPARE(
            client::fetchVerifiedLog(c, light, asBytes("kv/log"), 10, m_node->height() + 100).status().code(),
            Code::FailedPrecondition);
        QVERIFY(client::fetchVerifiedLog(c, light, asBytes("kv/log"), 10, m_node->height()));
        QCOMPARE(client::fetchVerifiedLog(c, light, asBytes("kv/log"), 0).status().code(),
                 Code::InvalidArgument);
        auto empty = client::fetchVerifiedLog(c, light, asBytes("kv/none"));
        QVERIFY2(empty, empty.status().toString().c_str());
        QVERIFY(empty->items.empty());

        const std::vector<Bytes> keys = {toBytes("kv/a"), toBytes("kv/b")};
        auto answer = c.queryStates(keys);
        QVERIFY(answer);
        auto values = client::verifyStatesAnswer(light, keys, *answer);
        QVERIFY2(values, values.status().toString().c_str());
        QCOMPARE((*values)[0], std::optional<Bytes>(toBytes("1")));
        QVERIFY(!(*values)[1]);
    }

    void aLyingNodeIsCaught() {
        client::NodeClient c("127.0.0.1:" + std::to_string(m_port));
        const LightClient light(m_genesis);
        m_service->lie = LyingService::Lie::AlterItem;
        QCOMPARE(client::fetchVerifiedLog(c, light, asBytes("kv/log"), 10).status().code(),
                 Code::Unauthenticated);
        m_service->lie = LyingService::Lie::StopEarly;
        QCOMPARE(client::fetchVerifiedLog(c, light, asBytes("kv/log"), 10).status().code(),
                 Code::Unauthenticated);
        m_service->lie = LyingService::Lie::SwapHead;
        QCOMPARE(client::fetchVerifiedLog(c, light, asBytes("kv/log"), 10).status().code(),
                 Code::Unauthenticated);
        m_service->lie = LyingService::Lie::DropEntry;
        const std::vector<Bytes> keys = {toBytes("kv/b"), toBytes("kv/a")};
        auto answer = c.queryStates(keys);
        QVERIFY(answer);
        QCOMPARE(client::verifyStatesAnswer(light, keys, *answer).status().code(), Code::Unauthenticated);
        m_service->lie = LyingService::Lie::None;
    }
};

QTEST_GUILESS_MAIN(TestVerifiedQueries)
#include "test_verified_queries.moc"
