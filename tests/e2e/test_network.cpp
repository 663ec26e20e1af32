// End-to-end: a network of real fides-node processes (separate encrypted
// stores, mutual TLS on loopback, generated keys and certificates), under
// load and perturbed (SIGKILL and restart, SIGSTOP/SIGCONT of f + 1), with
// the invariants checked afterwards:
//   - every node has the same block at every height it has (so no two
//     different blocks at one height, and the same state roots);
//   - every block carries a commit of > 2/3 of the genesis power;
//   - every transaction acknowledged as committed is in exactly one block,
//     at the acknowledged height, readable on every node.
#include "client/node_client.h"
#include "consensus/evidence_app.h"
#include "crypto/random.h"
#include "notary/notary_app.h"
#include "primitives/proof.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <random>
#include <set>

using namespace fides;
using namespace std::chrono_literals;

namespace {

QString binary(const char* name) { return QStringLiteral(FIDES_BINARY_DIR "/bin/") + name; }

bool portFree(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

class Devnet {
public:
    explicit Devnet(int n) : m_n(n), m_procs(static_cast<std::size_t>(n)) {}
    ~Devnet() {
        for (int i = 0; i < m_n; ++i) kill(i);
        for (auto& p : m_extra) {
            p->kill();
            p->waitForFinished(10000);
        }
    }

    bool create() {
        std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(std::time(nullptr)));
        for (int attempt = 0; attempt < 50; ++attempt) {
            m_base = 20000 + static_cast<int>(rng() % 20000) * 2;
            bool free = true;
            for (int p = m_base; p < m_base + 2 * m_n && free; ++p) free = portFree(p);
            if (free) break;
        }
        QProcess p;
        p.start(binary("fides-node"), {"testnet", "--out", m_dir.path(), "--validators", QString::number(m_n),
                                       "--chain-id", "e2e-chain", "--base-port", QString::number(m_base)});
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
            text.replace("empty_block_pause_ms = 1000", "empty_block_pause_ms = 100");
            conf.resize(0);
            conf.write(text);
        }
        auto g = Genesis::load((m_dir.path() + "/genesis.json").toStdString());
        if (!g) return false;
        m_genesis = *g;
        return true;
    }

