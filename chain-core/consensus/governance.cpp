#include "consensus/governance.h"

#include "util/encoding.h"

#include <algorithm>

namespace fides::consensus {

namespace {
constexpr std::string_view kGovernancePrefix = "fides/governance/";

Status readKey(Reader& r, crypto::PublicKey& out, const char* what) {
    std::array<std::uint8_t, 32> b{};
    FIDES_RETURN_IF_ERROR(r.fixed(b));
    auto k = crypto::PublicKey::fromBytes(b);
    if (!k) return Status::invalidArgument(std::string("governance proposal: invalid ") + what);
    out = *k;
    return Status::ok();
}

std::string shortKey(const crypto::PublicKey& k) { return k.hex().substr(0, 16); }

// Both governance payloads (validator sets, authorities): u8 version ||
// var proposal || u32 count || count x (validator key || signature).
Bytes encodeApproved(std::uint8_t version, const Bytes& proposal, const std::vector<Approval>& approvals) {
    Writer w;
    w.u8(version).var(proposal).u32(static_cast<std::uint32_t>(approvals.size()));
    for (const auto& a : approvals) w.fixed(a.validator.bytes()).fixed(a.signature.bytes());
    return std::move(w).take();
}

Status decodeApproved(ByteView bytes, std::size_t maxBytes, std::uint8_t version, const char* what,
                      Bytes& proposal, std::vector<Approval>& approvals) {
    Reader r(bytes, maxBytes);
    FIDES_RETURN_IF_ERROR(r.version(version, what));
    FIDES_RETURN_IF_ERROR(r.var(proposal));
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    if (n > ValidatorSet::kMaxValidators) return Status::invalidArgument("too many approvals");
    approvals.resize(n);
    for (auto& a : approvals) {
        FIDES_RETURN_IF_ERROR(readKey(r, a.validator, "approver key"));
        std::array<std::uint8_t, 64> sig{};
        FIDES_RETURN_IF_ERROR(r.fixed(sig));
        a.signature = *crypto::Signature::fromBytes(sig);
    }
    return r.finish();
}

// Adds (or replaces) `key`'s signature of `digest`, keeping the key order.
void addApproval(std::vector<Approval>& approvals, const crypto::Hash256& digest,
                 const crypto::SecretKey& key) {
    const crypto::PublicKey pk = key.publicKey();
    std::erase_if(approvals, [&](const Approval& a) { return a.validator == pk; });
    approvals.push_back({pk, crypto::sign(key, digest)});
    std::sort(approvals.begin(), approvals.end(),
              [](const Approval& a, const Approval& b) { return a.validator < b.validator; });
}

// OK iff the approvals hold more than 2/3 of `base`'s power.
Status checkApprovals(const ValidatorSet& base, const crypto::Hash256& digest,
                      const std::vector<Approval>& approvals) {
    FIDES_ASSIGN_OR_RETURN(const std::uint64_t power, base.signedPower(digest, approvals, "approval"));
    if (!base.isQuorum(power)) {
        return Status::permissionDenied("approvals hold " + std::to_string(power) + " of " +
                                        std::to_string(base.totalPower()) +
                                        " voting power; more than 2/3 is required");
    }
    return Status::ok();
}
}  // namespace

Bytes GovernanceProposal::encode() const {
    Writer w;
    w.u8(kVersion).fixed(baseSetHash.bytes()).u64(nonce).str(description);
    w.u32(static_cast<std::uint32_t>(changes.size()));
    for (const auto& c : changes) {
        w.u8(static_cast<std::uint8_t>(c.op)).fixed(c.key.bytes());
        switch (c.op) {
        case ChangeOp::Add: w.u64(c.power).str(c.name); break;
        case ChangeOp::Remove: break;
        case ChangeOp::SetPower: w.u64(c.power); break;
        case ChangeOp::RotateKey: w.fixed(c.newKey.bytes()); break;
        }
    }
    return std::move(w).take();
}

Result<GovernanceProposal> GovernanceProposal::decode(ByteView bytes) {
    Reader r(bytes, 4096);
    GovernanceProposal p;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "governance proposal"));
    std::array<std::uint8_t, 32> base{};
    FIDES_RETURN_IF_ERROR(r.fixed(base));
    p.baseSetHash = crypto::Hash256(base);
    FIDES_RETURN_IF_ERROR(r.u64(p.nonce));
    FIDES_RETURN_IF_ERROR(r.str(p.description, kMaxDescription));
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    if (n == 0) return Status::invalidArgument("governance proposal changes nothing");
    if (n > kMaxChanges) {
        return Status::invalidArgument("governance proposal has more than " + std::to_string(kMaxChanges) +
                                       " changes");
    }
    p.changes.resize(n);
    for (auto& c : p.changes) {
        std::uint8_t op = 0;
        FIDES_RETURN_IF_ERROR(r.u8(op));
        if (op < 1 || op > 4)
            return Status::invalidArgument("governance proposal: unknown change " + std::to_string(op));
        c.op = static_cast<ChangeOp>(op);
        FIDES_RETURN_IF_ERROR(readKey(r, c.key, "validator key"));
        switch (c.op) {
        case ChangeOp::Add:
            FIDES_RETURN_IF_ERROR(r.u64(c.power));
            FIDES_RETURN_IF_ERROR(r.str(c.name, ValidatorSet::kMaxNameLength));
            break;
        case ChangeOp::Remove: break;
        case ChangeOp::SetPower: FIDES_RETURN_IF_ERROR(r.u64(c.power)); break;
        case ChangeOp::RotateKey: FIDES_RETURN_IF_ERROR(readKey(r, c.newKey, "new key")); break;
        }
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    return p;
}

