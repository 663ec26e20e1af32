// rpc::toGrpc: each fides::Status code becomes its gRPC code; what went
// wrong inside the validator (INTERNAL, DATA_LOSS: SQL text, file paths)
// never reaches the caller, only an incident number that its log carries.
#include "rpc/node_service.h"

#include <QtTest>

using namespace fides;

class TestStatusMapping : public QObject {
    Q_OBJECT

private slots:
    void codesAndMessages() {
        const grpc::Status bad = rpc::toGrpc(Status::invalidArgument("transaction has expired"));
        QCOMPARE(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        QCOMPARE(bad.error_message(), std::string("transaction has expired"));
        QCOMPARE(rpc::toGrpc(Status::resourceExhausted("full")).error_code(),
                 grpc::StatusCode::RESOURCE_EXHAUSTED);
        QCOMPARE(rpc::toGrpc(Status::notFound("no block")).error_code(), grpc::StatusCode::NOT_FOUND);
        QVERIFY(rpc::toGrpc(Status::ok()).ok());

        for (const Status& inside :
             {Status::internal("sqlite: UPDATE state SET value = ? WHERE khash = ?: disk I/O error"),
              Status::dataLoss("/var/lib/fides/data/chain.db: the recent_writes row is damaged")}) {
            const grpc::Status g = rpc::toGrpc(inside);
            QVERIFY(g.error_code() == grpc::StatusCode::INTERNAL ||
                    g.error_code() == grpc::StatusCode::DATA_LOSS);
            QVERIFY2(g.error_message().find("UPDATE") == std::string::npos, g.error_message().c_str());
            QVERIFY2(g.error_message().find("/var/lib") == std::string::npos, g.error_message().c_str());
            QVERIFY2(
                g.error_message().find("internal error on this validator (incident ") != std::string::npos,
                g.error_message().c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestStatusMapping)
#include "test_status_mapping.moc"
