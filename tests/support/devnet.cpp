#include "devnet.h"

#include "client/node_client.h"
#include "crypto/key_file.h"
#include "node_process.h"
#include "primitives/light_client.h"

#include <QFile>
#include <QtTest>

#include <signal.h>

#include <map>

using namespace std::chrono_literals;

namespace fides::test {

namespace {
QString binary(const char* name) { return NodeProcess::binary(name); }
}  // namespace

Devnet::Devnet(int n, int standby)
    : m_n(n + standby), m_standby(standby), m_procs(static_cast<std::size_t>(n + standby)) {
    // FIDES_E2E_KEEP=1 keeps every network's folder (logs, stores) for a
    // post-mortem of a failed run.
    if (qEnvironmentVariableIntValue("FIDES_E2E_KEEP") != 0) {
        m_dir.setAutoRemove(false);
        qInfo("keeping %s", qPrintable(m_dir.path()));
    }
}

Devnet::~Devnet() {
    for (int i = 0; i < m_n; ++i) kill(i);
    for (auto& p : m_extra) {
        p->kill();
        p->waitForFinished(10000);
    }
}

bool Devnet::create() {
    m_base = fides::test::freePortBlock(2 * m_n);
    if (m_base == 0) return false;
    QProcess p;
    p.start(binary("fides-node"),
            {"testnet", "--out", m_dir.path(), "--validators", QString::number(m_n - m_standby), "--standby",
             QString::number(m_standby), "--chain-id", "e2e-chain", "--base-port", QString::number(m_base)});
    if (!p.waitForFinished(60000) || p.exitCode() != 0) {
        qWarning() << p.readAllStandardError();
        return false;
    }
    // Quick rounds for tests.
    for (int i = 0; i < m_n; ++i) {
        QFile conf(home(i) + "/config/node.conf");
        if (!conf.open(QIODevice::ReadWrite)) return false;
        QByteArray text = conf.readAll();
        text.replace("timeout_propose_ms = 1000", "timeout_propose_ms = 600");
        text.replace("timeout_vote_ms = 500", "timeout_vote_ms = 300");
        text.replace("empty_block_pause_ms = 120000", "empty_block_pause_ms = 100");
        conf.resize(0);
        conf.write(text);
    }
    auto g = Genesis::load((m_dir.path() + "/genesis.json").toStdString());
    if (!g) return false;
    m_genesis = *g;
    return true;
}

int Devnet::proposerOf(std::uint64_t height) const {
    const auto& vs = m_genesis.validators.validators();
    const auto& k = vs[static_cast<std::size_t>((height - 1) % vs.size())].publicKey;
    for (int i = 0; i < m_n; ++i) {
        if (key(i) == k) return i;
    }
    return 0;
}

crypto::SecretKey Devnet::secretKey(int i) const {
    return crypto::loadSecretKeyFile((home(i) + "/config/validator.key").toStdString()).value();
}

void Devnet::partition(const std::vector<std::set<int>>& groups) {
    for (int i = 0; i < m_n; ++i) {
        QFile f(faultsPath(i));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) continue;
        for (const auto& g : groups) {
            if (g.count(i) != 0) continue;
            bool inSome = false;
            for (const auto& h : groups) inSome |= h.count(i) != 0;
            if (!inSome) continue;
            for (int j : g) f.write(QByteArray::fromStdString(key(j).hex() + "\n"));
        }
    }
}

void Devnet::heal() {
    for (int i = 0; i < m_n; ++i) QFile(faultsPath(i)).resize(0);
}

bool Devnet::startExtra(const QString& homePath, const QString& log) {
    auto proc = std::make_unique<QProcess>();
    proc->setStandardErrorFile(log, QIODevice::Append);
    proc->start(binary("fides-node"), {"start", "--home", homePath});
    if (!proc->waitForStarted(10000)) return false;
    QByteArray out;
    for (int t = 0; t < 100; ++t) {
        proc->waitForReadyRead(200);
        out += proc->readAllStandardOutput();
        if (out.contains("listening on")) {
            m_extra.push_back(std::move(proc));
            return true;
        }
        if (proc->state() != QProcess::Running) break;
    }
    qWarning() << "extra node did not start:" << out;
    return false;
}

