#include "p2p/peer_network.h"

#include "crypto/random.h"
#include "fides/p2p/v1/p2p.grpc.pb.h"
#include "util/encoding.h"

#include <botan/mem_ops.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace fides::p2p {

namespace v1 = fides::p2p::v1;

namespace {
constexpr std::size_t kMaxMessageBytes = 64u << 20;
constexpr std::size_t kMaxTxBatch = 500;
// Hashes per GetTransactions request: more than a block holds (10,000 by
// default), far less than the message limit allows.
constexpr int kMaxTxRequest = 20'000;
// Transactions without consensus messages wait this long for company, so
// that gossip leaves in batches rather than one message (and one wake-up of
// the sender) per admitted transaction. Consensus messages never wait.
constexpr std::chrono::milliseconds kTxLinger{2};

// The digest of the certificate the other end of a TLS stream presented.
Result<crypto::Hash256> peerCertificate(const std::shared_ptr<const grpc::AuthContext>& auth) {
    if (auth == nullptr) return Status::unauthenticated("the link has no TLS session");
    const auto pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (pems.empty()) return Status::unauthenticated("the peer presented no certificate");
    return certificateDigest(std::string(pems.front().data(), pems.front().size()));
}

// Overwrites a string that held a secret (a TLS private key) and empties it.
void wipe(std::string& secret) {
    Botan::secure_scrub_memory(secret.data(), secret.size());
    secret.clear();
}

std::string freshNonce() { return toStdString(crypto::randomArray<32>()); }
}  // namespace

crypto::Hash256 authDigest(const std::string& chainId, ByteView peerNonce, const crypto::PublicKey& signer,
                           const crypto::PublicKey& recipient, const crypto::Hash256& diallerCertificate,
                           const crypto::Hash256& acceptorCertificate) {
    Writer w;
    w.str(chainId)
        .fixed(peerNonce)
        .fixed(signer.bytes())
        .fixed(recipient.bytes())
        .fixed(diallerCertificate.bytes())
        .fixed(acceptorCertificate.bytes());
    return crypto::taggedHash("fides/p2p-auth/v2", w.bytes());
}

Result<std::vector<PeerAddress>> parsePeers(const std::string& list) {
    std::vector<PeerAddress> out;
    std::size_t start = 0;
    while (start < list.size()) {
        std::size_t end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        std::string item = list.substr(start, end - start);
        start = end + 1;
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (item.empty()) continue;
        const auto at = item.find('@');
        if (at == std::string::npos)
            return Status::invalidArgument("peer '" + item + "' is not key@host:port");
        auto key = crypto::PublicKey::fromHex(item.substr(0, at));
        if (!key) return Status::invalidArgument("peer '" + item + "' has an invalid public key");
        const std::string addr = item.substr(at + 1);
        if (addr.find(':') == std::string::npos)
            return Status::invalidArgument("peer '" + item + "' has no port");
        out.push_back({*key, addr});
    }
    return out;
}

class PeerNetwork::Impl final : public v1::Peer::Service {
public:
    Impl(P2pConfig config, const Genesis& genesis, crypto::SecretKey key, node::Node& node,
         const crypto::Hash256& ownCertificate)
        : m_config(std::move(config)),
          m_genesis(genesis),
          m_key(std::move(key)),
          m_public(m_key.publicKey()),
          m_ownCertificate(ownCertificate),
          m_node(node) {}

    struct Outbound {
        PeerAddress peer;
        std::shared_ptr<grpc::Channel> channel;
        std::unique_ptr<v1::Peer::Stub> stub;
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<v1::PeerMessage> queue;      // guarded by mutex
        std::vector<std::string> txs;           // guarded by mutex; moved into messages
        grpc::ClientContext* active = nullptr;  // guarded by mutex
        std::atomic<bool> connected{false};
        std::thread thread;
    };

    grpc::Status Connect(grpc::ServerContext* ctx,
                         grpc::ServerReaderWriter<v1::PeerMessage, v1::PeerMessage>* stream) override;
    grpc::Status GetBlock(grpc::ServerContext*, const v1::GetBlockRequest* req,
                          v1::GetBlockResponse* resp) override;
    grpc::Status GetTransactions(grpc::ServerContext*, const v1::GetTransactionsRequest* req,
                                 v1::GetTransactionsResponse* resp) override;

