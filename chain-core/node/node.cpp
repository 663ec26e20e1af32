#include "node/node.h"

#include "consensus/evidence_app.h"
#include "consensus/governance.h"
#include "primitives/append_log.h"
#include "primitives/merkle.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <map>

namespace fides::node {

class Node::CommittedState final : public app::StateReader {
public:
    CommittedState(const storage::BlockStore& store, const Node& node) : m_store(store), m_node(node) {}
    Result<std::optional<Bytes>> get(ByteView key) const override { return m_store.getState(key); }
    Result<bool> exists(ByteView key) const override {
        const crypto::Hash256 kh = crypto::sha256(key);
        if (!m_node.m_writtenKeys.mayContain(kh)) return false;
        std::shared_lock lock(m_node.m_stateMutex);
        return m_node.m_tree.contains(kh);
    }

private:
    const storage::BlockStore& m_store;
    const Node& m_node;
};

namespace {
constexpr std::size_t kRememberedDrops = 100'000;
// How far ahead of this node's clock a proposed block's time may be.
constexpr std::chrono::milliseconds kMaxClockDrift{30'000};

std::vector<storage::StateWrite> takeWrites(app::BlockExecution& exec) {
    auto all = exec.takeWrites();
    std::vector<storage::StateWrite> out;
    out.reserve(all.size());
    for (auto it = all.begin(); it != all.end();) {
        auto node = all.extract(it++);
        if (node.mapped()) {
            out.emplace_back(std::move(node.key()), std::move(*node.mapped()));
        } else {
            out.push_back(storage::StateWrite::erasure(std::move(node.key())));
        }
    }
    return out;
}

std::uint64_t systemNowMs() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}
}  // namespace

Result<std::unique_ptr<Node>> Node::open(Genesis genesis, crypto::SecretKey validatorKey,
                                         const storage::StoreKey& storeKey, NodeConfig config,
                                         std::vector<std::unique_ptr<app::Application>> apps, Clock clock) {
    std::unique_ptr<Node> n(new Node());
    n->m_publicKey = validatorKey.publicKey();
    n->m_key.emplace(std::move(validatorKey));
    n->m_genesis = std::move(genesis);
    n->m_config = std::move(config);
    n->m_clock = clock ? std::move(clock) : Clock(systemNowMs);
    if (n->m_config.maxBlockTransactions == 0 ||
        n->m_config.maxBlockTransactions > limits::kMaxBlockTransactions ||
        n->m_config.maxBlockBytes > limits::kMaxBlockTxBytes) {
        return Status::invalidArgument(
            "a node may propose blocks of 1 to " + std::to_string(limits::kMaxBlockTransactions) +
            " transactions and at most " + std::to_string(limits::kMaxBlockTxBytes) + " bytes");
    }
    n->m_schedule = std::make_shared<ValidatorSchedule>(n->m_genesis.validators);
    // The built-in applications (evidence, unless the caller brings its
    // own, and governance) come after the caller's. Exactly one application
    // per transaction type, and one writer per key: AppSet refuses overlaps.
    const bool ownEvidence = std::any_of(apps.begin(), apps.end(), [](const auto& a) {
        if (!a) return false;  // AppSet::make reports it
        const auto types = a->txTypes();
        return std::find(types.begin(), types.end(), consensus::kEvidenceTxType) != types.end();
    });
    if (!ownEvidence)
        apps.push_back(std::make_unique<consensus::EvidenceApp>(n->m_genesis.chainId, n->m_schedule));
    auto governance = std::make_unique<consensus::GovernanceApp>(n->m_genesis.chainId, n->m_schedule);
    const std::string governancePrefix = governance->statePrefix();
    apps.push_back(std::move(governance));
    FIDES_ASSIGN_OR_RETURN(n->m_apps, app::AppSet::make(std::move(apps)));
    // Only governance may write validator-set keys: they are under its prefix.
    const std::size_t setOwner = n->m_apps.ownerOf(asBytes(ValidatorSchedule::kStatePrefix));
    if (setOwner == n->m_apps.size() || n->m_apps.prefixAt(setOwner) != governancePrefix) {
        return Status::internal("the validator-set keys are not under governance's prefix");
    }
    n->m_mempool = std::make_unique<Mempool>(n->m_config.mempool);

    auto store = storage::BlockStore::open(n->m_config.storePath, storeKey, n->m_genesis.chainId);
    if (!store) return store.status().withContext("opening store");
    n->m_store = std::move(store).value();
    n->m_committed = std::make_unique<CommittedState>(*n->m_store, *n);

    std::map<std::uint64_t, Bytes> scheduled;
    // The store's rows carry their key hashes: start-up does not hash the keys again.
    FIDES_RETURN_IF_ERROR(n->m_store->forEachState([&](const crypto::Hash256& kh, ByteView k, ByteView v) {
        n->m_writtenKeys.insert(kh);
        n->m_tree.put(kh, crypto::sha256(v));
        if (auto from = ValidatorSchedule::parseStateKey(k))
            scheduled.emplace(*from, Bytes(v.begin(), v.end()));
    }));
    for (const auto& [from, encoded] : scheduled) {
        FIDES_ASSIGN_OR_RETURN(ValidatorSet set, ValidatorSet::decodeFull(encoded));
        FIDES_RETURN_IF_ERROR(n->m_schedule->add(from, std::move(set)));
    }
    if (n->m_store->height() > 0) {
        FIDES_ASSIGN_OR_RETURN(Block tip, n->m_store->block(n->m_store->height()));
        if (n->m_tree.root() != tip.header.stateRoot) {
            return Status::dataLoss("stored state does not match the state root of block " +
                                    std::to_string(tip.header.height));
        }
        n->m_tip = SignedHeader{tip.header, tip.commit};
    }
    n->m_apps.committed(app::BlockContext{n->m_store->height(),
                                          n->m_tip ? n->m_tip->header.timeMs : n->m_genesis.genesisTimeMs,
                                          n->m_schedule.get()});
    const auto nextSet = n->m_schedule->at(n->m_store->height() + 1);
    const Validator* self = nextSet->find(n->m_publicKey);
    if (!n->m_config.consensus && (self == nullptr || !nextSet->isQuorum(self->power))) {
        return Status::invalidArgument(
            "validator key " + n->m_publicKey.hex() +
            " does not hold more than 2/3 of the voting power of height " +
            std::to_string(n->m_store->height() + 1) +
            ", which a validator running alone needs; configure peers for consensus");
    }
    if (self == nullptr) {
        spdlog::warn(
            "node: key {} is not in the validator set of height {}: following the chain without voting",
            n->m_publicKey.hex(), n->m_store->height() + 1);
    }
    spdlog::info("node: chain '{}' at height {}, {} state entries, validator {}", n->m_genesis.chainId,
                 n->m_store->height(), n->m_tree.size(), n->m_publicKey.hex());
    return n;
}

Node::~Node() { stop(); }

void Node::start() {
    if (m_running.exchange(true)) return;
    if (!m_config.consensus) m_producer = std::thread([this] { producerLoop(); });
}

void Node::stop() {
    m_running = false;
    { std::lock_guard lock(m_wakeMutex); }
    m_wake.notify_all();
    { std::lock_guard lock(m_tipMutex); }
    m_tipChanged.notify_all();
    if (m_producer.joinable()) m_producer.join();
}

Status Node::health() const {
    if (m_failed.load()) return m_failure;
    return Status::ok();
}

Result<crypto::Hash256> Node::submit(ByteView encoded) { return std::move(submitBatch({encoded}).front()); }

std::vector<Result<crypto::Hash256>> Node::submitBatch(const std::vector<ByteView>& encoded) {
    const std::size_t n = encoded.size();
    std::vector<Result<crypto::Hash256>> results(n, Status::internal("not checked"));
    if (m_failed.load()) {
        for (auto& r : results)
            r = Status::unavailable("the node has stopped after a storage failure (its log says why)");
        return results;
    }
    // Stateless checks and hashes, without any lock.
    const std::uint64_t nowS = nowMs() / 1000;
    std::vector<std::shared_ptr<MempoolEntry>> entries(n);
    std::vector<crypto::Hash256> hashes;
    std::vector<std::size_t> at;  // index into `encoded` of each hash
    for (std::size_t i = 0; i < n; ++i) {
        auto tx = Transaction::decode(encoded[i]);
        if (!tx) {
            results[i] = tx.status();
            continue;
        }
        if (tx->chainId != m_genesis.chainId) {
            results[i] = Status::invalidArgument("transaction is for chain '" + tx->chainId + "', this is '" +
                                                 m_genesis.chainId + "'");
            continue;
        }
        if (tx->expiry <= nowS) {
            results[i] = Status::invalidArgument("transaction has expired");
            continue;
        }
        if (tx->expiry > nowS + static_cast<std::uint64_t>(m_config.maxTxTtl.count())) {
            results[i] = Status::invalidArgument("transaction expiry is more than " +
                                                 std::to_string(m_config.maxTxTtl.count()) + " s ahead");
            continue;
        }
        if (m_apps.handlerFor(tx->type) == nullptr) {
            results[i] = Status::invalidArgument("no application handles transaction type " +
                                                 std::to_string(tx->type));
            continue;
        }
        auto entry = std::make_shared<MempoolEntry>();
        entry->hash = txHash(encoded[i]);
        entry->tx = std::move(tx).value();
        hashes.push_back(entry->hash);
        at.push_back(i);
        entries[i] = std::move(entry);
    }
    // Replay checks (pool, store), then the signature and the application.
    const std::uint64_t generation = m_mempool->generation();
    const auto pooled = m_mempool->find(hashes);
    std::vector<std::shared_ptr<const MempoolEntry>> admissible;
    std::vector<std::size_t> admissibleAt;
    for (std::size_t k = 0; k < at.size(); ++k) {
        const std::size_t i = at[k];
        auto& entry = entries[i];
        results[i] = [&]() -> Result<crypto::Hash256> {
            if (pooled[k]) return Status::alreadyExists("transaction is already in the mempool");
            FIDES_ASSIGN_OR_RETURN(auto committedAt, m_store->findTx(entry->hash));
            if (committedAt) {
                return Status::alreadyExists("transaction was committed at height " +
                                             std::to_string(committedAt->height));
            }
            if (!entry->tx.verifySignature())
                return Status::unauthenticated("transaction signature is invalid");
            FIDES_RETURN_IF_ERROR(m_apps.handlerFor(entry->tx.type)->checkTx(entry->tx, *m_committed));
            return entry->hash;
        }();
        if (!results[i]) continue;
        entry->encoded.assign(encoded[i].begin(), encoded[i].end());
        admissible.push_back(std::move(entry));
        admissibleAt.push_back(i);
    }
    if (admissible.empty()) return results;
    std::vector<crypto::Hash256> admittedHashes;
    admittedHashes.reserve(admissible.size());
    for (const auto& e : admissible) admittedHashes.push_back(e->hash);
    const auto admitted = m_mempool->admit(std::move(admissible), generation);
    bool any = false;
    {
        // A transaction dropped earlier (e.g. expired) may be submitted again.
        std::lock_guard lock(m_tipMutex);
        for (std::size_t k = 0; k < admitted.size(); ++k) {
            if (!admitted[k]) {
                results[admissibleAt[k]] = admitted[k];
                continue;
            }
            m_dropped.erase(admittedHashes[k]);
            any = true;
        }
    }
    if (any) m_wake.notify_one();
    return results;
}

bool Node::waitForHeight(std::uint64_t height, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(m_tipMutex);
    m_tipChanged.wait_until(lock, deadline, [&] { return m_store->height() >= height || !m_running.load(); });
    return m_store->height() >= height;
}

Result<storage::TxLocation> Node::waitForCommit(const crypto::Hash256& hash,
                                                std::chrono::steady_clock::time_point deadline) {
    while (true) {
        const std::uint64_t h = m_store->height();
        FIDES_ASSIGN_OR_RETURN(auto loc, m_store->findTx(hash));
        if (loc) return *loc;
        {
            std::lock_guard lock(m_tipMutex);
            if (auto it = m_dropped.find(hash); it != m_dropped.end()) return it->second;
        }
        if (!m_running.load()) return Status::unavailable("node is stopping");
        if (!waitForHeight(h + 1, deadline)) {
            if (std::chrono::steady_clock::now() >= deadline) {
                return Status(Code::DeadlineExceeded, "transaction not committed before the deadline");
            }
        }
    }
}

void Node::producerLoop() {
    auto lastBlock = std::chrono::steady_clock::now();
    while (m_running.load()) {
        const bool emptyBlocks = m_config.emptyBlockInterval.count() > 0;
        {
            std::unique_lock lock(m_wakeMutex);
            auto until = emptyBlocks ? lastBlock + m_config.emptyBlockInterval
                                     : std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
            // An application's deadline (an election's close) makes a block then.
            if (const auto left = untilDeadline(std::chrono::milliseconds(500))) {
                until = std::min(until, std::chrono::steady_clock::now() + *left);
            }
            m_wake.wait_until(lock, until, [&] { return !m_running.load() || m_mempool->size() > 0; });
        }
        if (!m_running.load()) break;
        const auto left = untilDeadline(std::chrono::milliseconds(1));
        const bool due =
            (emptyBlocks && std::chrono::steady_clock::now() >= lastBlock + m_config.emptyBlockInterval) ||
            (left && left->count() == 0);
        if (m_mempool->size() == 0 && !due) continue;
        if (m_mempool->size() > 0 && m_mempool->size() < m_config.maxBlockTransactions) {
            std::unique_lock lock(m_wakeMutex);
            m_wake.wait_for(lock, m_config.batchWait, [&] {
                return !m_running.load() || m_mempool->size() >= m_config.maxBlockTransactions;
            });
        }
        Status st = produceBlock();
        if (!st) {
            markFailed(st);
            break;
        }
        lastBlock = std::chrono::steady_clock::now();
    }
}

BlockHeader Node::nextHeaderTemplate(std::uint64_t timeMs) const {
    BlockHeader header;
    header.chainId = m_genesis.chainId;
    header.height = m_store->height() + 1;
    const std::uint64_t prevTime = m_tip ? m_tip->header.timeMs : m_genesis.genesisTimeMs;
    header.timeMs = std::max(timeMs, prevTime + 1);
    header.prevHash = m_tip ? m_tip->header.hash() : crypto::Hash256();
    header.proposer = m_publicKey;
    header.validatorSetHash = m_schedule->at(header.height)->hash();
    header.nextValidatorSetHash = m_schedule->at(header.height + 1)->hash();
    return header;
}

// Fills in the header's tx count and roots (the state root speculatively,
// without changing the committed tree).
Status Node::finishExecution(ExecutedBlock& ex, std::vector<storage::StateWrite> writes, TreeMode mode) {
    BlockHeader& header = ex.block.header;
    header.txCount = static_cast<std::uint32_t>(ex.block.transactions.size());
    header.txRoot = Block::computeTxRoot(ex.block.transactions);
    ex.writes = std::move(writes);
    std::vector<std::pair<crypto::Hash256, crypto::Hash256>> hashed;
    std::vector<crypto::Hash256> erased;
    hashed.reserve(ex.writes.size());
    for (auto& w : ex.writes) {
        if (w.erased) {
            erased.push_back(w.keyHash);
        } else {
            hashed.emplace_back(w.keyHash, crypto::sha256(w.value));
        }
        // Before the tree can change (a block never committed leaves false
        // positives only, which the tree answers). Only keys not seen yet:
        // the filter grows with distinct keys, not with writes. A key it has
        // never seen was never stored: the store may insert it directly.
        w.created = !m_writtenKeys.mayContain(w.keyHash);
        if (w.created) m_writtenKeys.insert(w.keyHash);
    }
    std::unique_lock lock(m_stateMutex);
    if (mode == TreeMode::Speculative) {
        ex.stateVersion = m_tree.speculate(std::move(hashed), erased);
        header.stateRoot = ex.stateVersion->root();
    } else {
        for (const auto& [k, v] : hashed) m_tree.put(k, v);
        for (const auto& k : erased) m_tree.erase(k);
        header.stateRoot = m_tree.root();
    }
    return Status::ok();
}

Result<ExecutedBlock> Node::buildBlock(std::uint64_t timeMs) {
    return buildBlock(timeMs, TreeMode::Speculative);
}

Result<ExecutedBlock> Node::buildBlock(std::uint64_t timeMs, TreeMode mode) {
    auto batch = m_mempool->front(m_config.maxBlockTransactions, m_config.maxBlockBytes);
    ExecutedBlock ex;
    ex.block.header = nextHeaderTemplate(timeMs);
    const BlockHeader& header = ex.block.header;
    app::BlockExecution exec(m_apps, *m_committed, blockContext(header), &m_genesis);
    FIDES_RETURN_IF_ERROR(exec.begin());
    for (const auto& e : batch) {
        Status st = e->tx.expiry * 1000 <= header.timeMs
                        ? Status::invalidArgument("transaction expired before it could be included")
                        : exec.deliver(e->tx, static_cast<std::uint32_t>(ex.txHashes.size()), e->hash);
        if (st) {
            ex.txHashes.push_back(e->hash);
            ex.block.transactions.push_back(e->encoded);
        } else {
            ex.dropped.emplace_back(e->hash, st);
        }
    }
    FIDES_RETURN_IF_ERROR(exec.end());
    std::vector<storage::StateWrite> writes = takeWrites(exec);
    FIDES_RETURN_IF_ERROR(finishExecution(ex, std::move(writes), mode));
    FIDES_RETURN_IF_ERROR(collectScheduledSet(ex));
    return ex;
}

Status Node::collectScheduledSet(ExecutedBlock& ex) const {
    // The writes come in no particular order (a hash table's, different in
    // each process): a second scheduled set must not be settled by that
    // order. Governance schedules at most one per block; every validator
    // refuses a block with two alike.
    // Only governance can write these keys (they are under its prefix).
    for (const auto& w : ex.writes) {
        if (auto from = ValidatorSchedule::parseStateKey(w.key)) {
            if (w.erased) return Status::invalidArgument("block erases a scheduled validator set");
            if (ex.scheduledSet)
                return Status::invalidArgument("block schedules more than one validator set");
            FIDES_ASSIGN_OR_RETURN(ValidatorSet set, ValidatorSet::decodeFull(w.value));
            ex.scheduledSet.emplace(*from, std::move(set));
        }
    }
    return Status::ok();
}

Result<ExecutedBlock> Node::validateBlock(Block block, std::vector<crypto::Hash256> txHashes) {
    const BlockHeader& h = block.header;
    const std::uint64_t expectedHeight = m_store->height() + 1;
    if (h.chainId != m_genesis.chainId) return Status::invalidArgument("block is for another chain");
    if (h.height != expectedHeight) {
        return Status::invalidArgument("block is for height " + std::to_string(h.height) + ", expected " +
                                       std::to_string(expectedHeight));
    }
    const crypto::Hash256 prev = m_tip ? m_tip->header.hash() : crypto::Hash256();
    if (h.prevHash != prev) return Status::invalidArgument("block does not follow the current tip");
    const std::uint64_t prevTime = m_tip ? m_tip->header.timeMs : m_genesis.genesisTimeMs;
    if (h.timeMs <= prevTime) return Status::invalidArgument("block time does not advance");
    if (h.timeMs > nowMs() + static_cast<std::uint64_t>(kMaxClockDrift.count())) {
        return Status::invalidArgument("block time is too far in the future");
    }
    const auto set = m_schedule->at(h.height);
    if (h.validatorSetHash != set->hash()) return Status::invalidArgument("wrong validator set hash");
    if (h.nextValidatorSetHash != m_schedule->at(h.height + 1)->hash()) {
        return Status::invalidArgument("wrong next validator set hash");
    }
    if (set->find(h.proposer) == nullptr) return Status::unauthenticated("proposer is not a validator");
    if (h.txCount != block.transactions.size())
        return Status::invalidArgument("transaction count does not match");
    // The chain's rule, not this node's max_block_transactions: a validator
    // configured for smaller blocks still accepts a valid larger one.
    if (block.transactions.size() > limits::kMaxBlockTransactions) {
        return Status::invalidArgument("block holds " + std::to_string(block.transactions.size()) +
                                       " transactions, more than the " +
                                       std::to_string(limits::kMaxBlockTransactions) + " a block may hold");
    }
    {
        std::size_t bytes = 0;
        for (const Bytes& tx : block.transactions) bytes += tx.size();
        if (bytes > limits::kMaxBlockTxBytes) {
            return Status::invalidArgument("block transactions take " + std::to_string(bytes) +
                                           " bytes, more than the " +
                                           std::to_string(limits::kMaxBlockTxBytes) + " a block may hold");
        }
    }

    // Hashes first, then one mempool lookup for the whole block: a
    // transaction found there was decoded, signature-checked and checked
    // against the store at admission, and its decoded form is reused.
    const std::size_t n = block.transactions.size();
    std::vector<crypto::Hash256> hashes = std::move(txHashes);
    if (hashes.empty()) {
        hashes.reserve(n);
        for (const Bytes& encoded : block.transactions) hashes.push_back(txHash(encoded));
    } else if (hashes.size() != n) {
        return Status::invalidArgument("block names " + std::to_string(hashes.size()) +
                                       " transaction hashes for " + std::to_string(n) + " transactions");
    } else {
        // The contract (the pooled transaction for hashes[i] is executed in
        // place of transactions[i]): checked in debug builds and the tests.
        for (std::size_t i = 0; i < n; ++i) assert(txHash(block.transactions[i]) == hashes[i]);
    }
    {
        std::vector<crypto::Hash256> sorted = hashes;
        std::sort(sorted.begin(), sorted.end());
        if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end()) {
            const auto i =
                static_cast<std::size_t>(std::find(hashes.begin(), hashes.end(), *dup) - hashes.begin());
            return Status::invalidArgument("transaction " + std::to_string(i) +
                                           ": appears twice in the block");
        }
    }
    const auto pooled = m_mempool->find(hashes);
    const auto where = [](std::size_t i) { return "transaction " + std::to_string(i); };

