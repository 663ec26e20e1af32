// Functional tests of the `fides` CLI against a real fides-node: every
// command, its output and its exit code (0 success, 1 provably not
// registered, 2 usage, 3 verification failed, 4 node refused/unreachable).
#include "node_process.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using fides::test::NodeProcess;

namespace {

struct Run {
    int code = -1;
    QString out;
    QString err;
};

}  // namespace

class TestCli : public QObject {
    Q_OBJECT

private:
    NodeProcess m_node;
    QTemporaryDir m_work;

    Run fides(const QStringList& args, const QString& genesis = QString()) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("FIDES_NODE", QString::fromStdString(m_node.address()));
        env.insert("FIDES_CLIENT_KEY", m_work.filePath("client.key"));
        if (genesis.isEmpty()) env.remove("FIDES_GENESIS");
        else env.insert("FIDES_GENESIS", genesis);
        p.setProcessEnvironment(env);
        p.start(NodeProcess::binary("fides"), args);
        if (!p.waitForFinished(30000)) p.kill();
        return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    }

    QString writeFile(const QString& name, const QByteArray& content) {
        QFile f(m_work.filePath(name));
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write(content);
        return f.fileName();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_node.init("cli-chain"));
        QVERIFY(m_node.start());
    }

    void status() {
        const Run r = fides({"status"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("chain:      cli-chain"), qPrintable(r.out));
    }

    void notarizeThenProve() {
        const QString doc = writeFile("decision.txt", "Decision 2026/41 of the district council\n");
        Run r = fides({"notarize", doc, "--label", "decision 2026/41"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("registered"), qPrintable(r.out + r.err));
        QVERIFY(QFile::exists(m_work.filePath("client.key")));
        QCOMPARE(QFile::permissions(m_work.filePath("client.key")) & 0x0077, QFileDevice::Permissions());

        r = fides({"prove", doc}, m_node.genesisPath());
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.startsWith("VERIFIED"), qPrintable(r.out));
        QVERIFY(r.out.contains("decision 2026/41"));
        QVERIFY(r.out.contains("inclusion proof checked"));

        // Registering the same document again is refused.
        r = fides({"notarize", doc});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("ALREADY_EXISTS"), qPrintable(r.err));
    }

    void proveAbsence() {
        const QString doc = writeFile("never.txt", "never registered\n");
        const Run r = fides({"prove", doc}, m_node.genesisPath());
        QCOMPARE(r.code, 1);
        QVERIFY2(r.out.startsWith("NOT REGISTERED"), qPrintable(r.out));
    }

    void proveAgainstAnotherChainsGenesisFails() {
        // A genesis naming other validators: the node's signatures must not be accepted.
        NodeProcess other;
        QVERIFY(other.init("cli-chain"));
        const QString doc = writeFile("decision2.txt", "another decision\n");
        QCOMPARE(fides({"notarize", doc}).code, 0);
        const Run r = fides({"prove", doc}, other.genesisPath());
        QCOMPARE(r.code, 3);
        QVERIFY2(r.out.startsWith("NOT VERIFIED"), qPrintable(r.out));
    }

    void blockCommand() {
        Run r = fides({"block", "1"}, m_node.genesisPath());
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("commit:        verified"), qPrintable(r.out));
        r = fides({"block", "100000"});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("NOT_FOUND"), qPrintable(r.err));
    }

    void usageErrors() {
        QCOMPARE(fides({}).code, 2);
        QCOMPARE(fides({"prove", writeFile("x.txt", "x")}).code, 2);  // no genesis
        QCOMPARE(fides({"notarize", m_work.filePath("missing.txt")}).code, 2);
        QCOMPARE(fides({"block", "not-a-number"}).code, 2);
    }

    void unreachableNode() {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("FIDES_NODE", "127.0.0.1:1");
        p.setProcessEnvironment(env);
        p.start(NodeProcess::binary("fides"), {"status"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 4);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
