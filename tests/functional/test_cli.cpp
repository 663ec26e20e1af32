// Functional tests of the `fides` CLI against a real fides-node: every
// command, its output and its exit code (0 success, 1 provably not
// registered, 2 usage, 3 verification failed, 4 node refused/unreachable).
// The governance tests run last: they add a second validator (power 1 next
// to the node's 10, so the node alone keeps more than 2/3 and the chain goes on).
#include "node_process.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <signal.h>

#include <vector>

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
        if (genesis.isEmpty())
            env.remove("FIDES_GENESIS");
        else
            env.insert("FIDES_GENESIS", genesis);
        p.setProcessEnvironment(env);
        p.start(NodeProcess::binary("fides"), args);
        if (!p.waitForFinished(30000)) p.kill();
        return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }

    QString writeFile(const QString& name, const QByteArray& content) {
        QFile f(m_work.filePath(name));
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write(content);
        return f.fileName();
    }

    // The first validator key of a genesis file (hex).
    static QString genesisKey(const QString& genesisPath) {
        QFile f(genesisPath);
        if (!f.open(QIODevice::ReadOnly)) return {};
        const QJsonObject g = QJsonDocument::fromJson(f.readAll()).object();
        return g["validators"].toArray().at(0).toObject()["public_key"].toString();
    }

    QString validatorKeyFile() const { return m_node.home() + "/config/validator.key"; }

    // A public key no validator of the node uses: another home's validator key.
    QString freshKey() {
        NodeProcess other;
        if (!other.init("cli-chain")) return {};
        return genesisKey(other.genesisPath());
    }

    static std::uint64_t number(const QString& text, const QString& pattern) {
        const auto m = QRegularExpression(pattern).match(text);
        return m.hasMatch() ? m.captured(1).toULongLong() : 0;
    }

    QString m_approvedProposal;  // governanceAddsValidator -> governanceResubmitRefused

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

    void validatorsListsGenesisSet() {
        const QString key = genesisKey(m_node.genesisPath());
        QVERIFY(!key.isEmpty());
        Run r = fides({"validators"}, m_node.genesisPath());
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("* from height 1 (in force), verified against"), qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains(key), qPrintable(r.out));
        QVERIFY2(r.out.contains("total power: 10 (1 validator; more than 2/3 is 7)"), qPrintable(r.out));
        QCOMPARE(r.out.count("from height "), 1);
        // Without a genesis file the sets are listed unchecked; --node after the command works too.
        r = fides({"validators", "--node", QString::fromStdString(m_node.address())});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("* from height 1 (in force)\n"), qPrintable(r.out));
    }

    void governanceApproveRefusesBadFiles() {
        const QString key = validatorKeyFile();
        Run r = fides({"governance", "approve", writeFile("notjson.json", "not json"), "--key", key});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is not a governance proposal file"), qPrintable(r.err));
        r = fides({"governance", "approve",
                   writeFile("bad-proposal.json",
                             R"({"chain_id": "cli-chain", "proposal": "01ff", "approvals": []})"),
                   "--key", key});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("the proposal does not decode"), qPrintable(r.err));
        r = fides(
            {"governance", "approve", writeFile("no-chain.json", R"({"proposal": "01"})"), "--key", key});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("no \"chain_id\""), qPrintable(r.err));
        QCOMPARE(fides({"governance", "approve", m_work.filePath("missing.json"), "--key", key}).code, 2);
        QCOMPARE(fides({"governance"}).code, 2);
        QCOMPARE(fides({"governance", "propose", "--out", m_work.filePath("x.json")}).code, 2);  // no change
    }

    void governanceProposeRefusesChangesThatDoNotApply() {
        const QString out = m_work.filePath("bad-change.json");
        Run r = fides({"governance", "propose", "--remove", freshKey(), "--out", out});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is not in the set"), qPrintable(r.err));
        QVERIFY(!QFile::exists(out));
        // Removing the only validator leaves no set.
        r = fides({"governance", "propose", "--remove", genesisKey(m_node.genesisPath()), "--out", out});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("no validator"), qPrintable(r.err));
        r = fides({"governance", "propose", "--add", "abcd:1:x", "--out", out});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is not a validator public key"), qPrintable(r.err));
        r = fides(
            {"governance", "propose", "--set-power", genesisKey(m_node.genesisPath()) + ":0", "--out", out});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is not a positive voting power"), qPrintable(r.err));
    }

    void governanceSubmitWithoutApprovalsFails() {
        const QString file = m_work.filePath("unapproved.json");
        Run r = fides({"governance", "propose", "--add", freshKey() + ":1:unapproved", "--out", file});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("digest:"), qPrintable(r.out + r.err));
        // A proposal file is never overwritten.
        QCOMPARE(fides({"governance", "propose", "--add", freshKey() + ":1:again", "--out", file}).code, 2);
        r = fides({"governance", "submit", file});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("approvals hold 0 of 10 voting power; more than 2/3 is required"),
                 qPrintable(r.err));
    }

    void governanceAddsValidator() {
        const QString nodeKey = genesisKey(m_node.genesisPath());
        const QString newKey = freshKey();
        QVERIFY(!newKey.isEmpty());
        const QString file = m_work.filePath("add-validator.json");
        Run r = fides({"governance", "propose", "--add", newKey + ":1:District IT syndicate", "--description",
                       "second validator", "--out", file});
        QCOMPARE(r.code, 0);
        const auto digest = QRegularExpression("digest:\\s+([0-9a-f]{64})").match(r.out).captured(1);
        QVERIFY2(!digest.isEmpty(), qPrintable(r.out));
        QVERIFY2(r.out.contains("resulting set: 2 validators, total power 11"), qPrintable(r.out));

        // A digest other than the announced one is refused; the right one is signed.
        r = fides({"governance", "approve", file, "--key", validatorKeyFile(), "--expect-digest",
                   QString(64, '0')});
        QCOMPARE(r.code, 3);
        r = fides({"governance", "approve", file, "--key", validatorKeyFile(), "--expect-digest", digest});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("approved by " + nodeKey), qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("add " + newKey + " \"District IT syndicate\" with power 1"),
                 qPrintable(r.out));
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(j["chain_id"].toString(), QString("cli-chain"));
        QCOMPARE(j["approvals"].toArray().size(), 1);
        QCOMPARE(j["approvals"].toArray().at(0).toObject()["validator"].toString(), nodeKey);

        r = fides({"governance", "submit", file});
        QCOMPARE(r.code, 0);
        const std::uint64_t committed = number(r.out, "committed in block (\\d+)");
        QVERIFY2(committed > 0, qPrintable(r.out + r.err));
        QCOMPARE(number(r.out, "signs from height (\\d+)"), committed + 2);
        m_approvedProposal = file;

        r = fides({"validators"}, m_node.genesisPath());
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.count("from height "), 2);
        QVERIFY2(r.out.contains(QString("from height %1 (").arg(committed + 2)), qPrintable(r.out));
        QVERIFY2(r.out.contains("District IT syndicate"), qPrintable(r.out));
        QVERIFY2(r.out.contains(newKey), qPrintable(r.out));
        QVERIFY2(r.out.contains("total power: 11 (2 validators; more than 2/3 is 8)"), qPrintable(r.out));

        // The node alone (10 of 11) keeps the chain going under the new set
        // (each notarisation commits a block), and a client following the
        // change verifies the new set and the blocks it signs.
        std::uint64_t height = 0;
        for (int i = 0; i < 10 && height < committed + 3; ++i) {
            r = fides({"notarize",
                       writeFile(QString("after-change-%1.txt").arg(i), QByteArray::number(i) + " after\n")});
            QCOMPARE(r.code, 0);
            height = number(r.out, "block:\\s+(\\d+)");
        }
        QVERIFY2(height >= committed + 3, qPrintable(QString::number(height)));
        r = fides({"validators"}, m_node.genesisPath());
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains(QString("* from height %1 (in force), verified against").arg(committed + 2)),
                 qPrintable(r.out + r.err));
        r = fides({"block", QString::number(height)}, m_node.genesisPath());
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("commit:        verified"), qPrintable(r.out + r.err));
    }

    void governanceResubmitRefused() {
        QVERIFY(!m_approvedProposal.isEmpty());
        const Run r = fides({"governance", "submit", m_approvedProposal});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("ALREADY_EXISTS: this proposal was already applied"), qPrintable(r.err));
    }

    // `fides devnet`: start 4 validators, status, stop, reset. A pid file
    // naming a process that only mentions the home on its command line (an
    // editor on its config, a shell) is never signalled.
    void devnetStartStatusStopReset() {
        QTemporaryDir dir;
        const QString net = dir.filePath("devnet");
        const int base = fides::test::freePortBlock(8);
        QVERIFY(base != 0);
        const QStringList where{"--dir", net};
        Run r =
            fides(QStringList{"devnet", "start", "--validators", "4", "--base-port", QString::number(base)} +
                  where);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        r = fides(QStringList{"devnet", "status"} + where);
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("4 of 4 validators answering"), qPrintable(r.out));
        std::vector<qint64> pids;
        for (int i = 0; i < 4; ++i) {
            QFile f(net + QString("/validator-%1.pid").arg(i));
            QVERIFY(f.open(QIODevice::ReadOnly));
            pids.push_back(f.readAll().trimmed().toLongLong());
            QVERIFY(pids.back() > 0 && ::kill(static_cast<pid_t>(pids.back()), 0) == 0);
        }
        // Starting again leaves the running validators alone.
        r = fides(QStringList{"devnet", "start", "--validators", "4", "--base-port", QString::number(base)} +
                  where);
        QCOMPARE(r.code, 0);
        QFile pid0(net + "/validator-0.pid");
        QVERIFY(pid0.open(QIODevice::ReadOnly));
        QCOMPARE(pid0.readAll().trimmed().toLongLong(), pids[0]);
        pid0.close();

        r = fides(QStringList{"devnet", "stop"} + where);
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("stopped 4 validator(s)"), qPrintable(r.out));
        for (qint64 pid : pids) QTRY_VERIFY(::kill(static_cast<pid_t>(pid), 0) != 0);
        r = fides(QStringList{"devnet", "status"} + where);
        QCOMPARE(r.code, 4);
        QVERIFY2(r.out.contains("0 of 4 validators answering"), qPrintable(r.out));

        // A stale pid file naming an unrelated process whose command line
        // contains "fides-node" and the home of validator 0.
        QProcess bystander;
        bystander.start("sh", {"-c", "sleep 60; : fides-node start --home " + net + "/validator-0"});
        QVERIFY(bystander.waitForStarted());
        QVERIFY(pid0.open(QIODevice::WriteOnly | QIODevice::Truncate));
        pid0.write(QByteArray::number(bystander.processId()) + "\n");
        pid0.close();
        r = fides(QStringList{"devnet", "stop"} + where);
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("stopped 0 validator(s)"), qPrintable(r.out));
        QVERIFY2(!bystander.waitForFinished(500),
                 "devnet stop signalled a process that is not its validator");
        bystander.kill();
        bystander.waitForFinished();

        r = fides(QStringList{"devnet", "reset"} + where);
        QCOMPARE(r.code, 0);
        QVERIFY(!QDir(net).exists());
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
