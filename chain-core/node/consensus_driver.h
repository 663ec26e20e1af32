// ConsensusDriver: runs a validator's consensus (consensus/core.h) against
// its node. Through the engine's hooks the node's buildBlock is the value a
// proposer offers (the value's data is the encoded block, its id the block
// hash) and validateBlock is the check every validator makes before it
// prevotes; a decision becomes commitBlock with the decided commit (the
// precommits' real signatures). After a commit the next height starts after
// `commitPause`, or `emptyBlockPause` when no transaction is waiting.
//
// Messages leave and arrive through a ConsensusTransport: gRPC peer streams
// with mutual TLS in the daemon (services/p2p), an in-memory network in
// tests. Block sync: a validator that falls behind (restart, pause,
// partition) fetches the next committed block from a peer, checks its
// commit against the validator set, validates and commits it. It knows it
// is behind when validators with more than a third of the power have signed
// messages two or more heights ahead (so at least one honest validator is
// there: one validator's claim alone makes it fetch nothing), or, hearing
// nothing ahead, by probing a peer after a stall.
//
// A peer link is answerable for what it delivers: honest validators pass on
// only messages they verified, for heights whose validator sets both sides
// know, so a message the core refuses as unauthenticated (a signature that
// does not verify, a signer outside the set) is reported to the transport as
// the link's misbehaviour (the daemon refuses that validator's link for a
// while). A link may have at most kMaxQueuedPerLink messages and
// kMaxQueuedBytesPerLink bytes waiting; beyond that deliver() waits, which
// holds back that link alone (gRPC flow control does the rest).
//
// Threads: one event thread owns the core and the timers; deliver() may be
// called from any thread (it queues, and waits only for its link's room).
#pragma once

#include "consensus/core.h"
#include "node/node.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace fides::node {

class ConsensusTransport {
public:
    virtual ~ConsensusTransport() = default;
    virtual void broadcast(const consensus::SignedProposal& proposal) = 0;
    virtual void broadcast(const consensus::SignedVote& vote) = 0;
    // A committed block (with its commit) at `height` from some peer.
    virtual std::optional<Block> fetchBlock(std::uint64_t height) = 0;
    // The same from one peer, giving up soon: asked by a node that has
    // heard nothing from ahead for a while (it cannot know whether the
    // block exists, and must not block its consensus thread for long).
    virtual std::optional<Block> probeBlock(std::uint64_t height) { return fetchBlock(height); }
    // Transactions by hash from the peers' mempools, for a compact proposal
    // that names transactions this node does not hold: whatever the peers
    // have, in any order. Unchecked: the caller checks every hash.
    virtual std::vector<Bytes> fetchTransactions(const std::vector<crypto::Hash256>& hashes) {
        (void)hashes;
        return {};
    }
    // The link of validator `peer` delivered a message that proves it
    // misbehaves (`why` says what the message was and why it was refused).
    // Called on the event thread: must not block.
    virtual void misbehaved(const crypto::PublicKey& peer, const Status& why) {
        (void)peer;
        (void)why;
    }
};

struct DriverConfig {
    std::string walDir;
    consensus::TimeoutConfig timeouts;
    // Pause after a commit before the next height: short while transactions
    // wait (latency), longer when the mempool is empty (fewer empty blocks).
    std::chrono::milliseconds commitPause{50};
    std::chrono::milliseconds emptyBlockPause{120'000};
    std::chrono::milliseconds gossipInterval{500};
};

class ConsensusDriver {
public:
    static Result<std::unique_ptr<ConsensusDriver>> create(Node& node, crypto::SecretKey key,
                                                           DriverConfig config,
                                                           ConsensusTransport& transport);
    ~ConsensusDriver();

    Status start();
    void stop();
    // `from`: the validator whose link brought the message (nullopt: not a
    // peer link, e.g. a test). Waits while that link's queue is full; returns
    // at once (dropping the message) once the driver stops (or fails). So a
    // transport calls it with `from` only from threads of its own (stream
    // readers), never from another driver's event thread, and stops the
    // driver before it waits for those threads.
    void deliver(const consensus::SignedProposal& proposal,
                 std::optional<crypto::PublicKey> from = std::nullopt);
    void deliver(const consensus::SignedVote& vote, std::optional<crypto::PublicKey> from = std::nullopt);
    static constexpr std::size_t kMaxQueuedPerLink = 256;
    static constexpr std::size_t kMaxQueuedBytesPerLink = 64u << 20;
    // Non-OK once the driver stopped on an error it cannot recover from.
    Status health() const;
    std::size_t equivocationsSeen() const { return m_evidence.load(); }

private:
    using Clock = std::chrono::steady_clock;
    ConsensusDriver(Node& node, crypto::SecretKey key, DriverConfig config, ConsensusTransport& transport);
    void loop();
    Status apply(consensus::CoreOutput out);
    Status commitDecision(const consensus::CoreDecision& d);
    Status trySync();
    consensus::Value getValue(std::uint64_t height);
    bool valid(std::uint64_t height, const consensus::Value& value);
    void fail(const Status& s);

