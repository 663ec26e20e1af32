// Node: one validator. Admits transactions into the mempool, forms a block
// when transactions wait (and, if configured, at least every
// emptyBlockInterval), executes it through the applications, updates the
// state tree, signs the commit, stores the block durably, and answers
// queries with proofs against signed headers.
//
// Alone (no consensus) the node is its validator set's only member: the
// commit it signs is a precommit by the sole validator. A height has three
// steps, public so that the consensus layer can drive them: buildBlock
// (proposer), validateBlock (every validator, before prevoting), and
// commitBlock (with the decided commit). The single validator runs build,
// sign, commit.
//
// Built-in applications: the node always runs the evidence application
// (consensus/evidence_app.h) and governance (consensus/governance.h), whose
// committed changes extend the node's ValidatorSchedule: header h names the
// sets of h and h + 1, and a commit is checked against the set of its height.
//
// Threads: the caller's threads (gRPC handlers) call submit() and the query
// functions concurrently; one producer thread forms blocks.
// Locks (acquired in this order): m_commitMutex pairs the state tree with the
// published tip (header + commit): the producer holds it from the tree update
// until the block is durable and published, and queries hold it, so every
// answer pairs a proof with a stored, signed header. m_stateMutex guards the
// tree's structure: exclusive for the producer's short update and for
// proving, shared for admission's existence checks (which therefore do not
// wait while a block is written to disk). m_tipMutex + m_tipChanged wake waiters for new heights.
#pragma once

#include "app/app_set.h"
#include "crypto/schnorr.h"
#include "mempool/mempool.h"
#include "primitives/block.h"
#include "primitives/genesis.h"
#include "primitives/validator_schedule.h"
#include "state/state_tree.h"
#include "storage/block_store.h"
#include "storage/hash_filter.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace fides::node {

struct NodeConfig {
    std::string storePath;
    // What this node proposes; at most limits::kMaxBlockTransactions and
    // limits::kMaxBlockTxBytes, which bound every valid block.
    std::size_t maxBlockTransactions = 10'000;
    std::size_t maxBlockBytes = 16u << 20;
    // 0: no empty blocks. Otherwise a block is formed at least this often.
    std::chrono::milliseconds emptyBlockInterval{0};
    // After the first transaction arrives, wait this long for more to batch
    // (unless a full block is already waiting).
    std::chrono::milliseconds batchWait{5};
    // Transactions may not expire further in the future than this.
    std::chrono::seconds maxTxTtl{24 * 3600};
    // Driven by consensus (node/consensus_driver.h): no block producer of
    // its own, any validator set. Otherwise this node is the only validator.
    bool consensus = false;
    MempoolLimits mempool;
};

struct NodeStatus {
    std::string chainId;
    std::uint64_t height = 0;
    crypto::Hash256 latestBlockHash;
    std::uint64_t latestBlockTimeMs = 0;
    crypto::Hash256 stateRoot;
    crypto::PublicKey validator;
    std::size_t mempoolSize = 0;
    std::size_t mempoolBytes = 0;
    std::size_t validators = 0;  // members of the next height's set
    bool isValidator = false;    // whether this node's key is among them
};

struct SignedHeader {
    BlockHeader header;
    Commit commit;
};

// A block executed against the committed state but not committed: its
// transactions' hashes, the state writes it makes, and (when built from the
// mempool) the candidates it dropped and why.
struct ExecutedBlock {
    Block block;  // header complete (state root included); commit empty
    std::vector<crypto::Hash256> txHashes;
    std::vector<storage::StateWrite> writes;
    std::vector<std::pair<crypto::Hash256, Status>> dropped;
    // A validator set this block schedules (governance), and from when.
    std::optional<std::pair<std::uint64_t, ValidatorSet>> scheduledSet;
    // The state tree with the writes applied (speculative execution); the
    // commit adopts it.
    std::optional<state::StateTree::Version> stateVersion;
};

struct TxWithProof {
    Bytes transaction;
    std::uint64_t height = 0;
    std::uint32_t index = 0;
    std::vector<crypto::Hash256> proof;
    SignedHeader signedHeader;
};

struct StateAnswer {
    std::optional<Bytes> value;
    state::StateProof proof;
    SignedHeader signedHeader;
};

