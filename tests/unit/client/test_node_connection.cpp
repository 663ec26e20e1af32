// Unit tests of NodeConnection without a real node: failures come back as
// signals (never exceptions or blocking), the genesis is checked on load,
// and destruction stops every thread promptly, even with the feed running
// against an address where nothing listens. Against an in-process fake node
// (fake_node.h) the status check follows the validator-set changes since
// the genesis, and refuses the tip when the node hides one.
#include "client-common/node_connection.h"
#include "fake_node.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using fides::qtclient::BlockInfo;
using fides::qtclient::NodeConnection;
using fides::qtclient::NodeStatus;
using fides::qtclient::NotarizeResult;
using fides::qtclient::ProofResult;

namespace {
const QString kNowhere = QStringLiteral("127.0.0.1:1");  // nothing listens on port 1
}  // namespace

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

    void statusFollowsValidatorSetChanges() {
        fides::testing::FakeNode node;
        NodeConnection c;
        QVERIFY(c.setGenesisPath(writeGenesis(node)));
        QCOMPARE(c.validatorSetChanges(), 0u);
        c.setAddress(QString::fromStdString(node.address()));
        QSignalSpy status(&c, &NodeConnection::statusReceived);
        c.refreshStatus();
        QTRY_COMPARE_WITH_TIMEOUT(status.count(), 1, 20000);
        const auto s = status.first().first().value<NodeStatus>();
        QVERIFY2(s.commitVerified, qPrintable(s.verifyMessage));
        QCOMPARE(s.height, fides::testing::FakeNode::kHeight);
        QCOMPARE(s.validatorSetChanges, 2u);
        QCOMPARE(s.signatures, 4u);
        QCOMPARE(s.signedPower, 40u);
        QCOMPARE(s.totalPower, 40u);
        QCOMPARE(c.validatorSetChanges(), 2u);
    }

    void statusRefusesTheTipAfterAHiddenChange() {
        fides::testing::FakeNode node;
        node.hideChange(9);
        NodeConnection c;
        QVERIFY(c.setGenesisPath(writeGenesis(node)));
        c.setAddress(QString::fromStdString(node.address()));
        QSignalSpy status(&c, &NodeConnection::statusReceived);
        c.refreshStatus();
        QTRY_COMPARE_WITH_TIMEOUT(status.count(), 1, 20000);
        const auto s = status.first().first().value<NodeStatus>();
        QVERIFY(s.connected);
        QVERIFY(!s.commitVerified);
        QVERIFY2(s.verifyMessage.contains(QStringLiteral("has not verified")), qPrintable(s.verifyMessage));
        QCOMPARE(c.validatorSetChanges(), 1u);  // the change it did show was learned
    }

    void feedFollowsValidatorSetChanges() {
        fides::testing::FakeNode node;
        NodeConnection c;
        QVERIFY(c.setGenesisPath(writeGenesis(node)));
        c.setAddress(QString::fromStdString(node.address()));
        QSignalSpy blocks(&c, &NodeConnection::blockReceived);
        c.startBlockSubscription();
        QTRY_COMPARE_WITH_TIMEOUT(blocks.count(), int(fides::testing::FakeNode::kHeight), 20000);
        for (const auto& args : blocks) {
            const auto b = args.first().value<BlockInfo>();
            QVERIFY2(b.verified, qPrintable(QStringLiteral("%1: %2").arg(b.height).arg(b.verifyMessage)));
        }
        QCOMPARE(c.validatorSetChanges(), 2u);
    }

    void feedRefusesBlocksAfterAHiddenChange() {
        fides::testing::FakeNode node;
        node.hideChange(9);
        NodeConnection c;
        QVERIFY(c.setGenesisPath(writeGenesis(node)));
        c.setAddress(QString::fromStdString(node.address()));
        QSignalSpy blocks(&c, &NodeConnection::blockReceived);
        c.startBlockSubscription();
        QTRY_COMPARE_WITH_TIMEOUT(blocks.count(), int(fides::testing::FakeNode::kHeight), 20000);
        for (const auto& args : blocks) {
            const auto b = args.first().value<BlockInfo>();
            QCOMPARE(b.verified, b.height < 9);
        }
    }

private:
    QString writeGenesis(const fides::testing::FakeNode& node) {
        QFile f(m_dir.filePath(QStringLiteral("fake-genesis.json")));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
        f.write(QByteArray::fromStdString(node.genesis().toJson()));
        return f.fileName();
    }

    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestNodeConnection)
#include "test_node_connection.moc"
