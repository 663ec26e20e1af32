// End-to-end: a network of real fides-node processes (separate encrypted
// stores, mutual TLS on loopback, generated keys and certificates), under
// load and perturbed (SIGKILL and restart, SIGSTOP/SIGCONT of f + 1), with
// the invariants checked afterwards:
//   - every node has the same block at every height it has (so no two
//     different blocks at one height, and the same state roots);
//   - every block carries a commit of > 2/3 of the power of the validator set
//     of its height, checked by a light client that starts from genesis and
//     follows the governance changes;
//   - every transaction acknowledged as committed is in exactly one block,
//     at the acknowledged height, readable on every node.
#include "client/node_client.h"
#include "consensus/evidence_app.h"
#include "consensus/governance.h"
#include "crypto/key_file.h"
#include "crypto/random.h"
#include "devnet.h"
#include "fides/p2p/v1/p2p.grpc.pb.h"
#include "node_process.h"
#include "notary/notary_app.h"
#include "p2p/peer_network.h"
#include "p2p/tls_certs.h"
#include "primitives/light_client.h"
#include "primitives/proof.h"

#include <grpcpp/grpcpp.h>

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <set>
#include <thread>

using namespace fides;
using namespace std::chrono_literals;
using fides::test::Devnet;

namespace {

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
            if (!tx || tx->type != consensus::kEvidenceTxType) continue;
            auto p = consensus::EvidencePayload::decode(tx->payload);
            if (p && p->first.validator == key) ++found;
        }
    }
    return found;
}

std::string readText(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll().toStdString();
}

// One p2p handshake with a raw peer stub: says hello as `claimed`, signs
// what `digest` gives for the acceptor's nonce with `signer`, and, if the
// acceptor answers with its own proof, checks it with `acceptorDigest` of
// our nonce. The stream's final status (OK when both proofs passed).
using PeerStream = grpc::ClientReaderWriter<p2p::v1::PeerMessage, p2p::v1::PeerMessage>;

// The dialler's half of a link's handshake on an open stream: hello with
// `claimed` and `nonce`, then the proof of `digest` (of the acceptor's
// nonce) signed by `signer`. True when the acceptor answered with its own
// proof, which is left in `reply`; false when the stream ended first.
bool linkAs(PeerStream& stream, const std::string& chainId, const crypto::PublicKey& claimed,
            const crypto::SecretKey& signer, const std::array<std::uint8_t, 32>& nonce,
            const std::function<crypto::Hash256(ByteView acceptorNonce)>& digest,
            p2p::v1::PeerMessage& reply) {
    p2p::v1::PeerMessage m;
    m.mutable_hello()->set_chain_id(chainId);
    m.mutable_hello()->set_validator_public_key(toStdString(claimed.bytes()));
    m.mutable_hello()->set_nonce(toStdString(nonce));
    if (!stream.Write(m) || !stream.Read(&reply) || !reply.has_hello()) return false;
    p2p::v1::PeerMessage auth;
    auth.mutable_auth()->set_signature(
        toStdString(crypto::sign(signer, digest(asBytes(reply.hello().nonce()))).bytes()));
    return stream.Write(auth) && stream.Read(&reply) && reply.has_auth();
}

grpc::Status handshake(p2p::v1::Peer::Stub& stub, const std::string& chainId,
                       const crypto::PublicKey& claimed, const crypto::SecretKey& signer,
                       const crypto::PublicKey& acceptorKey,
                       const std::function<crypto::Hash256(ByteView acceptorNonce)>& digest,
                       const std::function<crypto::Hash256(ByteView ourNonce)>& acceptorDigest) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    auto stream = stub.Connect(&ctx);
    const auto nonce = crypto::randomArray<32>();
    p2p::v1::PeerMessage m;
    if (linkAs(*stream, chainId, claimed, signer, nonce, digest, m)) {
        auto theirs = crypto::Signature::fromBytes(asBytes(m.auth().signature()));
        const bool proven =
            theirs && crypto::verify(acceptorKey, acceptorDigest({nonce.data(), nonce.size()}), *theirs);
        ctx.TryCancel();
        (void)stream->Finish();
        return proven ? grpc::Status::OK
                      : grpc::Status(grpc::StatusCode::DATA_LOSS, "acceptor's proof does not verify");
    }
    return stream->Finish();
}

