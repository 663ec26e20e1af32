// Evidence of equivocation on the ledger. When a validator sees two
// different signed votes by one validator for the same (height, round,
// type), it submits them in an Evidence transaction; this application
// checks the pair against the validator set of its height and records it, once,
// under a key that names the validator:
//   key   "evidence/" || validator key (32) || u64 height || u32 round || u8 type
//   value the payload (both votes) || u64 height of the block that recorded it
// The evidence authenticates itself (two signatures by the accused), so the
// transaction's own signer does not matter.
//
// Thread-safety: checkTx is const and re-entrant; deliverTx runs on the
// block producer / consensus thread.
#pragma once

#include "app/application.h"
#include "consensus/messages.h"
#include "primitives/validator_schedule.h"

#include <memory>

namespace fides::consensus {

// doc/spec/tx-types.md
inline constexpr std::uint16_t kEvidenceTxType = 2;
inline constexpr std::string_view kEvidencePrefix = "evidence/";

struct EvidencePayload {
    static constexpr std::uint8_t kVersion = 1;
    SignedVote first;  // the pair in canonical order (by encoding)
    SignedVote second;

    Bytes encode() const;
    static Result<EvidencePayload> decode(ByteView bytes);
};

Bytes evidenceKey(const crypto::PublicKey& validator, std::uint64_t height, std::uint32_t round,
                  VoteType type);

// An Evidence transaction for two conflicting votes (any order).
Transaction makeEvidenceTx(const std::string& chainId, const crypto::SecretKey& submitter,
                           const SignedVote& a, const SignedVote& b, std::uint64_t expiryUnixSeconds);

class EvidenceApp final : public app::Application {
public:
    // Votes are checked against the set of their own height.
    EvidenceApp(std::string chainId, std::shared_ptr<const ValidatorSchedule> schedule)
        : m_chainId(std::move(chainId)), m_schedule(std::move(schedule)) {}
    EvidenceApp(std::string chainId, ValidatorSet validators)
        : EvidenceApp(std::move(chainId), std::make_shared<const ValidatorSchedule>(std::move(validators))) {}
    std::string name() const override { return "evidence"; }
    std::vector<std::uint16_t> txTypes() const override { return {kEvidenceTxType}; }
    std::string statePrefix() const override { return std::string(kEvidencePrefix); }
    Status checkTx(const Transaction& tx, const app::StateReader& committed) const override;
    Status deliverTx(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state) override;

private:
    Result<EvidencePayload> verified(const Transaction& tx) const;
    std::string m_chainId;
    std::shared_ptr<const ValidatorSchedule> m_schedule;
};

}  // namespace fides::consensus