    void startOutbound();
    void senderLoop(Outbound& out);
    Status clientHandshake(grpc::ClientContext& ctx,
                           grpc::ClientReaderWriter<v1::PeerMessage, v1::PeerMessage>& stream,
                           const PeerAddress& peer);
    void enqueue(const v1::PeerMessage& m);
    void stop();
    std::optional<Block> askForBlock(Outbound& out, std::uint64_t height, std::chrono::milliseconds deadline);
    // Asks up to `maxPeers` connected peers in turn.
    std::optional<Block> fetchFromPeers(std::uint64_t height, std::size_t maxPeers,
                                        std::chrono::milliseconds deadline);
    // Fault injection for tests (FIDES_P2P_FAULTS=path): the file lists peer
    // keys (hex, one per line) whose links are cut both ways.
    bool blocked(const crypto::PublicKey& peer);
    // A validator whose link delivered a message proving misbehaviour
    // (ConsensusTransport::misbehaved) is refused for kRefuseFor: its open
    // inbound stream ends at its next message, and it cannot link again
    // until then (its proof is not even checked).
    void refuse(const crypto::PublicKey& peer, const Status& why);
    // Seconds the refusal of `peer` still lasts (0: not refused).
    std::int64_t refusedFor(const crypto::PublicKey& peer);
    static constexpr std::chrono::seconds kRefuseFor{60};
    std::mutex m_refusedMutex;
    std::map<crypto::PublicKey, std::chrono::steady_clock::time_point>
        m_refused;                          // guarded by m_refusedMutex
    std::atomic<bool> m_anyRefused{false};  // a cheap check for the common case

    std::string m_faultsPath;
    std::mutex m_faultsMutex;
    std::set<crypto::PublicKey> m_faults;                // guarded by m_faultsMutex
    std::chrono::steady_clock::time_point m_faultsRead;  // guarded by m_faultsMutex

    P2pConfig m_config;
    Genesis m_genesis;
    crypto::SecretKey m_key;
    crypto::PublicKey m_public;
    crypto::Hash256 m_ownCertificate;  // digest of m_config.tls.certPem
    node::Node& m_node;
    std::atomic<node::ConsensusDriver*> m_driver{nullptr};
    std::atomic<bool> m_stop{false};
    std::vector<std::unique_ptr<Outbound>> m_out;
    std::atomic<std::size_t> m_nextSyncPeer{0};  // where the next block fetch starts
    std::unique_ptr<grpc::Server> m_server;
};