// An acceptor on the address a validator dials for another: answers with
// the claimed key and a proof from `digest` (of the dialler's nonce and key),
// signed by `signer`.
class Impostor final : public p2p::v1::Peer::Service {
public:
    Impostor(std::string chainId, crypto::PublicKey claimed, crypto::SecretKey signer)
        : m_chainId(std::move(chainId)), m_claimed(claimed), m_signer(std::move(signer)) {}
    std::function<crypto::Hash256(ByteView diallerNonce, const crypto::PublicKey& dialler)> digest;
    std::atomic<int> proofsSent{0};

    grpc::Status Connect(
        grpc::ServerContext*,
        grpc::ServerReaderWriter<p2p::v1::PeerMessage, p2p::v1::PeerMessage>* stream) override {
        p2p::v1::PeerMessage m;
        if (!stream->Read(&m) || !m.has_hello())
            return {grpc::StatusCode::INVALID_ARGUMENT, "expected a hello"};
        const std::string diallerNonce = m.hello().nonce();
        auto dialler = crypto::PublicKey::fromBytes(asBytes(m.hello().validator_public_key()));
        if (!dialler) return {grpc::StatusCode::INVALID_ARGUMENT, "bad key"};
        p2p::v1::PeerMessage reply;
        reply.mutable_hello()->set_chain_id(m_chainId);
        reply.mutable_hello()->set_validator_public_key(toStdString(m_claimed.bytes()));
        reply.mutable_hello()->set_nonce(toStdString(crypto::randomArray<32>()));
        if (!stream->Write(reply) || !stream->Read(&m) || !m.has_auth()) return grpc::Status::OK;
        p2p::v1::PeerMessage auth;
        auth.mutable_auth()->set_signature(
            toStdString(crypto::sign(m_signer, digest(asBytes(diallerNonce), *dialler)).bytes()));
        ++proofsSent;
        if (!stream->Write(auth)) return grpc::Status::OK;
        while (stream->Read(&m)) {
        }
        return grpc::Status::OK;
    }

private:
    std::string m_chainId;
    crypto::PublicKey m_claimed;
    crypto::SecretKey m_signer;
};

// Mallory: a consortium member with a TLS certificate of her own from the
// chain's CA, and the digests of it and of validators 0's and 1's.
struct Mallory {
    p2p::PemPair tls;
    crypto::Hash256 cert;
    crypto::Hash256 cert0;
    crypto::Hash256 cert1;

    static std::optional<Mallory> make(const Devnet& net) {
        auto tls = p2p::issueNodeCertificate(
            {readText(net.dir() + "/ca.key"), readText(net.dir() + "/ca.pem")}, "mallory");
        if (!tls) return std::nullopt;
        auto cert = p2p::certificateDigest(tls->certPem);
        auto cert0 = p2p::certificateDigest(readText(net.home(0) + "/config/node.pem"));
        auto cert1 = p2p::certificateDigest(readText(net.home(1) + "/config/node.pem"));
        if (!cert || !cert0 || !cert1) return std::nullopt;
        return Mallory{*tls, *cert, *cert0, *cert1};
    }

    // A peer stub on validator i's p2p port, over TLS with her certificate.
    std::unique_ptr<p2p::v1::Peer::Stub> dial(const Devnet& net, int i) const {
        grpc::SslCredentialsOptions opts;
        opts.pem_root_certs = readText(net.dir() + "/ca.pem");
        opts.pem_private_key = tls.keyPem;
        opts.pem_cert_chain = tls.certPem;
        grpc::ChannelArguments args;
        args.SetSslTargetNameOverride(p2p::kTlsServerName);
        return p2p::v1::Peer::NewStub(
            grpc::CreateCustomChannel(net.p2p(i), grpc::SslCredentials(opts), args));
    }
};

int countInFile(const QString& path, const QByteArray& needle) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return 0;
    return static_cast<int>(f.readAll().count(needle));
}

