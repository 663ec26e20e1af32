#include "consensus/core.h"

#include "util/encoding.h"

#include <algorithm>

namespace fides::consensus {

namespace {
Bytes encodeValue(const Value& v) {
    Writer w;
    w.fixed(v.id.bytes()).var(v.data);
    return std::move(w).take();
}

Result<Value> decodeValue(ByteView b, std::size_t maxBytes) {
    Reader r(b, maxBytes);
    Value v;
    std::array<std::uint8_t, 32> id{};
    FIDES_RETURN_IF_ERROR(r.fixed(id));
    v.id = crypto::Hash256(id);
    FIDES_RETURN_IF_ERROR(r.var(v.data));
    FIDES_RETURN_IF_ERROR(r.finish());
    return v;
}

Bytes encodeVerdict(const ValueId& id, bool valid) {
    Writer w;
    w.fixed(id.bytes()).u8(valid ? 1 : 0);
    return std::move(w).take();
}

Result<std::pair<ValueId, bool>> decodeVerdict(ByteView b) {
    Reader r(b);
    std::array<std::uint8_t, 32> id{};
    std::uint8_t valid = 0;
    FIDES_RETURN_IF_ERROR(r.fixed(id));
    FIDES_RETURN_IF_ERROR(r.u8(valid));
    if (valid > 1) return Status::invalidArgument("verdict is neither 0 nor 1");
    FIDES_RETURN_IF_ERROR(r.finish());
    return std::pair<ValueId, bool>{ValueId(id), valid == 1};
}

Bytes encodeTimeout(const TimeoutEvent& t) {
    Writer w;
    w.u64(t.height).u32(t.round).u8(static_cast<std::uint8_t>(t.step));
    return std::move(w).take();
}

Result<TimeoutEvent> decodeTimeout(ByteView b) {
    Reader r(b);
    TimeoutEvent t;
    std::uint8_t step = 0;
    FIDES_RETURN_IF_ERROR(r.u64(t.height));
    FIDES_RETURN_IF_ERROR(r.u32(t.round));
    FIDES_RETURN_IF_ERROR(r.u8(step));
    if (step > 2) return Status::invalidArgument("unknown timeout step");
    t.step = static_cast<Step>(step);
    FIDES_RETURN_IF_ERROR(r.finish());
    return t;
}

Bytes encodeHeight(std::uint64_t h) {
    Writer w;
    w.u64(h);
    return std::move(w).take();
}

Status replayError(const Status& s) {
    return Status::dataLoss("replaying the consensus WAL: " + s.message());
}
}  // namespace

ConsensusCore::ConsensusCore(CoreConfig config, crypto::SecretKey key, EngineHooks hooks)
    : m_config(std::move(config)), m_signer(m_config.chainId, std::move(key)), m_appHooks(std::move(hooks)) {
    if (!m_config.schedule)
        m_config.schedule = std::make_shared<const ValidatorSchedule>(m_config.validators);
}

void ConsensusCore::makeEngine(std::uint64_t height) {
    const auto setPtr = setFor(height);
    const ValidatorSet& set = *setPtr;
    m_self = indexOf(set, m_signer.publicKey());
    m_engineSetHash = set.hash();
    EngineHooks wrapped;
    wrapped.valid = [this](std::uint64_t h, const Value& v) {
        if (auto it = m_verdicts.find(v.id); it != m_verdicts.end()) return it->second;
        const bool ok = m_appHooks.valid(h, v);
        m_verdicts.emplace(v.id, ok);
        // Synced together with the vote that follows.
        if (m_walFailure.isOk()) m_walFailure = m_wal->append(WalKind::Verdict, encodeVerdict(v.id, ok));
        return ok;
    };
    wrapped.getValue = [this](std::uint64_t h) {
        if (m_replaying && !m_loggedValues.empty()) {
            Value v = m_loggedValues.front();
            m_loggedValues.pop_front();
            return v;
        }
        Value v = m_appHooks.getValue(h);
        // Synced together with the signed proposal that follows.
        m_walFailure = m_wal->append(WalKind::OwnValue, encodeValue(v));
        return v;
    };
    // Not a member: an index no validator has, so the engine never proposes or votes.
    m_engine = std::make_unique<Engine>(powersOf(set), m_self.value_or(kNotAValidator), m_config.timeouts,
                                        std::move(wrapped));
}

Result<std::unique_ptr<ConsensusCore>> ConsensusCore::open(CoreConfig config, crypto::SecretKey key,
                                                           EngineHooks hooks, std::uint64_t height,
                                                           CoreOutput* resumed, WalOpenReport* report) {
    std::unique_ptr<ConsensusCore> core(
        new ConsensusCore(std::move(config), std::move(key), std::move(hooks)));
    WalOpenReport rep;
    FIDES_ASSIGN_OR_RETURN(core->m_wal, Wal::open(core->m_config.walDir, height, &rep));
    // First what this validator signed, so the replay cannot sign anything else.
    for (const auto& r : rep.records) {
        if (r.kind == WalKind::OwnVote) {
            FIDES_ASSIGN_OR_RETURN(SignedVote v, SignedVote::decode(r.body));
            FIDES_RETURN_IF_ERROR(core->m_signer.restore(v));
        } else if (r.kind == WalKind::OwnProposal) {
            FIDES_ASSIGN_OR_RETURN(SignedProposal p,
                                   SignedProposal::decode(r.body, core->m_config.maxValueBytes));
            FIDES_RETURN_IF_ERROR(core->m_signer.restore(p));
        } else if (r.kind == WalKind::OwnValue) {
            FIDES_ASSIGN_OR_RETURN(Value v, decodeValue(r.body, core->m_config.maxValueBytes));
            core->m_loggedValues.push_back(std::move(v));
        } else if (r.kind == WalKind::Verdict) {
            FIDES_ASSIGN_OR_RETURN(auto verdict, decodeVerdict(r.body));
            core->m_verdicts.insert(verdict);
        }
    }
    core->makeEngine(height);
    CoreOutput out;
    if (rep.records.empty()) {
        FIDES_RETURN_IF_ERROR(core->m_wal->append(WalKind::HeightStart, encodeHeight(height)));
        FIDES_RETURN_IF_ERROR(core->m_wal->sync());
        FIDES_ASSIGN_OR_RETURN(out, core->handle(core->m_engine->start(height)));
    } else {
        Status st = core->replay(rep.records);
        if (!st) return st;
        // Re-arm the timers of where the engine is, and send our messages again.
        const Engine& e = *core->m_engine;
        const TimeoutConfig& t = core->m_config.timeouts;
        if (!e.decided()) {
            out.timeouts.push_back({{e.height(), e.round(), e.step()},
                                    e.step() == Step::Propose ? t.propose(e.round()) : t.prevote(e.round())});
            out.timeouts.push_back({{e.height(), e.round(), Step::Precommit}, t.precommit(e.round())});
        }
        CoreOutput g = core->gossip();
        out.proposals = std::move(g.proposals);
        out.votes = std::move(g.votes);
        out.decisions = std::move(core->m_replayedDecisions);
    }
    if (report != nullptr) *report = std::move(rep);
    if (resumed != nullptr) *resumed = std::move(out);
    return core;
}

Status ConsensusCore::replay(const std::vector<WalRecord>& records) {
    m_replaying = true;
    for (const auto& r : records) {
        Result<CoreOutput> out = CoreOutput{};
        switch (r.kind) {
        case WalKind::HeightStart: {
            Reader rd(r.body);
            std::uint64_t h = 0;
            FIDES_RETURN_IF_ERROR(rd.u64(h));
            out = handle(m_engine->start(h));
            break;
        }
        case WalKind::ProposalIn: {
            FIDES_ASSIGN_OR_RETURN(SignedProposal s, SignedProposal::decode(r.body, m_config.maxValueBytes));
            auto p = verifyProposal(m_config.chainId, *setFor(s.height), s);
            if (!p) return replayError(p.status());
            hold(s);
            out = handle(m_engine->onProposal(*p));
            break;
        }
        case WalKind::VoteIn: {
            FIDES_ASSIGN_OR_RETURN(SignedVote s, SignedVote::decode(r.body));
            auto v = verifyVote(m_config.chainId, *setFor(s.height), s);
            if (!v) return replayError(v.status());
            hold(s, v->validator);
            out = handle(m_engine->onVote(*v));
            break;
        }
        case WalKind::TimeoutIn: {
            FIDES_ASSIGN_OR_RETURN(TimeoutEvent t, decodeTimeout(r.body));
            out = handle(m_engine->onTimeout(t));
            break;
        }
        case WalKind::OwnValue:
        case WalKind::OwnProposal:
        case WalKind::OwnVote:
        case WalKind::Verdict: break;  // restored before the replay
        default: return Status::dataLoss("unknown record kind in the consensus WAL");
        }
        if (!out) return replayError(out.status());
        for (auto& d : out->decisions) m_replayedDecisions.push_back(std::move(d));
    }
    m_replaying = false;
    return Status::ok();
}

void ConsensusCore::hold(const SignedProposal& p) {
    for (const auto& known : m_proposals) {
        if (known.height == p.height && known.round == p.round && known.value.id == p.value.id &&
            known.proposer == p.proposer) {
            return;
        }
    }
    m_proposals.push_back(p);
}

void ConsensusCore::hold(const SignedVote& v, ValidatorIndex index) {
    auto& list = m_votes[{v.height, v.round, v.type, index}];
    for (const auto& known : list) {
        if (known.value == v.value) return;
    }
    list.push_back(v);
}

Result<CoreOutput> ConsensusCore::handle(Effects fx) {
    CoreOutput out;
    // Every fresh signature is logged, during a replay too (the crash may
    // have come before it was written); a repeated one is already there.
    bool freshMessages = false;
    for (const auto& p : fx.proposals) {
        bool fresh = false;
        auto s = m_signer.sign(p, &fresh);
        if (!s) return s.status();
        if (fresh) FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::OwnProposal, s->encode()));
        freshMessages |= fresh;
        hold(*s);
        out.proposals.push_back(std::move(*s));
    }
    for (const auto& v : fx.votes) {
        bool fresh = false;
        auto s = m_signer.sign(v, &fresh);
        if (!s) return s.status();
        if (fresh) FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::OwnVote, s->encode()));
        freshMessages |= fresh;
        hold(*s, v.validator);
        out.votes.push_back(std::move(*s));
    }
    FIDES_RETURN_IF_ERROR(m_walFailure);
    // Durable before anything leaves the process.
    if (freshMessages) FIDES_RETURN_IF_ERROR(m_wal->sync());
    out.timeouts = std::move(fx.timeouts);
    for (const auto& d : fx.decisions) {
        CoreDecision cd;
        cd.height = d.height;
        cd.value = d.value;
        cd.commit.height = d.height;
        cd.commit.round = d.round;
        cd.commit.blockHash = d.value.id;
        for (const auto& pv : d.precommits) {
            auto it = m_votes.find({d.height, pv.round, VoteType::Precommit, pv.validator});
            if (it == m_votes.end()) continue;
            for (const auto& s : it->second) {
                if (s.value == pv.value) cd.commit.signatures.push_back({s.validator, s.signature});
            }
        }
        std::sort(cd.commit.signatures.begin(), cd.commit.signatures.end(),
                  [](const CommitSig& a, const CommitSig& b) { return a.validator < b.validator; });
        out.decisions.push_back(std::move(cd));
    }
    for (const auto& e : fx.evidence) {
        auto find = [&](const Vote& v) -> std::optional<SignedVote> {
            auto it = m_votes.find({v.height, v.round, v.type, v.validator});
            if (it == m_votes.end()) return std::nullopt;
            for (const auto& s : it->second) {
                if (s.value == v.value) return s;
            }
            return std::nullopt;
        };
        auto a = find(e.first);
        auto b = find(e.second);
        if (a && b) out.evidence.emplace_back(*a, *b);
    }
    return out;
}

