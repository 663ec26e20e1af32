#include "simulation.h"

#include "crypto/hash.h"
#include "util/encoding.h"

#include <queue>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <tuple>

namespace fides::consensus::sim {

const char* scenarioName(Scenario s) {
    switch (s) {
    case Scenario::Lossy: return "lossy";
    case Scenario::Byzantine: return "byzantine";
    case Scenario::CrashRecover: return "crash-recover";
    case Scenario::Partition: return "partition";
    case Scenario::Mixed: return "mixed";
    case Scenario::ByzantineSplit: return "byzantine-split";
    }
    return "?";
}

namespace {

// std::mt19937_64 is fully specified by the standard; the mappings below are
// ours (the standard distributions are implementation-defined), so a seed
// replays identically everywhere.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_g(seed) {}
    std::uint64_t next() { return m_g(); }
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : m_g() % n; }
    bool chance(double p) { return static_cast<double>(m_g() >> 11) * (1.0 / 9007199254740992.0) < p; }

private:
    std::mt19937_64 m_g;
};

struct Message {
    enum class Kind { Proposal, Vote, SyncRequest, SyncResponse } kind = Kind::Vote;
    Proposal proposal;
    Vote vote;
    Decision decision;
    std::uint64_t height = 0;  // SyncRequest
    ValidatorIndex from = 0;
};

struct Event {
    enum class Type {
        Deliver,
        Timeout,
        Tick,
        Crash,
        Recover,
        PartitionOn,
        PartitionOff,
        NextHeight
    } type = Type::Tick;
    std::int64_t time = 0;
    std::uint64_t seq = 0;
    ValidatorIndex node = 0;
    Message message;
    TimeoutEvent timeout;
};

struct Later {
    bool operator()(const Event& a, const Event& b) const {
        return std::tie(a.time, a.seq) > std::tie(b.time, b.seq);
    }
};

Value makeValue(std::uint64_t a, std::uint64_t b, std::uint64_t c, bool invalid) {
    Writer w;
    w.u64(a).u64(b).u64(c);
    Value v;
    v.id = crypto::sha256(w.bytes());
    v.data = Bytes(v.id.bytes().begin(), v.id.bytes().end());
    v.data[0] = invalid ? 0xff : 0x00;
    return v;
}

Value splitValue(std::uint64_t height, std::uint32_t round, ValidatorIndex recipient) {
    return makeValue(height, 5000 + round, recipient % 2, false);
}

constexpr std::int64_t kTickMs = 300;
constexpr std::int64_t kCommitDelayMs = 5;

class Simulation {
public:
    explicit Simulation(const SimConfig& cfg) : m_cfg(cfg), m_rng(cfg.seed) {
        const std::size_t n = cfg.powers.size();
        for (auto p : cfg.powers) m_total += p;
        m_nodes.resize(n);
        TimeoutConfig timeouts;
        timeouts.proposeBase = std::chrono::milliseconds(400);
        timeouts.proposeDelta = std::chrono::milliseconds(200);
        timeouts.prevoteBase = std::chrono::milliseconds(200);
        timeouts.prevoteDelta = std::chrono::milliseconds(100);
        timeouts.precommitBase = std::chrono::milliseconds(200);
        timeouts.precommitDelta = std::chrono::milliseconds(100);
        for (std::size_t i = 0; i < n; ++i) {
            Node& node = m_nodes[i];
            for (auto b : cfg.byzantine) node.byzantine |= b == i;
            EngineHooks hooks;
            hooks.getValue = [this, i](std::uint64_t h) {
                return makeValue(h, i, ++m_nodes[i].valueCounter, false);
            };
            hooks.valid = [](std::uint64_t, const Value& v) { return !v.data.empty() && v.data[0] != 0xff; };
            node.engine =
                std::make_unique<Engine>(cfg.powers, static_cast<ValidatorIndex>(i), timeouts, hooks);
        }
        m_group.assign(n, 0);
    }

