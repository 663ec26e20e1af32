// Functional tests of the application modules in a real fides-node: the
// notary's own gRPC service (fides.notary.v1) next to NodeService, its
// node.conf section, and the checks on module sections.
#include "client/node_client.h"
#include "crypto/random.h"
#include "fides/notary/v1/notary.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "node_process.h"
#include "notary/notary_proof.h"

#include <grpcpp/grpcpp.h>

#include <QFile>
#include <QtTest>

using namespace fides;
using fides::test::NodeProcess;
namespace nv1 = fides::notary::v1;

namespace {

grpc::Status getEvidence(const std::string& address, const std::string& documentHash,
                         nv1::GetEvidenceResponse* out) {
    auto stub = nv1::NotaryService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    nv1::GetEvidenceRequest req;
    req.set_document_hash(documentHash);
    return stub->GetEvidence(&ctx, req, out);
}

notary::NotarizationEvidence toEvidence(const nv1::GetEvidenceResponse& r) {
    const auto bytes = [](const std::string& s) { return Bytes(s.begin(), s.end()); };
    notary::NotarizationEvidence ev;
    ev.stateHeader = bytes(r.state_header());
    ev.stateCommit = bytes(r.state_commit());
    ev.stateProof = bytes(r.state_proof());
    if (!r.registered()) return ev;
    ev.value = bytes(r.registration());
    ev.transaction = bytes(r.transaction());
    ev.txHeight = r.tx_height();
    ev.txIndex = r.tx_index();
    for (const auto& p : r.inclusion_proof())
        ev.inclusionProof.push_back(*crypto::Hash256::fromBytes(bytes(p)));
    ev.txHeader = bytes(r.tx_header());
    ev.txCommit = bytes(r.tx_commit());
    return ev;
}

// Rewrites node.conf with `from` replaced by `to` (or `to` appended when
// `from` is empty).
bool editConf(const NodeProcess& node, const QByteArray& from, const QByteArray& to) {
    QFile f(node.home() + "/config/node.conf");
    if (!f.open(QIODevice::ReadOnly)) return false;
    QByteArray conf = f.readAll();
    f.close();
    if (from.isEmpty()) {
        conf += to;
    } else {
        if (!conf.contains(from)) return false;
        conf.replace(from, to);
    }
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    return f.write(conf) == conf.size();
}

}  // namespace

class TestAppModules : public QObject {
    Q_OBJECT

private slots:
    // GetEvidence answers in one call what the CLI gathers with two, and the
    // client's own check accepts it: registered, and provably not.
    void notaryServiceGivesEvidenceInOneCall() {
        NodeProcess node;
        QVERIFY(node.init());
        QFile conf(node.home() + "/config/node.conf");
        QVERIFY(conf.open(QIODevice::ReadOnly));
        QVERIFY(conf.readAll().contains("[notary]\n"));  // init writes the module's section
        conf.close();
        QVERIFY(node.start());
        client::NodeClient c(node.address());
        auto genesis = Genesis::load(node.genesisPath().toStdString());
        QVERIFY(genesis);
        const auto doc = crypto::sha256(asBytes("the contract"));
        QVERIFY(c.notarize(crypto::SecretKey::generate(), doc, "contract"));

        nv1::GetEvidenceResponse resp;
        grpc::Status st = getEvidence(node.address(), toStdString(doc.bytes()), &resp);
        QVERIFY2(st.ok(), st.error_message().c_str());
        QVERIFY(resp.registered());
        auto verdict = notary::verifyNotarization(*genesis, doc, toEvidence(resp));
        QVERIFY2(verdict, verdict.status().toString().c_str());
        QVERIFY(verdict->registered);
        QCOMPARE(verdict->registration->label, std::string("contract"));

        const auto other = crypto::sha256(asBytes("never registered"));
        nv1::GetEvidenceResponse absent;
        QVERIFY(getEvidence(node.address(), toStdString(other.bytes()), &absent).ok());
        QVERIFY(!absent.registered());
        verdict = notary::verifyNotarization(*genesis, other, toEvidence(absent));
        QVERIFY2(verdict, verdict.status().toString().c_str());
        QVERIFY(!verdict->registered);

        st = getEvidence(node.address(), "short", &resp);
        QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        QVERIFY2(st.error_message().find("document_hash must be 32 bytes") != std::string::npos,
                 st.error_message().c_str());

        auto health = grpc::health::v1::Health::NewStub(
            grpc::CreateChannel(node.address(), grpc::InsecureChannelCredentials()));
        grpc::ClientContext ctx;
        grpc::health::v1::HealthCheckRequest req;
        req.set_service("fides.notary.v1.NotaryService");
        grpc::health::v1::HealthCheckResponse hr;
        QVERIFY(health->Check(&ctx, req, &hr).ok());
        QCOMPARE(hr.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    }

    // serve_rpc = false keeps the module's service off the port; the
    // application still runs (notarisations commit).
    void serveRpcFalseKeepsTheServiceOff() {
        NodeProcess node;
        QVERIFY(node.init());
        QVERIFY(editConf(node, "serve_rpc = true", "serve_rpc = false"));
        QVERIFY(node.start());
        client::NodeClient c(node.address());
        QVERIFY(c.notarize(crypto::SecretKey::generate(), crypto::sha256(asBytes("x")), ""));
        nv1::GetEvidenceResponse resp;
        QCOMPARE(getEvidence(node.address(), std::string(32, 'a'), &resp).error_code(),
                 grpc::StatusCode::UNIMPLEMENTED);
    }

    // Sections no module claims, unknown settings and bad values are
    // configuration errors (exit 2) that name the file, line and choices.
    void moduleSectionsAreChecked() {
        struct Case {
            QByteArray from, to;
            const char* words;
        };
        const Case cases[] = {
            {"", "\n[voting]\nx = 1\n", "unknown section [voting] (application modules: notary)"},
            {"serve_rpc = true", "serve_rpc = true\ncolour = blue",
             "unknown setting 'colour' in [notary] (settings: serve_rpc)"},
            {"serve_rpc = true", "serve_rpc = maybe",
             "serve_rpc in [notary] must be true or false, got 'maybe'"},
            {"", "\n[notary]\n", "section [notary] appears twice"},
            {"", "\n[Bad Name]\n", "expected a section '[name]'"},
        };
        for (const Case& c : cases) {
            NodeProcess node;
            QVERIFY(node.init());
            QVERIFY(editConf(node, c.from, c.to));
            QString err;
            QCOMPARE(node.runExpectingExit(&err), 2);
            QVERIFY2(err.contains(c.words), qPrintable(err));
            QVERIFY2(err.contains("node.conf:"), qPrintable(err));
        }
    }
};

QTEST_GUILESS_MAIN(TestAppModules)
#include "test_app_modules.moc"
