#include "node_connection.h"

#include "client/node_client.h"
#include "crypto/key_file.h"
#include "notary/notary_app.h"
#include "notary/notary_proof.h"
#include "primitives/genesis.h"
#include "primitives/light_client.h"
#include "primitives/proof.h"

#include <grpcpp/grpcpp.h>

#include <QDir>
#include <QFile>
#include <QMetaObject>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <thread>

namespace fides::qtclient {

namespace v1 = fides::node::v1;

// The light client of one trusted genesis, shared by the request worker and
// the feed thread. Each works on its own copy and fetches without the lock
// (a fetch may take seconds), then publishes what it learned here.
// Thread-safety: thread-safe (m_mutex).
class TrustedSets {
public:
    explicit TrustedSets(const Genesis& genesis) : m_lightClient(genesis) {}

    LightClient snapshot() const {
        std::lock_guard lock(m_mutex);
        return m_lightClient;
    }
    // Keeps `learned` if it knows later changes than what is held. Both
    // started from the same genesis and learned each change from a header
    // signed by the set before it, so the one that knows more extends the
    // other.
    void publish(const LightClient& learned) {
        std::lock_guard lock(m_mutex);
        if (learned.latestChange() > m_lightClient.latestChange()) m_lightClient = learned;
    }
    std::size_t changesLearned() const {
        std::lock_guard lock(m_mutex);
        return m_lightClient.changesLearned();
    }

private:
    mutable std::mutex m_mutex;
    LightClient m_lightClient;  // guarded by m_mutex
};

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(15);
constexpr auto kResubscribeDelay = std::chrono::seconds(1);

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string localPath(const QString& path) { return QFile::encodeName(path).toStdString(); }
QString hexOf(const std::string& bytes) { return qs(toHex(asBytes(bytes))); }

QString envOr(const char* name, const QString& fallback) {
    const QString v = qEnvironmentVariable(name);
    return v.isEmpty() ? fallback : v;
}

// SHA-256 of a file, as the `fides` CLI computes it; stops early when
// `cancel` is set.
Result<crypto::Hash256> hashFile(const QString& path, const std::atomic<bool>& cancel) {
    return client::hashFile(localPath(path), &cancel);
}

// Whether `lightClient` holds the validator set that signed `headerBytes`.
// An undecodable header, or one of another chain, counts as known: no fetch
// can help, and verify() refuses it.
bool knowsSigners(const LightClient& lightClient, ByteView headerBytes) {
    auto header = BlockHeader::decode(headerBytes);
    return !header || header->chainId != lightClient.chainId() ||
           header->validatorSetHash == lightClient.setAt(header->height).hash();
}

bool knowsSigners(const LightClient& lightClient, std::initializer_list<ByteView> headers) {
    for (ByteView h : headers) {
        if (!knowsSigners(lightClient, h)) return false;
    }
    return true;
}

// Makes `lightClient` ready to verify `headers`: when one is signed by a set
// it has not learned, takes what the other thread learned meanwhile and, if
// that is not enough, follows the node's validator-set changes
// (client::syncLightClient; blocking, on the calling worker thread), then
// publishes them. An error says why the changes could not be followed;
// verifying then refuses the header (FAILED_PRECONDITION).
Status followChanges(const client::NodeClient& c, TrustedSets& trusted, LightClient& lightClient,
                     std::initializer_list<ByteView> headers) {
    if (knowsSigners(lightClient, headers)) return Status::ok();
    lightClient = trusted.snapshot();
    if (knowsSigners(lightClient, headers)) return Status::ok();
    const Status s = client::syncLightClient(c, lightClient);
    trusted.publish(lightClient);  // what was learned before an error stays learned
    // An error about a later, unneeded set does not stop these headers.
    if (knowsSigners(lightClient, headers)) return Status::ok();
    return s.withContext("following the validator-set changes");
}

NodeStatus fetchStatus(const client::NodeClient& c, const Genesis* genesis, TrustedSets* trusted,
                       const QString& address) {
    NodeStatus st;
    st.address = address;
    st.genesisLoaded = genesis != nullptr;
    auto s = c.status();
    if (!s) {
        st.error = qs(s.status().toString());
        st.verifyMessage = NodeConnection::tr("node not reachable");
        return st;
    }
    st.connected = true;
    st.chainId = qs(s->chain_id());
    st.height = s->height();
    st.latestBlockHash = hexOf(s->latest_block_hash());
    st.latestBlockTimeMs = s->latest_block_time_ms();
    st.validatorPublicKey = hexOf(s->validator_public_key());
    st.validators = s->validators();
    st.mempoolSize = s->mempool_size();
    st.version = qs(s->version());
    if (genesis == nullptr || trusted == nullptr) {
        st.verifyMessage = NodeConnection::tr("no trusted genesis loaded");
        return st;
    }
    st.chainIdMatchesGenesis = s->chain_id() == genesis->chainId;
    if (!st.chainIdMatchesGenesis) {
        st.verifyMessage = NodeConnection::tr("the node is on chain '%1', the genesis is for '%2'")
                               .arg(st.chainId, qs(genesis->chainId));
        return st;
    }
    if (s->height() == 0) {
        st.verifyMessage = NodeConnection::tr("no block yet");
        return st;
    }
    // As `fides block`: fetch the latest block's signed header (not its
    // transactions) and check its commit locally.
    auto b = c.signedHeader(s->height());
    if (!b) {
        st.verifyMessage = qs(b.status().toString());
        return st;
    }
    const ByteView headerBytes = asBytes(b->header());
    LightClient lc = trusted->snapshot();
    if (Status followed = followChanges(c, *trusted, lc, {headerBytes}); !followed.isOk()) {
        st.verifyMessage =
            NodeConnection::tr("block %1 does not verify: %2").arg(st.height).arg(qs(followed.message()));
        return st;
    }
    st.validatorSetChanges = static_cast<quint32>(lc.changesUpTo(st.height));
    auto vh = lc.verify(headerBytes, asBytes(b->commit()));
    if (!vh) {
        st.verifyMessage =
            NodeConnection::tr("block %1 does not verify: %2").arg(st.height).arg(qs(vh.status().message()));
        return st;
    }
    if (vh->header.height != s->height()) {
        st.verifyMessage = NodeConnection::tr("the node answered block %1 for height %2")
                               .arg(vh->header.height)
                               .arg(st.height);
        return st;
    }
    st.commitVerified = true;
    st.signatures = static_cast<quint32>(vh->signatures);
    st.signedPower = vh->signedPower;
    st.totalPower = vh->totalPower;
    st.verifyMessage = NodeConnection::tr("commit verified locally (%1 signature(s), %2/%3 power)")
                           .arg(st.signatures)
                           .arg(st.signedPower)
                           .arg(st.totalPower);
    return st;
}

NotarizeResult notarize(const client::NodeClient& c, const QString& path, const QString& label,
                        const QString& keyPath, const std::atomic<bool>& cancel) {
    // The steps of `fides notarize`.
    NotarizeResult r;
    r.path = path;
    r.label = label;
    r.keyPath = keyPath;
    const std::string labelUtf8 = label.toStdString();
    if (labelUtf8.size() > notary::kMaxLabelLength) {
        r.message = NodeConnection::tr("the label is longer than %1 bytes").arg(notary::kMaxLabelLength);
        return r;
    }
    auto doc = hashFile(path, cancel);
    if (!doc) {
        r.message = qs(doc.status().message());
        return r;
    }
    r.documentHash = qs(doc->hex());
    bool created = false;
    auto key = crypto::loadOrCreateSecretKeyFile(localPath(keyPath), &created);
    if (!key) {
        r.message = qs(key.status().message());
        return r;
    }
    r.keyCreated = created;
    auto ack = c.notarize(*key, *doc, labelUtf8);
    if (!ack) {
        r.message = qs(ack.status().toString());
        return r;
    }
    r.ok = true;
    r.txHash = qs(ack->txHash.hex());
    r.height = ack->height;
    r.index = ack->index;
    r.message = NodeConnection::tr("registered in block %1 (position %2)").arg(r.height).arg(r.index);
    return r;
}

ProofResult prove(const client::NodeClient& c, TrustedSets* trusted, const QString& genesisPath,
                  const QString& path, const std::atomic<bool>& cancel) {
    // The steps of `fides prove`.
    ProofResult r;
    r.path = path;
    if (trusted == nullptr) {
        r.message = NodeConnection::tr("no trusted genesis loaded: proofs cannot be checked");
        return r;
    }
    auto doc = hashFile(path, cancel);
    if (!doc) {
        r.message = qs(doc.status().message());
        return r;
    }
    r.documentHash = qs(doc->hex());
    auto ev = c.notarizationEvidence(*doc);
    if (!ev) {
        r.message = qs(ev.status().toString());
        return r;
    }
    LightClient lc = trusted->snapshot();
    const bool registered = ev->value.has_value();
    const Status followed = registered ? followChanges(c, *trusted, lc, {ev->stateHeader, ev->txHeader})
                                       : followChanges(c, *trusted, lc, {ev->stateHeader});
    if (!followed.isOk()) {
        r.verdict = client::isVerificationFailure(followed) ? ProofResult::Verdict::NotVerified
                                                            : ProofResult::Verdict::Failed;
        r.message = qs(followed.message());
        return r;
    }
    auto v = notary::verifyNotarization(lc, *doc, *ev);
    if (!v) {
        r.verdict = ProofResult::Verdict::NotVerified;
        r.message = qs(v.status().message());
        return r;
    }
    r.registered = v->registered;
    r.provenAtHeight = v->provenAtHeight;
    r.validatorSetChanges = static_cast<quint32>(lc.changesUpTo(v->provenAtHeight));
    r.signatures = static_cast<quint32>(v->signatures);
    r.signedPower = v->signedPower;
    r.totalPower = v->totalPower;
    const QString signers =
        NodeConnection::tr("%1 validator signature(s), %2/%3 voting power, checked locally against %4")
            .arg(r.signatures)
            .arg(r.signedPower)
            .arg(r.totalPower)
            .arg(genesisPath);
    if (!v->registered) {
        r.verdict = ProofResult::Verdict::NotRegistered;
        r.message =
            NodeConnection::tr("absence proven against block %1 (%2)").arg(r.provenAtHeight).arg(signers);
        return r;
    }
    const auto& reg = *v->registration;
    r.verdict = ProofResult::Verdict::Verified;
    r.height = reg.height;
    r.timeMs = v->blockTimeMs;
    r.label = qs(reg.label);
    r.registrant = qs(reg.registrant.hex());
    r.txHash = qs(reg.txHash.hex());
    r.message =
        NodeConnection::tr("registered at block %1; inclusion and state proofs checked against block %2 (%3)")
            .arg(r.height)
            .arg(r.provenAtHeight)
            .arg(signers);
    return r;
}

// Decodes one feed event and checks its commit with the feed's light client
// (following validator-set changes first when the block needs it).
std::optional<BlockInfo> toBlockInfo(const v1::BlockEvent& ev, const client::NodeClient& c,
                                     TrustedSets* trusted, LightClient* lightClient, QString* error) {
    const auto& headerBytes = ev.signed_header().header();
    auto header = BlockHeader::decode(asBytes(headerBytes));
    if (!header) {
        *error =
            NodeConnection::tr("the node sent a malformed header: %1").arg(qs(header.status().message()));
        return std::nullopt;
    }
    BlockInfo b;
    b.height = header->height;
    b.hash = qs(header->hash().hex());
    b.timeMs = header->timeMs;
    b.txCount = header->txCount;
    if (trusted == nullptr || lightClient == nullptr) {
        b.verifyMessage = NodeConnection::tr("not checked (no genesis)");
        return b;
    }
    if (Status s = followChanges(c, *trusted, *lightClient, {asBytes(headerBytes)}); !s.isOk()) {
        b.verifyMessage = qs(s.message());
        return b;
    }
    auto vh = lightClient->verify(asBytes(headerBytes), asBytes(ev.signed_header().commit()));
    if (!vh) {
        b.verifyMessage = qs(vh.status().message());
        return b;
    }
    b.signatures = static_cast<quint32>(vh->signatures);
    if (static_cast<std::size_t>(ev.tx_hashes_size()) != header->txCount) {
        b.verifyMessage = NodeConnection::tr("the event lists %1 transaction(s), the header %2")
                              .arg(ev.tx_hashes_size())
                              .arg(header->txCount);
        return b;
    }
    b.verified = true;
    return b;
}

}  // namespace

