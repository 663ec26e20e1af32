// Governance: changing the validator set on the ledger.
//
// A change (add a validator, remove one, change its power, rotate its key)
// is a GovernanceProposal. The validators of the current set approve it by
// signing its digest with their validator keys; once approvals hold more
// than 2/3 of the current voting power, anyone submits it in a
// ValidatorUpdate transaction (the approvals authenticate it, so the
// envelope's signer does not matter). Committed in block H, it schedules the
// new set from height H + ValidatorSchedule::kActivationDelay.
//
// Rules, checked at admission and again in every block:
//  - the proposal names the set it changes (baseSetHash); it must be the set
//    of the block that includes it, so approvals gathered for an older set
//    cannot be used after the set changed;
//  - at most one change is pending: none may be included while a scheduled
//    set has not yet taken effect, nor two in one block;
//  - a proposal is applied once (its digest is recorded in the state);
//  - the resulting set is a valid set (not empty, positive powers, at most
//    ValidatorSet::kMaxValidators members).
//
// State entries written:
//   ValidatorSchedule::stateKey(H + 2) -> the new set (encodeFull)
//   "fides/governance/" || digest      -> u64 H + 2 (the activation height)
//
// Application authorities (primitives/authority.h) are admitted, changed and
// revoked the same way: an AuthorityProposal approved by more than 2/3 of
// the power of the set of the block that includes it, in an AuthorityUpdate
// transaction. It takes effect in that block (no delay: it changes no
// signer of consensus). Rules: the proposal names that set (baseSetHash);
// it is applied once; Admit needs an id never used (not admitted, never
// revoked), Change an admitted id and the same role, Revoke an admitted id;
// the resulting authority is valid. State entries written:
//   authorityKey(id)         -> Authority (Admit, Change); erased (Revoke)
//   revokedAuthorityKey(id)  -> u64 H (Revoke)
//   "fides/governance/" || digest -> u64 H
//
// Thread-safety: checkTx is const and re-entrant; deliverTx runs on the
// consensus thread.
#pragma once

#include "app/application.h"
#include "primitives/authority.h"
#include "primitives/block.h"
#include "primitives/validator_schedule.h"

#include <atomic>
#include <memory>

namespace fides::consensus {

// doc/spec/tx-types.md
inline constexpr std::uint16_t kValidatorUpdateTxType = 3;
inline constexpr std::uint16_t kAuthorityUpdateTxType = 4;
// Governance writes the validator sets (ValidatorSchedule::kStatePrefix) and
// its own records, all under this prefix.
inline constexpr std::string_view kGovernanceStatePrefix = "fides/";

enum class ChangeOp : std::uint8_t { Add = 1, Remove = 2, SetPower = 3, RotateKey = 4 };

struct ValidatorChange {
    ChangeOp op = ChangeOp::Add;
    crypto::PublicKey key;     // the validator concerned
    std::uint64_t power = 0;   // Add, SetPower
    std::string name;          // Add
    crypto::PublicKey newKey;  // RotateKey

    bool operator==(const ValidatorChange&) const = default;
};

struct GovernanceProposal {
    static constexpr std::uint8_t kVersion = 1;
    static constexpr std::size_t kMaxChanges = 16;
    static constexpr std::size_t kMaxDescription = 512;

    crypto::Hash256 baseSetHash;
    std::uint64_t nonce = 0;  // distinguishes otherwise equal proposals
    std::string description;  // for people: why (shown to approvers)
    std::vector<ValidatorChange> changes;

    Bytes encode() const;
    static Result<GovernanceProposal> decode(ByteView bytes);
    // What approvers sign: taggedHash("fides/governance/v1", chainId || encode()).
    crypto::Hash256 digest(const std::string& chainId) const;
};

// A validator's signature of a proposal's digest: the same pair as a
// commit's precommit signature, checked by the same rule.
using Approval = CommitSig;

struct GovernancePayload {
    static constexpr std::uint8_t kVersion = 1;
    GovernanceProposal proposal;
    std::vector<Approval> approvals;  // ascending validator key, no duplicates