    ExecutedBlock ex;
    ex.block.header = h;
    ex.block.header.stateRoot = crypto::Hash256();
    app::BlockExecution exec(m_apps, *m_committed, blockContext(h), &m_genesis);
    FIDES_RETURN_IF_ERROR(exec.begin());
    for (std::size_t i = 0; i < n; ++i) {
        const crypto::Hash256& hash = hashes[i];
        std::optional<Transaction> decoded;
        const Transaction* tx = pooled[i] ? &pooled[i]->tx : nullptr;
        if (tx == nullptr) {
            auto d = Transaction::decode(block.transactions[i]);
            if (!d) return d.status().withContext(where(i));
            decoded = std::move(d).value();
            tx = &*decoded;
        }
        if (tx->chainId != m_genesis.chainId)
            return Status::invalidArgument(where(i) + ": for another chain");
        if (tx->expiry * 1000 <= h.timeMs) return Status::invalidArgument(where(i) + ": expired");
        if (decoded) {
            FIDES_ASSIGN_OR_RETURN(auto committedAt, m_store->findTx(hash));
            if (committedAt) return Status::alreadyExists(where(i) + ": already committed");
            if (!tx->verifySignature()) return Status::unauthenticated(where(i) + ": invalid signature");
        }
        Status st = exec.deliver(*tx, static_cast<std::uint32_t>(i), hash);
        if (!st) return st.withContext(where(i));
    }
    FIDES_RETURN_IF_ERROR(exec.end());
    ex.txHashes = std::move(hashes);
    ex.block.transactions = std::move(block.transactions);
    std::vector<storage::StateWrite> writes = takeWrites(exec);
    FIDES_RETURN_IF_ERROR(finishExecution(ex, std::move(writes), TreeMode::Speculative));
    FIDES_RETURN_IF_ERROR(collectScheduledSet(ex));
    if (ex.block.header.txRoot != h.txRoot) return Status::invalidArgument("transaction root does not match");
    if (ex.block.header.stateRoot != h.stateRoot) return Status::invalidArgument("state root does not match");
    return ex;
}

