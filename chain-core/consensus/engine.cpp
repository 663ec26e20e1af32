#include "consensus/engine.h"

#include <cassert>

namespace fides::consensus {

namespace {
// Votes for rounds further ahead than this are ignored (bounds memory against
// a validator that invents round numbers; the round-skip rule still works for
// any honest progress).
constexpr std::uint32_t kMaxRoundsAhead = 1024;

template <typename Map, typename Key>
std::uint64_t powerOf(const Map& m, const Key& k) {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
}
}  // namespace

const char* stepName(Step step) {
    switch (step) {
    case Step::Propose: return "propose";
    case Step::Prevote: return "prevote";
    case Step::Precommit: return "precommit";
    }
    return "?";
}

void Effects::append(Effects&& o) {
    auto move = [](auto& to, auto& from) {
        to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    };
    move(proposals, o.proposals);
    move(votes, o.votes);
    move(timeouts, o.timeouts);
    move(decisions, o.decisions);
    move(evidence, o.evidence);
}

// ---- ProposerSchedule ----

ProposerSchedule::ProposerSchedule(std::vector<std::uint64_t> powers) : m_powers(std::move(powers)) {
    for (auto p : m_powers) m_total += static_cast<std::int64_t>(p);
    m_cachedPriorities.assign(m_powers.size(), 0);
}

ValidatorIndex ProposerSchedule::step(std::vector<std::int64_t>& prio,
                                      const std::vector<std::uint64_t>& powers, std::int64_t total) {
    ValidatorIndex best = 0;
    for (std::size_t i = 0; i < prio.size(); ++i) {
        prio[i] += static_cast<std::int64_t>(powers[i]);
        if (prio[i] > prio[best]) best = static_cast<ValidatorIndex>(i);
    }
    prio[best] -= total;
    return best;
}

ValidatorIndex ProposerSchedule::proposer(std::uint64_t height, std::uint32_t round) {
    if (height < m_cachedHeight) {
        m_cachedHeight = 1;
        m_cachedPriorities.assign(m_powers.size(), 0);
    }
    while (m_cachedHeight < height) {
        step(m_cachedPriorities, m_powers, m_total);
        ++m_cachedHeight;
    }
    std::vector<std::int64_t> prio = m_cachedPriorities;
    for (std::uint32_t r = 0; r < round; ++r) step(prio, m_powers, m_total);
    return step(prio, m_powers, m_total);
}

// ---- Engine ----

Engine::Engine(std::vector<std::uint64_t> powers, ValidatorIndex self, TimeoutConfig timeouts,
               EngineHooks hooks)
    : m_powers(powers),
      m_self(self),
      m_timeouts(timeouts),
      m_hooks(std::move(hooks)),
      m_schedule(std::move(powers)) {
    for (auto p : m_powers) m_total += p;
}

std::optional<ValueId> Engine::lockedValue() const {
    if (!m_lockedValue) return std::nullopt;
    return m_lockedValue->id;
}

bool Engine::isValid(const Value& value) {
    auto it = m_validity.find(value.id);
    if (it != m_validity.end()) return it->second;
    const bool ok = m_hooks.valid(m_height, value);
    m_validity.emplace(value.id, ok);
    return ok;
}

void Engine::addSender(RoundState& rs, ValidatorIndex v) {
    if (rs.senders.insert(v).second) rs.senderPower += m_powers[v];
}

Effects Engine::start(std::uint64_t height) {
    Effects out;
    if (height != m_height + 1) {
        // Kept messages are for m_height + 1 only.
        m_bufferedProposals.clear();
        m_bufferedVotes.clear();
    }
    m_height = height;
    enterNewHeight(out);
    return process(std::move(out));
}

void Engine::enterNewHeight(Effects& out) {
    m_lockedValue.reset();
    m_lockedRound = -1;
    m_validValue.reset();
    m_validRound = -1;
    m_decided = false;
    m_rounds.clear();
    m_validity.clear();
    startRound(0, out);
    // Messages that arrived early for this height.
    auto proposals = std::move(m_bufferedProposals);
    auto votes = std::move(m_bufferedVotes);
    m_bufferedProposals.clear();
    m_bufferedVotes.clear();
    for (const auto& p : proposals) {
        if (p.height == m_height) acceptProposal(p);
    }
    for (const auto& v : votes) {
        if (v.height == m_height) out.append(acceptVote(v));
    }
}

void Engine::startRound(std::uint32_t round, Effects& out) {
    m_round = round;
    m_step = Step::Propose;
    if (m_schedule.proposer(m_height, round) == m_self) {
        Proposal p;
        p.height = m_height;
        p.round = round;
        p.proposer = m_self;
        if (m_validValue) {
            p.value = *m_validValue;
            p.validRound = m_validRound;
        } else {
            p.value = m_hooks.getValue(m_height);
            p.validRound = -1;
        }
        out.proposals.push_back(p);
        acceptProposal(p);
    } else {
        out.timeouts.push_back({{m_height, round, Step::Propose}, m_timeouts.propose(round)});
    }
}

void Engine::broadcastVote(VoteType type, std::optional<ValueId> value, Effects& out) {
    if (m_self >= m_powers.size()) return;  // following, not voting
    Vote v{type, m_height, m_round, value, m_self};
    out.votes.push_back(v);
    Effects own = acceptVote(v);
    assert(own.evidence.empty() && "the engine voted twice in one round and step");
    out.append(std::move(own));
}

bool Engine::acceptProposal(const Proposal& p) {
    if (p.height != m_height || p.proposer >= m_powers.size()) return false;
    if (p.round > m_round + kMaxRoundsAhead) return false;
    if (p.validRound < -1 || p.validRound >= static_cast<std::int64_t>(p.round)) return false;
    if (m_schedule.proposer(p.height, p.round) != p.proposer) return false;
    RoundState& rs = m_rounds[p.round];
    addSender(rs, p.proposer);
    for (const auto& known : rs.proposals) {
        if (known.value.id == p.value.id) return false;
    }
    // The proposer equivocated: keep another proposal only if someone voted
    // for its value (so a decided value is never unknown), within a bound.
    if (!rs.proposals.empty() &&
        (rs.proposals.size() >= kMaxProposalsPerRound || !supported(rs, p.value.id))) {
        return false;
    }
    rs.proposals.push_back(p);
    return true;
}

bool Engine::supported(const RoundState& rs, const ValueId& id) const {
    const std::optional<ValueId> key(id);
    return powerOf(rs.prevotePower, key) > 0 || powerOf(rs.precommitPower, key) > 0;
}

Effects Engine::acceptVote(const Vote& v) {
    Effects out;
    if (v.height != m_height || v.validator >= m_powers.size()) return out;
    if (v.round > m_round + kMaxRoundsAhead) return out;
    RoundState& rs = m_rounds[v.round];
    const bool prevote = v.type == VoteType::Prevote;
    auto& mine = (prevote ? rs.prevotes : rs.precommits)[v.validator];
    auto& tally = prevote ? rs.prevotePower : rs.precommitPower;
    const std::uint64_t power = m_powers[v.validator];
    for (const auto& known : mine) {
        if (known == v) return out;  // seen
    }
    if (!mine.empty()) {
        // Equivocation: report it once, and count the vote toward its value
        // only if bounded (junk) or someone else voted for that value too.
        if (mine.size() == 1) out.evidence.push_back({mine.front(), v});
        if (mine.size() >= kMaxUnsupportedValues && powerOf(tally, v.value) == 0) return out;
        mine.push_back(v);
        tally[v.value] += power;
        return out;
    }
    mine.push_back(v);
    tally[v.value] += power;
    (prevote ? rs.prevoteTotal : rs.precommitTotal) += power;
    addSender(rs, v.validator);
    return out;
}

Effects Engine::onProposal(const Proposal& p) {
    if (p.height == m_height + 1) {
        if (m_bufferedProposals.size() < kMaxBufferedMessages) m_bufferedProposals.push_back(p);
        return {};
    }
    if (!acceptProposal(p)) return {};
    return process({});
}

Effects Engine::onVote(const Vote& v) {
    if (v.height == m_height + 1) {
        if (m_bufferedVotes.size() < kMaxBufferedMessages) m_bufferedVotes.push_back(v);
        return {};
    }
    return process(acceptVote(v));
}

Effects Engine::onTimeout(const TimeoutEvent& t) {
    Effects out;
    if (m_decided || t.height != m_height || t.round != m_round) return out;
    switch (t.step) {
    case Step::Propose:  // OnTimeoutPropose
        if (m_step == Step::Propose) {
            broadcastVote(VoteType::Prevote, std::nullopt, out);
            m_step = Step::Prevote;
        }
        break;
    case Step::Prevote:  // OnTimeoutPrevote
        if (m_step == Step::Prevote) {
            broadcastVote(VoteType::Precommit, std::nullopt, out);
            m_step = Step::Precommit;
        }
        break;
    case Step::Precommit:  // OnTimeoutPrecommit
        startRound(m_round + 1, out);
        break;
    }
    return process(std::move(out));
}

Effects Engine::onDecision(const Decision& d) {
    Effects out;
    if (m_decided || d.height != m_height) return out;
    std::set<ValidatorIndex> seen;
    std::uint64_t power = 0;
    for (const auto& v : d.precommits) {
        if (v.type != VoteType::Precommit || v.height != d.height || v.round != d.round ||
            v.value != d.value.id || v.validator >= m_powers.size() || !seen.insert(v.validator).second) {
            return out;
        }
        power += m_powers[v.validator];
    }
    if (!quorum(power)) return out;
    out.decisions.push_back(d);
    m_decided = true;
    return out;
}

Effects Engine::gossip() const {
    Effects out;
    if (m_decided) return out;
    // Every round of the height: a peer that missed the polka of an earlier
    // round needs those prevotes to accept a re-proposal (line 28).
    for (const auto& [round, rs] : m_rounds) {
        out.proposals.insert(out.proposals.end(), rs.proposals.begin(), rs.proposals.end());
        for (const auto* votes : {&rs.prevotes, &rs.precommits}) {
            for (const auto& [validator, list] : *votes)
                out.votes.insert(out.votes.end(), list.begin(), list.end());
        }
    }
    return out;
}

void Engine::decide(std::uint32_t round, const Value& value, Effects& out) {
    Decision d;
    d.height = m_height;
    d.round = round;
    d.value = value;
    for (const auto& [validator, list] : m_rounds[round].precommits) {
        for (const auto& v : list) {
            if (v.value == value.id) d.precommits.push_back(v);
        }
    }
    out.decisions.push_back(std::move(d));
    m_decided = true;
}

Effects Engine::process(Effects out) {
    while (applyRules(out)) {
    }
    return out;
}

// One pass over the "upon" rules of Algorithm 1 for the current height and
// round; true if one of them fired (the caller loops until none does).
bool Engine::applyRules(Effects& out) {
    if (m_decided) return false;
    RoundState& rs = m_rounds[m_round];
    // Lines 22 and 28 act once per round, on the first proposal received.
    const Proposal* p = firstProposal(rs);

    // Line 22: a fresh proposal (no valid round).
    if (m_step == Step::Propose && p != nullptr && p->validRound == -1) {
        const bool ok = isValid(p->value) && (m_lockedRound == -1 || m_lockedValue->id == p->value.id);
        broadcastVote(VoteType::Prevote, ok ? std::optional<ValueId>(p->value.id) : std::nullopt, out);
        m_step = Step::Prevote;
        return true;
    }
    // Line 28: a re-proposal of a value that had a polka in round vr.
    if (m_step == Step::Propose && p != nullptr && p->validRound >= 0 &&
        p->validRound < static_cast<std::int64_t>(m_round)) {
        auto it = m_rounds.find(static_cast<std::uint32_t>(p->validRound));
        if (it != m_rounds.end() &&
            quorum(powerOf(it->second.prevotePower, std::optional<ValueId>(p->value.id)))) {
            const bool ok =
                isValid(p->value) && (m_lockedRound <= p->validRound || m_lockedValue->id == p->value.id);
            broadcastVote(VoteType::Prevote, ok ? std::optional<ValueId>(p->value.id) : std::nullopt, out);
            m_step = Step::Prevote;
            return true;
        }
    }
    // Line 34: 2f+1 prevotes of any kind.
    if (m_step == Step::Prevote && !rs.prevoteTimeoutScheduled && quorum(rs.prevoteTotal)) {
        rs.prevoteTimeoutScheduled = true;
        out.timeouts.push_back({{m_height, m_round, Step::Prevote}, m_timeouts.prevote(m_round)});
        return true;
    }
    // Line 36: a polka for a proposal of this round: lock and precommit, or
    // update the valid value.
    if (!rs.lockedOrUpdatedValid && m_step >= Step::Prevote) {
        for (const auto& cand : rs.proposals) {
            if (!quorum(powerOf(rs.prevotePower, std::optional<ValueId>(cand.value.id))) ||
                !isValid(cand.value)) {
                continue;
            }
            const Value v = cand.value;
            rs.lockedOrUpdatedValid = true;
            if (m_step == Step::Prevote) {
                m_lockedValue = v;
                m_lockedRound = m_round;
                broadcastVote(VoteType::Precommit, v.id, out);
                m_step = Step::Precommit;
            }
            m_validValue = v;
            m_validRound = m_round;
            return true;
        }
    }
    // Line 44: a polka for nil.
    if (m_step == Step::Prevote && quorum(powerOf(rs.prevotePower, std::optional<ValueId>()))) {
        broadcastVote(VoteType::Precommit, std::nullopt, out);
        m_step = Step::Precommit;
        return true;
    }
    // Line 47: 2f+1 precommits of any kind.
    if (!rs.precommitTimeoutScheduled && quorum(rs.precommitTotal)) {
        rs.precommitTimeoutScheduled = true;
        out.timeouts.push_back({{m_height, m_round, Step::Precommit}, m_timeouts.precommit(m_round)});
        return true;
    }
    // Line 49: 2f+1 precommits for a proposal of any round: decide.
    for (auto& [r, s] : m_rounds) {
        for (const auto& cand : s.proposals) {
            if (quorum(powerOf(s.precommitPower, std::optional<ValueId>(cand.value.id))) &&
                isValid(cand.value)) {
                const Value decided = cand.value;
                const std::uint32_t round = r;
                decide(round, decided, out);
                return true;
            }
        }
    }
    // Line 55: f+1 of the power is already in a later round: skip to it.
    for (auto it = m_rounds.upper_bound(m_round); it != m_rounds.end(); ++it) {
        if (oneThird(it->second.senderPower)) {
            startRound(it->first, out);
            return true;
        }
    }
    return false;
}

}  // namespace fides::consensus
