// PeerNetwork: validator links over gRPC with mutual TLS, implementing the
// consensus transport (node/consensus_driver.h). Every validator dials
// every configured peer (one outbound stream each) and sends its consensus
// messages and client transactions on those; inbound streams only receive.
// On each stream both sides prove their validator key by signing the other
// side's fresh nonce, bound to both keys and both TLS certificates
// (doc/spec/p2p.md); a key neither configured as a peer
// nor in any of the chain's validator sets (genesis or governance), or not
// the one configured for that address, is refused. Block sync asks the
// peers' GetBlock in turn, each fetch starting at the next peer, so one peer
// serving bad blocks cannot stall it.
//
// Transactions are gossiped once: a transaction a client submitted here is
// sent to each peer; one received from a peer is admitted, not re-sent
// (validators are fully connected).
//
// A validator whose link delivers a message the consensus driver refuses as
// unauthenticated (node/consensus_driver.h: honest validators pass on only
// messages they verified) is refused for 60 s: its inbound stream ends with
// PERMISSION_DENIED at its next message, and it cannot link again until
// then. Outbound streams to it are kept (what it sends is the problem).
//
// Testing: with FIDES_P2P_FAULTS=<file>, the links to the peers whose keys
// the file lists (hex, one per line; re-read every 100 ms) drop everything
// both ways: a fault-injecting transport for partition tests.
//
// Threads: gRPC's server threads run inbound streams; one sender thread per
// peer owns its outbound stream and a bounded queue (oldest messages are
// dropped when full: consensus gossip sends them again).
#pragma once

#include "crypto/schnorr.h"
#include "node/consensus_driver.h"
#include "p2p/tls_certs.h"
#include "primitives/genesis.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Server;
}  // namespace grpc

namespace fides::p2p {

struct PeerAddress {
    crypto::PublicKey key;
    std::string address;  // host:port
};

struct P2pConfig {
    std::string listen;  // host:port; port 0 picks a free one
    std::vector<PeerAddress> peers;
    PemPair tls;  // the private key is wiped once gRPC's credentials are built from it
    std::string caPem;
    std::size_t maxQueuedMessages = 20'000;
};

// What each side of a stream signs to prove its validator key (doc/spec/
// p2p.md, "Handshake"): the other side's fresh nonce, the signer's and the
// recipient's validator keys, and the digests (certificateDigest) of the
// dialler's and the acceptor's TLS certificates as the signer saw them. A
// proof made on one link is thereby worthless on any other: a consortium
// member relaying it, or sitting between two validators with its own
// CA-issued certificate, presents a different recipient or certificate.
crypto::Hash256 authDigest(const std::string& chainId, ByteView peerNonce, const crypto::PublicKey& signer,
                           const crypto::PublicKey& recipient, const crypto::Hash256& diallerCertificate,
                           const crypto::Hash256& acceptorCertificate);

// Parses "hexkey@host:port,hexkey@host:port".
Result<std::vector<PeerAddress>> parsePeers(const std::string& list);

class PeerNetwork final : public node::ConsensusTransport {
public:
    static Result<std::unique_ptr<PeerNetwork>> start(P2pConfig config, const Genesis& genesis,
                                                      crypto::SecretKey validatorKey, node::Node& node);
    ~PeerNetwork() override;
    void stop();

    // Where inbound consensus messages go (set before traffic matters;
    // messages arriving earlier are dropped and gossiped again later).
    void attach(node::ConsensusDriver* driver);
    int port() const { return m_port; }
    std::size_t connectedPeers() const;

    void broadcast(const consensus::SignedProposal& proposal) override;
    void broadcast(const consensus::SignedVote& vote) override;
    std::optional<Block> fetchBlock(std::uint64_t height) override;
    std::optional<Block> probeBlock(std::uint64_t height) override;
    // Asks the connected peers in turn (1 s each) until all are found.
    std::vector<Bytes> fetchTransactions(const std::vector<crypto::Hash256>& hashes) override;
    // Refuses the validator's link for a minute (see the comment above).
    void misbehaved(const crypto::PublicKey& peer, const Status& why) override;
    // Transactions a client submitted to this node: to every peer, once.
    void broadcastTransactions(const std::vector<ByteView>& encoded);

    class Impl;

private:
    PeerNetwork() = default;
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

}  // namespace fides::p2p