// Several keys proven against one header.
struct StatesAnswer {
    struct Entry {
        std::optional<Bytes> value;
        state::StateProof proof;
    };
    std::vector<Entry> entries;  // in the order of the keys asked
    SignedHeader signedHeader;
};

// A page of an append log (primitives/append_log.h): its head, proven, and
// items [from, from + items.size()), which the head's root covers.
struct LogPage {
    StateAnswer head;        // value: the merkle::Frontier encoding; absent for a log never written
    std::uint64_t size = 0;  // the head's size
    std::uint64_t from = 0;
    std::vector<Bytes> items;
};

class Node {
public:
    using Clock = std::function<std::uint64_t()>;  // unix milliseconds

    static Result<std::unique_ptr<Node>> open(Genesis genesis, crypto::SecretKey validatorKey,
                                              const storage::StoreKey& storeKey, NodeConfig config,
                                              std::vector<std::unique_ptr<app::Application>> apps,
                                              Clock clock = {});
    ~Node();

    void start();
    void stop();
    // Non-OK once the node hit an unrecoverable storage error and stopped.
    Status health() const;

    // Admission: decode, limits, chain id, expiry, replay, signature (once),
    // application check, mempool capacity. Returns the transaction hash.
    Result<crypto::Hash256> submit(ByteView encoded);
    // The same for many transactions (a client's or a peer's batch): each
    // gets the result submit() would give, in order, but the mempool and the
    // tip lock are taken once per batch rather than several times per
    // transaction. A transaction repeated within the batch is admitted once.
    std::vector<Result<crypto::Hash256>> submitBatch(const std::vector<ByteView>& encoded);
    // Waits until the transaction is committed (its location) or was dropped
    // from a block (its error), or the deadline passes (DEADLINE_EXCEEDED).
    Result<storage::TxLocation> waitForCommit(const crypto::Hash256& txHash,
                                              std::chrono::steady_clock::time_point deadline);
    // Waits until the chain reaches `height`; false on deadline or stop.
    bool waitForHeight(std::uint64_t height, std::chrono::steady_clock::time_point deadline);

    // The steps of a height, for the block producer and (next) for
    // consensus. None of the first two changes committed state.
    // Builds the next block from the mempool's front: failing transactions
    // are dropped; the state root is computed speculatively.
    Result<ExecutedBlock> buildBlock(std::uint64_t timeMs);
    // Checks a block proposed for the next height: header fields, tx root,
    // every transaction (decoding, chain, expiry, not yet committed, no
    // duplicates, signature unless already verified in this mempool, and
    // its application's rules: all must succeed), and the state root.
    // INVALID_ARGUMENT / UNAUTHENTICATED / ALREADY_EXISTS say what is wrong.
    // Takes the block by value: callers that are done with it move it in,
    // and its transactions become the executed block's without a copy.
    // `txHashes`, when not empty, are the transactions' hashes as the caller
    // computed them itself from the bytes (txHashes[i] of transactions[i]:
    // the pooled transaction named by it is executed, so hashes a peer sent
    // must never be passed; a count that does not match is
    // INVALID_ARGUMENT); otherwise they are computed here.
    Result<ExecutedBlock> validateBlock(Block block, std::vector<crypto::Hash256> txHashes = {});
    // Makes an executed block final with its commit (which must verify
    // against the validator set): state tree, store (one SQL transaction),
    // published tip, mempool, waiters.
    Status commitBlock(ExecutedBlock executed, const Commit& commit);

    // How long from now until the earliest block time at which an
    // application needs a block even when no transaction waits
    // (Application::nextDeadlineMs), unless the latest block's time already
    // reached it: nullopt for none, zero once it has passed, never more than
    // `cap` (so that a deadline centuries away, or UINT64_MAX, cannot
    // overflow the caller's clock arithmetic). The producer and the consensus
    // driver start a height by then. Call from the thread that commits.
    std::optional<std::chrono::milliseconds> untilDeadline(std::chrono::milliseconds cap) const;