crypto::Hash256 GovernanceProposal::digest(const std::string& chainId) const {
    Writer w;
    w.str(chainId).var(encode());
    return crypto::taggedHash("fides/governance/v1", std::move(w).take());
}

Bytes GovernancePayload::encode() const { return encodeApproved(kVersion, proposal.encode(), approvals); }

Result<GovernancePayload> GovernancePayload::decode(ByteView bytes) {
    GovernancePayload p;
    Bytes proposal;
    FIDES_RETURN_IF_ERROR(
        decodeApproved(bytes, 8192, kVersion, "governance transaction", proposal, p.approvals));
    FIDES_ASSIGN_OR_RETURN(p.proposal, GovernanceProposal::decode(proposal));
    return p;
}

void GovernancePayload::approve(const std::string& chainId, const crypto::SecretKey& key) {
    addApproval(approvals, proposal.digest(chainId), key);
}

Result<ValidatorSet> applyChanges(const ValidatorSet& base, const std::vector<ValidatorChange>& changes) {
    std::vector<Validator> vs = base.validators();
    auto find = [&](const crypto::PublicKey& k) {
        return std::find_if(vs.begin(), vs.end(), [&](const Validator& v) { return v.publicKey == k; });
    };
    for (std::size_t i = 0; i < changes.size(); ++i) {
        const ValidatorChange& c = changes[i];
        const std::string where = "change " + std::to_string(i + 1) + ": ";
        auto it = find(c.key);
        switch (c.op) {
        case ChangeOp::Add:
            if (it != vs.end())
                return Status::invalidArgument(where + "validator " + shortKey(c.key) +
                                               " is already in the set");
            if (c.power == 0) return Status::invalidArgument(where + "a validator needs positive power");
            vs.push_back({c.key, c.power, c.name});
            break;
        case ChangeOp::Remove:
            if (it == vs.end())
                return Status::invalidArgument(where + "validator " + shortKey(c.key) + " is not in the set");
            vs.erase(it);
            break;
        case ChangeOp::SetPower:
            if (it == vs.end())
                return Status::invalidArgument(where + "validator " + shortKey(c.key) + " is not in the set");
            if (c.power == 0) return Status::invalidArgument(where + "power 0: remove the validator instead");
            it->power = c.power;
            break;
        case ChangeOp::RotateKey:
            if (it == vs.end())
                return Status::invalidArgument(where + "validator " + shortKey(c.key) + " is not in the set");
            if (find(c.newKey) != vs.end()) {
                return Status::invalidArgument(where + "new key " + shortKey(c.newKey) +
                                               " is already in the set");
            }
            it->publicKey = c.newKey;
            break;
        }
    }
    if (vs.empty()) return Status::invalidArgument("the changes would leave no validator");
    auto set = ValidatorSet::create(std::move(vs));
    if (!set) return set.status().withContext("the resulting validator set");
    return set;
}

Status verifyApprovals(const std::string& chainId, const ValidatorSet& base,
                       const GovernancePayload& payload) {
    return checkApprovals(base, payload.proposal.digest(chainId), payload.approvals);
}

Transaction makeGovernanceTx(const std::string& chainId, const crypto::SecretKey& submitter,
                             const GovernancePayload& payload, std::uint64_t expiryUnixSeconds) {
    return makeSignedTransaction(chainId, kValidatorUpdateTxType, payload.encode(), submitter,
                                 expiryUnixSeconds);
}

Bytes governanceKey(const crypto::Hash256& digest) {
    Writer w;
    w.fixed(asBytes(kGovernancePrefix)).fixed(digest.bytes());
    return std::move(w).take();
}