void Node::recordDrops(const ExecutedBlock& ex) {
    // Drops are final whatever happens to the block: record them first, so a
    // waiter that sees the new height also sees why its transaction is not in it.
    // On every validator, not only the proposer: what expired by this block's
    // time can never be included any more; it leaves the pool, and a client
    // waiting on this node learns why (before the lock: m_tipMutex is taken last).
    const auto expired = m_mempool->evictExpired(ex.block.header.timeMs);
    std::lock_guard lock(m_tipMutex);
    for (const auto& [h, st] : ex.dropped) {
        if (m_dropped.insert_or_assign(h, st).second) m_droppedOrder.push_back(h);
    }
    for (const auto& h : expired) {
        const Status why = Status::invalidArgument("transaction expired before it could be included");
        if (m_dropped.insert_or_assign(h, why).second) m_droppedOrder.push_back(h);
    }
    while (m_droppedOrder.size() > kRememberedDrops) {
        m_dropped.erase(m_droppedOrder.front());
        m_droppedOrder.pop_front();
    }
}

Status Node::commitLocked(ExecutedBlock& ex, TreeMode mode) {
    Block& block = ex.block;
    if (block.header.height != m_store->height() + 1) {
        return Status::failedPrecondition("block " + std::to_string(block.header.height) +
                                          " does not follow height " + std::to_string(m_store->height()));
    }
    // From here the tree changes: a failure leaves it ahead of the published
    // tip, so the node stops rather than answer with mismatched proofs.
    Status st = [&]() -> Status {
        if (mode == TreeMode::Speculative) {
            std::unique_lock lock(m_stateMutex);
            // The tree the execution built, unless the tree moved since
            // (then the writes are applied again).
            if (!ex.stateVersion || !m_tree.adopt(*ex.stateVersion)) {
                for (const auto& w : ex.writes) {
                    if (w.erased) {
                        m_tree.erase(w.keyHash);
                    } else {
                        m_tree.put(w.keyHash, crypto::sha256(w.value));
                    }
                }
            }
            ex.stateVersion.reset();
            if (m_tree.root() != block.header.stateRoot) {
                return Status::internal("state root changed between execution and commit");
            }
        }
        // The schedule first: whoever sees the block committed also sees the
        // validator set it schedules.
        if (ex.scheduledSet) {
            FIDES_RETURN_IF_ERROR(m_schedule->add(ex.scheduledSet->first, ex.scheduledSet->second));
            spdlog::info("node: block {} schedules a validator set of {} members from height {}",
                         block.header.height, ex.scheduledSet->second.validators().size(),
                         ex.scheduledSet->first);
        }
        return m_store->append(block, ex.txHashes, std::move(ex.writes));  // not used after
    }();
    if (!st) {
        markFailed(st);
        return st;
    }
    m_tip = SignedHeader{block.header, block.commit};
    m_apps.committed(blockContext(block.header));
    return Status::ok();
}