// The live feed's thread and what stop() needs to cancel it.
struct NodeConnection::Subscription {
    std::mutex mutex;
    std::condition_variable wake;
    bool stop = false;                       // guarded by mutex
    grpc::ClientContext* context = nullptr;  // the running call, guarded by mutex
    std::thread thread;

    void run(NodeConnection* owner, quint64 generation, std::string address,
             std::shared_ptr<TrustedSets> trusted);
    void cancelAndJoin() {
        {
            std::lock_guard lock(mutex);
            stop = true;
            if (context != nullptr) context->TryCancel();
        }
        wake.notify_all();
        if (thread.joinable()) thread.join();
    }
    bool stopped() {
        std::lock_guard lock(mutex);
        return stop;
    }
};

void NodeConnection::Subscription::run(NodeConnection* owner, quint64 generation, std::string address,
                                       std::shared_ptr<TrustedSets> trusted) {
    // Results are posted to `owner`, which joins this thread before it dies;
    // those that arrive after a restart (another generation) are dropped.
    auto postError = [owner, generation](const QString& message) {
        QMetaObject::invokeMethod(
            owner,
            [owner, generation, message] {
                if (generation != owner->m_feedGeneration) return;
                owner->setConnected(false);
                emit owner->subscriptionError(message);
            },
            Qt::QueuedConnection);
    };
    client::NodeClient c(address, kRequestTimeout);
    // This thread's copy of the trusted sets (refreshed from `trusted` when a
    // block needs a set it lacks).
    std::optional<LightClient> lightClient;
    if (trusted) lightClient = trusted->snapshot();
    quint64 next = 0;  // 0: not yet known
    while (!stopped()) {
        if (next == 0) {
            auto s = c.status();
            if (s) {
                next = s->height() > kBacklog ? s->height() - kBacklog + 1 : 1;
            } else {
                postError(qs(s.status().toString()));
            }
        }
        if (next != 0) {
            grpc::ClientContext ctx;
            {
                std::lock_guard lock(mutex);
                if (stop) break;
                context = &ctx;
            }
            v1::SubscribeBlocksRequest req;
            req.set_from_height(next);
            auto reader = c.stub().SubscribeBlocks(&ctx, req);
            v1::BlockEvent ev;
            while (reader->Read(&ev)) {
                QString error;
                auto info = toBlockInfo(ev, c, trusted.get(), lightClient ? &*lightClient : nullptr, &error);
                if (!info) {
                    ctx.TryCancel();
                    postError(error);
                    break;
                }
                next = info->height + 1;
                QMetaObject::invokeMethod(
                    owner,
                    [owner, generation, block = *info] {
                        if (generation != owner->m_feedGeneration) return;
                        owner->setConnected(true);
                        emit owner->blockReceived(block);
                    },
                    Qt::QueuedConnection);
            }
            const grpc::Status st = reader->Finish();
            {
                std::lock_guard lock(mutex);
                context = nullptr;
                if (stop) break;
            }
            postError(st.ok() ? NodeConnection::tr("the block feed ended")
                              : qs(client::fromGrpc(st).toString()));
        }
        std::unique_lock lock(mutex);
        wake.wait_for(lock, kResubscribeDelay, [this] { return stop; });
    }
}

