// NodeConnection: the apps' one door to a Fides node. It runs every network
// call and every file hash off the calling (GUI) thread and delivers results
// as signals, so a window never blocks on the network:
//  - requests (status, notarise, prove) run one at a time, in order, on a
//    worker QThread owned by this object;
//  - the live block feed (SubscribeBlocks server stream) runs on its own
//    thread, reconnects after a failure, and is cancelled with
//    grpc::ClientContext::TryCancel by stopBlockSubscription() or the
//    destructor.
// Nothing the node answers is trusted: block commits, the latest status
// commit and notarisation proofs are checked here with a fides::LightClient
// (primitives/light_client.h) that starts from the genesis file given to
// setGenesisPath() (the trust anchor). Before checking a header signed by a
// validator set it has not learned, the worker (or the feed thread) fetches
// GetValidatorSets and the headers announcing each change, and learns them
// in height order (client::syncLightClient); what one thread learns, the
// other reuses. A node that hides a change gets its headers refused.
//
// The destructor cancels the feed and any file hash in progress, then waits
// for both threads; a gRPC request already in flight (including those of a
// validator-set fetch) is waited for (at most the request timeout, 15 s).
// No thread outlives the object.
//
// Thread-safety: not thread-safe; create, call and destroy it on one thread
// (the thread whose event loop receives its signals, normally the GUI
// thread). Signals are emitted on that thread.
#pragma once

#include "client_types.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>

namespace fides {
struct Genesis;
namespace client {
class NodeClient;
}  // namespace client
}  // namespace fides

namespace fides::qtclient {

// The validator sets verified so far (node_connection.cpp).
class TrustedSets;

class NodeConnection : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString address READ address WRITE setAddress NOTIFY addressChanged)
    Q_PROPERTY(bool connected READ isConnected NOTIFY connectedChanged)
    Q_PROPERTY(QString genesisChainId READ genesisChainId NOTIFY genesisChanged)

public:
    // The default node address, as the `fides` CLI: $FIDES_NODE or 127.0.0.1:26657.
    static QString defaultAddress();
    // The default signing key, as the `fides` CLI: $FIDES_CLIENT_KEY or
    // ~/.config/fides/client.key (created on first use).
    static QString defaultKeyPath();
    // Blocks fetched from history when the feed starts.
    static constexpr quint64 kBacklog = 100;

    explicit NodeConnection(QObject* parent = nullptr);
    ~NodeConnection() override;
    NodeConnection(const NodeConnection&) = delete;
    NodeConnection& operator=(const NodeConnection&) = delete;

    QString address() const { return m_address; }
    // Points every later request at `address` (host:port); restarts the
    // block feed if it runs. Emits addressChanged.
    void setAddress(const QString& address);

    // Loads the trusted genesis.json (a small local file, read on the
    // calling thread). Returns false and emits genesisError on failure, the
    // previous genesis then stays. Restarts the block feed if it runs.
    bool setGenesisPath(const QString& path);
    QString genesisPath() const { return m_genesisPath; }
    bool hasGenesis() const { return m_genesis != nullptr; }
    QString genesisChainId() const;
    // Validator-set changes since the genesis learned (and verified) so far.
    quint32 validatorSetChanges() const;

    void setKeyPath(const QString& path) { m_keyPath = path; }
    QString keyPath() const { return m_keyPath; }

    // Whether the last contact with the node (status answer or feed) worked.
    bool isConnected() const { return m_connected; }
    bool isSubscribed() const { return m_subscription != nullptr; }

public slots:
    // Asks for the node's status and checks the latest block's commit;
    // answers with statusReceived. Calls made while one is pending are
    // folded into one more request.
    void refreshStatus();
    // Hashes the file, signs a notarisation with the client key and submits
    // it, waiting for the commit; answers with notarizeFinished.
    void notarizeFile(const QString& path, const QString& label = {});
    // Hashes the file, fetches the evidence and verifies it against the
    // genesis; answers with proofFinished.
    void proveFile(const QString& path);
    // Starts the live feed: the last kBacklog blocks, then each new one.
    void startBlockSubscription();
    void stopBlockSubscription();

signals:
    void addressChanged(const QString& address);
    void genesisChanged(const QString& chainId);
    void genesisError(const QString& message);
    void connectedChanged(bool connected);
    void statusReceived(const fides::qtclient::NodeStatus& status);
    void blockReceived(const fides::qtclient::BlockInfo& block);
    // The feed failed (it retries on its own) or sent something undecodable.
    void subscriptionError(const QString& message);
    void notarizeFinished(const fides::qtclient::NotarizeResult& result);
    void proofFinished(const fides::qtclient::ProofResult& result);

private:
    struct Subscription;

    template <typename Job>
    void post(Job&& job);
    void setConnected(bool connected);
    void onStatus(const NodeStatus& status);
    void restartSubscriptionIfRunning();

    QString m_address;
    QString m_genesisPath;
    QString m_keyPath;
    std::shared_ptr<client::NodeClient> m_client;
    std::shared_ptr<const Genesis> m_genesis;
    std::shared_ptr<TrustedSets> m_trusted;  // null without a genesis; shared with the worker and the feed
    std::shared_ptr<std::atomic<bool>> m_cancel;  // set on destruction; long jobs poll it
    bool m_connected = false;
    bool m_statusPending = false;
    bool m_statusAgain = false;
    quint64 m_feedGeneration = 0;  // bumped at each feed start; stale feed results are dropped

    QThread m_thread;
    QObject* m_worker = nullptr;  // lives in m_thread; jobs are posted to it
    std::unique_ptr<Subscription> m_subscription;
};

}  // namespace fides::qtclient
