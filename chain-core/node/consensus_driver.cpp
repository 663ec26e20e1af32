#include "node/consensus_driver.h"

#include "consensus/evidence_app.h"
#include "util/encoding.h"

#include <spdlog/spdlog.h>

#include <array>
#include <ctime>
#include <set>

namespace fides::node {

namespace {
// First byte of a compact value. A full value starts with its header's
// length (a big-endian u32 below 64 MiB), so its first byte is at most 0x03.
constexpr std::uint8_t kCompactValue = 0xFC;
constexpr std::uint32_t kMaxValueBytes = 64u << 20;
}  // namespace

consensus::Value blockValue(const Block& block, const std::vector<crypto::Hash256>& txHashes) {
    Writer w;
    w.u8(kCompactValue).var(block.header.encode()).u32(static_cast<std::uint32_t>(txHashes.size()));
    for (const auto& h : txHashes) w.fixed(h.bytes());
    return {block.header.hash(), std::move(w).take()};
}

Result<ValueBlock> blockFromValue(const consensus::Value& value, const Node& node,
                                  ConsensusTransport& transport) {
    Reader r(value.data, kMaxValueBytes);
    Block b;
    Bytes header;
    if (!value.data.empty() && value.data.front() == kCompactValue) {
        std::uint8_t kind = 0;
        FIDES_RETURN_IF_ERROR(r.u8(kind));
        FIDES_RETURN_IF_ERROR(r.var(header));
        std::uint32_t count = 0;
        FIDES_RETURN_IF_ERROR(r.u32(count));
        if (r.remaining() != static_cast<std::size_t>(count) * crypto::Hash256::kSize) {
            return Status::invalidArgument("compact value: " + std::to_string(count) +
                                           " transaction hashes announced, " + std::to_string(r.remaining()) +
                                           " bytes follow");
        }
        std::vector<crypto::Hash256> hashes;
        hashes.reserve(count);
        std::array<std::uint8_t, crypto::Hash256::kSize> h{};
        for (std::uint32_t i = 0; i < count; ++i) {
            FIDES_RETURN_IF_ERROR(r.fixed(h));
            hashes.emplace_back(h);
        }
        FIDES_RETURN_IF_ERROR(r.finish());
        FIDES_ASSIGN_OR_RETURN(b.header, BlockHeader::decode(header));
        if (b.header.hash() != value.id)
            return Status::invalidArgument("proposed value id is not the block's hash");
        // Before any lookup or fetch: the count the signed-for header states.
        if (count != b.header.txCount) {
            return Status::invalidArgument("compact value names " + std::to_string(count) +
                                           " transactions, its header " + std::to_string(b.header.txCount));
        }
        b.transactions.resize(count);
        std::vector<crypto::Hash256> missing;
        const auto pooled = node.pooled(hashes);
        for (std::uint32_t i = 0; i < count; ++i) {
            if (pooled[i]) {
                b.transactions[i] = pooled[i]->encoded;
            } else {
                missing.push_back(hashes[i]);
            }
        }
        if (!missing.empty()) {
            crypto::Hash256Map<Bytes> fetched;
            for (Bytes& tx : transport.fetchTransactions(missing)) {
                const crypto::Hash256 th = txHash(tx);
                fetched.emplace(th, std::move(tx));  // one not asked for is ignored below
            }
            std::size_t stillMissing = 0;
            for (std::uint32_t i = 0; i < count; ++i) {
                if (pooled[i]) continue;
                auto it = fetched.find(hashes[i]);
                if (it == fetched.end()) {
                    ++stillMissing;
                } else {
                    b.transactions[i] = it->second;  // a copy: the block may name a hash twice
                }
            }
            if (stillMissing > 0) {
                return Status::unavailable(
                    std::to_string(stillMissing) + " of the block's " + std::to_string(count) +
                    " transactions are neither pooled here nor held by a reachable peer");
            }
        }
        return ValueBlock{std::move(b), std::move(hashes)};
    }
    Bytes body;
    FIDES_RETURN_IF_ERROR(r.var(header));
    FIDES_RETURN_IF_ERROR(r.var(body));
    FIDES_RETURN_IF_ERROR(r.finish());
    FIDES_ASSIGN_OR_RETURN(b.header, BlockHeader::decode(header));
    FIDES_ASSIGN_OR_RETURN(b.transactions, Block::decodeBody(body));
    if (b.header.hash() != value.id)
        return Status::invalidArgument("proposed value id is not the block's hash");
    return ValueBlock{std::move(b), {}};
}

ConsensusDriver::ConsensusDriver(Node& node, crypto::SecretKey key, DriverConfig config,
                                 ConsensusTransport& transport)
    : m_node(node), m_config(std::move(config)), m_transport(transport) {
    m_key.emplace(std::move(key));
}

Result<std::unique_ptr<ConsensusDriver>> ConsensusDriver::create(Node& node, crypto::SecretKey key,
                                                                 DriverConfig config,
                                                                 ConsensusTransport& transport) {
    std::unique_ptr<ConsensusDriver> d(
        new ConsensusDriver(node, std::move(key), std::move(config), transport));
    return d;
}

ConsensusDriver::~ConsensusDriver() { stop(); }

consensus::Value ConsensusDriver::getValue(std::uint64_t height) {
    const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());
    auto ex = m_node.buildBlock(now);
    if (!ex) {
        fail(ex.status().withContext("building block " + std::to_string(height)));
        return {};
    }
    consensus::Value v = blockValue(ex->block, ex->txHashes);
    m_executed.insert_or_assign(v.id, std::move(*ex));
    return v;
}