    SimResult run();

private:
    struct Node {
        std::unique_ptr<Engine> engine;
        bool byzantine = false;
        bool crashed = false;
        std::map<std::uint64_t, Decision> decisions;
        std::map<std::tuple<std::uint64_t, std::uint32_t, VoteType>, Vote> signedVotes;
        std::uint64_t valueCounter = 0;
    };

    void push(Event e) {
        e.seq = m_seq++;
        m_queue.push(std::move(e));
    }
    void send(ValidatorIndex from, ValidatorIndex to, Message m);
    void apply(ValidatorIndex i, Effects effects);
    void violation(const std::string& what) {
        if (m_result.safe) {
            m_result.safe = false;
            m_result.violation = "t=" + std::to_string(m_now) + "ms: " + what;
        }
    }
    bool allHonestDone() const;
    void schedule();

    SimConfig m_cfg;
    Rng m_rng;
    std::uint64_t m_total = 0;
    std::vector<Node> m_nodes;
    std::priority_queue<Event, std::vector<Event>, Later> m_queue;
    std::int64_t m_now = 0;
    std::uint64_t m_seq = 0;
    std::map<std::uint64_t, std::pair<ValueId, ValidatorIndex>>
        m_decided;  // first honest decision per height
    std::vector<int> m_group;
    bool m_partitioned = false;
    SimResult m_result;
};

void Simulation::send(ValidatorIndex from, ValidatorIndex to, Message m) {
    if (m_partitioned && m_group[from] != m_group[to]) return;
    const bool beforeGst = m_now < m_cfg.gstMs;
    if (beforeGst && m_rng.chance(m_cfg.dropBeforeGst)) return;
    const std::int64_t maxDelay = beforeGst ? m_cfg.maxDelayBeforeGstMs : m_cfg.maxDelayAfterGstMs;
    Event e;
    e.type = Event::Type::Deliver;
    e.time = m_now + 1 + static_cast<std::int64_t>(m_rng.below(static_cast<std::uint64_t>(maxDelay)));
    e.node = to;
    m.from = from;
    e.message = std::move(m);
    push(std::move(e));
}