QString NodeConnection::defaultAddress() { return envOr("FIDES_NODE", QStringLiteral("127.0.0.1:26657")); }

QString NodeConnection::defaultKeyPath() {
    return envOr("FIDES_CLIENT_KEY", QDir::homePath() + QStringLiteral("/.config/fides/client.key"));
}

NodeConnection::NodeConnection(QObject* parent)
    : QObject(parent), m_keyPath(defaultKeyPath()), m_cancel(std::make_shared<std::atomic<bool>>(false)) {
    qRegisterMetaType<NodeStatus>();
    qRegisterMetaType<BlockInfo>();
    qRegisterMetaType<NotarizeResult>();
    qRegisterMetaType<ProofResult>();
    m_thread.setObjectName(QStringLiteral("fides-node-requests"));
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
    setAddress(defaultAddress());
}

NodeConnection::~NodeConnection() {
    m_cancel->store(true);
    stopBlockSubscription();
    m_thread.quit();
    m_thread.wait();
}

template <typename Job>
void NodeConnection::post(Job&& job) {
    QMetaObject::invokeMethod(m_worker, std::forward<Job>(job), Qt::QueuedConnection);
}

void NodeConnection::setAddress(const QString& address) {
    const QString a = address.trimmed();
    if (a == m_address && m_client) return;
    m_address = a;
    // Creating a channel does not connect; it is cheap enough for this thread.
    m_client = std::make_shared<client::NodeClient>(m_address.toStdString(), kRequestTimeout);
    setConnected(false);
    emit addressChanged(m_address);
    restartSubscriptionIfRunning();
}