bool ConsensusDriver::valid(std::uint64_t height, const consensus::Value& value) {
    if (m_executed.count(value.id) != 0) return true;
    auto block = blockFromValue(value, m_node, m_transport);
    if (!block) {
        spdlog::warn("consensus: proposed block at height {}: {}", height, block.status().toString());
        return false;
    }
    auto ex = m_node.validateBlock(std::move(block->block), std::move(block->txHashes));
    if (!ex) {
        spdlog::warn("consensus: proposed block at height {} is invalid: {}", height, ex.status().toString());
        return false;
    }
    m_executed.insert_or_assign(value.id, std::move(*ex));
    return true;
}

void ConsensusDriver::fail(const Status& s) {
    std::lock_guard lock(m_mutex);
    if (m_failure.isOk()) {
        spdlog::critical("consensus: {}; stopping", s.toString());
        m_failure = s;
    }
    m_stop = true;
    m_cv.notify_all();
    m_room.notify_all();
}

Status ConsensusDriver::health() const {
    std::lock_guard lock(m_mutex);
    return m_failure;
}

Status ConsensusDriver::start() {
    consensus::CoreConfig cfg;
    cfg.chainId = m_node.genesis().chainId;
    cfg.schedule = m_node.sharedSchedule();
    cfg.validators = m_node.genesis().validators;
    cfg.walDir = m_config.walDir;
    cfg.timeouts = m_config.timeouts;
    consensus::EngineHooks hooks;
    hooks.getValue = [this](std::uint64_t h) { return getValue(h); };
    hooks.valid = [this](std::uint64_t h, const consensus::Value& v) { return valid(h, v); };
    consensus::CoreOutput resumed;
    consensus::WalOpenReport report;
    auto core =
        consensus::ConsensusCore::open(cfg, std::move(*m_key), hooks, m_node.height() + 1, &resumed, &report);
    m_key.reset();
    if (!core) return core.status();
    if (report.droppedTailBytes > 0) {
        spdlog::warn("consensus: dropped a torn WAL tail of {} bytes (never sent)", report.droppedTailBytes);
    }
    m_core = std::move(*core);
    m_nextGossip = Clock::now() + m_config.gossipInterval;
    FIDES_RETURN_IF_ERROR(apply(std::move(resumed)));
    m_thread = std::thread([this] { loop(); });
    return Status::ok();
}

