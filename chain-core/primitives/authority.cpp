#include "primitives/authority.h"

#include "util/encoding.h"

#include <algorithm>

namespace fides {

namespace {

bool validName(std::string_view s, std::size_t max, bool dots) {
    if (s.empty() || s.size() > max) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (dots && c == '.');
    });
}

Bytes prefixed(std::string_view prefix, std::string_view id) {
    Bytes k(prefix.begin(), prefix.end());
    k.insert(k.end(), id.begin(), id.end());
    return k;
}

}  // namespace

Bytes authorityKey(std::string_view id) { return prefixed("fides/authority/", id); }
Bytes revokedAuthorityKey(std::string_view id) { return prefixed("fides/authority-revoked/", id); }

Status Authority::validate() const {
    if (!validName(id, kMaxIdLength, true)) {
        return Status::invalidArgument("authority id must be 1 to 64 characters of a-z, 0-9, '-' and '.'");
    }
    if (!validName(role, kMaxRoleLength, false)) {
        return Status::invalidArgument("authority role must be 1 to 32 characters of a-z, 0-9 and '-'");
    }
    if (members.empty() || members.size() > kMaxMembers) {
        return Status::invalidArgument("an authority has 1 to " + std::to_string(kMaxMembers) + " members");
    }
    for (std::size_t i = 1; i < members.size(); ++i) {
        if (!(members[i - 1].key < members[i].key)) {
            return Status::invalidArgument("authority members must be in ascending key order, each once");
        }
    }
    for (const auto& m : members) {
        if (m.name.size() > kMaxNameLength)
            return Status::invalidArgument("an authority member's name is too long");
    }
    if (threshold < 1 || threshold > members.size()) {
        return Status::invalidArgument("authority threshold must be 1 to " + std::to_string(members.size()) +
                                       " (its members), got " + std::to_string(threshold));
    }
    return Status::ok();
}

Bytes Authority::encode() const {
    Writer w;
    w.u8(kVersion)
        .str(id)
        .str(role)
        .u32(threshold)
        .u64(sinceHeight)
        .u32(static_cast<std::uint32_t>(members.size()));
    for (const auto& m : members) w.fixed(m.key.bytes()).str(m.name);
    return std::move(w).take();
}

Result<Authority> Authority::decode(ByteView bytes) {
    Reader r(bytes, 8192);
    Authority a;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "authority"));
    FIDES_RETURN_IF_ERROR(r.str(a.id, kMaxIdLength));
    FIDES_RETURN_IF_ERROR(r.str(a.role, kMaxRoleLength));
    FIDES_RETURN_IF_ERROR(r.u32(a.threshold));
    FIDES_RETURN_IF_ERROR(r.u64(a.sinceHeight));
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    if (n == 0 || n > kMaxMembers) {
        return Status::invalidArgument("an authority has 1 to " + std::to_string(kMaxMembers) + " members");
    }
    a.members.resize(n);
    for (auto& m : a.members) {
        std::array<std::uint8_t, 32> k{};
        FIDES_RETURN_IF_ERROR(r.fixed(k));
        auto key = crypto::PublicKey::fromBytes(k);
        if (!key) return Status::invalidArgument("authority: invalid member key");
        m.key = *key;
        FIDES_RETURN_IF_ERROR(r.str(m.name, kMaxNameLength));
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    FIDES_RETURN_IF_ERROR(a.validate());
    return a;
}

const AuthorityMember* Authority::find(const crypto::PublicKey& key) const {
    auto it =
        std::lower_bound(members.begin(), members.end(), key,
                         [](const AuthorityMember& m, const crypto::PublicKey& k) { return m.key < k; });
    return it != members.end() && it->key == key ? &*it : nullptr;
}

Status Authority::verifyQuorum(const crypto::Hash256& digest,
                               const std::vector<AuthoritySignature>& signatures) const {
    std::size_t valid = 0;
    const crypto::PublicKey* previous = nullptr;
    for (const auto& s : signatures) {
        if (previous != nullptr && !(*previous < s.validator)) {
            return Status::invalidArgument(
                "authority signatures must be in ascending key order, without duplicates");
        }
        previous = &s.validator;
        if (find(s.validator) == nullptr) {
            return Status::unauthenticated("signed by " + s.validator.hex() +
                                           ", who is not a member of authority '" + id + "'");
        }
        if (!crypto::verify(s.validator, digest, s.signature)) {
            return Status::unauthenticated("invalid signature by " + s.validator.hex() + " of authority '" +
                                           id + "'");
        }
        ++valid;
    }
    if (valid < threshold) {
        return Status::permissionDenied(std::to_string(valid) + " of the " + std::to_string(members.size()) +
                                        " members of authority '" + id + "' signed; " +
                                        std::to_string(threshold) + " must");
    }
    return Status::ok();
}

}  // namespace fides