grpc::Status PeerNetwork::Impl::Connect(grpc::ServerContext* ctx,
                                        grpc::ServerReaderWriter<v1::PeerMessage, v1::PeerMessage>* stream) {
    v1::PeerMessage m;
    if (!stream->Read(&m) || !m.has_hello()) return {grpc::StatusCode::INVALID_ARGUMENT, "expected a hello"};
    const v1::Hello hello = m.hello();  // a copy: `m` is read into again below
    if (hello.chain_id() != m_genesis.chainId) {
        return {grpc::StatusCode::FAILED_PRECONDITION, "peer is on chain '" + hello.chain_id() + "'"};
    }
    auto key = crypto::PublicKey::fromBytes(asBytes(hello.validator_public_key()));
    if (!key) return {grpc::StatusCode::INVALID_ARGUMENT, "peer key is not a valid public key"};
    // Members of any validator set on this chain (past, current, scheduled),
    // and the configured peers (a validator waiting to be added follows the
    // chain before it votes).
    const bool configured = std::any_of(m_config.peers.begin(), m_config.peers.end(),
                                        [&](const PeerAddress& p) { return p.key == *key; });
    if (!configured && !m_node.validatorSchedule().everMember(*key)) {
        return {grpc::StatusCode::UNAUTHENTICATED,
                "peer key " + key->hex() + " is not a validator of this chain"};
    }
    if (const auto seconds = refusedFor(*key); seconds > 0) {
        return {grpc::StatusCode::PERMISSION_DENIED,
                "validator " + key->hex() + " is refused for " + std::to_string(seconds) +
                    " s more: its link delivered an unauthenticated message"};
    }
    if (hello.nonce().size() != 32) return {grpc::StatusCode::INVALID_ARGUMENT, "nonce must be 32 bytes"};
    const std::string nonce = freshNonce();
    v1::PeerMessage reply;
    reply.mutable_hello()->set_chain_id(m_genesis.chainId);
    reply.mutable_hello()->set_validator_public_key(toStdString(m_public.bytes()));
    reply.mutable_hello()->set_nonce(nonce);
    if (!stream->Write(reply)) return {grpc::StatusCode::UNAVAILABLE, "peer went away"};
    auto dialler = peerCertificate(ctx->auth_context());
    if (!dialler) return {grpc::StatusCode::UNAUTHENTICATED, dialler.status().message()};
    if (!stream->Read(&m) || !m.has_auth()) return {grpc::StatusCode::INVALID_ARGUMENT, "expected an auth"};
    auto sig = crypto::Signature::fromBytes(asBytes(m.auth().signature()));
    if (!sig ||
        !crypto::verify(
            *key, authDigest(m_genesis.chainId, asBytes(nonce), *key, m_public, *dialler, m_ownCertificate),
            *sig)) {
        spdlog::warn("p2p: {} failed to prove validator key {} on this link", ctx->peer(), key->hex());
        return {grpc::StatusCode::UNAUTHENTICATED,
                "validator key not proven for this link (a signature over this nonce, both keys and both "
                "certificates)"};
    }
    v1::PeerMessage auth;
    auth.mutable_auth()->set_signature(
        toStdString(crypto::sign(m_key, authDigest(m_genesis.chainId, asBytes(hello.nonce()), m_public, *key,
                                                   *dialler, m_ownCertificate))
                        .bytes()));
    if (!stream->Write(auth)) return {grpc::StatusCode::UNAVAILABLE, "peer went away"};
    spdlog::info("p2p: inbound link from validator {}", key->hex().substr(0, 16));

    bool warnedBatch = false;  // one warning per link, whatever the peer sends
    while (!m_stop.load() && stream->Read(&m)) {
        if (refusedFor(*key) > 0) {  // one atomic load while nobody is refused
            return {grpc::StatusCode::PERMISSION_DENIED,
                    "link closed: it delivered an unauthenticated message; validator " + key->hex() +
                        " is refused for " + std::to_string(kRefuseFor.count()) + " s"};
        }
        if (blocked(*key)) continue;  // injected fault
        node::ConsensusDriver* driver = m_driver.load();
        switch (m.body_case()) {
        case v1::PeerMessage::kProposal: {
            auto p = consensus::SignedProposal::decode(asBytes(m.proposal()), kMaxMessageBytes);
            if (p && driver != nullptr) driver->deliver(*p, *key);
            break;
        }
        case v1::PeerMessage::kVote: {
            auto v = consensus::SignedVote::decode(asBytes(m.vote()));
            if (v && driver != nullptr) driver->deliver(*v, *key);
            break;
        }
        case v1::PeerMessage::kTransactions: {
            // An honest peer sends at most kMaxTxBatch per message: a larger
            // batch is dropped unread (its transactions reach this validator
            // again through the other peers or the client's retry).
            if (static_cast<std::size_t>(m.transactions().transactions_size()) > kMaxTxBatch) {
                if (!std::exchange(warnedBatch, true)) {
                    spdlog::warn(
                        "p2p: validator {} sent a batch of {} transactions (at most {}); dropped, and "
                        "its later oversize batches without a warning",
                        key->hex(), m.transactions().transactions_size(), kMaxTxBatch);
                }
                break;
            }
            std::vector<ByteView> txs;
            txs.reserve(static_cast<std::size_t>(m.transactions().transactions_size()));
            for (const auto& tx : m.transactions().transactions()) txs.push_back(asBytes(tx));
            (void)m_node.submitBatch(txs);
            break;
        }
        default: break;
        }
    }
    return grpc::Status::OK;
}