void ConsensusDriver::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    m_room.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void ConsensusDriver::deliver(const consensus::SignedProposal& p, std::optional<crypto::PublicKey> from) {
    const std::size_t bytes = p.value.data.size() + 256;  // the block, and the rest of the message
    enqueue({p, std::nullopt, std::move(from)}, bytes);
}

void ConsensusDriver::deliver(const consensus::SignedVote& v, std::optional<crypto::PublicKey> from) {
    enqueue({std::nullopt, v, std::move(from)}, 256);
}

void ConsensusDriver::enqueue(Incoming in, std::size_t bytes) {
    std::unique_lock lock(m_mutex);
    if (in.from) {
        const crypto::PublicKey link = *in.from;
        // Room: fewer than the most messages, and the bytes within bound
        // (a message larger than the bound alone still goes into an empty queue).
        m_room.wait(lock, [&] {
            if (m_stop) return true;
            const auto it = m_queued.find(link);
            if (it == m_queued.end()) return true;
            const auto [count, queuedBytes] = it->second;
            return count < kMaxQueuedPerLink && queuedBytes + bytes <= kMaxQueuedBytesPerLink;
        });
        if (m_stop) return;
        auto& [count, queuedBytes] = m_queued[link];
        ++count;
        queuedBytes += bytes;
    } else if (m_stop) {
        return;
    }
    m_inbox.push_back(std::move(in));
    m_cv.notify_one();
}

Status ConsensusDriver::commitDecision(const consensus::CoreDecision& d) {
    if (d.height <= m_node.height()) return Status::ok();  // already stored (replay after a crash)
    auto it = m_executed.find(d.value.id);
    if (it == m_executed.end()) {
        // Decided without having checked it here (a replayed log): check now.
        auto block = blockFromValue(d.value, m_node, m_transport);
        if (!block && block.status().code() == Code::Unavailable) {
            // Its transactions are gone from every reachable mempool (the
            // peers committed it): block sync fetches the committed block.
            spdlog::warn("consensus: block {} was decided, but {}; fetching it by block sync", d.height,
                         block.status().message());
            return Status::ok();
        }
        if (!block) return block.status();
        FIDES_ASSIGN_OR_RETURN(ExecutedBlock ex,
                               m_node.validateBlock(std::move(block->block), std::move(block->txHashes)));
        it = m_executed.insert_or_assign(d.value.id, std::move(ex)).first;
    }
    FIDES_RETURN_IF_ERROR(m_node.commitBlock(std::move(it->second), d.commit));
    m_executed.clear();
    m_committedAt = Clock::now();
    auto pause = m_node.mempoolSize() > 0 ? m_config.commitPause : m_config.emptyBlockPause;
    // An application needs a block by then (an election's close): the idle
    // pause ends early, but not before the commit pause.
    if (const auto left = m_node.untilDeadline(pause)) pause = std::max(m_config.commitPause, *left);
    m_nextHeightAt = m_committedAt + pause;
    return Status::ok();
}

Status ConsensusDriver::apply(consensus::CoreOutput out) {
    for (const auto& p : out.proposals) m_transport.broadcast(p);
    for (const auto& v : out.votes) m_transport.broadcast(v);
    const auto now = Clock::now();
    for (const auto& t : out.timeouts) m_timers.emplace(now + t.after, t.event);
    for (const auto& e : out.evidence) {
        ++m_evidence;
        spdlog::warn("consensus: validator {} signed two different votes at height {} round {}",
                     e.first.validator.hex(), e.first.height, e.first.round);
        // Onto the ledger: an Evidence transaction in this node's mempool, for
        // the next block this validator proposes (the evidence carries its
        // own proof, so a throwaway key signs the transaction).
        const auto expiry = static_cast<std::uint64_t>(std::time(nullptr)) + 3600;
        const Transaction tx =
            consensus::makeEvidenceTx(m_node.genesis().chainId, m_evidenceSigner, e.first, e.second, expiry);
        auto admitted = m_node.submit(tx.encode());
        if (!admitted && admitted.status().code() != Code::AlreadyExists) {
            spdlog::warn("consensus: evidence not admitted: {}", admitted.status().toString());
        }
    }
    for (const auto& d : out.decisions) FIDES_RETURN_IF_ERROR(commitDecision(d));
    return health();
}