void Simulation::apply(ValidatorIndex i, Effects fx) {
    Node& node = m_nodes[i];
    const std::size_t n = m_nodes.size();
    // Safety of our own signatures: an honest engine never emits two
    // different votes for one (height, round, type).
    for (const auto& v : fx.votes) {
        if (node.byzantine || v.validator != i) continue;  // relayed votes carry others' signatures
        auto key = std::make_tuple(v.height, v.round, v.type);
        auto [it, inserted] = node.signedVotes.emplace(key, v);
        if (!inserted && !(it->second == v)) {
            violation("honest node " + std::to_string(i) + " signed two different votes at height " +
                      std::to_string(v.height) + " round " + std::to_string(v.round));
        }
    }
    for (const auto& p : fx.proposals) {
        for (ValidatorIndex j = 0; j < n; ++j) {
            if (j == i) continue;
            Message m;
            m.kind = Message::Kind::Proposal;
            m.proposal = p;
            const bool own = p.proposer == i;  // others' proposals are relayed as signed
            if (own && node.byzantine && m_cfg.splitBrain) {
                m.proposal.value = splitValue(p.height, p.round, j);
                m.proposal.validRound = -1;
            } else if (own && node.byzantine && m_rng.chance(0.5)) {
                // Equivocate: another value (sometimes an invalid one) to some peers.
                m.proposal.value = makeValue(p.height, 1000 + i, m_rng.next(), m_rng.chance(0.3));
            }
            send(i, j, std::move(m));
        }
    }
    for (const auto& v : fx.votes) {
        for (ValidatorIndex j = 0; j < n; ++j) {
            if (j == i) continue;
            Message m;
            m.kind = Message::Kind::Vote;
            m.vote = v;
            const bool own = v.validator == i;
            if (own && node.byzantine && m_cfg.splitBrain) {
                m.vote.value = splitValue(v.height, v.round, j).id;
            } else if (own && node.byzantine && m_rng.chance(0.5)) {
                // Equivocate: nil, or a made-up value, instead of the real vote.
                if (m_rng.chance(0.5))
                    m.vote.value.reset();
                else
                    m.vote.value = makeValue(v.height, 2000 + i, m_rng.next(), false).id;
            }
            send(i, j, std::move(m));
        }
    }
    for (const auto& t : fx.timeouts) {
        Event e;
        e.type = Event::Type::Timeout;
        e.time = m_now + t.after.count();
        e.node = i;
        e.timeout = t.event;
        push(std::move(e));
    }
    for (auto& d : fx.decisions) {
        if (!node.byzantine) {
            auto [it, inserted] = m_decided.emplace(d.height, std::make_pair(d.value.id, i));
            if (!inserted && it->second.first != d.value.id) {
                violation("height " + std::to_string(d.height) + ": node " + std::to_string(i) + " decided " +
                          d.value.id.hex().substr(0, 12) + ", node " + std::to_string(it->second.second) +
                          " decided " + it->second.first.hex().substr(0, 12));
            }
            if (node.decisions.count(d.height) != 0) {
                violation("node " + std::to_string(i) + " decided height " + std::to_string(d.height) +
                          " twice");
            }
            // The certificate must really carry more than 2/3 of the power.
            std::set<ValidatorIndex> signers;
            std::uint64_t power = 0;
            for (const auto& v : d.precommits) {
                if (v.value == d.value.id && v.type == VoteType::Precommit &&
                    signers.insert(v.validator).second) {
                    power += m_cfg.powers[v.validator];
                }
            }
            if (power * 3 <= m_total * 2) {
                violation("node " + std::to_string(i) + " decided height " + std::to_string(d.height) +
                          " without a 2/3 certificate");
            }
            m_result.maxRound = std::max<std::uint64_t>(m_result.maxRound, d.round);
        }
        node.decisions[d.height] = d;
        // The node applies the block, then starts the next height.
        Event next;
        next.type = Event::Type::NextHeight;
        next.time = m_now + kCommitDelayMs;
        next.node = i;
        next.timeout.height = d.height + 1;
        push(next);
    }
    for (const auto& e : fx.evidence) {
        if (node.byzantine) continue;
        ++m_result.evidenceSeen;
        const bool accusedIsByzantine = m_nodes[e.first.validator].byzantine;
        if (!accusedIsByzantine) {
            violation("node " + std::to_string(i) + " holds evidence against honest node " +
                      std::to_string(e.first.validator));
        }
    }
}

bool Simulation::allHonestDone() const {
    for (const auto& node : m_nodes) {
        if (!node.byzantine && node.decisions.count(m_cfg.targetHeight) == 0) return false;
    }
    return true;
}

