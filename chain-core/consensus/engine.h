// The Tendermint consensus algorithm (Buchman, Kwon, Milosevic, "The latest
// gossip on BFT consensus", 2018, Algorithm 1) as a deterministic state
// machine, with voting power: "2f + 1" is read as "more than 2/3 of the total
// power" and "f + 1" as "more than 1/3".
//
// The engine does no I/O, keeps no clock and verifies no signatures. Its
// inputs are proposals and votes that the caller has already authenticated
// (the sender's signature checked, the sender mapped to its validator index),
// timeout events the caller scheduled, and committed decisions obtained by
// block sync. Its outputs (Effects) are what to sign and broadcast, which
// timeouts to schedule, what was decided, and equivocation evidence. Given
// the same inputs in the same order it produces the same outputs, so whole
// networks of engines run in a seeded simulation (tests/unit/consensus).
//
// The application is reached through two hooks: getValue(height) proposes a
// value (a block), valid(height, value) checks one (results are cached per
// value id).
//
// Heights: start(h) begins height h. Once a value is decided the engine
// stops at that height (decided() is true, further input for it is ignored,
// messages for h + 1 are kept); the caller applies the decision and then
// calls start(h + 1), which replays the kept messages.
//
// Thread-safety: not thread-safe; one engine belongs to one thread.
#pragma once

#include "crypto/hash.h"
#include "util/bytes.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace fides::consensus {

using ValueId = crypto::Hash256;
using ValidatorIndex = std::uint32_t;
// The `self` of an engine that follows a height without being in its set.
inline constexpr ValidatorIndex kNotAValidator = 0xffffffffu;

enum class Step : std::uint8_t { Propose = 0, Prevote = 1, Precommit = 2 };
enum class VoteType : std::uint8_t { Prevote = 1, Precommit = 2 };

const char* stepName(Step step);

// A proposed value: its id (the block hash) and its content (the block).
struct Value {
    ValueId id;
    Bytes data;
};

struct Proposal {
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    Value value;
    std::int64_t validRound = -1;  // -1: none
    ValidatorIndex proposer = 0;
};

struct Vote {
    VoteType type = VoteType::Prevote;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    std::optional<ValueId> value;  // nullopt: nil
    ValidatorIndex validator = 0;

    bool operator==(const Vote&) const = default;
};

struct TimeoutEvent {
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    Step step = Step::Propose;
};

// A value decided at a height, with the precommits that decided it (more
// than 2/3 of the power, all for the value's id at `round`).
struct Decision {
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    Value value;
    std::vector<Vote> precommits;
};

// Two different votes by one validator for the same (height, round, type).
struct Equivocation {
    Vote first;
    Vote second;
};

struct ScheduledTimeout {
    TimeoutEvent event;
    std::chrono::milliseconds after{0};
};

// What the caller must do after an input, in this order: persist and sign
// the messages, broadcast them, schedule the timeouts, apply the decisions.
struct Effects {
    std::vector<Proposal> proposals;
    std::vector<Vote> votes;
    std::vector<ScheduledTimeout> timeouts;
    std::vector<Decision> decisions;
    std::vector<Equivocation> evidence;

    bool empty() const {
        return proposals.empty() && votes.empty() && timeouts.empty() && decisions.empty() &&
               evidence.empty();
    }
    void append(Effects&& other);
};

// Round timeouts grow linearly: base + round * delta.
struct TimeoutConfig {
    std::chrono::milliseconds proposeBase{1000}, proposeDelta{500};
    std::chrono::milliseconds prevoteBase{500}, prevoteDelta{250};
    std::chrono::milliseconds precommitBase{500}, precommitDelta{250};

    std::chrono::milliseconds propose(std::uint32_t round) const {
        return proposeBase + proposeDelta * round;
    }
    std::chrono::milliseconds prevote(std::uint32_t round) const {
        return prevoteBase + prevoteDelta * round;
    }
    std::chrono::milliseconds precommit(std::uint32_t round) const {
        return precommitBase + precommitDelta * round;
    }
};

struct EngineHooks {
    std::function<Value(std::uint64_t height)> getValue;
    std::function<bool(std::uint64_t height, const Value& value)> valid;
};

// Weighted round-robin proposer selection (proposer priorities as in
// CometBFT): at each step every validator's priority grows by its power, the
// highest priority proposes (ties: lowest index) and pays the total power.
// proposer(h, r) is the proposer after (h - 1) + r steps from the initial
// (all-zero) priorities; the schedule caches the state at the last height.
class ProposerSchedule {
public:
    explicit ProposerSchedule(std::vector<std::uint64_t> powers);
    ValidatorIndex proposer(std::uint64_t height, std::uint32_t round);

private:
    static ValidatorIndex step(std::vector<std::int64_t>& priorities,
                               const std::vector<std::uint64_t>& powers, std::int64_t total);
    std::vector<std::uint64_t> m_powers;
    std::int64_t m_total = 0;
    std::uint64_t m_cachedHeight = 1;  // priorities below are the state before height's round 0
    std::vector<std::int64_t> m_cachedPriorities;
};