void ConsensusDriver::noteClaimedHeight(const Incoming& in) {
    const std::uint64_t h = in.proposal ? in.proposal->height : in.vote->height;
    const std::uint64_t stored = m_node.height();
    if (h < stored + 2) return;
    const crypto::PublicKey& signer = in.proposal ? in.proposal->proposer : in.vote->validator;
    if (auto it = m_claimedAhead.find(signer); it != m_claimedAhead.end() && it->second >= h) return;
    // Checked against the set this node knows next: a set changed further on
    // leaves the probe (trySync) to find out that this node is behind.
    const auto set = m_node.validatorSchedule().at(stored + 1);
    if (set->find(signer) == nullptr) return;  // no signature to check, nothing to remember
    const auto now = Clock::now();
    if (in.from) {
        const auto failed = m_claimFailedAt.find({*in.from, signer});
        if (failed != m_claimFailedAt.end() && now - failed->second < m_config.gossipInterval) return;
    }
    const std::string& chainId = m_node.genesis().chainId;
    const bool valid = in.proposal ? consensus::verifyProposal(chainId, *set, *in.proposal).isOk()
                                   : consensus::verifyVote(chainId, *set, *in.vote).isOk();
    if (!valid) {
        if (in.from) m_claimFailedAt[{*in.from, signer}] = now;
        return;
    }
    m_claimedAhead[signer] = h;
    // Heights claimed, highest first, until more than a third of the power
    // is counted: that height or more is where an honest validator is.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> claims;  // height, power
    for (auto it = m_claimedAhead.begin(); it != m_claimedAhead.end();) {
        const Validator* v = set->find(it->first);
        if (it->second < stored + 2 || v == nullptr) {
            it = m_claimedAhead.erase(it);
            continue;
        }
        claims.emplace_back(it->second, v->power);
        ++it;
    }
    std::sort(claims.begin(), claims.end(), std::greater<>());
    std::uint64_t power = 0;
    m_behindTo = 0;
    for (const auto& [height, p] : claims) {
        power += p;
        if (power > set->totalPower() / 3) {  // 3 * power > total, without overflow
            m_behindTo = height;
            break;
        }
    }
}

Status ConsensusDriver::trySync() {
    const auto now = Clock::now();
    const std::uint64_t stored = m_node.height();
    if (stored != m_stalledHeight) {
        m_stalledHeight = stored;
        m_stalledSince = now;
    }
    std::optional<Block> probed;
    if (m_behindTo <= stored + 1) {
        // Nothing heard from further ahead. A node its peers cannot reach (a
        // one-way firewall, a second instance of a validator) hears nothing
        // at all: after a stall, ask one peer now and then whether the next
        // block exists.
        if (now - m_stalledSince < 2 * m_config.gossipInterval || now < m_nextProbe) return Status::ok();
        m_nextProbe = now + 2 * m_config.gossipInterval;
        probed = m_transport.probeBlock(stored + 1);
        if (!probed) return Status::ok();
    }
    // Fetch committed blocks while peers have them (bounded per tick). A
    // peer's bad block is skipped, never fatal; commitBlock checks the commit
    // against the validator set before it changes anything.
    constexpr int kMaxBlocksPerTick = 200;
    int applied = 0;
    for (; applied < kMaxBlocksPerTick; ++applied) {
        const std::uint64_t next = m_node.height() + 1;
        auto block = probed ? std::exchange(probed, std::nullopt) : m_transport.fetchBlock(next);
        if (!block) break;
        // The commit first (a few signatures): a peer serving bad commits
        // costs no execution of its blocks. commitBlock checks it again.
        const Status signedBy = m_node.validatorSchedule().at(next)->verifyCommit(
            m_node.genesis().chainId, next, block->header.hash(), block->commit);
        if (!signedBy) {
            spdlog::warn("consensus: block {} from sync has a bad commit: {}", next, signedBy.toString());
            break;
        }
        const Commit commit = block->commit;
        auto ex = m_node.validateBlock(std::move(*block));
        if (!ex) {
            spdlog::warn("consensus: block {} from sync is invalid: {}", next, ex.status().toString());
            break;
        }
        Status st = m_node.commitBlock(std::move(*ex), commit);
        if (st.code() == Code::Unauthenticated || st.code() == Code::InvalidArgument) {
            spdlog::warn("consensus: block {} from sync has a bad commit: {}", next, st.toString());
            break;
        }
        FIDES_RETURN_IF_ERROR(st);
    }
    if (applied == 0) return Status::ok();
    spdlog::info("consensus: caught up {} block(s) by block sync, now at height {}", applied,
                 m_node.height());
    m_executed.clear();
    m_timers.clear();
    m_nextHeightAt.reset();
    FIDES_ASSIGN_OR_RETURN(auto out, m_core->startHeight(m_node.height() + 1));
    return apply(std::move(out));
}