void Simulation::schedule() {
    const std::size_t n = m_nodes.size();
    for (ValidatorIndex i = 0; i < n; ++i) {
        Event tick;
        tick.type = Event::Type::Tick;
        tick.time = static_cast<std::int64_t>(m_rng.below(kTickMs));
        tick.node = i;
        push(tick);
    }
    const bool crashes = m_cfg.scenario == Scenario::CrashRecover || m_cfg.scenario == Scenario::Mixed;
    if (crashes) {
        // Up to f honest nodes crash and recover, one after another or
        // overlapping, keeping crashed + byzantine power under 1/3.
        std::uint64_t faultyPower = 0;
        for (auto b : m_cfg.byzantine) faultyPower += m_cfg.powers[b];
        for (ValidatorIndex i = 0; i < n; ++i) {
            if (m_nodes[i].byzantine || !m_rng.chance(0.5)) continue;
            if ((faultyPower + m_cfg.powers[i]) * 3 >= m_total) continue;
            faultyPower += m_cfg.powers[i];
            Event crash;
            crash.type = Event::Type::Crash;
            crash.node = i;
            crash.time = static_cast<std::int64_t>(m_rng.below(static_cast<std::uint64_t>(m_cfg.gstMs)));
            Event recover = crash;
            recover.type = Event::Type::Recover;
            recover.time = crash.time + 500 + static_cast<std::int64_t>(m_rng.below(6000));
            push(crash);
            push(recover);
        }
    }
    if (m_cfg.scenario == Scenario::Partition) {
        // Either halves or one node isolated, until GST.
        const bool isolateOne = m_rng.chance(0.5);
        const ValidatorIndex lonely = static_cast<ValidatorIndex>(m_rng.below(n));
        for (ValidatorIndex i = 0; i < n; ++i) {
            m_group[i] = isolateOne ? (i == lonely ? 1 : 0) : static_cast<int>(m_rng.below(2));
        }
        Event on;
        on.type = Event::Type::PartitionOn;
        on.time = static_cast<std::int64_t>(m_rng.below(1000));
        Event off = on;
        off.type = Event::Type::PartitionOff;
        off.time = m_cfg.gstMs;
        push(on);
        push(off);
    }
}

SimResult Simulation::run() {
    schedule();
    for (ValidatorIndex i = 0; i < m_nodes.size(); ++i) apply(i, m_nodes[i].engine->start(1));
    while (!m_queue.empty() && m_result.safe) {
        Event e = m_queue.top();
        m_queue.pop();
        if (e.time > m_cfg.maxTimeMs) break;
        m_now = e.time;
        ++m_result.events;
        Node& node = m_nodes[e.node];
        if (m_cfg.trace) {
            std::printf("t=%lld node %u type %d h=%llu r=%u step=%s\n", static_cast<long long>(m_now), e.node,
                        static_cast<int>(e.type), static_cast<unsigned long long>(node.engine->height()),
                        node.engine->round(), stepName(node.engine->step()));
        }
        switch (e.type) {
        case Event::Type::Deliver: {
            if (node.crashed) break;
            const Message& m = e.message;
            switch (m.kind) {
            case Message::Kind::Proposal: apply(e.node, node.engine->onProposal(m.proposal)); break;
            case Message::Kind::Vote: apply(e.node, node.engine->onVote(m.vote)); break;
            case Message::Kind::SyncRequest:
                if (auto it = node.decisions.find(m.height); it != node.decisions.end()) {
                    Message r;
                    r.kind = Message::Kind::SyncResponse;
                    r.decision = it->second;
                    send(e.node, m.from, std::move(r));
                }
                break;
            case Message::Kind::SyncResponse: apply(e.node, node.engine->onDecision(m.decision)); break;
            }
            break;
        }
        case Event::Type::Timeout:
            if (!node.crashed) apply(e.node, node.engine->onTimeout(e.timeout));
            break;
        case Event::Type::Tick: {
            if (!node.crashed) {
                // Gossip: send our own messages of the round again, and ask a
                // random peer for the decision at our height (block sync).
                apply(e.node, node.engine->gossip());
                Message req;
                req.kind = Message::Kind::SyncRequest;
                req.height = node.engine->height();
                ValidatorIndex peer = static_cast<ValidatorIndex>(m_rng.below(m_nodes.size()));
                if (peer != e.node) send(e.node, peer, std::move(req));
            }
            Event next = e;
            next.time = m_now + kTickMs;
            push(next);
            break;
        }
        case Event::Type::Crash: node.crashed = true; break;
        case Event::Type::Recover: {
            // The engine's state survives (as a write-ahead log restores it);
            // its timers do not, so re-arm the current step's timeouts.
            node.crashed = false;
            if (node.engine->decided()) {
                apply(e.node, node.engine->start(node.engine->height() + 1));
                break;
            }
            Effects fx;
            const TimeoutEvent base{node.engine->height(), node.engine->round(), node.engine->step()};
            fx.timeouts.push_back({base, std::chrono::milliseconds(400)});
            fx.timeouts.push_back(
                {{base.height, base.round, Step::Precommit}, std::chrono::milliseconds(800)});
            apply(e.node, std::move(fx));
            break;
        }
        case Event::Type::NextHeight:
            // A crashed node moves on when it recovers.
            if (!node.crashed && node.engine->decided() && node.engine->height() + 1 == e.timeout.height) {
                apply(e.node, node.engine->start(e.timeout.height));
            }
            break;
        case Event::Type::PartitionOn: m_partitioned = true; break;
        case Event::Type::PartitionOff: m_partitioned = false; break;
        }
        if (allHonestDone()) {
            m_result.live = true;
            break;
        }
    }
    m_result.endTimeMs = m_now;
    m_result.minHonestHeight = ~0ull;
    for (const auto& node : m_nodes) {
        if (!node.byzantine) {
            m_result.minHonestHeight =
                std::min<std::uint64_t>(m_result.minHonestHeight, node.decisions.size());
        }
    }
    for (ValidatorIndex i = 0; i < m_nodes.size(); ++i) {
        const Engine& en = *m_nodes[i].engine;
        char line[256];
        std::snprintf(line, sizeof line, "\n  node %u%s power %llu: h=%llu r=%u %s%s locked=%lld valid=%lld",
                      i, m_nodes[i].byzantine ? " (byzantine)" : "",
                      static_cast<unsigned long long>(m_cfg.powers[i]),
                      static_cast<unsigned long long>(en.height()), en.round(), stepName(en.step()),
                      en.decided() ? " decided" : "", static_cast<long long>(en.lockedRound()),
                      static_cast<long long>(en.validRound()));
        m_result.finalState += line;
    }
    if (m_result.safe && !m_result.live) {
        m_result.violation = "no liveness: the slowest honest node decided only " +
                             std::to_string(m_result.minHonestHeight) +
                             " heights by t=" + std::to_string(m_now) + "ms";
    }
    return m_result;
}

}  // namespace