bool NodeConnection::setGenesisPath(const QString& path) {
    auto g = Genesis::load(localPath(path));
    if (!g) {
        emit genesisError(qs(g.status().message()));
        return false;
    }
    m_genesis = std::make_shared<const Genesis>(std::move(g).value());
    m_trusted = std::make_shared<TrustedSets>(*m_genesis);
    m_genesisPath = path;
    emit genesisChanged(genesisChainId());
    restartSubscriptionIfRunning();
    return true;
}

QString NodeConnection::genesisChainId() const { return m_genesis ? qs(m_genesis->chainId) : QString(); }

quint32 NodeConnection::validatorSetChanges() const {
    return m_trusted ? static_cast<quint32>(m_trusted->changesLearned()) : 0;
}

void NodeConnection::setConnected(bool connected) {
    if (connected == m_connected) return;
    m_connected = connected;
    emit connectedChanged(connected);
}

void NodeConnection::refreshStatus() {
    if (m_statusPending) {
        m_statusAgain = true;
        return;
    }
    m_statusPending = true;
    post([this, c = m_client, g = m_genesis, t = m_trusted, a = m_address] {
        NodeStatus st = fetchStatus(*c, g.get(), t.get(), a);
        QMetaObject::invokeMethod(
            this, [this, st] { onStatus(st); }, Qt::QueuedConnection);
    });
}