    QString home(int i) const { return m_dir.path() + "/validator-" + QString::number(i); }
    QString faultsPath(int i) const { return m_dir.path() + "/faults-" + QString::number(i); }
    crypto::PublicKey key(int i) const {
        for (const auto& v : m_genesis.validators.validators()) {
            if (v.name == "validator-" + std::to_string(i)) return v.publicKey;
        }
        return {};
    }
    // Cuts every link between the groups (a validator in no group keeps its links).
    void partition(const std::vector<std::set<int>>& groups) {
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
    void heal() {
        for (int i = 0; i < m_n; ++i) QFile(faultsPath(i)).resize(0);
    }
    QString logPath(int i) const { return m_dir.path() + "/validator-" + QString::number(i) + ".log"; }
    QString dir() const { return m_dir.path(); }
    int basePort() const { return m_base; }

    // A further fides-node process on `homePath` (not one of the n).
    bool startExtra(const QString& homePath, const QString& log) {
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
    std::string rpc(int i) const { return "127.0.0.1:" + std::to_string(m_base + 2 * i); }
    const Genesis& genesis() const { return m_genesis; }

    bool start(int i) {
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
    void kill(int i) {
        auto& proc = m_procs[static_cast<std::size_t>(i)];
        if (!proc) return;
        if (proc->state() != QProcess::NotRunning) {
            ::kill(static_cast<pid_t>(proc->processId()), SIGCONT);
            ::kill(static_cast<pid_t>(proc->processId()), SIGKILL);
            proc->waitForFinished(10000);
        }
        proc.reset();
    }
    void signal(int i, int sig) { ::kill(static_cast<pid_t>(m_procs[static_cast<std::size_t>(i)]->processId()), sig); }
    bool running(int i) const {
        const auto& p = m_procs[static_cast<std::size_t>(i)];
        return p && p->state() == QProcess::Running;
    }

    std::uint64_t height(int i) const {
        client::NodeClient c(rpc(i), 2s);
        auto s = c.status();
        return s ? s->height() : 0;
    }
    std::uint64_t minHeight(const std::set<int>& skip = {}) const {
        std::uint64_t m = ~0ull;
        for (int i = 0; i < m_n; ++i) {
            if (skip.count(i) == 0) m = std::min(m, height(i));
        }
        return m;
    }

    // The invariants, over every height every node has.
    void checkInvariants(const std::vector<std::pair<crypto::Hash256, std::uint64_t>>& acknowledged,
                         std::set<std::string>* proposers = nullptr) const {
        const std::uint64_t top = minHeight();
        QVERIFY(top >= 1);
        std::map<std::string, std::uint64_t> txHeights;
        for (std::uint64_t h = 1; h <= top; ++h) {
            std::optional<crypto::Hash256> ref;
            for (int i = 0; i < m_n; ++i) {
                client::NodeClient c(rpc(i), 5s);
                auto b = c.block(h);
                QVERIFY2(b, qPrintable(QString("validator %1 lacks block %2").arg(i).arg(h)));
                auto vh = verifySignedHeader(m_genesis.validators, m_genesis.chainId, asBytes(b->signed_header().header()),
                                             asBytes(b->signed_header().commit()));
                QVERIFY2(vh, qPrintable(QString("block %1 on validator %2: %3").arg(h).arg(i).arg(vh.status().toString().c_str())));
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
    }

private:
    int m_n;
    QTemporaryDir m_dir;
    int m_base = 0;
    Genesis m_genesis;
    std::vector<std::unique_ptr<QProcess>> m_procs;
    std::vector<std::unique_ptr<QProcess>> m_extra;
};

// Evidence transactions on the chain (read from validator 0) naming `key`.
int evidenceOnChainAgainst(const Devnet& net, const crypto::PublicKey& key) {
    client::NodeClient c(net.rpc(0), 5s);
    const std::uint64_t top = net.height(0);
    int found = 0;
    for (std::uint64_t h = 1; h <= top; ++h) {
        auto b = c.block(h);
        if (!b) continue;
        for (const auto& raw : b->transactions()) {
            auto tx = Transaction::decode(asBytes(raw));
            if (!tx || tx->type != static_cast<std::uint16_t>(TxType::Evidence)) continue;
            auto p = consensus::EvidencePayload::decode(tx->payload);
            if (p && p->first.validator == key) ++found;
        }
    }
    return found;
}

int countInFile(const QString& path, const QByteArray& needle) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return 0;
    return static_cast<int>(f.readAll().count(needle));
}

std::vector<std::pair<crypto::Hash256, std::uint64_t>> load(const Devnet& net, int validators, std::chrono::milliseconds duration,
                                                           const std::set<int>& skip = {}) {
    std::vector<std::pair<crypto::Hash256, std::uint64_t>> acks;
    const auto key = crypto::SecretKey::generate();
    const auto end = std::chrono::steady_clock::now() + duration;
    int i = 0;
    while (std::chrono::steady_clock::now() < end) {
        const int target = i++ % validators;
        if (skip.count(target) != 0) continue;
        client::NodeClient c(net.rpc(target), 15s);
        const auto doc = crypto::sha256(asBytes("e2e document " + std::to_string(crypto::randomU64())));
        auto ack = c.notarize(key, doc, "e2e");
        if (ack) acks.emplace_back(ack->txHash, ack->height);
    }
    return acks;
}

}  // namespace

class TestNetwork : public QObject {
    Q_OBJECT

private slots:
    void steadyLoadEveryValidatorProposes() {
        Devnet net(4);
        QVERIFY(net.create());
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 30000);
        auto acks = load(net, 4, 4s);
        QVERIFY2(acks.size() >= 4, "too few acknowledged transactions");
        std::set<std::string> proposers;
        net.checkInvariants(acks, &proposers);
        QCOMPARE(proposers.size(), 4u);
        qInfo("%zu acknowledged notarisations, chain at %llu, all 4 validators proposed", acks.size(),
              static_cast<unsigned long long>(net.minHeight()));
    }

    void steadyLoadSevenValidators() {
        Devnet net(7);
        QVERIFY(net.create());
        for (int i = 0; i < 7; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 60000);
        auto acks = load(net, 7, 4s);
        QVERIFY2(acks.size() >= 4, "too few acknowledged transactions");
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 14, 60000);  // two full proposer rotations
        std::set<std::string> proposers;
        net.checkInvariants(acks, &proposers);
        QCOMPARE(proposers.size(), 7u);
        qInfo("7 validators: %zu acknowledged notarisations, chain at %llu, all 7 proposed", acks.size(),
              static_cast<unsigned long long>(net.minHeight()));
    }

    void killedValidatorRestartsAndSyncsWithin20Seconds() {
        Devnet net(4);
        QVERIFY(net.create());
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 30000);
        net.kill(1);  // SIGKILL
        const std::uint64_t atKill = net.minHeight({1});
        auto acks = load(net, 4, 3s, {1});
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight({1}) >= atKill + 3, 30000);  // the chain goes on without it
        QVERIFY(net.start(1));
        const std::uint64_t target = net.minHeight({1});
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(net.height(1) >= target, 20000);
        qInfo("restarted validator back in sync (height %llu) after %lld ms", static_cast<unsigned long long>(target),
              static_cast<long long>(t.elapsed()));
        net.checkInvariants(acks);
    }

    void walCutMidRecordRestartsSafely() {
        Devnet net(4);
        QVERIFY(net.create());
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 3, 30000);
        // Kill validator 2 while a height is in progress, cut that height's log
        // inside its last record, restart. A kill during the pause between
        // heights leaves no log for the next height: then try again.
        bool cutLiveLog = false;
        for (int attempt = 0; attempt < 8 && !cutLiveLog; ++attempt) {
            const std::uint64_t stored = net.height(2);
            net.kill(2);
            const QString path = net.home(2) + "/data/consensus/wal-" + QString::number(stored + 1) + ".log";
            QFile wal(path);
            if (wal.exists() && wal.size() > 20) {
                QVERIFY(wal.resize(wal.size() - 7));
                cutLiveLog = true;
            }
            QVERIFY(net.start(2));  // restarts: a torn tail is dropped, it was never sent
            QTest::qWait(300);
        }
        QVERIFY2(cutLiveLog, "never caught validator 2 inside a height");
        const std::uint64_t target = net.minHeight({2}) + 1;
        QTRY_VERIFY_WITH_TIMEOUT(net.height(2) >= target, 20000);
        net.checkInvariants({});
        QVERIFY(countInFile(net.logPath(2), "dropped a torn WAL tail") >= 1);
        for (int i = 0; i < 4; ++i) QCOMPARE(countInFile(net.logPath(i), "signed two different votes"), 0);
    }

    void duplicateValidatorCannotBreakSafety() {
        Devnet net(4);
        QVERIFY(net.create());
        // A second process with validator 3's key: its own store and ports.
        const QString dup = net.dir() + "/duplicate-of-3";
        QVERIFY(QDir().mkpath(dup + "/config"));
        QVERIFY(QDir().mkpath(dup + "/data"));
        for (const char* f : {"validator.key", "store.key", "genesis.json", "ca.pem", "node.pem", "node.key", "node.conf"}) {
            QVERIFY(QFile::copy(net.home(3) + "/config/" + f, dup + "/config/" + f));
        }
        QFile::setPermissions(dup + "/config/validator.key", QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QFile::setPermissions(dup + "/config/store.key", QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QFile::setPermissions(dup + "/config/node.key", QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        {
            QFile conf(dup + "/config/node.conf");
            QVERIFY(conf.open(QIODevice::ReadWrite));
            QByteArray text = conf.readAll();
            const int rpc = net.basePort() + 6;
            text.replace(QByteArray("127.0.0.1:") + QByteArray::number(rpc) + "\n",
                         QByteArray("127.0.0.1:") + QByteArray::number(rpc + 200) + "\n");
            text.replace(QByteArray("p2p_listen = 127.0.0.1:") + QByteArray::number(rpc + 1),
                         QByteArray("p2p_listen = 127.0.0.1:") + QByteArray::number(rpc + 201));
            conf.resize(0);
            conf.write(text);
        }
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QVERIFY(net.startExtra(dup, net.dir() + "/duplicate.log"));
        auto acks = load(net, 4, 5s);
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 6, 30000);
        net.checkInvariants(acks);  // no two different blocks at any height, on any honest node
        int equivocations = 0;
        for (int i = 0; i < 3; ++i) equivocations += countInFile(net.logPath(i), "signed two different votes");
        crypto::PublicKey accused;
        for (const auto& v : net.genesis().validators.validators()) {
            if (v.name == "validator-3") accused = v.publicKey;
        }
        int onChain = 0;
        if (equivocations > 0) {
            // Detected equivocations become evidence on the ledger, naming the validator.
            QTRY_VERIFY_WITH_TIMEOUT((onChain = evidenceOnChainAgainst(net, accused)) > 0, 20000);
        }
        qInfo("duplicate validator: chain at %llu with no conflicting commits; %d equivocation(s) detected by the "
              "other validators, %d evidence record(s) committed naming it",
              static_cast<unsigned long long>(net.minHeight()), equivocations, onChain);
    }

    void partitionsHaltOrContinueThenHeal() {
        Devnet net(4);
        QVERIFY(net.create());
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 30000);
        // Halves: neither side has more than 2/3 of the power; the chain halts.
        net.partition({{0, 1}, {2, 3}});
        QTest::qWait(1500);
        const std::uint64_t split = net.minHeight();
        std::uint64_t highest = 0;
        for (int i = 0; i < 4; ++i) highest = std::max(highest, net.height(i));
        QTest::qWait(3000);
        std::uint64_t after = 0;
        for (int i = 0; i < 4; ++i) after = std::max(after, net.height(i));
        QVERIFY2(after <= highest + 1, "a half without a quorum kept committing");
        net.heal();
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= split + 3, 30000);  // liveness returns
        // One node isolated: the other three (75 %) continue, it does not.
        net.partition({{3}, {0, 1, 2}});
        QTest::qWait(1000);
        const std::uint64_t isolatedAt = net.height(3);
        const std::uint64_t othersAt = net.minHeight({3});
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight({3}) >= othersAt + 3, 30000);
        QVERIFY(net.height(3) <= isolatedAt + 1);
        net.heal();
        const std::uint64_t target = net.minHeight({3});
        QTRY_VERIFY_WITH_TIMEOUT(net.height(3) >= target, 20000);
        net.checkInvariants({});
        qInfo("halves stalled at %llu and resumed; an isolated validator fell behind at %llu and caught up to %llu",
              static_cast<unsigned long long>(highest), static_cast<unsigned long long>(isolatedAt),
              static_cast<unsigned long long>(net.height(3)));
    }

    void haltsWithoutQuorumAndResumes() {
        Devnet net(4);
        QVERIFY(net.create());
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 30000);
        net.signal(2, SIGSTOP);
        net.signal(3, SIGSTOP);  // f + 1 = 2 of 4: no quorum
        QTest::qWait(1500);
        const std::uint64_t stalled = std::max(net.height(0), net.height(1));
        QTest::qWait(3000);
        QVERIFY2(std::max(net.height(0), net.height(1)) <= stalled + 1, "the chain advanced without a quorum");
        net.signal(2, SIGCONT);
        net.signal(3, SIGCONT);
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= stalled + 3, 30000);
        net.checkInvariants({});
        for (int i = 0; i < 4; ++i) QVERIFY(net.running(i));
    }
};

QTEST_GUILESS_MAIN(TestNetwork)
#include "test_network.moc"