Result<ValidatorSet> GovernanceApp::evaluate(const Transaction& tx, std::uint64_t height,
                                             const app::StateReader& state,
                                             crypto::Hash256* digestOut) const {
    FIDES_ASSIGN_OR_RETURN(GovernancePayload p, GovernancePayload::decode(tx.payload));
    const auto basePtr = m_schedule->at(height);
    const ValidatorSet& base = *basePtr;
    if (p.proposal.baseSetHash != base.hash()) {
        return Status::failedPrecondition(
            "the proposal changes validator set " + p.proposal.baseSetHash.hex().substr(0, 16) +
            ", but the set at height " + std::to_string(height) + " is " + base.hash().hex().substr(0, 16));
    }
    const crypto::Hash256 digest = p.proposal.digest(m_chainId);
    FIDES_ASSIGN_OR_RETURN(bool applied, state.exists(governanceKey(digest)));
    if (applied) return Status::alreadyExists("this governance proposal was already applied");
    const std::uint64_t pendingFrom = m_schedule->lastChangeHeight();
    if (pendingFrom > height) {
        return Status::failedPrecondition("a validator-set change is pending until height " +
                                          std::to_string(pendingFrom) +
                                          "; submit this one after it took effect");
    }
    FIDES_ASSIGN_OR_RETURN(
        bool sameBlock,
        state.exists(ValidatorSchedule::stateKey(height + ValidatorSchedule::kActivationDelay)));
    if (sameBlock) return Status::failedPrecondition("another validator-set change is already in this block");
    FIDES_RETURN_IF_ERROR(verifyApprovals(m_chainId, base, p));
    FIDES_ASSIGN_OR_RETURN(ValidatorSet next, applyChanges(base, p.proposal.changes));
    if (next.hash() == base.hash())
        return Status::invalidArgument("the proposal leaves the validator set unchanged");
    if (digestOut != nullptr) *digestOut = digest;
    return next;
}

Status GovernanceApp::checkTx(const Transaction& tx, const app::StateReader& committed) const {
    if (tx.type == kAuthorityUpdateTxType) {
        return evaluateAuthority(tx, m_committedHeight.load() + 1, committed).status();
    }
    return evaluate(tx, m_committedHeight.load() + 1, committed, nullptr).status();
}

Status GovernanceApp::deliverTx(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state) {
    if (tx.type == kAuthorityUpdateTxType) return deliverAuthority(tx, ctx, state);
    crypto::Hash256 digest;
    FIDES_ASSIGN_OR_RETURN(ValidatorSet next, evaluate(tx, ctx.height, state, &digest));
    const std::uint64_t from = ctx.height + ValidatorSchedule::kActivationDelay;
    FIDES_RETURN_IF_ERROR(state.put(ValidatorSchedule::stateKey(from), next.encodeFull()));
    Writer w;
    w.u64(from);
    return state.put(governanceKey(digest), std::move(w).take());
}

}  // namespace fides::consensus

// ------------------------------------------------------- application authorities

namespace fides::consensus {

Bytes AuthorityProposal::encode() const {
    Writer w;
    w.u8(kVersion).fixed(baseSetHash.bytes()).u64(nonce).str(description).u8(static_cast<std::uint8_t>(op));
    if (op == AuthorityOp::Revoke) {
        w.str(authority.id);
    } else {
        Authority a = authority;
        a.sinceHeight = 0;
        w.var(a.encode());
    }
    return std::move(w).take();
}

Result<AuthorityProposal> AuthorityProposal::decode(ByteView bytes) {
    Reader r(bytes, 8192);
    AuthorityProposal p;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "authority proposal"));
    std::array<std::uint8_t, 32> base{};
    FIDES_RETURN_IF_ERROR(r.fixed(base));
    p.baseSetHash = crypto::Hash256(base);
    FIDES_RETURN_IF_ERROR(r.u64(p.nonce));
    FIDES_RETURN_IF_ERROR(r.str(p.description, GovernanceProposal::kMaxDescription));
    std::uint8_t op = 0;
    FIDES_RETURN_IF_ERROR(r.u8(op));
    if (op < 1 || op > 3)
        return Status::invalidArgument("authority proposal: unknown operation " + std::to_string(op));
    p.op = static_cast<AuthorityOp>(op);
    if (p.op == AuthorityOp::Revoke) {
        FIDES_RETURN_IF_ERROR(r.str(p.authority.id, Authority::kMaxIdLength));
        if (p.authority.id.empty()) return Status::invalidArgument("authority proposal: empty id");
    } else {
        Bytes encoded;
        FIDES_RETURN_IF_ERROR(r.var(encoded));
        FIDES_ASSIGN_OR_RETURN(p.authority, Authority::decode(encoded));
        if (p.authority.sinceHeight != 0)
            return Status::invalidArgument("authority proposal: sinceHeight must be 0");
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    return p;
}