grpc::Status PeerNetwork::Impl::GetBlock(grpc::ServerContext*, const v1::GetBlockRequest* req,
                                         v1::GetBlockResponse* resp) {
    auto b = m_node.block(req->height());
    if (!b) return {grpc::StatusCode::NOT_FOUND, b.status().message()};
    resp->set_header(toStdString(b->header.encode()));
    resp->set_body(toStdString(Block::encodeBody(b->transactions)));
    resp->set_commit(toStdString(b->commit.encode()));
    return grpc::Status::OK;
}

grpc::Status PeerNetwork::Impl::GetTransactions(grpc::ServerContext* ctx,
                                                const v1::GetTransactionsRequest* req,
                                                v1::GetTransactionsResponse* resp) {
    (void)ctx;
    if (req->hashes_size() > kMaxTxRequest) {
        return {grpc::StatusCode::INVALID_ARGUMENT, std::to_string(req->hashes_size()) +
                                                        " hashes requested, at most " +
                                                        std::to_string(kMaxTxRequest)};
    }
    std::vector<crypto::Hash256> hashes;
    hashes.reserve(static_cast<std::size_t>(req->hashes_size()));
    for (const auto& h : req->hashes()) {
        auto parsed = crypto::Hash256::fromBytes(asBytes(h));
        if (!parsed) return {grpc::StatusCode::INVALID_ARGUMENT, "a transaction hash is not 32 bytes"};
        hashes.push_back(*parsed);
    }
    for (const auto& e : m_node.pooled(hashes)) {
        if (e) resp->add_transactions(toStdString(e->encoded));
    }
    return grpc::Status::OK;
}

Status PeerNetwork::Impl::clientHandshake(grpc::ClientContext& ctx,
                                          grpc::ClientReaderWriter<v1::PeerMessage, v1::PeerMessage>& stream,
                                          const PeerAddress& peer) {
    const std::string nonce = freshNonce();
    v1::PeerMessage hello;
    hello.mutable_hello()->set_chain_id(m_genesis.chainId);
    hello.mutable_hello()->set_validator_public_key(toStdString(m_public.bytes()));
    hello.mutable_hello()->set_nonce(nonce);
    if (!stream.Write(hello)) return Status::unavailable("cannot reach " + peer.address);
    v1::PeerMessage m;
    if (!stream.Read(&m) || !m.has_hello()) return Status::unavailable("no hello from " + peer.address);
    if (m.hello().chain_id() != m_genesis.chainId)
        return Status::failedPrecondition(peer.address + " is on another chain");
    auto key = crypto::PublicKey::fromBytes(asBytes(m.hello().validator_public_key()));
    if (!key || *key != peer.key) {
        return Status::unauthenticated(peer.address + " is not the validator configured for it");
    }
    if (m.hello().nonce().size() != 32) return Status::invalidArgument("bad nonce from " + peer.address);
    // Only after the first Read(): before the call has a connection,
    // auth_context() returns (and caches) a context without the peer's
    // certificate.
    auto acceptor = peerCertificate(ctx.auth_context());
    if (!acceptor) return acceptor.status().withContext(peer.address);
    v1::PeerMessage auth;
    auth.mutable_auth()->set_signature(
        toStdString(crypto::sign(m_key, authDigest(m_genesis.chainId, asBytes(m.hello().nonce()), m_public,
                                                   peer.key, m_ownCertificate, *acceptor))
                        .bytes()));
    if (!stream.Write(auth)) return Status::unavailable(peer.address + " went away");
    if (!stream.Read(&m) || !m.has_auth()) return Status::unauthenticated(peer.address + " refused our key");
    auto sig = crypto::Signature::fromBytes(asBytes(m.auth().signature()));
    if (!sig || !crypto::verify(peer.key,
                                authDigest(m_genesis.chainId, asBytes(nonce), peer.key, m_public,
                                           m_ownCertificate, *acceptor),
                                *sig)) {
        return Status::unauthenticated(peer.address + " failed to prove its validator key");
    }
    return Status::ok();
}

void PeerNetwork::Impl::refuse(const crypto::PublicKey& peer, const Status& why) {
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(m_refusedMutex);
        auto& until = m_refused[peer];
        const bool already = until > now;
        until = now + kRefuseFor;
        m_anyRefused.store(true);
        if (already) return;  // logged when the refusal began
    }
    spdlog::warn(
        "p2p: the link of validator {} delivered an unauthenticated message ({}); refusing it for {} s",
        peer.hex().substr(0, 16), why.message(), kRefuseFor.count());
}