void Node::markFailed(const Status& failure) {
    spdlog::critical("node: cannot commit block {}: {}; stopping", m_store->height() + 1, failure.toString());
    std::lock_guard lock(m_tipMutex);
    if (!m_failed.load()) m_failure = failure;
    m_failed = true;
    m_running = false;
    m_tipChanged.notify_all();
}

void Node::afterCommit(const ExecutedBlock& ex) {
    std::vector<crypto::Hash256> droppedHashes;
    for (const auto& d : ex.dropped) droppedHashes.push_back(d.first);
    m_mempool->removeCommitted(ex.txHashes, droppedHashes);
    {
        std::lock_guard lock(m_tipMutex);
        m_tipChanged.notify_all();
    }
    spdlog::debug("node: block {} with {} transactions ({} dropped)", ex.block.header.height,
                  ex.txHashes.size(), ex.dropped.size());
}

Status Node::commitBlock(ExecutedBlock ex, const Commit& commit) {
    // Never store a block whose commit would not convince a client.
    const crypto::Hash256 blockHash = ex.block.header.hash();
    FIDES_RETURN_IF_ERROR(m_schedule->at(ex.block.header.height)
                              ->verifyCommit(m_genesis.chainId, ex.block.header.height, blockHash, commit)
                              .withContext("commit for block " + std::to_string(ex.block.header.height)));
    ex.block.commit = commit;
    recordDrops(ex);
    {
        // Queries wait from here until the block is durable and published;
        // admission only waits for the short tree update.
        std::lock_guard commitLock(m_commitMutex);
        FIDES_RETURN_IF_ERROR(commitLocked(ex, TreeMode::Speculative));
    }
    afterCommit(ex);
    return Status::ok();
}