bool Devnet::start(int i) {
    auto& proc = m_procs[static_cast<std::size_t>(i)];
    proc = std::make_unique<QProcess>();
    proc->setStandardErrorFile(m_dir.path() + "/validator-" + QString::number(i) + ".log", QIODevice::Append);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("FIDES_P2P_FAULTS", faultsPath(i));
    proc->setProcessEnvironment(env);
    proc->start(binary("fides-node"), {"start", "--home", home(i)});
    if (!proc->waitForStarted(10000)) return false;
    QByteArray out;
    for (int t = 0; t < 100; ++t) {
        proc->waitForReadyRead(200);
        out += proc->readAllStandardOutput();
        if (out.contains("listening on")) return true;
        if (proc->state() != QProcess::Running) break;
    }
    qWarning() << "validator" << i << "did not start:" << out;
    return false;
}

void Devnet::kill(int i) {
    auto& proc = m_procs[static_cast<std::size_t>(i)];
    if (!proc) return;
    if (proc->state() != QProcess::NotRunning) {
        ::kill(static_cast<pid_t>(proc->processId()), SIGCONT);
        ::kill(static_cast<pid_t>(proc->processId()), SIGKILL);
        proc->waitForFinished(10000);
    }
    proc.reset();
}

void Devnet::signal(int i, int sig) {
    ::kill(static_cast<pid_t>(m_procs[static_cast<std::size_t>(i)]->processId()), sig);
}

bool Devnet::running(int i) const {
    const auto& p = m_procs[static_cast<std::size_t>(i)];
    return p && p->state() == QProcess::Running;
}

std::uint64_t Devnet::height(int i) const {
    client::NodeClient c(rpc(i), 2s);
    auto s = c.status();
    return s ? s->height() : 0;
}

std::uint64_t Devnet::minHeight(const std::set<int>& skip) const {
    std::uint64_t m = ~0ull;
    for (int i = 0; i < m_n; ++i) {
        if (skip.count(i) == 0) m = std::min(m, height(i));
    }
    return m;
}

void Devnet::checkInvariants(const std::vector<std::pair<crypto::Hash256, std::uint64_t>>& acknowledged,
                             std::set<std::string>* proposers) const {
    const std::uint64_t top = minHeight();
    QVERIFY(top >= 1);
    // The validator sets by height, each learned from the header that
    // announces it (signed by the set before), as any client would.
    std::vector<std::unique_ptr<client::NodeClient>> clients;
    for (int i = 0; i < m_n; ++i) clients.push_back(std::make_unique<client::NodeClient>(rpc(i), 5s));
    LightClient light(m_genesis);
    const Status synced = client::syncLightClient(*clients[0], light);
    QVERIFY2(synced.isOk(), synced.toString().c_str());
    std::map<std::string, std::uint64_t> txHeights;
    for (std::uint64_t h = 1; h <= top; ++h) {
        std::optional<crypto::Hash256> ref;
        for (int i = 0; i < m_n; ++i) {
            auto b = clients[static_cast<std::size_t>(i)]->block(h);
            QVERIFY2(b, qPrintable(QString("validator %1 lacks block %2").arg(i).arg(h)));
            auto vh =
                light.verify(asBytes(b->signed_header().header()), asBytes(b->signed_header().commit()));
            QVERIFY2(vh, qPrintable(QString("block %1 on validator %2: %3")
                                        .arg(h)
                                        .arg(i)
                                        .arg(vh.status().toString().c_str())));
            const crypto::Hash256 hash = vh->header.hash();
            if (!ref) ref = hash;
            QVERIFY2(*ref == hash, qPrintable(QString("two different blocks at height %1").arg(h)));
            if (i == 0) {
                if (proposers != nullptr) proposers->insert(vh->header.proposer.hex());
                for (const auto& tx : b->transactions()) {
                    const std::string th = txHash(asBytes(tx)).hex();
                    QVERIFY2(txHeights.emplace(th, h).second, "a transaction is committed twice");
                }
            }
        }
    }
    for (const auto& [hash, height] : acknowledged) {
        if (height > top) continue;
        auto it = txHeights.find(hash.hex());
        QVERIFY2(it != txHeights.end(), "an acknowledged transaction is not in the chain");
        QCOMPARE(it->second, height);
    }
    // No validator held an unauthenticated message against another's
    // link (ADR 0021: honest links never deliver one, whatever the
    // faults, twins or set changes).
    for (int i = 0; i < m_n; ++i) {
        QFile log(logPath(i));
        if (!log.open(QIODevice::ReadOnly)) continue;
        QVERIFY2(!log.readAll().contains("delivered an unauthenticated message"),
                 qPrintable(QString("validator %1 refused an honest link").arg(i)));
    }
}

}  // namespace fides::test