    NodeStatus status() const;
    std::uint64_t height() const { return m_store->height(); }
    std::size_t mempoolSize() const { return m_mempool->size(); }
    const Genesis& genesis() const { return m_genesis; }
    // The validator sets by height (genesis and governance changes).
    const ValidatorSchedule& validatorSchedule() const { return *m_schedule; }
    std::shared_ptr<const ValidatorSchedule> sharedSchedule() const { return m_schedule; }
    // The pooled transactions with these hashes (nullptr where not pooled):
    // what a compact proposal names is looked up here first.
    std::vector<std::shared_ptr<const MempoolEntry>> pooled(
        const std::vector<crypto::Hash256>& hashes) const {
        return m_mempool->find(hashes);
    }
    Result<Block> block(std::uint64_t height) const;
    Result<TxWithProof> transaction(const crypto::Hash256& txHash) const;
    Result<StateAnswer> query(ByteView key) const;
    static constexpr std::size_t kMaxQueryKeys = 1'000;
    // Each key's value or absence, all proven against one signed header.
    // INVALID_ARGUMENT for no keys or more than kMaxQueryKeys.
    Result<StatesAnswer> queryMany(const std::vector<Bytes>& keys) const;
    static constexpr std::size_t kMaxLogPageItems = 10'000;
    static constexpr std::size_t kMaxLogPageBytes = 16u << 20;
    // Items from `from` on of the log at `base`: at most `limit` (capped at
    // kMaxLogPageItems) and about kMaxLogPageBytes, fewer at the log's end.
    // The items are read after the head, outside the commit lock: they never
    // change once written. FAILED_PRECONDITION when `base` holds no log head.
    Result<LogPage> listLog(ByteView base, std::uint64_t from, std::uint32_t limit) const;

private:
    Node() = default;
    class CommittedState;
    void producerLoop();
    Status produceBlock();
    BlockHeader nextHeaderTemplate(std::uint64_t timeMs) const;
    // Tx count and roots. Speculative: the tree is left unchanged. Applied
    // (caller holds m_commitMutex and commits right after): the writes stay.
    enum class TreeMode { Speculative, Applied };
    Status finishExecution(ExecutedBlock& executed, std::vector<storage::StateWrite> writes, TreeMode mode);
    Result<ExecutedBlock> buildBlock(std::uint64_t timeMs, TreeMode mode);
    void recordDrops(const ExecutedBlock& executed);
    // Tree (unless already applied), store, tip; caller holds m_commitMutex.
    Status commitLocked(ExecutedBlock& executed, TreeMode mode);
    void afterCommit(const ExecutedBlock& executed);
    // The validator set a governance write in `executed` schedules, if any.
    Status collectScheduledSet(ExecutedBlock& executed) const;
    app::BlockContext blockContext(const BlockHeader& h) const {
        return {h.height, h.timeMs, m_schedule.get()};
    }
    // Stops the node for good (queries and admission answer UNAVAILABLE).
    void markFailed(const Status& failure);
    std::uint64_t nowMs() const { return m_clock(); }

    Genesis m_genesis;
    std::optional<crypto::SecretKey> m_key;
    crypto::PublicKey m_publicKey;
    NodeConfig m_config;
    Clock m_clock;
    std::unique_ptr<storage::BlockStore> m_store;
    std::unique_ptr<CommittedState> m_committed;
    std::shared_ptr<ValidatorSchedule> m_schedule;  // before m_apps: the built-in ones hold it
    app::AppSet m_apps;
    std::unique_ptr<Mempool> m_mempool;

    mutable std::mutex m_commitMutex;
    mutable std::shared_mutex m_stateMutex;
    state::StateTree m_tree;  // guarded by m_stateMutex (and m_commitMutex for tip pairing)
    // Every state key hash that any executed block wrote (a superset of the
    // tree's keys): "absent" without walking the tree, for the common case
    // of a new key. Filled before the tree changes; its own thread-safety.
    storage::HashFilter m_writtenKeys;
    std::optional<SignedHeader> m_tip;  // guarded by m_commitMutex

    mutable std::mutex m_tipMutex;
    std::condition_variable m_tipChanged;
    crypto::Hash256Map<Status> m_dropped;        // guarded by m_tipMutex
    std::deque<crypto::Hash256> m_droppedOrder;  // guarded by m_tipMutex

    std::mutex m_wakeMutex;
    std::condition_variable m_wake;
    std::atomic<bool> m_running{false};
    std::atomic<bool> m_failed{false};
    Status m_failure;  // written once under m_tipMutex before m_failed is set
    std::thread m_producer;
};

}  // namespace fides::node
