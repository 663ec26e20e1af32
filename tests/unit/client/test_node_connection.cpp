// Unit tests of NodeConnection without a node: failures come back as
// signals (never exceptions or blocking), the genesis is checked on load,
// and destruction stops every thread promptly, even with the feed running
// against an address where nothing listens.
#include "client-common/node_connection.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using fides::qtclient::NodeConnection;
using fides::qtclient::NodeStatus;
using fides::qtclient::NotarizeResult;
using fides::qtclient::ProofResult;

namespace {
const QString kNowhere = QStringLiteral("127.0.0.1:1");  // nothing listens on port 1
}

class TestNodeConnection : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("FIDES_CLIENT_KEY", m_dir.filePath(QStringLiteral("client.key")).toLocal8Bit());
    }

    void defaultsFollowTheCli() {
        QCOMPARE(NodeConnection::defaultKeyPath(), m_dir.filePath(QStringLiteral("client.key")));
        NodeConnection c;
        QCOMPARE(c.keyPath(), NodeConnection::defaultKeyPath());
        QVERIFY(!c.address().isEmpty());
        QVERIFY(!c.isConnected());
        QVERIFY(!c.hasGenesis());
    }

    void unreachableNodeReportsNotConnected() {
        NodeConnection c;
        c.setAddress(kNowhere);
        QSignalSpy status(&c, &NodeConnection::statusReceived);
        c.refreshStatus();
        c.refreshStatus();  // folded into one more request
        QTRY_COMPARE_WITH_TIMEOUT(status.count(), 2, 20000);
        const auto s = status.first().first().value<NodeStatus>();
        QVERIFY(!s.connected);
        QVERIFY(!s.error.isEmpty());
        QCOMPARE(s.address, kNowhere);
        QVERIFY(!c.isConnected());
    }

    void badGenesisIsRefused() {
        NodeConnection c;
        QSignalSpy error(&c, &NodeConnection::genesisError);
        QVERIFY(!c.setGenesisPath(m_dir.filePath(QStringLiteral("missing.json"))));
        QCOMPARE(error.count(), 1);
        QFile f(m_dir.filePath(QStringLiteral("bad.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{ not json");
        f.close();
        QVERIFY(!c.setGenesisPath(f.fileName()));
        QCOMPARE(error.count(), 2);
        QVERIFY(!c.hasGenesis());
    }

    void proveWithoutGenesisFails() {
        NodeConnection c;
        c.setAddress(kNowhere);
        QSignalSpy proof(&c, &NodeConnection::proofFinished);
        c.proveFile(m_dir.filePath(QStringLiteral("whatever")));
        QTRY_COMPARE_WITH_TIMEOUT(proof.count(), 1, 20000);
        const auto r = proof.first().first().value<ProofResult>();
        QCOMPARE(r.verdict, ProofResult::Verdict::Failed);
        QVERIFY(r.message.contains(QStringLiteral("genesis")));
    }

    void notarizeMissingFileFails() {
        NodeConnection c;
        c.setAddress(kNowhere);
        QSignalSpy done(&c, &NodeConnection::notarizeFinished);
        c.notarizeFile(m_dir.filePath(QStringLiteral("does-not-exist")), QStringLiteral("x"));
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 20000);
        const auto r = done.first().first().value<NotarizeResult>();
        QVERIFY(!r.ok);
        QVERIFY(r.message.contains(QStringLiteral("cannot read")));

        c.notarizeFile(m_dir.filePath(QStringLiteral("does-not-exist")), QString(300, QLatin1Char('a')));
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 20000);
        QVERIFY(done.last().first().value<NotarizeResult>().message.contains(QStringLiteral("label")));
    }

    void feedErrorsAreReportedAndDestructionIsPrompt() {
        QElapsedTimer timer;
        {
            NodeConnection c;
            c.setAddress(kNowhere);
            QSignalSpy errors(&c, &NodeConnection::subscriptionError);
            c.startBlockSubscription();
            QVERIFY(c.isSubscribed());
            QTRY_VERIFY_WITH_TIMEOUT(errors.count() >= 1, 20000);
            c.refreshStatus();  // in flight or queued at destruction
            timer.start();
        }
        QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
    }

    void stopAndRestartTheFeed() {
        NodeConnection c;
        c.setAddress(kNowhere);
        c.startBlockSubscription();
        c.stopBlockSubscription();
        QVERIFY(!c.isSubscribed());
        c.startBlockSubscription();
        c.setAddress(QStringLiteral("127.0.0.1:2"));  // restarts it
        QVERIFY(c.isSubscribed());
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestNodeConnection)
#include "test_node_connection.moc"