std::int64_t PeerNetwork::Impl::refusedFor(const crypto::PublicKey& peer) {
    if (!m_anyRefused.load()) return 0;
    std::lock_guard lock(m_refusedMutex);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = m_refused.begin(); it != m_refused.end();) {  // few entries: validators only
        it = it->second <= now ? m_refused.erase(it) : std::next(it);
    }
    if (m_refused.empty()) m_anyRefused.store(false);
    const auto it = m_refused.find(peer);
    if (it == m_refused.end()) return 0;
    return std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(it->second - now).count());
}

bool PeerNetwork::Impl::blocked(const crypto::PublicKey& peer) {
    if (m_faultsPath.empty()) return false;
    std::lock_guard lock(m_faultsMutex);
    const auto now = std::chrono::steady_clock::now();
    if (now - m_faultsRead > std::chrono::milliseconds(100)) {
        m_faultsRead = now;
        m_faults.clear();
        std::ifstream in(m_faultsPath);
        std::string line;
        while (std::getline(in, line)) {
            if (auto k = crypto::PublicKey::fromHex(line)) m_faults.insert(*k);
        }
    }
    return m_faults.count(peer) != 0;
}

void PeerNetwork::Impl::senderLoop(Outbound& out) {
    bool warned = false;
    while (!m_stop.load()) {
        grpc::ClientContext ctx;
        {
            std::lock_guard lock(out.mutex);
            if (m_stop.load()) break;
            out.active = &ctx;
        }
        auto stream = out.stub->Connect(&ctx);
        Status hs = clientHandshake(ctx, *stream, out.peer);
        if (hs) {
            out.connected = true;
            warned = false;
            spdlog::info("p2p: outbound link to {} ({})", out.peer.address, out.peer.key.hex().substr(0, 16));
            while (!m_stop.load()) {
                std::deque<v1::PeerMessage> batch;
                std::vector<std::string> txs;
                {
                    std::unique_lock lock(out.mutex);
                    out.cv.wait_for(lock, std::chrono::milliseconds(200),
                                    [&] { return m_stop.load() || !out.queue.empty() || !out.txs.empty(); });
                    if (out.queue.empty() && !out.txs.empty() && out.txs.size() < kMaxTxBatch) {
                        out.cv.wait_for(lock, kTxLinger, [&] {
                            return m_stop.load() || !out.queue.empty() || out.txs.size() >= kMaxTxBatch;
                        });
                    }
                    batch.swap(out.queue);
                    txs.swap(out.txs);
                }
                if (blocked(out.peer.key)) continue;  // injected fault: the link drops everything
                bool ok = true;
                for (std::size_t i = 0; ok && i < txs.size(); i += kMaxTxBatch) {
                    v1::PeerMessage m;
                    for (std::size_t j = i; j < std::min(txs.size(), i + kMaxTxBatch); ++j) {
                        m.mutable_transactions()->add_transactions(std::move(txs[j]));
                    }
                    ok = stream->Write(m);
                }
                for (const auto& m : batch) {
                    if (!ok) break;
                    ok = stream->Write(m);
                }
                if (!ok) break;
            }
        } else if (!warned) {
            spdlog::warn("p2p: link to {}: {}", out.peer.address, hs.toString());
            warned = true;
        }
        out.connected = false;
        {
            std::lock_guard lock(out.mutex);
            out.active = nullptr;
        }
        ctx.TryCancel();
        (void)stream->Finish();
        std::unique_lock lock(out.mutex);
        out.cv.wait_for(lock, std::chrono::milliseconds(300), [&] { return m_stop.load(); });
    }
}

