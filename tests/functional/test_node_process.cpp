// Functional tests: a real fides-node process driven over gRPC on loopback.
#include "client/node_client.h"
#include "consensus/wal.h"
#include "crypto/key_file.h"
#include "crypto/random.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "node_process.h"
#include "notary/notary_app.h"
#include "notary/notary_proof.h"
#include "primitives/block.h"
#include "test_files.h"

#include <grpcpp/grpcpp.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <atomic>
#include <mutex>
#include <thread>

using namespace fides;
using fides::test::folderDigest;
using fides::test::NodeProcess;
namespace v1 = fides::node::v1;

namespace {

std::uint64_t expiry() { return static_cast<std::uint64_t>(std::time(nullptr)) + 3600; }

Transaction notarizeTx(const std::string& chainId, const crypto::SecretKey& key, const std::string& doc) {
    return notary::makeNotarizeTx(chainId, key, crypto::sha256(asBytes(doc)), "", crypto::randomU64(),
                                  expiry());
}

grpc::StatusCode rawSubmit(client::NodeClient& c, const std::string& bytes) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SubmitTransactionRequest req;
    req.set_transaction(bytes);
    v1::SubmitTransactionResponse resp;
    return c.stub().SubmitTransaction(&ctx, req, &resp).error_code();
}

}  // namespace

class TestNodeProcess : public QObject {
    Q_OBJECT

private slots:
    void notarizeAndVerifyProofClientSide() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        client::NodeClient c(node.address());
        auto genesis = Genesis::load(node.genesisPath().toStdString());
        QVERIFY(genesis);
        const auto user = crypto::SecretKey::generate();
        const crypto::Hash256 doc =
            crypto::sha256(asBytes(std::string("minutes of the council, 2026-11-21")));
        Transaction tx = notary::makeNotarizeTx(genesis->chainId, user, doc, "council minutes", 42, expiry());
        auto ack = c.submitAndWait(tx.encode());
        QVERIFY2(ack, ack.status().toString().c_str());
        QVERIFY(ack->height >= 1);

        auto ev = c.notarizationEvidence(doc);
        QVERIFY2(ev, ev.status().toString().c_str());
        auto verdict = notary::verifyNotarization(*genesis, doc, *ev);
        QVERIFY2(verdict, verdict.status().toString().c_str());
        QVERIFY(verdict->registered);
        QCOMPARE(verdict->registration->height, ack->height);
        QCOMPARE(verdict->registration->label, std::string("council minutes"));

        // A tampered answer does not verify.
        auto tampered = *ev;
        tampered.inclusionProof.clear();
        tampered.inclusionProof.push_back(crypto::sha256(asBytes(std::string("x"))));
        QVERIFY(!notary::verifyNotarization(*genesis, doc, tampered));