SimConfig configForSeed(std::uint64_t seed, int n) {
    SimConfig c;
    c.seed = seed * 1'000'003 + static_cast<std::uint64_t>(n);
    Rng rng(c.seed ^ 0x9e3779b97f4a7c15ULL);
    c.scenario = static_cast<Scenario>(seed % 6);
    const bool equalPower = rng.chance(0.5);
    for (int i = 0; i < n; ++i) c.powers.push_back(equalPower ? 10 : 1 + rng.below(10));
    std::uint64_t total = 0;
    for (auto p : c.powers) total += p;
    c.splitBrain = c.scenario == Scenario::ByzantineSplit;
    if (c.scenario == Scenario::Byzantine || c.scenario == Scenario::Mixed || c.splitBrain) {
        // As many byzantine validators as fit strictly under 1/3 of the power
        // (Mixed: one, leaving room for a crash).
        const int want = c.scenario == Scenario::Mixed ? 1 : (n - 1) / 3;
        std::uint64_t power = 0;
        for (int tries = 0; tries < 4 * n && static_cast<int>(c.byzantine.size()) < want; ++tries) {
            const auto v = static_cast<ValidatorIndex>(rng.below(static_cast<std::uint64_t>(n)));
            bool already = false;
            for (auto b : c.byzantine) already |= b == v;
            if (already || (power + c.powers[v]) * 3 >= total) continue;
            power += c.powers[v];
            c.byzantine.push_back(v);
        }
    }
    c.dropBeforeGst = c.scenario == Scenario::Lossy ? 0.35 : 0.15;
    return c;
}

SimResult run(const SimConfig& config) { return Simulation(config).run(); }

}  // namespace fides::consensus::sim
