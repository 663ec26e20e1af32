// Devnet: a network of real fides-node processes for end-to-end tests (and
// any later test that needs several validators): `fides-node testnet` homes
// in a temporary folder (mutual TLS, generated keys and certificates, quick
// round timeouts, a 100 ms idle pause), each validator started, killed
// (SIGKILL), signalled (SIGSTOP/SIGCONT) and restarted on its own; links cut
// and healed through each process's FIDES_P2P_FAULTS file; and the
// invariants every scenario checks afterwards (checkInvariants). Set
// FIDES_E2E_KEEP=1 to keep the folder (logs, stores) of a failed run.
//
// Thread-safety: not thread-safe; use from the test thread.
#pragma once

#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "primitives/genesis.h"

#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fides::test {

class Devnet {
public:
    // `n` validators in genesis plus `standby` homes that follow the chain
    // until governance adds them (all are started and checked alike).
    explicit Devnet(int n, int standby = 0);
    ~Devnet();

    bool create();

    QString home(int i) const { return m_dir.path() + "/validator-" + QString::number(i); }
    QString faultsPath(int i) const { return m_dir.path() + "/faults-" + QString::number(i); }
    crypto::PublicKey key(int i) const { return secretKey(i).publicKey(); }
    // Round 0's proposer of `height` under the genesis set, when all powers
    // are equal: round robin in ascending key order.
    int proposerOf(std::uint64_t height) const;
    crypto::SecretKey secretKey(int i) const;
    // Cuts every link between the groups (a validator in no group keeps its links).
    void partition(const std::vector<std::set<int>>& groups);
    void heal();
    QString logPath(int i) const { return m_dir.path() + "/validator-" + QString::number(i) + ".log"; }
    QString dir() const { return m_dir.path(); }
    int basePort() const { return m_base; }

    // A further fides-node process on `homePath` (not one of the n).
    bool startExtra(const QString& homePath, const QString& log);
    std::string rpc(int i) const { return "127.0.0.1:" + std::to_string(m_base + 2 * i); }
    std::string p2p(int i) const { return "127.0.0.1:" + std::to_string(m_base + 2 * i + 1); }
    const Genesis& genesis() const { return m_genesis; }

    bool start(int i);
    void kill(int i);
    void signal(int i, int sig);
    bool running(int i) const;

    std::uint64_t height(int i) const;
    std::uint64_t minHeight(const std::set<int>& skip = {}) const;

    // The invariants, over every height every node has.
    void checkInvariants(const std::vector<std::pair<crypto::Hash256, std::uint64_t>>& acknowledged,
                         std::set<std::string>* proposers = nullptr) const;

private:
    int m_n;
    int m_standby = 0;
    QTemporaryDir m_dir;
    int m_base = 0;
    Genesis m_genesis;
    std::vector<std::unique_ptr<QProcess>> m_procs;
    std::vector<std::unique_ptr<QProcess>> m_extra;
};

}  // namespace fides::test