Status Node::produceBlock() {
    // The only validator commits what it builds at once: the writes go
    // straight into the tree (no speculative pass), under the commit lock so
    // queries never see the tree ahead of the published tip.
    ExecutedBlock ex;
    {
        std::lock_guard commitLock(m_commitMutex);
        const auto set = m_schedule->at(m_store->height() + 1);
        const Validator* self = set->find(m_publicKey);
        if (self == nullptr || !set->isQuorum(self->power)) {
            return Status::failedPrecondition(
                "the validator set of height " + std::to_string(m_store->height() + 1) +
                " no longer lets this validator commit alone; configure peers and "
                "restart with consensus");
        }
        FIDES_ASSIGN_OR_RETURN(ex, buildBlock(nowMs(), TreeMode::Applied));
        const BlockHeader& header = ex.block.header;
        const crypto::Hash256 blockHash = header.hash();
        ex.block.commit.height = header.height;
        ex.block.commit.round = 0;
        ex.block.commit.blockHash = blockHash;
        ex.block.commit.signatures.push_back(
            {m_publicKey,
             crypto::sign(*m_key, precommitDigest(header.chainId, header.height, 0, blockHash))});
        recordDrops(ex);
        FIDES_RETURN_IF_ERROR(commitLocked(ex, TreeMode::Applied));
    }
    afterCommit(ex);
    return Status::ok();
}

