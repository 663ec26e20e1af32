// ConsensusCore: the consensus engine of one validator made durable and
// authenticated. It verifies incoming signed proposals and votes, logs them
// in the write-ahead log, feeds them to the engine, signs the engine's
// messages through the GuardedSigner, logs them and syncs the log before
// handing them out for sending, and turns decisions into commits (the
// precommits' real signatures, in key order).
//
// open() restores a validator after a crash: the signer learns everything
// this validator signed at the height from the log, then the logged inputs
// are replayed into a fresh engine (values it had proposed come from the
// log, not from the application), which brings back its round, step, lock
// and valid value. A replay that would sign anything different from what
// the log says was signed is refused (DATA_LOSS), never sent.
//
// Validator sets: messages of a height are checked against that height's
// set (the schedule knows the current and the next one). When the set
// changes at a new height the engine is rebuilt with the new powers and the
// messages already held for that height are fed to it again. A node whose
// key is not in a height's set follows it without signing anything.
//
// Thread-safety: not thread-safe; owned by the consensus thread.
#pragma once

#include "consensus/engine.h"
#include "consensus/messages.h"
#include "consensus/signer.h"
#include "consensus/wal.h"
#include "primitives/block.h"
#include "primitives/validator_schedule.h"

#include <deque>
#include <map>
#include <memory>
#include <tuple>

namespace fides::consensus {

struct CoreConfig {
    std::string chainId;
    // The set of each height (governance changes it). Without a schedule,
    // `validators` signs every height.
    std::shared_ptr<const ValidatorSchedule> schedule;
    ValidatorSet validators;
    std::string walDir;
    TimeoutConfig timeouts;
    std::size_t maxValueBytes = 32u << 20;
};

struct CoreDecision {
    std::uint64_t height = 0;
    Value value;
    Commit commit;  // verifies with ValidatorSet::verifyCommit
};

struct CoreOutput {
    std::vector<SignedProposal> proposals;  // durable in the log; send them
    std::vector<SignedVote> votes;          // durable in the log; send them
    std::vector<ScheduledTimeout> timeouts;
    std::vector<CoreDecision> decisions;
    std::vector<std::pair<SignedVote, SignedVote>> evidence;  // two signed votes of one validator
};

class ConsensusCore {
public:
    // Opens the log of `height` (the height after the last stored block) and
    // replays it. `resumed` receives what to do next: timeouts to re-arm,
    // own messages to send again, a decision the log reached but the store
    // may lack.
    static Result<std::unique_ptr<ConsensusCore>> open(CoreConfig config, crypto::SecretKey key,
                                                       EngineHooks hooks, std::uint64_t height,
                                                       CoreOutput* resumed, WalOpenReport* report = nullptr);

    Result<CoreOutput> onProposal(const SignedProposal& proposal);
    Result<CoreOutput> onVote(const SignedVote& vote);
    Result<CoreOutput> onTimeout(const TimeoutEvent& timeout);
    // After the decided block is stored: a new log for `height`, older ones
    // deleted.
    Result<CoreOutput> startHeight(std::uint64_t height);
    // Every signed message held for the current height, to send again.
    CoreOutput gossip() const;
    // Changes whenever the core moves (height, round, step) or holds a new
    // message: equal marks an interval apart mean no progress in between.
    std::tuple<std::uint64_t, std::uint32_t, Step, std::size_t, std::size_t> progressMark() const {
        return {m_engine->height(), m_engine->round(), m_engine->step(), m_votes.size(), m_proposals.size()};
    }

    const Engine& engine() const { return *m_engine; }
    const crypto::PublicKey& publicKey() const { return m_signer.publicKey(); }

private:
    ConsensusCore(CoreConfig config, crypto::SecretKey key, EngineHooks hooks);
    void makeEngine(std::uint64_t height);
    ValidatorSchedule::SetPtr setFor(std::uint64_t height) const { return m_config.schedule->at(height); }
    Result<CoreOutput> handle(Effects effects);
    void hold(const SignedVote& v, ValidatorIndex index);
    void hold(const SignedProposal& p);
    Status replay(const std::vector<WalRecord>& records);
    Result<CoreOutput> onLateVote(const SignedVote& vote);

    CoreConfig m_config;
    GuardedSigner m_signer;
    EngineHooks m_appHooks;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<Wal> m_wal;
    std::optional<ValidatorIndex> m_self;  // in the engine's height's set
    crypto::Hash256 m_engineSetHash;
    bool m_replaying = false;
    std::deque<Value> m_loggedValues;  // values proposed before a restart, in order
    // What the application's valid hook answered at this height, logged
    // (WalKind::Verdict) and restored at a restart: the answer may depend on
    // what could be fetched, and a replay must take the same decisions.
    std::map<ValueId, bool> m_verdicts;
    Status m_walFailure;  // a failed OwnValue append inside the engine's hook
    std::vector<CoreDecision> m_replayedDecisions;

    // Signed messages of the current and the next height (own and
    // received; the engine keeps the next height's for when it starts), for
    // commits, evidence and gossip; votes of the previous height too, for
    // evidence only.
    std::map<std::tuple<std::uint64_t, std::uint32_t, VoteType, ValidatorIndex>, std::vector<SignedVote>>
        m_votes;
    std::vector<SignedProposal> m_proposals;
};

}  // namespace fides::consensus
