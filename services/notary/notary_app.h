// Document notarisation: the proof-of-existence service. A signed
// transaction registers a document's SHA-256 (optionally with a label); the
// state then maps the document hash to where and by whom it was registered,
// so anyone can later prove "this document was registered at block H"
// (state proof + transaction inclusion proof, both against signed headers),
// or prove that it was not registered (absence proof).
//
// Payload and state value encodings: doc/spec/notary.md.
//
// Thread-safety: checkTx is const and re-entrant; deliverTx is called by the
// block producer only.
#pragma once

#include "app/application.h"
#include "crypto/hash.h"
#include "crypto/schnorr.h"

#include <string>

namespace fides::notary {

inline constexpr std::size_t kMaxLabelLength = 256;
// doc/spec/tx-types.md
inline constexpr std::uint16_t kNotarizeTxType = 1;
// Every key the notary writes starts with this.
inline constexpr std::string_view kStatePrefix = "notary/";

struct NotarizePayload {
    static constexpr std::uint8_t kVersion = 1;
    crypto::Hash256 documentHash;
    std::string label;  // UTF-8, at most 256 bytes; public on the ledger

    Bytes encode() const;
    static Result<NotarizePayload> decode(ByteView bytes);
};

// What the state holds for a registered document.
struct Registration {
    static constexpr std::uint8_t kVersion = 1;
    std::uint64_t height = 0;
    std::uint32_t index = 0;
    crypto::Hash256 txHash;
    crypto::PublicKey registrant;
    std::uint64_t timeMs = 0;
    std::string label;

    Bytes encode() const;
    static Result<Registration> decode(ByteView bytes);
};

// State key of a document: "notary/doc/" || documentHash.
Bytes documentKey(const crypto::Hash256& documentHash);

// Builds and signs a notarisation transaction.
Transaction makeNotarizeTx(const std::string& chainId, const crypto::SecretKey& key,
                           const crypto::Hash256& documentHash, const std::string& label, std::uint64_t nonce,
                           std::uint64_t expiryUnixSeconds);

class NotaryApp final : public app::Application {
public:
    std::string name() const override { return "notary"; }
    std::vector<std::uint16_t> txTypes() const override { return {kNotarizeTxType}; }
    std::string statePrefix() const override { return std::string(kStatePrefix); }
    Status checkTx(const Transaction& tx, const app::StateReader& committed) const override;
    Status deliverTx(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state) override;
};

}  // namespace fides::notary