std::vector<std::pair<crypto::Hash256, std::uint64_t>> load(const Devnet& net, int validators,
                                                            std::chrono::milliseconds duration,
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

    // Links prove validator keys, bound to the link: an unknown key, a proof
    // relayed from another link and a proof made through a man in the middle
    // (a consortium member with its own certificate from the chain's CA) are
    // refused; the same key proven for this link is accepted, and the
    // acceptor's own proof verifies (so the refusals are the binding's doing).
    void peerLinksRefuseUnknownKeysAndRelayedProofs() {
        Devnet net(4);
        QVERIFY(net.create());
        QVERIFY(net.start(0));
        const std::string chain = net.genesis().chainId;
        const auto m = Mallory::make(net);
        QVERIFY(m);
        auto stub = m->dial(net, 0);
        const auto key0 = net.key(0);
        const auto key1 = net.key(1);
        const auto secret1 = net.secretKey(1);
        const auto key3 = net.key(3);  // Mallory's own validator key
        const auto ourView = [&](ByteView nonce) {
            return p2p::authDigest(chain, nonce, key0, key1, m->cert, m->cert0);
        };

        const auto stranger = crypto::SecretKey::generate();
        auto st = handshake(
            *stub, chain, stranger.publicKey(), stranger, key0,
            [&](ByteView n) {
                return p2p::authDigest(chain, n, stranger.publicKey(), key0, m->cert, m->cert0);
            },
            ourView);
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        QVERIFY2(st.error_message().find("not a validator") != std::string::npos, st.error_message().c_str());

        // Validator 1 dialled Mallory (key 3, certificate M) and signed the
        // nonce Mallory relayed from validator 0.
        st = handshake(
            *stub, chain, key1, secret1, key0,
            [&](ByteView n) { return p2p::authDigest(chain, n, key1, key3, m->cert1, m->cert); }, ourView);
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        QVERIFY2(st.error_message().find("not proven") != std::string::npos, st.error_message().c_str());

        // Validator 1 dialled validator 0's address and reached Mallory,
        // who presented certificate M and relayed the nonce.
        st = handshake(
            *stub, chain, key1, secret1, key0,
            [&](ByteView n) { return p2p::authDigest(chain, n, key1, key0, m->cert1, m->cert); }, ourView);
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);

        // Validator 1's key proven for this very link (whatever certificate
        // carries it): accepted.
        st = handshake(
            *stub, chain, key1, secret1, key0,
            [&](ByteView n) { return p2p::authDigest(chain, n, key1, key0, m->cert, m->cert0); }, ourView);
        QVERIFY2(st.ok(), st.error_message().c_str());
        QVERIFY(countInFile(net.logPath(0), "failed to prove validator key") >= 2);
    }

    // The dialling side: validator 0 dials validator 1's address and reaches
    // Mallory (her own CA-issued certificate), who answers as validator 1
    // with the proof validator 1 would give Mallory herself when she dials
    // it (acceptor's certificate: validator 1's; dialler's: hers). Refused,
    // and no link comes up. The proof made for this link is accepted (the
    // positive control).
    void diallerRefusesAProofMadeForAnotherLink() {
        Devnet net(4);
        QVERIFY(net.create());
        const std::string chain = net.genesis().chainId;
        const auto m = Mallory::make(net);
        QVERIFY(m);
        const auto key1 = net.key(1);
        Impostor impostor(chain, key1, net.secretKey(1));
        std::atomic<bool> honest{false};
        impostor.digest = [&](ByteView nonce, const crypto::PublicKey& dialler) {
            return honest ? p2p::authDigest(chain, nonce, key1, dialler, m->cert0, m->cert)
                          : p2p::authDigest(chain, nonce, key1, dialler, m->cert, m->cert1);
        };
        grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
        opts.pem_root_certs = readText(net.dir() + "/ca.pem");
        opts.pem_key_cert_pairs.push_back({m->tls.keyPem, m->tls.certPem});
        grpc::ServerBuilder builder;
        int port = 0;
        builder.AddListeningPort(net.p2p(1), grpc::SslServerCredentials(opts), &port);
        builder.RegisterService(&impostor);
        auto server = builder.BuildAndStart();
        QVERIFY(server && port != 0);

        QVERIFY(net.start(0));
        const QByteArray linked = QByteArray("outbound link to ") + net.p2p(1).c_str();
        QTRY_VERIFY_WITH_TIMEOUT(countInFile(net.logPath(0), "failed to prove its validator key") >= 1,
                                 20000);
        QVERIFY(impostor.proofsSent.load() >= 1);
        QCOMPARE(countInFile(net.logPath(0), linked), 0);
        honest = true;
        QTRY_VERIFY_WITH_TIMEOUT(countInFile(net.logPath(0), linked) >= 1, 20000);
        net.kill(0);
        server->Shutdown(std::chrono::system_clock::now() + 1s);
    }

    // A byzantine validator (Mallory holds validator 3's key and a
    // certificate of her own from the chain's CA) links to validator 0 and
    // sends votes for the height it is at that name validator 1 but carry
    // her signature. Validator 0 ends the link with PERMISSION_DENIED and
    // refuses the key's links for a minute, before checking any proof; the
    // chain goes on (validators 0, 1 and 2 hold 3/4 of the power).
    void aLinkThatForgesVotesIsRefused() {
        Devnet net(4);
        QVERIFY(net.create());
        for (int i = 0; i < 4; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 60000);
        const std::string chain = net.genesis().chainId;
        const auto m = Mallory::make(net);
        QVERIFY(m);
        auto stub = m->dial(net, 0);
        const auto key0 = net.key(0);
        const auto key3 = net.key(3);
        const auto secret3 = net.secretKey(3);
        const auto proof = [&](ByteView n) {
            return p2p::authDigest(chain, n, key3, key0, m->cert, m->cert0);
        };

        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + 30s);
        auto stream = stub->Connect(&ctx);
        p2p::v1::PeerMessage reply;
        QVERIFY(linkAs(*stream, chain, key3, secret3, crypto::randomArray<32>(), proof,
                       reply));  // linked as validator 3

        // Forged votes for the height validator 0 is at (and the next), until
        // the stream is closed.
        int sent = 0;
        const auto end = std::chrono::steady_clock::now() + 20s;
        while (std::chrono::steady_clock::now() < end) {
            const std::uint64_t next = net.height(0) + 1;
            bool written = true;
            for (std::uint64_t h : {next, next + 1}) {
                consensus::Vote v;
                v.type = consensus::VoteType::Prevote;
                v.height = h;
                v.round = 30;
                auto forged = consensus::signVote(chain, secret3, v);
                forged.validator = net.key(1);  // validator 1's name, Mallory's signature
                p2p::v1::PeerMessage vm;
                vm.set_vote(toStdString(forged.encode()));
                written = written && stream->Write(vm);
                ++sent;
            }
            if (!written) break;
            std::this_thread::sleep_for(200ms);
        }
        const grpc::Status closed = stream->Finish();
        QCOMPARE(closed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        QVERIFY2(closed.error_message().find("unauthenticated message") != std::string::npos,
                 closed.error_message().c_str());
        QVERIFY(countInFile(net.logPath(0), "delivered an unauthenticated message") >= 1);

        // A new link under the key is refused before its proof is checked.
        const auto st = handshake(*stub, chain, key3, secret3, key0, proof, [&](ByteView n) {
            return p2p::authDigest(chain, n, key0, key3, m->cert, m->cert0);
        });
        QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        QVERIFY2(st.error_message().find("is refused for") != std::string::npos, st.error_message().c_str());

        const std::uint64_t at = net.minHeight({3});
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight({3}) >= at + 2, 30000);  // the chain goes on
        qInfo("%d forged votes sent before the link was closed; chain at %llu", sent,
              static_cast<unsigned long long>(net.minHeight({3})));
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

    void killedValidatorRestartsAndSyncsWithin20Seconds_data() { sizes(); }
    void killedValidatorRestartsAndSyncsWithin20Seconds() {
        QFETCH(int, n);
        Devnet net(n);
        QVERIFY(net.create());
        for (int i = 0; i < n; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 60000);
        // The proposer of the next height (equal powers: round robin in key order).
        const int victim = net.proposerOf(net.height(0) + 1);
        net.kill(victim);  // SIGKILL
        const std::uint64_t atKill = net.minHeight({victim});
        auto acks = load(net, n, 3s, {victim});
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight({victim}) >= atKill + 3,
                                 60000);  // the chain goes on without it
        QVERIFY(net.start(victim));
        const std::uint64_t target = net.minHeight({victim});
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(net.height(victim) >= target, 20000);
        qInfo("n=%d: killed validator %d (proposer of height %llu), back in sync (height %llu) after %lld ms",
              n, victim, static_cast<unsigned long long>(atKill + 1), static_cast<unsigned long long>(target),
              static_cast<long long>(t.elapsed()));
        net.checkInvariants(acks);
    }

    // Scenario 3: one validator paused for 10 s. The others move on (rounds
    // whose proposer it is time out), and it catches up after SIGCONT.
    void pausedValidatorCatchesUp_data() { sizes(); }
    void pausedValidatorCatchesUp() {
        QFETCH(int, n);
        Devnet net(n);
        QVERIFY(net.create());
        for (int i = 0; i < n; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 60000);
        net.signal(1, SIGSTOP);
        const std::uint64_t paused = net.minHeight({1});
        QTest::qWait(10000);
        const std::uint64_t during = net.minHeight({1});
        QVERIFY2(during >= paused + n,
                 qPrintable(QString("only %1 blocks in 10 s without validator 1").arg(during - paused)));
        net.signal(1, SIGCONT);
        const std::uint64_t target = net.minHeight({1});
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(net.height(1) >= target, 20000);
        net.checkInvariants({});
        qInfo("n=%d: %llu blocks while one validator was paused 10 s; it caught up in %lld ms", n,
              static_cast<unsigned long long>(during - paused), static_cast<long long>(t.elapsed()));
    }

    // Scenario 8: under load, one governance change adds a validator that was
    // following the chain and removes another. The chain does not halt, and
    // the set at each height is what the transaction said: the old set up to
    // activation - 1, the new one from activation on (header hashes, and
    // commits signed by it), the removed validator signing nothing after.
    void governanceAddsAndRemovesUnderLoad_data() { sizes(); }
    void governanceAddsAndRemovesUnderLoad() {
        QFETCH(int, n);
        const int joining = n;  // the standby home
        const int leaving = n - 1;
        Devnet net(n, 1);
        QVERIFY(net.create());
        for (int i = 0; i <= n; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 30000);
        {
            client::NodeClient c(net.rpc(joining), 5s);
            auto st = c.status();
            QVERIFY(st && !st->is_validator());
        }

        std::vector<std::pair<crypto::Hash256, std::uint64_t>> acks;
        std::jthread loader([&] { acks = load(net, 3, 8s); });  // joined on every way out

        const ValidatorSet base = net.genesis().validators;
        consensus::GovernancePayload gov;
        gov.proposal.baseSetHash = base.hash();
        gov.proposal.nonce = crypto::randomU64();
        gov.proposal.description = "e2e: validator-" + std::to_string(joining) + " joins, validator-" +
                                   std::to_string(leaving) + " leaves";
        gov.proposal.changes.push_back(
            {consensus::ChangeOp::Add, net.key(joining), 10, "validator-" + std::to_string(joining), {}});
        gov.proposal.changes.push_back({consensus::ChangeOp::Remove, net.key(leaving), 0, "", {}});
        // Equal powers: the smallest number of approvals above 2/3.
        for (int i = 0; i < 2 * n / 3 + 1; ++i) gov.approve(net.genesis().chainId, net.secretKey(i));
        const auto expiry = static_cast<std::uint64_t>(std::time(nullptr)) + 600;
        std::this_thread::sleep_for(1s);  // under load
        client::NodeClient c0(net.rpc(0), 30s);
        auto ack = c0.submitAndWait(
            consensus::makeGovernanceTx(net.genesis().chainId, crypto::SecretKey::generate(), gov, expiry)
                .encode());
        QVERIFY2(ack, ack.status().toString().c_str());
        const std::uint64_t activation = ack->height + ValidatorSchedule::kActivationDelay;
        loader.join();
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= activation + 6, 60000);

        auto next = consensus::applyChanges(base, gov.proposal.changes);
        QVERIFY(next);
        net.checkInvariants(acks);
        client::NodeClient c(net.rpc(joining), 5s);
        auto joinedStatus = c.status();
        QVERIFY(joinedStatus && joinedStatus->is_validator());
        const crypto::PublicKey removed = net.key(leaving);
        const crypto::PublicKey joined = net.key(joining);
        const std::uint64_t top = net.minHeight();
        bool joinedSigned = false;
        std::uint64_t previousTime = 0;
        std::uint64_t longestGapMs = 0;
        for (std::uint64_t h = 1; h <= top; ++h) {
            auto b = c.block(h);
            QVERIFY(b);
            auto header = BlockHeader::decode(asBytes(b->signed_header().header()));
            auto commit = Commit::decode(asBytes(b->signed_header().commit()));
            QVERIFY(header && commit);
            const ValidatorSet& expected = h < activation ? base : *next;
            QVERIFY2(header->validatorSetHash == expected.hash(),
                     qPrintable(QString("set of height %1").arg(h)));
            QVERIFY(header->nextValidatorSetHash == (h + 1 < activation ? base : *next).hash());
            for (const auto& sig : commit->signatures) {
                if (h >= activation) QVERIFY2(sig.validator != removed, "the removed validator signed");
                if (sig.validator == joined) {
                    QVERIFY2(h >= activation, "the added validator signed before activation");
                    joinedSigned = true;
                }
            }
            if (previousTime != 0 && h + 3 >= activation && h <= activation + 3) {
                longestGapMs = std::max(longestGapMs, header->timeMs - previousTime);
            }
            previousTime = header->timeMs;
        }
        QVERIFY2(joinedSigned, "the added validator never signed");
        QVERIFY2(longestGapMs < 5000,
                 qPrintable(QString("the chain paused %1 ms around the change").arg(longestGapMs)));
        // The removed validator is not needed any more: the chain goes on without it.
        net.kill(leaving);
        const std::uint64_t at = net.minHeight({leaving});
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight({leaving}) >= at + 3, 30000);
        qInfo(
            "set changed at height %llu (committed at %llu) under load of %zu notarisations; longest gap "
            "around it "
            "%llu ms; chain at %llu without the removed validator",
            static_cast<unsigned long long>(activation), static_cast<unsigned long long>(ack->height),
            acks.size(), static_cast<unsigned long long>(longestGapMs),
            static_cast<unsigned long long>(net.minHeight({leaving})));
    }

    void walCutMidRecordRestartsSafely_data() { sizes(); }
    void walCutMidRecordRestartsSafely() {
        QFETCH(int, n);
        Devnet net(n);
        QVERIFY(net.create());
        for (int i = 0; i < n; ++i) QVERIFY(net.start(i));
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
        for (int i = 0; i < n; ++i) QCOMPARE(countInFile(net.logPath(i), "signed two different votes"), 0);
    }

    void duplicateValidatorCannotBreakSafety_data() { sizes(); }
    void duplicateValidatorCannotBreakSafety() {
        QFETCH(int, n);
        const int twin = n - 1;  // 1/n of the power: less than 1/3
        Devnet net(n);
        QVERIFY(net.create());
        // A second process with the twin's key: its own store and ports.
        const QString dup = net.dir() + "/duplicate-of-" + QString::number(twin);
        QVERIFY(QDir().mkpath(dup + "/config"));
        QVERIFY(QDir().mkpath(dup + "/data"));
        for (const char* f :
             {"validator.key", "store.key", "genesis.json", "ca.pem", "node.pem", "node.key", "node.conf"}) {
            QVERIFY(QFile::copy(net.home(twin) + "/config/" + f, dup + "/config/" + f));
        }
        QFile::setPermissions(dup + "/config/validator.key",
                              QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QFile::setPermissions(dup + "/config/store.key", QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QFile::setPermissions(dup + "/config/node.key", QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        {
            QFile conf(dup + "/config/node.conf");
            QVERIFY(conf.open(QIODevice::ReadWrite));
            QByteArray text = conf.readAll();
            const int rpc = net.basePort() + 2 * twin;
            text.replace(QByteArray("127.0.0.1:") + QByteArray::number(rpc) + "\n",
                         QByteArray("127.0.0.1:") + QByteArray::number(rpc + 200) + "\n");
            text.replace(QByteArray("p2p_listen = 127.0.0.1:") + QByteArray::number(rpc + 1),
                         QByteArray("p2p_listen = 127.0.0.1:") + QByteArray::number(rpc + 201));
            // The twin does not wait for proposals: it prevotes nil where the
            // original prevotes the block, so the two really conflict.
            text.replace("timeout_propose_ms = 600", "timeout_propose_ms = 1");
            conf.resize(0);
            conf.write(text);
        }
        for (int i = 0; i < n; ++i) QVERIFY(net.start(i));
        // The twin starts once the chain runs. No peer dials it (they dial the
        // original), so it hears nothing: it follows by probing for blocks,
        // and votes at each height it reaches, late or not.
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 30000);
        QVERIFY(net.startExtra(dup, net.dir() + "/duplicate.log"));
        auto acks = load(net, 4, 5s);
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 6, 30000);
        int equivocations = 0;
        const auto detected = [&] {
            equivocations = 0;
            for (int i = 0; i < twin; ++i)
                equivocations += countInFile(net.logPath(i), "signed two different votes");
            return equivocations;
        };
        QTRY_VERIFY2_WITH_TIMEOUT(detected() > 0, "the other validators saw no conflicting votes", 30000);
        const crypto::PublicKey accused = net.key(twin);
        // Detected equivocations become evidence on the ledger, naming the validator.
        int onChain = 0;
        QTRY_VERIFY_WITH_TIMEOUT((onChain = evidenceOnChainAgainst(net, accused)) > 0, 20000);
        net.checkInvariants(acks);  // no two different blocks at any height, on any honest node
        qInfo(
            "duplicate validator: chain at %llu with no conflicting commits; %d equivocation(s) detected by "
            "the "
            "other validators, %d evidence record(s) committed naming it",
            static_cast<unsigned long long>(net.minHeight()), equivocations, onChain);
    }

    void partitionsHaltOrContinueThenHeal_data() { sizes(); }
    void partitionsHaltOrContinueThenHeal() {
        QFETCH(int, n);
        Devnet net(n);
        QVERIFY(net.create());
        for (int i = 0; i < n; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 60000);
        // Halves: neither side has more than 2/3 of the power; the chain halts.
        std::set<int> low;
        std::set<int> high;
        for (int i = 0; i < n; ++i) (i < n / 2 ? low : high).insert(i);
        net.partition({low, high});
        QTest::qWait(1500);
        const std::uint64_t split = net.minHeight();
        std::uint64_t highest = 0;
        for (int i = 0; i < n; ++i) highest = std::max(highest, net.height(i));
        QTest::qWait(3000);
        std::uint64_t after = 0;
        for (int i = 0; i < n; ++i) after = std::max(after, net.height(i));
        QVERIFY2(after <= highest + 1, "a half without a quorum kept committing");
        net.heal();
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= split + 3, 60000);  // liveness returns
        // One node isolated: the others continue, it does not.
        const int lone = n - 1;
        std::set<int> rest;
        for (int i = 0; i < lone; ++i) rest.insert(i);
        net.partition({{lone}, rest});
        QTest::qWait(1000);
        const std::uint64_t isolatedAt = net.height(lone);
        const std::uint64_t othersAt = net.minHeight({lone});
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight({lone}) >= othersAt + 3, 60000);
        QVERIFY(net.height(lone) <= isolatedAt + 1);
        net.heal();
        const std::uint64_t target = net.minHeight({lone});
        QTRY_VERIFY_WITH_TIMEOUT(net.height(lone) >= target, 20000);
        net.checkInvariants({});
        qInfo(
            "n=%d: halves stalled at %llu and resumed; an isolated validator fell behind at %llu and caught "
            "up to %llu",
            n, static_cast<unsigned long long>(highest), static_cast<unsigned long long>(isolatedAt),
            static_cast<unsigned long long>(net.height(lone)));
    }

    // Scenario 4: f + 1 paused (2 of 4, 3 of 7): no quorum, the chain halts
    // without any safety violation; resumed, it goes on without restarts.
    void haltsWithoutQuorumAndResumes_data() { sizes(); }
    void haltsWithoutQuorumAndResumes() {
        QFETCH(int, n);
        const int f = (n - 1) / 3;
        Devnet net(n);
        QVERIFY(net.create());
        for (int i = 0; i < n; ++i) QVERIFY(net.start(i));
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= 2, 60000);
        std::set<int> stopped;
        for (int i = n - f - 1; i < n; ++i) stopped.insert(i);
        for (int i : stopped) net.signal(i, SIGSTOP);
        auto maxRunning = [&] {
            std::uint64_t m = 0;
            for (int i = 0; i < n; ++i) {
                if (stopped.count(i) == 0) m = std::max(m, net.height(i));
            }
            return m;
        };
        QTest::qWait(1500);
        const std::uint64_t stalled = maxRunning();
        QTest::qWait(3000);
        QVERIFY2(maxRunning() <= stalled + 1, "the chain advanced without a quorum");
        for (int i : stopped) net.signal(i, SIGCONT);
        QTRY_VERIFY_WITH_TIMEOUT(net.minHeight() >= stalled + 3, 60000);
        net.checkInvariants({});
        for (int i = 0; i < n; ++i) QVERIFY(net.running(i));
        qInfo("n=%d: %d paused, halted at %llu, resumed to %llu", n, f + 1,
              static_cast<unsigned long long>(stalled), static_cast<unsigned long long>(net.minHeight()));
    }

private:
    static void sizes() {
        QTest::addColumn<int>("n");
        QTest::newRow("n=4") << 4;
        QTest::newRow("n=7") << 7;
    }
};

QTEST_GUILESS_MAIN(TestNetwork)
#include "test_network.moc"