void ConsensusDriver::loop() {
    while (true) {
        std::deque<Incoming> batch;
        {
            std::unique_lock lock(m_mutex);
            auto wakeAt = m_nextGossip;
            if (!m_timers.empty()) wakeAt = std::min(wakeAt, m_timers.begin()->first);
            if (m_nextHeightAt) wakeAt = std::min(wakeAt, *m_nextHeightAt);
            m_cv.wait_until(lock, wakeAt, [&] { return m_stop || !m_inbox.empty(); });
            if (m_stop) return;
            batch.swap(m_inbox);
            m_queued.clear();  // every link's messages are taken
        }
        m_room.notify_all();
        Status st;
        std::set<crypto::PublicKey> reported;  // links reported in this batch: the rest of theirs is dropped
        for (auto& in : batch) {
            if (in.from && reported.count(*in.from) != 0) continue;
            noteClaimedHeight(in);
            Result<consensus::CoreOutput> out =
                in.proposal ? m_core->onProposal(*in.proposal) : m_core->onVote(*in.vote);
            if (!out) {
                const Code c = out.status().code();
                // An unauthenticated message (at this height, the next, or the
                // last, whose sets every honest validator shares) is the
                // link's doing; an invalid one (too large here) may not be.
                if (c == Code::Unauthenticated && in.from) {
                    m_transport.misbehaved(*in.from, out.status());
                    reported.insert(*in.from);
                }
                if (c == Code::Unauthenticated || c == Code::InvalidArgument)
                    continue;  // a bad message, not our fault
                st = out.status();
                break;
            }
            st = apply(std::move(*out));
            if (!st) break;
        }
        const auto now = Clock::now();
        while (st && !m_timers.empty() && m_timers.begin()->first <= now) {
            const consensus::TimeoutEvent t = m_timers.begin()->second;
            m_timers.erase(m_timers.begin());
            auto out = m_core->onTimeout(t);
            st = out ? apply(std::move(*out)) : out.status();
        }
        if (st && m_nextHeightAt && *m_nextHeightAt > m_committedAt + m_config.commitPause &&
            m_node.mempoolSize() > 0) {
            m_nextHeightAt = m_committedAt + m_config.commitPause;  // transactions arrived: stop idling
        }
        if (st && m_nextHeightAt && *m_nextHeightAt <= now) {
            m_nextHeightAt.reset();
            m_timers.clear();
            auto out = m_core->startHeight(m_node.height() + 1);
            st = out ? apply(std::move(*out)) : out.status();
        }
        if (st && now >= m_nextGossip) {
            m_nextGossip = now + m_config.gossipInterval;
            if (!m_nextHeightAt) {
                const auto mark = m_core->progressMark();
                if (mark == m_lastMark) st = apply(m_core->gossip());
                m_lastMark = mark;
                if (st) st = trySync();
            }
        }
        if (!st) {
            fail(st);
            return;
        }
    }
}

}  // namespace fides::node