void PeerNetwork::Impl::startOutbound() {
    grpc::SslCredentialsOptions opts;
    opts.pem_root_certs = m_config.caPem;
    opts.pem_private_key = m_config.tls.keyPem;
    opts.pem_cert_chain = m_config.tls.certPem;
    auto creds = grpc::SslCredentials(opts);
    wipe(opts.pem_private_key);
    for (const auto& peer : m_config.peers) {
        if (peer.key == m_public) continue;
        auto out = std::make_unique<Outbound>();
        out->peer = peer;
        grpc::ChannelArguments args;
        args.SetSslTargetNameOverride(kTlsServerName);
        args.SetMaxReceiveMessageSize(static_cast<int>(kMaxMessageBytes));
        args.SetMaxSendMessageSize(static_cast<int>(kMaxMessageBytes));
        args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
        out->channel = grpc::CreateCustomChannel(peer.address, creds, args);
        out->stub = v1::Peer::NewStub(out->channel);
        m_out.push_back(std::move(out));
    }
    for (auto& out : m_out) {
        Outbound* o = out.get();
        o->thread = std::thread([this, o] { senderLoop(*o); });
    }
}

void PeerNetwork::Impl::enqueue(const v1::PeerMessage& m) {
    for (auto& out : m_out) {
        std::lock_guard lock(out->mutex);
        if (out->queue.size() >= m_config.maxQueuedMessages) out->queue.pop_front();
        out->queue.push_back(m);
        out->cv.notify_one();
    }
}

void PeerNetwork::Impl::stop() {
    if (m_stop.exchange(true)) return;
    for (auto& out : m_out) {
        std::lock_guard lock(out->mutex);
        if (out->active != nullptr) out->active->TryCancel();
        out->cv.notify_all();
    }
    if (m_server) m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    for (auto& out : m_out) {
        if (out->thread.joinable()) out->thread.join();
    }
    if (m_server) m_server->Wait();
}

Result<std::unique_ptr<PeerNetwork>> PeerNetwork::start(P2pConfig config, const Genesis& genesis,
                                                        crypto::SecretKey validatorKey, node::Node& node) {
    auto ownCertificate = certificateDigest(config.tls.certPem);
    if (!ownCertificate) {
        wipe(config.tls.keyPem);
        return ownCertificate.status().withContext("the node's TLS certificate");
    }
    std::unique_ptr<PeerNetwork> net(new PeerNetwork());
    net->m_impl =
        std::make_unique<Impl>(std::move(config), genesis, std::move(validatorKey), node, *ownCertificate);
    Impl& impl = *net->m_impl;
    grpc::SslServerCredentialsOptions sopts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    sopts.pem_root_certs = impl.m_config.caPem;
    sopts.pem_key_cert_pairs.push_back({impl.m_config.tls.keyPem, impl.m_config.tls.certPem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort(impl.m_config.listen, grpc::SslServerCredentials(sopts), &net->m_port);
    builder.RegisterService(&impl);
    builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxMessageBytes));
    builder.SetMaxSendMessageSize(static_cast<int>(kMaxMessageBytes));
    impl.m_server = builder.BuildAndStart();
    wipe(sopts.pem_key_cert_pairs.front().private_key);
    if (!impl.m_server || net->m_port == 0) {
        wipe(impl.m_config.tls.keyPem);
        return Status::unavailable("cannot listen for peers on " + impl.m_config.listen);
    }
    if (const char* faults = std::getenv("FIDES_P2P_FAULTS"); faults != nullptr && *faults != '\0') {
        impl.m_faultsPath = faults;
        spdlog::warn("p2p: fault injection from {} (for tests only)", impl.m_faultsPath);
    }
    impl.startOutbound();
    wipe(impl.m_config.tls.keyPem);  // gRPC holds the credentials now
    return net;
}

PeerNetwork::~PeerNetwork() { stop(); }

void PeerNetwork::stop() {
    if (m_impl) m_impl->stop();
}

void PeerNetwork::attach(node::ConsensusDriver* driver) { m_impl->m_driver = driver; }

std::size_t PeerNetwork::connectedPeers() const {
    std::size_t n = 0;
    for (const auto& out : m_impl->m_out) n += out->connected.load() ? 1 : 0;
    return n;
}

void PeerNetwork::broadcast(const consensus::SignedProposal& p) {
    v1::PeerMessage m;
    m.set_proposal(toStdString(p.encode()));
    m_impl->enqueue(m);
}

void PeerNetwork::broadcast(const consensus::SignedVote& v) {
    v1::PeerMessage m;
    m.set_vote(toStdString(v.encode()));
    m_impl->enqueue(m);
}