    Node& m_node;
    std::optional<crypto::SecretKey> m_key;
    DriverConfig m_config;
    ConsensusTransport& m_transport;

    mutable std::mutex m_mutex;      // guards the inbox, m_queued, m_stop and m_failure
    std::condition_variable m_cv;    // the event thread waits here for messages
    std::condition_variable m_room;  // deliver() waits here for its link's room
    struct Incoming {
        std::optional<consensus::SignedProposal> proposal;
        std::optional<consensus::SignedVote> vote;
        std::optional<crypto::PublicKey> from;
    };
    void enqueue(Incoming in, std::size_t bytes);
    // Messages and bytes each link has waiting in the inbox (guarded by m_mutex).
    std::map<crypto::PublicKey, std::pair<std::size_t, std::size_t>> m_queued;
    // Records the height a validly signed message from a member of the next
    // height's set claims, if two or more ahead of the stored height, and
    // updates m_behindTo.
    void noteClaimedHeight(const Incoming& in);
    std::deque<Incoming> m_inbox;
    bool m_stop = false;
    Status m_failure;
    std::thread m_thread;
    std::atomic<std::size_t> m_evidence{0};
    crypto::SecretKey m_evidenceSigner = crypto::SecretKey::generate();

    // Event thread only.
    std::unique_ptr<consensus::ConsensusCore> m_core;
    std::multimap<Clock::time_point, consensus::TimeoutEvent> m_timers;
    std::map<consensus::ValueId, ExecutedBlock> m_executed;  // blocks built or validated at this height
    std::optional<Clock::time_point> m_nextHeightAt;
    Clock::time_point m_committedAt;
    // The highest height each validator signed a message for, where two or
    // more above the stored height (checked against the set of the next
    // height; pruned as this node advances).
    std::map<crypto::PublicKey, std::uint64_t> m_claimedAhead;
    // When a link last brought a claim in a signer's name that failed its
    // check: a claim is checked against the next height's set, which an
    // honest validator far ahead may no longer share, so a failed one proves
    // nothing; one failing check per link, signer and gossip interval bounds
    // what forged claims cost (the link's claims naming others still count).
    // Only members of the next set are checked, so at most links × members
    // entries.
    std::map<std::pair<crypto::PublicKey, crypto::PublicKey>, Clock::time_point> m_claimFailedAt;
    // The highest height that validators with more than a third of the power
    // claim (0: none): at least one honest validator has reached it.
    std::uint64_t m_behindTo = 0;
    std::uint64_t m_stalledHeight = 0;  // the stored height when it last changed, and when
    Clock::time_point m_stalledSince;
    Clock::time_point m_nextProbe;
    Clock::time_point m_nextGossip;
    // The core's progress at the last gossip tick: held messages are sent
    // again only after a whole interval without progress (a lost message
    // may be what the network waits for); while heights advance, nothing is
    // re-sent (proposals are whole blocks).
    decltype(std::declval<consensus::ConsensusCore>().progressMark()) m_lastMark{};
};

// The value a block is proposed as: id = block hash, data = the compact form,
// the header and the transactions' hashes (doc/spec/consensus.md §2);
// `txHashes[i]` is the hash of block.transactions[i].
consensus::Value blockValue(const Block& block, const std::vector<crypto::Hash256>& txHashes);
// The block a value names. The full form (header and body; earlier releases
// proposed it, and their logs may hold it) decodes alone. The compact form
// takes the transactions from `node`'s mempool and asks `transport` for the
// ones it lacks; each one fetched must hash to the name it was fetched for.
// INVALID_ARGUMENT for a malformed value or a mismatched transaction,
// UNAVAILABLE if some transactions cannot be had.
struct ValueBlock {
    Block block;
    // Of the compact form: txHashes[i] is the hash of block.transactions[i]
    // (each pooled or fetched transaction was hashed when it came in).
    // Empty for the full form.
    std::vector<crypto::Hash256> txHashes;
};
Result<ValueBlock> blockFromValue(const consensus::Value& value, const Node& node,
                                  ConsensusTransport& transport);

}  // namespace fides::node