std::optional<std::chrono::milliseconds> Node::untilDeadline(std::chrono::milliseconds cap) const {
    const auto deadline = m_apps.nextDeadlineMs();
    if (!deadline) return std::nullopt;
    // The committing thread is the only writer of m_tip: read without a lock.
    if (m_tip && m_tip->header.timeMs >= *deadline) return std::nullopt;  // served
    const std::uint64_t now = nowMs();
    if (*deadline <= now) return std::chrono::milliseconds(0);
    // +1: `now` is truncated to the millisecond; a height started after this
    // wait starts no earlier than the deadline.
    const std::uint64_t gap = *deadline - now + 1;
    return std::chrono::milliseconds(std::min<std::uint64_t>(gap, static_cast<std::uint64_t>(cap.count())));
}

NodeStatus Node::status() const {
    NodeStatus s;
    s.chainId = m_genesis.chainId;
    s.validator = m_publicKey;
    const auto next = m_schedule->at(m_store->height() + 1);
    s.validators = next->validators().size();
    s.isValidator = next->find(m_publicKey) != nullptr;
    s.mempoolSize = m_mempool->size();
    s.mempoolBytes = m_mempool->bytes();
    std::lock_guard lock(m_commitMutex);
    if (m_tip) {
        s.height = m_tip->header.height;
        s.latestBlockHash = m_tip->header.hash();
        s.latestBlockTimeMs = m_tip->header.timeMs;
        s.stateRoot = m_tip->header.stateRoot;
    }
    return s;
}