void PeerNetwork::misbehaved(const crypto::PublicKey& peer, const Status& why) { m_impl->refuse(peer, why); }

void PeerNetwork::broadcastTransactions(const std::vector<ByteView>& encoded) {
    for (auto& out : m_impl->m_out) {
        bool wake = false;
        {
            std::lock_guard lock(out->mutex);
            const bool wasEmpty = out->txs.empty();
            const bool wasShort = out->txs.size() < kMaxTxBatch;
            for (const ByteView tx : encoded) {
                if (out->txs.size() >= m_impl->m_config.maxQueuedMessages) break;
                out->txs.emplace_back(reinterpret_cast<const char*>(tx.data()), tx.size());
            }
            // The sender waits for the first transaction, then for a full batch.
            wake = (wasEmpty && !out->txs.empty()) || (wasShort && out->txs.size() >= kMaxTxBatch);
        }
        if (wake) out->cv.notify_one();
    }
}

std::optional<Block> PeerNetwork::Impl::askForBlock(Outbound& out, std::uint64_t height,
                                                    std::chrono::milliseconds deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    v1::GetBlockRequest req;
    req.set_height(height);
    v1::GetBlockResponse resp;
    if (!out.stub->GetBlock(&ctx, req, &resp).ok()) return std::nullopt;
    auto header = BlockHeader::decode(asBytes(resp.header()));
    auto body = Block::decodeBody(asBytes(resp.body()));
    auto commit = Commit::decode(asBytes(resp.commit()));
    if (!header || !body || !commit) return std::nullopt;
    Block b;
    b.header = std::move(*header);
    b.transactions = std::move(*body);
    b.commit = std::move(*commit);
    return b;
}

std::optional<Block> PeerNetwork::Impl::fetchFromPeers(std::uint64_t height, std::size_t maxPeers,
                                                       std::chrono::milliseconds deadline) {
    // Each call starts at the next peer: a peer that serves a block the
    // caller rejects (bad commit, bad content) is not asked first again.
    const std::size_t n = m_out.size();
    const std::size_t start = m_nextSyncPeer.fetch_add(1);
    std::size_t asked = 0;
    for (std::size_t k = 0; k < n && asked < maxPeers; ++k) {
        auto& out = m_out[(start + k) % n];
        if (!out->connected.load() || blocked(out->peer.key)) continue;
        ++asked;
        if (auto b = askForBlock(*out, height, deadline)) return b;
    }
    return std::nullopt;
}

std::optional<Block> PeerNetwork::fetchBlock(std::uint64_t height) {
    return m_impl->fetchFromPeers(height, m_impl->m_out.size(), std::chrono::seconds(3));
}

std::vector<Bytes> PeerNetwork::fetchTransactions(const std::vector<crypto::Hash256>& hashes) {
    // Starts at the next peer each time, like block sync; stops once every
    // hash has an answer (which the caller checks).
    std::vector<Bytes> out;
    crypto::Hash256Set wanted(hashes.begin(), hashes.end());
    const std::size_t n = m_impl->m_out.size();
    const std::size_t start = m_impl->m_nextSyncPeer.fetch_add(1);
    for (std::size_t k = 0; k < n && !wanted.empty(); ++k) {
        auto& peer = *m_impl->m_out[(start + k) % n];
        if (!peer.connected.load() || m_impl->blocked(peer.peer.key)) continue;
        v1::GetTransactionsRequest req;
        for (const auto& h : wanted) {
            if (req.hashes_size() >= kMaxTxRequest) break;
            req.add_hashes(toStdString(h.bytes()));
        }
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
        v1::GetTransactionsResponse resp;
        if (!peer.stub->GetTransactions(&ctx, req, &resp).ok()) continue;
        for (const auto& tx : resp.transactions()) {
            if (wanted.erase(txHash(asBytes(tx))) == 0) continue;  // not asked for, or a duplicate
            out.emplace_back(tx.begin(), tx.end());
        }
    }
    return out;
}

std::optional<Block> PeerNetwork::probeBlock(std::uint64_t height) {
    // One peer and a short deadline: the probe runs on the consensus thread
    // while the network may be halted.
    return m_impl->fetchFromPeers(height, 1, std::chrono::milliseconds(500));
}

}  // namespace fides::p2p