void NodeConnection::onStatus(const NodeStatus& status) {
    m_statusPending = false;
    if (status.address == m_address) setConnected(status.connected);
    emit statusReceived(status);
    if (m_statusAgain) {
        m_statusAgain = false;
        refreshStatus();
    }
}

void NodeConnection::notarizeFile(const QString& path, const QString& label) {
    post([this, c = m_client, k = m_keyPath, cancel = m_cancel, path, label] {
        NotarizeResult r = notarize(*c, path, label, k, *cancel);
        QMetaObject::invokeMethod(
            this, [this, r] { emit notarizeFinished(r); }, Qt::QueuedConnection);
    });
}

void NodeConnection::proveFile(const QString& path) {
    post([this, c = m_client, t = m_trusted, gp = m_genesisPath, cancel = m_cancel, path] {
        ProofResult r = prove(*c, t.get(), gp, path, *cancel);
        QMetaObject::invokeMethod(
            this, [this, r] { emit proofFinished(r); }, Qt::QueuedConnection);
    });
}

void NodeConnection::startBlockSubscription() {
    if (m_subscription) return;
    m_subscription = std::make_unique<Subscription>();
    ++m_feedGeneration;
    m_subscription->thread = std::thread(&Subscription::run, m_subscription.get(), this, m_feedGeneration,
                                         m_address.toStdString(), m_trusted);
}

void NodeConnection::stopBlockSubscription() {
    if (!m_subscription) return;
    m_subscription->cancelAndJoin();
    m_subscription.reset();
    ++m_feedGeneration;
}

void NodeConnection::restartSubscriptionIfRunning() {
    if (!m_subscription) return;
    stopBlockSubscription();
    startBlockSubscription();
}

}  // namespace fides::qtclient