Result<Block> Node::block(std::uint64_t height) const {
    if (height == 0 || height > m_store->height()) {
        return Status::notFound("no block at height " + std::to_string(height) + " (chain height is " +
                                std::to_string(m_store->height()) + ")");
    }
    return m_store->block(height);
}

Result<TxWithProof> Node::transaction(const crypto::Hash256& hash) const {
    FIDES_ASSIGN_OR_RETURN(auto loc, m_store->findTx(hash));
    if (!loc) return Status::notFound("no committed transaction " + hash.hex());
    FIDES_ASSIGN_OR_RETURN(Block b, m_store->block(loc->height));
    if (loc->index >= b.transactions.size()) return Status::dataLoss("transaction index out of range");
    std::vector<crypto::Hash256> leaves;
    leaves.reserve(b.transactions.size());
    for (const auto& tx : b.transactions) leaves.push_back(merkle::leafHash(tx));
    TxWithProof out;
    FIDES_ASSIGN_OR_RETURN(out.proof, merkle::inclusionProof(leaves, loc->index));
    out.transaction = b.transactions[loc->index];
    out.height = loc->height;
    out.index = loc->index;
    out.signedHeader = SignedHeader{b.header, b.commit};
    return out;
}

Result<StateAnswer> Node::query(ByteView key) const {
    // The commit lock pairs the tree with the published tip; the exclusive
    // tree lock is needed because proving may finish hash computations.
    std::lock_guard commitLock(m_commitMutex);
    if (m_failed.load())
        return Status::unavailable("the node has stopped after a storage failure (its log says why)");
    if (!m_tip) return Status::failedPrecondition("no block has been committed yet");
    const crypto::Hash256 kh = crypto::sha256(key);
    StateAnswer out;
    {
        std::unique_lock lock(m_stateMutex);
        out.proof = const_cast<state::StateTree&>(m_tree).prove(kh);
    }
    out.signedHeader = *m_tip;
    const bool present =
        out.proof.terminal == state::StateProof::Terminal::Leaf && out.proof.leafKeyHash == kh;
    if (present) {
        FIDES_ASSIGN_OR_RETURN(out.value, m_store->getState(key));
        if (!out.value) return Status::dataLoss("state entry is in the tree but not in the store");
    }
    return out;
}