crypto::Hash256 AuthorityProposal::digest(const std::string& chainId) const {
    Writer w;
    w.str(chainId).var(encode());
    return crypto::taggedHash("fides/governance/authority/v1", std::move(w).take());
}

Bytes AuthorityPayload::encode() const { return encodeApproved(kVersion, proposal.encode(), approvals); }

Result<AuthorityPayload> AuthorityPayload::decode(ByteView bytes) {
    AuthorityPayload p;
    Bytes proposal;
    FIDES_RETURN_IF_ERROR(
        decodeApproved(bytes, 16384, kVersion, "authority transaction", proposal, p.approvals));
    FIDES_ASSIGN_OR_RETURN(p.proposal, AuthorityProposal::decode(proposal));
    return p;
}

void AuthorityPayload::approve(const std::string& chainId, const crypto::SecretKey& key) {
    addApproval(approvals, proposal.digest(chainId), key);
}

Transaction makeAuthorityTx(const std::string& chainId, const crypto::SecretKey& submitter,
                            const AuthorityPayload& payload, std::uint64_t expiryUnixSeconds) {
    return makeSignedTransaction(chainId, kAuthorityUpdateTxType, payload.encode(), submitter,
                                 expiryUnixSeconds);
}

Result<GovernanceApp::AuthorityUpdate> GovernanceApp::evaluateAuthority(const Transaction& tx,
                                                                        std::uint64_t height,
                                                                        const app::StateReader& state) const {
    FIDES_ASSIGN_OR_RETURN(AuthorityPayload p, AuthorityPayload::decode(tx.payload));
    const auto base = m_schedule->at(height);
    if (p.proposal.baseSetHash != base->hash()) {
        return Status::failedPrecondition("the authority proposal was approved for validator set " +
                                          p.proposal.baseSetHash.hex().substr(0, 16) +
                                          ", but the set at height " + std::to_string(height) + " is " +
                                          base->hash().hex().substr(0, 16));
    }
    const crypto::Hash256 digest = p.proposal.digest(m_chainId);
    FIDES_ASSIGN_OR_RETURN(bool applied, state.exists(governanceKey(digest)));
    if (applied) return Status::alreadyExists("this authority proposal was already applied");
    FIDES_RETURN_IF_ERROR(checkApprovals(*base, digest, p.approvals));
    const std::string& id = p.proposal.authority.id;
    FIDES_ASSIGN_OR_RETURN(auto current, state.get(authorityKey(id)));
    switch (p.proposal.op) {
    case AuthorityOp::Admit: {
        if (current) return Status::alreadyExists("authority '" + id + "' is already admitted");
        FIDES_ASSIGN_OR_RETURN(bool revoked, state.exists(revokedAuthorityKey(id)));
        if (revoked)
            return Status::failedPrecondition("authority id '" + id + "' was revoked and is never reused");
        break;
    }
    case AuthorityOp::Change: {
        if (!current) return Status::notFound("no authority '" + id + "' is admitted");
        auto was = Authority::decode(*current);
        if (!was) return Status::dataLoss("the stored authority '" + id + "' is damaged");
        if (was->role != p.proposal.authority.role) {
            return Status::failedPrecondition("authority '" + id + "' is a " + was->role +
                                              "; its role does not change (revoke it and admit a new one)");
        }
        break;
    }
    case AuthorityOp::Revoke:
        if (!current) return Status::notFound("no authority '" + id + "' is admitted");
        break;
    }
    return AuthorityUpdate{std::move(p.proposal), digest};
}

Status GovernanceApp::deliverAuthority(const Transaction& tx, const app::TxContext& ctx,
                                       app::BlockState& state) {
    FIDES_ASSIGN_OR_RETURN(AuthorityUpdate u, evaluateAuthority(tx, ctx.height, state));
    const std::string id = u.proposal.authority.id;  // a copy: the authority is moved below
    if (u.proposal.op == AuthorityOp::Revoke) {
        FIDES_RETURN_IF_ERROR(state.erase(authorityKey(id)));
        Writer at;
        at.u64(ctx.height);
        FIDES_RETURN_IF_ERROR(state.put(revokedAuthorityKey(id), std::move(at).take()));
    } else {
        Authority a = std::move(u.proposal.authority);
        a.sinceHeight = ctx.height;
        FIDES_RETURN_IF_ERROR(state.put(authorityKey(id), a.encode()));
    }
    Writer w;
    w.u64(ctx.height);
    return state.put(governanceKey(u.digest), std::move(w).take());
}

}  // namespace fides::consensus