    Bytes encode() const;
    static Result<GovernancePayload> decode(ByteView bytes);
    // Adds (or replaces) `key`'s approval, keeping the key order.
    void approve(const std::string& chainId, const crypto::SecretKey& key);
};

// The set after `changes` (applied in order). INVALID_ARGUMENT says which
// change does not fit (an added key already present, a removed one absent…).
Result<ValidatorSet> applyChanges(const ValidatorSet& base, const std::vector<ValidatorChange>& changes);

// OK iff the approvals are valid signatures by distinct members of `base`,
// in key order, holding more than 2/3 of its power.
Status verifyApprovals(const std::string& chainId, const ValidatorSet& base,
                       const GovernancePayload& payload);

Transaction makeGovernanceTx(const std::string& chainId, const crypto::SecretKey& submitter,
                             const GovernancePayload& payload, std::uint64_t expiryUnixSeconds);

enum class AuthorityOp : std::uint8_t { Admit = 1, Change = 2, Revoke = 3 };

struct AuthorityProposal {
    static constexpr std::uint8_t kVersion = 1;
    crypto::Hash256 baseSetHash;  // the validator set that approves it
    std::uint64_t nonce = 0;
    std::string description;  // for people: why
    AuthorityOp op = AuthorityOp::Admit;
    // Admit, Change: the authority as it shall be (sinceHeight is set by the
    // block that applies it; encoded as 0). Revoke: only authority.id.
    Authority authority;

    Bytes encode() const;
    static Result<AuthorityProposal> decode(ByteView bytes);
    // What approvers sign: taggedHash("fides/governance/authority/v1", chainId || encode()).
    crypto::Hash256 digest(const std::string& chainId) const;
};

struct AuthorityPayload {
    static constexpr std::uint8_t kVersion = 1;
    AuthorityProposal proposal;
    std::vector<Approval> approvals;  // ascending validator key, no duplicates

    Bytes encode() const;
    static Result<AuthorityPayload> decode(ByteView bytes);
    void approve(const std::string& chainId, const crypto::SecretKey& key);
};

Transaction makeAuthorityTx(const std::string& chainId, const crypto::SecretKey& submitter,
                            const AuthorityPayload& payload, std::uint64_t expiryUnixSeconds);

Bytes governanceKey(const crypto::Hash256& digest);

class GovernanceApp final : public app::Application {
public:
    GovernanceApp(std::string chainId, std::shared_ptr<const ValidatorSchedule> schedule)
        : m_chainId(std::move(chainId)), m_schedule(std::move(schedule)) {}
    std::string name() const override { return "governance"; }
    std::vector<std::uint16_t> txTypes() const override {
        return {kValidatorUpdateTxType, kAuthorityUpdateTxType};
    }
    std::string statePrefix() const override { return std::string(kGovernanceStatePrefix); }
    // Checked against the set of the next block (committed height + 1).
    Status checkTx(const Transaction& tx, const app::StateReader& committed) const override;
    Status deliverTx(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state) override;

    // The committed height (for checkTx); the node keeps it current.
    void setCommittedHeight(std::uint64_t h) { m_committedHeight.store(h); }
    void committed(const app::BlockContext& ctx) override { setCommittedHeight(ctx.height); }

private:
    // The new set if `tx` may be applied in block `height` over `state`.
    Result<ValidatorSet> evaluate(const Transaction& tx, std::uint64_t height, const app::StateReader& state,
                                  crypto::Hash256* digest) const;
    // The authority update `tx` makes in block `height` over `state`.
    struct AuthorityUpdate {
        AuthorityProposal proposal;
        crypto::Hash256 digest;
    };
    Result<AuthorityUpdate> evaluateAuthority(const Transaction& tx, std::uint64_t height,
                                              const app::StateReader& state) const;
    Status deliverAuthority(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state);
    std::string m_chainId;
    std::shared_ptr<const ValidatorSchedule> m_schedule;
    std::atomic<std::uint64_t> m_committedHeight{0};
};

}  // namespace fides::consensus