Result<StatesAnswer> Node::queryMany(const std::vector<Bytes>& keys) const {
    if (keys.empty() || keys.size() > kMaxQueryKeys) {
        return Status::invalidArgument("ask for 1 to " + std::to_string(kMaxQueryKeys) +
                                       " keys at once, not " + std::to_string(keys.size()));
    }
    std::lock_guard commitLock(m_commitMutex);
    if (m_failed.load())
        return Status::unavailable("the node has stopped after a storage failure (its log says why)");
    if (!m_tip) return Status::failedPrecondition("no block has been committed yet");
    StatesAnswer out;
    out.entries.resize(keys.size());
    std::vector<crypto::Hash256> hashes;
    hashes.reserve(keys.size());
    for (const Bytes& k : keys) hashes.push_back(crypto::sha256(k));
    {
        std::unique_lock lock(m_stateMutex);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            out.entries[i].proof = const_cast<state::StateTree&>(m_tree).prove(hashes[i]);
        }
    }
    out.signedHeader = *m_tip;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& p = out.entries[i].proof;
        if (p.terminal != state::StateProof::Terminal::Leaf || p.leafKeyHash != hashes[i]) continue;
        FIDES_ASSIGN_OR_RETURN(out.entries[i].value, m_store->getState(keys[i]));
        if (!out.entries[i].value) return Status::dataLoss("state entry is in the tree but not in the store");
    }
    return out;
}

Result<LogPage> Node::listLog(ByteView base, std::uint64_t from, std::uint32_t limit) const {
    if (base.empty() || base.size() > applog::kMaxBaseLength) {
        return Status::invalidArgument("a log's base key has 1 to " + std::to_string(applog::kMaxBaseLength) +
                                       " bytes");
    }
    LogPage page;
    page.from = from;
    FIDES_ASSIGN_OR_RETURN(page.head, query(applog::headKey(base)));
    if (!page.head.value) return page;  // never written: provably empty
    auto head = merkle::Frontier::decode(*page.head.value);
    if (!head) return Status::failedPrecondition("the key '<base>/head' does not hold a log head");
    page.size = head->size();
    const std::uint64_t end =
        std::min<std::uint64_t>(page.size, from + std::min<std::size_t>(limit, kMaxLogPageItems));
    std::size_t bytes = 0;
    for (std::uint64_t i = from; i < end && bytes < kMaxLogPageBytes; ++i) {
        FIDES_ASSIGN_OR_RETURN(auto item, m_store->getState(applog::itemKey(base, i)));
        if (!item)
            return Status::failedPrecondition("log item " + std::to_string(i) +
                                              " is gone (the log was erased)");
        bytes += item->size();
        page.items.push_back(std::move(*item));
    }
    return page;
}

}  // namespace fides::node