Result<CoreOutput> ConsensusCore::onProposal(const SignedProposal& s) {
    if (s.height != m_engine->height() && s.height != m_engine->height() + 1) return CoreOutput{};
    // Gossip repeats messages: an identical one already held needs no
    // signature check, no log record and no engine step.
    for (const auto& known : m_proposals) {
        if (known.height == s.height && known.round == s.round && known.proposer == s.proposer &&
            known.value.id == s.value.id && known.signature == s.signature) {
            return CoreOutput{};
        }
    }
    if (s.value.data.size() > m_config.maxValueBytes)
        return Status::invalidArgument("proposed block is too large");
    FIDES_ASSIGN_OR_RETURN(Proposal p, verifyProposal(m_config.chainId, *setFor(s.height), s));
    FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::ProposalIn, s.encode()));
    hold(s);
    return handle(m_engine->onProposal(p));
}

Result<CoreOutput> ConsensusCore::onVote(const SignedVote& s) {
    if (s.height + 1 == m_engine->height()) return onLateVote(s);
    if (s.height != m_engine->height() && s.height != m_engine->height() + 1) return CoreOutput{};
    const auto set = setFor(s.height);
    if (auto index = indexOf(*set, s.validator)) {
        auto it = m_votes.find({s.height, s.round, s.type, *index});
        if (it != m_votes.end()) {
            for (const auto& known : it->second) {
                if (known.value == s.value && known.signature == s.signature) return CoreOutput{};  // seen
            }
        }
    }
    FIDES_ASSIGN_OR_RETURN(Vote v, verifyVote(m_config.chainId, *set, s));
    FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::VoteIn, s.encode()));
    hold(s, v.validator);
    return handle(m_engine->onVote(v));
}