        // Absence is proven too.
        const crypto::Hash256 other = crypto::sha256(asBytes(std::string("not registered")));
        auto evAbsent = c.notarizationEvidence(other);
        QVERIFY(evAbsent);
        auto absent = notary::verifyNotarization(*genesis, other, *evAbsent);
        QVERIFY(absent);
        QVERIFY(!absent->registered);
    }

    // QueryStates and ListLog over gRPC: bounds and bad input get
    // INVALID_ARGUMENT with a message; a log never written is provably empty.
    void multiKeyAndLogQueriesCheckTheirInput() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        client::NodeClient c(node.address());
        auto genesis = Genesis::load(node.genesisPath().toStdString());
        const auto doc = crypto::sha256(asBytes("multi"));
        QVERIFY(c.notarize(crypto::SecretKey::generate(), doc, ""));
        const LightClient light(*genesis);
        const std::vector<Bytes> keys = {notary::documentKey(doc),
                                         notary::documentKey(crypto::sha256(asBytes("no")))};
        auto answer = c.queryStates(keys);
        QVERIFY2(answer, answer.status().toString().c_str());
        auto values = client::verifyStatesAnswer(light, keys, *answer);
        QVERIFY2(values, values.status().toString().c_str());
        QVERIFY((*values)[0] && !(*values)[1]);
        QCOMPARE(c.queryStates({}).status().code(), Code::InvalidArgument);
        QCOMPARE(c.queryStates(std::vector<Bytes>(1001, toBytes("k"))).status().code(),
                 Code::InvalidArgument);
        const Status longKey = c.queryStates({Bytes(1025, 'k')}).status();
        QCOMPARE(longKey.code(), Code::InvalidArgument);
        QVERIFY2(longKey.message().find("1 to 1024 bytes") != std::string::npos, longKey.message().c_str());
        QCOMPARE(c.listLogPage({}, 0, 10).status().code(), Code::InvalidArgument);
        auto empty = client::fetchVerifiedLog(c, light, asBytes("notary/no-log"));
        QVERIFY2(empty, empty.status().toString().c_str());
        QVERIFY(empty->items.empty());
    }

    void healthServiceServes() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        auto channel = grpc::CreateChannel(node.address(), grpc::InsecureChannelCredentials());
        auto health = grpc::health::v1::Health::NewStub(channel);
        for (const std::string service : {"", "fides.node.v1.NodeService"}) {
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            grpc::health::v1::HealthCheckRequest req;
            req.set_service(service);
            grpc::health::v1::HealthCheckResponse resp;
            QVERIFY(health->Check(&ctx, req, &resp).ok());
            QCOMPARE(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
        }
    }

    void startupLogNamesTheAllocator() {
        // ADR 0022: jemalloc unless the build left it out (sanitizers,
        // -DFIDES_JEMALLOC=OFF); the test gets the daemon's definition.
        // Stopping right after the "listening on" line also checks that a
        // SIGTERM at once is a clean stop (exit 0), not a kill.
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        QCOMPARE(node.terminate(), 0);
#ifdef FIDES_WITH_JEMALLOC
        QVERIFY2(node.stderrText().contains("memory allocator jemalloc "), qPrintable(node.stderrText()));
#else
        QVERIFY2(node.stderrText().contains("memory allocator the default malloc (built without jemalloc)"),
                 qPrintable(node.stderrText()));
#endif
    }

    void serverReflectionListsTheServices() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        auto channel = grpc::CreateChannel(node.address(), grpc::InsecureChannelCredentials());
        auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        auto stream = reflection->ServerReflectionInfo(&ctx);
        grpc::reflection::v1alpha::ServerReflectionRequest req;
        req.set_list_services("*");
        QVERIFY(stream->Write(req));
        grpc::reflection::v1alpha::ServerReflectionResponse resp;
        QVERIFY(stream->Read(&resp));
        QStringList names;
        for (const auto& s : resp.list_services_response().service())
            names << QString::fromStdString(s.name());
        QVERIFY2(names.contains("fides.node.v1.NodeService"), qPrintable(names.join(", ")));
        QVERIFY2(names.contains("grpc.health.v1.Health"), qPrintable(names.join(", ")));
        // And the API's descriptors can be fetched, as grpcurl would.
        req.set_file_containing_symbol("fides.node.v1.NodeService");
        QVERIFY(stream->Write(req));
        QVERIFY(stream->Read(&resp));
        QVERIFY(resp.file_descriptor_response().file_descriptor_proto_size() >= 1);
        stream->WritesDone();
        QVERIFY(stream->Finish().ok());
    }

    void badInputGetsTheRightCodeAndChangesNothing() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        client::NodeClient c(node.address());
        auto genesis = Genesis::load(node.genesisPath().toStdString());
        const auto user = crypto::SecretKey::generate();
        Transaction first = notarizeTx(genesis->chainId, user, "first");
        QVERIFY(c.submitAndWait(first.encode()));
        auto before = c.status();
        QVERIFY(before);

        using G = grpc::StatusCode;
        QCOMPARE(rawSubmit(c, "\x01garbage"), G::INVALID_ARGUMENT);
        QCOMPARE(rawSubmit(c, ""), G::INVALID_ARGUMENT);
        QCOMPARE(rawSubmit(c, std::string(100 * 1024, 'x')), G::INVALID_ARGUMENT);  // over the tx limit
        QCOMPARE(rawSubmit(c, std::string(9 << 20, 'x')), G::RESOURCE_EXHAUSTED);   // over the message limit
        Transaction badSig = notarizeTx(genesis->chainId, user, "bad signature");
        badSig.expiry += 1;
        QCOMPARE(rawSubmit(c, toStdString(badSig.encode())), G::UNAUTHENTICATED);
        QCOMPARE(rawSubmit(c, toStdString(first.encode())), G::ALREADY_EXISTS);  // replay
        Transaction otherChain = notarizeTx("another-chain", user, "elsewhere");
        QCOMPARE(rawSubmit(c, toStdString(otherChain.encode())), G::INVALID_ARGUMENT);

        QCOMPARE(c.block(0).status().code(), Code::NotFound);
        QCOMPARE(c.block(before->height() + 1000).status().code(), Code::NotFound);
        QCOMPARE(c.signedHeader(before->height() + 1000).status().code(), Code::NotFound);
        // A light client's header-only read: the same signed header, no transactions.
        {
            auto whole = c.block(before->height());
            auto header = c.signedHeader(before->height());
            QVERIFY(whole && header);
            QCOMPARE(whole->transactions_size(), 1);
            QCOMPARE(header->header(), whole->signed_header().header());
            QCOMPARE(header->commit(), whole->signed_header().commit());
            grpc::ClientContext ctx;
            v1::GetBlockRequest req;
            req.set_height(before->height());
            req.set_header_only(true);
            v1::GetBlockResponse resp;
            QVERIFY(c.stub().GetBlock(&ctx, req, &resp).ok());
            QCOMPARE(resp.transactions_size(), 0);
        }
        {
            grpc::ClientContext ctx;
            v1::GetTransactionRequest req;
            req.set_tx_hash("short");
            v1::GetTransactionResponse resp;
            QCOMPARE(c.stub().GetTransaction(&ctx, req, &resp).error_code(), G::INVALID_ARGUMENT);
        }
        {
            grpc::ClientContext ctx;
            v1::QueryStateRequest req;
            req.set_key(std::string(5000, 'k'));
            v1::QueryStateResponse resp;
            QCOMPARE(c.stub().QueryState(&ctx, req, &resp).error_code(), G::INVALID_ARGUMENT);
        }
        // A stream with a mix: only the good one is admitted, the others reported.
        {
            grpc::ClientContext ctx;
            v1::SubmitTransactionsResponse resp;
            auto writer = c.stub().SubmitTransactions(&ctx, &resp);
            v1::SubmitTransactionsRequest batch;
            batch.add_transactions("junk");
            batch.add_transactions(toStdString(badSig.encode()));
            batch.add_transactions(toStdString(first.encode()));
            QVERIFY(writer->Write(batch));
            writer->WritesDone();
            QVERIFY(writer->Finish().ok());
            QCOMPARE(resp.accepted(), 0u);
            QCOMPARE(resp.rejected(), 3u);
            QCOMPARE(resp.rejections(1).code(), static_cast<int>(G::UNAUTHENTICATED));
            QCOMPARE(resp.rejections(2).code(), static_cast<int>(G::ALREADY_EXISTS));
        }
        // More entries in one message than a batch may hold (well under the
        // byte limit): the stream ends with RESOURCE_EXHAUSTED, nothing of it admitted.
        {
            grpc::ClientContext ctx;
            v1::SubmitTransactionsResponse resp;
            auto writer = c.stub().SubmitTransactions(&ctx, &resp);
            v1::SubmitTransactionsRequest batch;
            for (int i = 0; i < 10'001; ++i) batch.add_transactions("x");
            writer->Write(batch);
            writer->WritesDone();
            const grpc::Status st = writer->Finish();
            QCOMPARE(st.error_code(), G::RESOURCE_EXHAUSTED);
            QVERIFY2(st.error_message().find("at most 10000 transactions") != std::string::npos,
                     st.error_message().c_str());
        }
        QTest::qWait(200);
        auto after = c.status();
        QVERIFY(after);
        QCOMPARE(after->height(), before->height());
        QCOMPARE(after->state_root(), before->state_root());
        QCOMPARE(after->mempool_size(), 0u);
    }

    void sigkillMidLoadLosesNoAcknowledgedTransaction() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        auto genesis = Genesis::load(node.genesisPath().toStdString());
        const std::string chainId = genesis->chainId;
        const std::string address = node.address();

        std::mutex mutex;
        std::vector<std::pair<crypto::Hash256, std::uint64_t>> acknowledged;  // hash, height
        std::atomic<bool> stop{false};
        std::atomic<int> counter{0};
        auto worker = [&](int id) {
            client::NodeClient c(address, std::chrono::seconds(5));
            const auto key = crypto::SecretKey::generate();
            while (!stop.load()) {
                Transaction tx = notarizeTx(
                    chainId, key, "load " + std::to_string(id) + "/" + std::to_string(counter.fetch_add(1)));
                auto ack = c.submitAndWait(tx.encode());
                if (!ack) {
                    if (ack.status().code() == Code::Unavailable) break;  // node is gone
                    continue;
                }
                std::lock_guard lock(mutex);
                acknowledged.emplace_back(ack->txHash, ack->height);
            }
        };
        // Fire-and-forget load in batches, so blocks are large when the kill lands.
        auto streamer = [&] {
            client::NodeClient c(address, std::chrono::seconds(5));
            const auto key = crypto::SecretKey::generate();
            while (!stop.load()) {
                grpc::ClientContext ctx;
                v1::SubmitTransactionsResponse resp;
                auto writer = c.stub().SubmitTransactions(&ctx, &resp);
                v1::SubmitTransactionsRequest batch;
                for (int i = 0; i < 200; ++i) {
                    batch.add_transactions(toStdString(
                        notarizeTx(chainId, key, "bulk " + std::to_string(counter.fetch_add(1))).encode()));
                }
                if (!writer->Write(batch)) break;
                writer->WritesDone();
                if (!writer->Finish().ok()) break;
            }
        };
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i) threads.emplace_back(worker, i);
        threads.emplace_back(streamer);
        QTest::qWait(1500);
        node.kill();  // SIGKILL mid-load
        stop = true;
        for (auto& t : threads) t.join();
        QVERIFY2(acknowledged.size() > 10, "the load produced too few acknowledgements to mean anything");

        QVERIFY(node.start());
        client::NodeClient c(node.address());
        auto status = c.status();
        QVERIFY(status);
        for (const auto& [hash, height] : acknowledged) {
            grpc::ClientContext ctx;
            v1::GetTransactionRequest req;
            req.set_tx_hash(toStdString(Bytes(hash.bytes().begin(), hash.bytes().end())));
            v1::GetTransactionResponse resp;
            const grpc::Status s = c.stub().GetTransaction(&ctx, req, &resp);
            QVERIFY2(s.ok(), ("acknowledged transaction lost: " + hash.hex()).c_str());
            QCOMPARE(resp.height(), height);
        }
        // The chain continues from where it was, linked to the old tip.
        const auto tip = c.block(status->height());
        QVERIFY(tip);
        auto ack =
            c.submitAndWait(notarizeTx(chainId, crypto::SecretKey::generate(), "after restart").encode());
        QVERIFY2(ack, ack.status().toString().c_str());
        QCOMPARE(ack->height, status->height() + 1);
        auto next = c.block(ack->height);
        QVERIFY(next);
        auto header = BlockHeader::decode(asBytes(next->signed_header().header()));
        auto prev = BlockHeader::decode(asBytes(tip->signed_header().header()));
        QCOMPARE(header->prevHash, prev->hash());
        qInfo("%zu acknowledged transactions survived SIGKILL; chain at %llu", acknowledged.size(),
              static_cast<unsigned long long>(ack->height));
    }

    void walRepairCutsADamagedLogOnlyWhenConfirmed() {
        NodeProcess node;
        QVERIFY(node.init());
        const QString dir = node.home() + "/data/consensus";
        QVERIFY(QDir().mkpath(dir));
        {
            auto wal = consensus::Wal::open(dir.toStdString(), 9, nullptr);
            QVERIFY(wal);
            QVERIFY((*wal)->append(consensus::WalKind::HeightStart, Bytes(8, 0)).isOk());
            QVERIFY((*wal)->sync().isOk());
        }
        QFile f(dir + "/wal-9.log");
        QVERIFY(f.open(QIODevice::Append));
        f.write("damaged tail");
        f.close();
        auto run = [&](const QStringList& extra) {
            QProcess p;
            p.start(NodeProcess::binary("fides-node"),
                    QStringList{"wal-repair", "--home", node.home()} + extra);
            p.waitForFinished(15000);
            return std::make_pair(p.exitCode(),
                                  QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError()));
        };
        auto [refused, why] = run({});
        QCOMPARE(refused, 2);
        QVERIFY2(why.contains("--yes-i-understand"), qPrintable(why));
        QCOMPARE(QFileInfo(f).size(), qint64(12 + 9 + 12));
        auto [ok, out] = run({"--yes-i-understand"});
        QCOMPARE(ok, 0);
        QVERIFY2(out.contains("removed 12 bytes"), qPrintable(out));
        QCOMPARE(QFileInfo(f).size(), qint64(12 + 9));
    }

    // A validator of a network (consensus mode) reads its TLS files before
    // it opens its store: a key others can read, or a missing file, is a
    // configuration error (exit 2) that names the file and its setting.
    void tlsFilesAreCheckedBeforeTheStoreIsOpened() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const int base = fides::test::freePortBlock(4);
        QVERIFY(base != 0);
        QProcess testnet;
        testnet.start(NodeProcess::binary("fides-node"),
                      {"testnet", "--out", dir.path(), "--validators", "2", "--chain-id", "tls-files",
                       "--base-port", QString::number(base)});
        QVERIFY(testnet.waitForFinished(30000));
        QCOMPARE(testnet.exitCode(), 0);
        const QString home = dir.path() + "/validator-0";
        const auto run = [&](QString* err) {
            QProcess p;
            p.start(NodeProcess::binary("fides-node"),
                    {"start", "--home", home, "--rpc-listen", "127.0.0.1:0"});
            if (!p.waitForFinished(15000)) {
                p.kill();
                p.waitForFinished();
                return -1;
            }
            *err = QString::fromUtf8(p.readAllStandardError());
            return p.exitCode();
        };
        QString err;
        QFile key(home + "/config/node.key");
        QVERIFY(key.setPermissions(key.permissions() | QFileDevice::ReadOther | QFileDevice::ReadGroup));
        QCOMPARE(run(&err), 2);
        QVERIFY2(err.contains("TLS key file (tls_key_file)") && err.contains("chmod 600"), qPrintable(err));
        QVERIFY(key.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QVERIFY(QFile::rename(home + "/config/ca.pem", home + "/config/ca.pem.away"));
        QCOMPARE(run(&err), 2);
        QVERIFY2(err.contains("cannot read tls_ca_file"), qPrintable(err));
        QVERIFY(!QFile::exists(home + "/data/chain.db"));  // the store was never opened (nor created)
    }

    // Two fides-node processes on one home would write one store and one
    // consensus log: the second exits with code 5, names the first, and
    // changes nothing; once the first is killed (-9) the home is free again.
    void secondNodeOnOneHomeIsRefused() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        const QByteArray before = folderDigest(node.home() + "/data");
        QString err;
        QCOMPARE(node.runExpectingExit(&err), 5);
        QVERIFY2(err.contains("is in use by fides-node process"), qPrintable(err));
        QVERIFY2(err.contains(QString::number(node.pid())), qPrintable(err));
        QVERIFY(node.running());
        QProcess repair;
        repair.start(NodeProcess::binary("fides-node"),
                     QStringList{"wal-repair", "--home", node.home(), "--yes-i-understand"});
        QVERIFY(repair.waitForFinished(15000));
        QCOMPARE(repair.exitCode(), 5);
        QCOMPARE(folderDigest(node.home() + "/data"), before);
        node.kill();
        QVERIFY(node.start());
        QCOMPARE(node.terminate(), 0);
    }

    void wrongStoreKeyExitsWithClearErrorAndTouchesNothing() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(node.start());
        client::NodeClient c(node.address());
        auto genesis = Genesis::load(node.genesisPath().toStdString());
        QVERIFY(c.submitAndWait(notarizeTx(genesis->chainId, crypto::SecretKey::generate(), "x").encode()));
        QCOMPARE(node.terminate(), 0);

        QFile keyFile(node.home() + "/config/store.key");
        QVERIFY(keyFile.remove());
        QVERIFY(keyFile.open(QIODevice::WriteOnly));
        keyFile.write(QByteArray(64, 'a') + "\n");
        keyFile.close();
        const QByteArray before = folderDigest(node.home() + "/data");
        QString err;
        // A key file others can read is refused before it is even tried.
        QCOMPARE(node.runExpectingExit(&err), 2);
        QVERIFY2(err.contains("chmod 600"), qPrintable(err));
        QVERIFY(keyFile.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QCOMPARE(node.runExpectingExit(&err), 3);
        QVERIFY2(err.contains("wrong store key"), qPrintable(err));
        QCOMPARE(folderDigest(node.home() + "/data"), before);
    }
};

QTEST_GUILESS_MAIN(TestNodeProcess)
#include "test_node_process.moc"