class Engine {
public:
    // `self` is this node's validator index.
    Engine(std::vector<std::uint64_t> powers, ValidatorIndex self, TimeoutConfig timeouts, EngineHooks hooks);

    // Starts consensus at `height`, round 0 (the first height, or the one
    // after the last decision).
    Effects start(std::uint64_t height);
    Effects onProposal(const Proposal& proposal);
    Effects onVote(const Vote& vote);
    Effects onTimeout(const TimeoutEvent& timeout);
    // A decision learned by block sync: accepted if it is for the current
    // height and its precommits carry more than 2/3 of the power for its value.
    Effects onDecision(const Decision& decision);
    // Everything this node holds for the current height (its own messages
    // and the proposals and votes it received, all rounds), to send again.
    // Relaying what it received is what the algorithm's liveness assumes:
    // a message one correct node got eventually reaches every correct node.
    Effects gossip() const;
    // Forgets the messages kept for the next height (the caller feeds them
    // again itself, e.g. after logging them).
    void clearBuffered() {
        m_bufferedProposals.clear();
        m_bufferedVotes.clear();
    }

    std::uint64_t height() const { return m_height; }
    bool decided() const { return m_decided; }
    std::uint32_t round() const { return m_round; }
    Step step() const { return m_step; }
    std::int64_t lockedRound() const { return m_lockedRound; }
    std::int64_t validRound() const { return m_validRound; }
    std::optional<ValueId> lockedValue() const;
    ValidatorIndex proposer(std::uint64_t height, std::uint32_t round) {
        return m_schedule.proposer(height, round);
    }
    std::uint64_t totalPower() const { return m_total; }

    // Bounds on what is kept for the next height before it starts.
    static constexpr std::size_t kMaxBufferedMessages = 4096;
    // Per validator, round and vote type: distinct values accepted without
    // support from anyone else (beyond that, only values others voted for).
    static constexpr std::size_t kMaxUnsupportedValues = 2;
    static constexpr std::size_t kMaxProposalsPerRound = 4;

private:
    // Votes are tallied per value: a validator counts once toward each value
    // it signed a vote for (an equivocator can count toward two values,
    // which is safe: two quorums still share an honest validator), and once
    // toward the "any" totals. Its first vote comes first in its list.
    struct RoundState {
        std::map<ValidatorIndex, std::vector<Vote>> prevotes, precommits;
        std::map<std::optional<ValueId>, std::uint64_t> prevotePower, precommitPower;
        std::uint64_t prevoteTotal = 0, precommitTotal = 0;
        // Proposals from the round's proposer: the first, plus (if it
        // equivocated) others whose value someone voted for.
        std::vector<Proposal> proposals;
        std::set<ValidatorIndex> senders;  // anyone who sent anything in this round
        std::uint64_t senderPower = 0;
        bool prevoteTimeoutScheduled = false;    // line 34
        bool precommitTimeoutScheduled = false;  // line 47
        bool lockedOrUpdatedValid = false;       // line 36, "for the first time"
    };

    bool quorum(std::uint64_t power) const { return power * 3 > m_total * 2; }
    bool oneThird(std::uint64_t power) const { return power * 3 > m_total; }
    bool isValid(const Value& value);
    void addSender(RoundState& rs, ValidatorIndex v);
    void startRound(std::uint32_t round, Effects& out);
    void broadcastVote(VoteType type, std::optional<ValueId> value, Effects& out);
    void enterNewHeight(Effects& out);
    Effects process(Effects out);
    bool applyRules(Effects& out);
    void decide(std::uint32_t round, const Value& value, Effects& out);
    bool acceptProposal(const Proposal& p);
    bool supported(const RoundState& rs, const ValueId& id) const;
    const Proposal* firstProposal(const RoundState& rs) const {
        return rs.proposals.empty() ? nullptr : &rs.proposals.front();
    }
    Effects acceptVote(const Vote& v);

    std::vector<std::uint64_t> m_powers;
    std::uint64_t m_total = 0;
    ValidatorIndex m_self;
    TimeoutConfig m_timeouts;
    EngineHooks m_hooks;
    ProposerSchedule m_schedule;

    std::uint64_t m_height = 0;
    std::uint32_t m_round = 0;
    Step m_step = Step::Propose;
    std::optional<Value> m_lockedValue;
    std::int64_t m_lockedRound = -1;
    std::optional<Value> m_validValue;
    std::int64_t m_validRound = -1;
    bool m_decided = false;

    std::map<std::uint32_t, RoundState> m_rounds;  // current height
    std::map<ValueId, bool> m_validity;            // current height
    std::vector<Proposal> m_bufferedProposals;     // next height
    std::vector<Vote> m_bufferedVotes;             // next height
};

}  // namespace fides::consensus