// A vote for the height decided last: the engine is past it, but a
// validator that signed a different vote for the same round and step is
// still caught (a lagging twin of a validator, or an equivocator whose
// second vote arrived after the decision). Compared with the votes held;
// verified only when it conflicts; never logged, never held otherwise.
Result<CoreOutput> ConsensusCore::onLateVote(const SignedVote& s) {
    CoreOutput out;
    const auto set = setFor(s.height);
    const auto index = indexOf(*set, s.validator);
    if (!index) return out;
    auto it = m_votes.find({s.height, s.round, s.type, *index});
    // Nothing to compare with, or this validator was caught here already.
    if (it == m_votes.end() || it->second.size() != 1) return out;
    const SignedVote known = it->second.front();
    if (known.value == s.value) return out;
    FIDES_RETURN_IF_ERROR(verifyVote(m_config.chainId, *set, s).status());
    it->second.push_back(s);
    out.evidence.emplace_back(known, s);
    return out;
}

Result<CoreOutput> ConsensusCore::onTimeout(const TimeoutEvent& t) {
    if (t.height != m_engine->height() || m_engine->decided()) return CoreOutput{};
    FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::TimeoutIn, encodeTimeout(t)));
    return handle(m_engine->onTimeout(t));
}

Result<CoreOutput> ConsensusCore::startHeight(std::uint64_t height) {
    WalOpenReport rep;
    FIDES_ASSIGN_OR_RETURN(auto wal, Wal::open(m_config.walDir, height, &rep));
    if (!rep.records.empty()) {
        return Status::failedPrecondition("a consensus WAL for height " + std::to_string(height) +
                                          " already exists; reopen the core instead");
    }
    m_wal = std::move(wal);
    FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::HeightStart, encodeHeight(height)));
    FIDES_RETURN_IF_ERROR(m_wal->sync());
    FIDES_RETURN_IF_ERROR(Wal::pruneBelow(m_config.walDir, height));
    // Keep what arrived for this height already, and the votes of the height
    // before (late conflicting votes are compared with them); drop older.
    m_votes.erase(m_votes.begin(), m_votes.lower_bound({height - 1, 0, VoteType::Prevote, 0}));
    std::erase_if(m_proposals, [&](const SignedProposal& p) { return p.height < height; });
    m_loggedValues.clear();
    m_verdicts.clear();
    // A new validator set from this height: a fresh engine with its powers.
    // Otherwise the engine goes on; either way it starts empty and the
    // messages held for the height are logged and fed to it one by one, in
    // the order a replay of this log will feed them after a crash.
    const auto set = setFor(height);
    if (set->hash() != m_engineSetHash) {
        makeEngine(height);
    } else {
        m_engine->clearBuffered();
    }
    FIDES_ASSIGN_OR_RETURN(CoreOutput out, handle(m_engine->start(height)));
    const auto merge = [&out](CoreOutput more) {
        for (auto& p : more.proposals) out.proposals.push_back(std::move(p));
        for (auto& v : more.votes) out.votes.push_back(std::move(v));
        for (auto& t : more.timeouts) out.timeouts.push_back(t);
        for (auto& d : more.decisions) out.decisions.push_back(std::move(d));
        for (auto& e : more.evidence) out.evidence.push_back(std::move(e));
    };
    // Held messages were checked on arrival against this height's set (fixed
    // two heights ahead), so no signature is verified again: the vote's index
    // is in its key, the proposer's is looked up.
    // (Own proposals the engine makes meanwhile are appended after `held`.)
    const std::size_t held = m_proposals.size();
    for (std::size_t i = 0; i < held; ++i) {
        if (m_proposals[i].height != height) continue;
        const auto index = indexOf(*set, m_proposals[i].proposer);
        if (!index) continue;
        FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::ProposalIn, m_proposals[i].encode()));
        Proposal p{height, m_proposals[i].round, m_proposals[i].value, m_proposals[i].validRound, *index};
        FIDES_ASSIGN_OR_RETURN(CoreOutput more, handle(m_engine->onProposal(p)));
        merge(std::move(more));
    }
    std::vector<Vote> heldVotes;
    for (const auto& [key, list] : m_votes) {
        if (std::get<0>(key) != height) continue;
        // Own votes of this height were signed just now (start, proposals
        // above): logged as OwnVote and counted by the engine already.
        if (m_self && std::get<3>(key) == *m_self) continue;
        for (const auto& s : list) {
            FIDES_RETURN_IF_ERROR(m_wal->append(WalKind::VoteIn, s.encode()));
            heldVotes.push_back(Vote{s.type, s.height, s.round, s.value, std::get<3>(key)});
        }
    }
    for (const auto& v : heldVotes) {
        FIDES_ASSIGN_OR_RETURN(CoreOutput more, handle(m_engine->onVote(v)));
        merge(std::move(more));
    }
    return out;
}

CoreOutput ConsensusCore::gossip() const {
    CoreOutput out;
    const std::uint64_t h = m_engine->height();
    for (const auto& p : m_proposals) {
        if (p.height == h) out.proposals.push_back(p);
    }
    for (const auto& [key, list] : m_votes) {
        if (std::get<0>(key) == h) out.votes.insert(out.votes.end(), list.begin(), list.end());
    }
    return out;
}

}  // namespace fides::consensus
