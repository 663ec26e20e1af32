// Application authorities: named groups of keys that governance admits,
// changes and revokes (consensus/governance.h, doc/spec/governance.md §7),
// and that applications trust for what only they may do: an election
// authority defines elections, an agency writes access records. Each has a
// role, its members' keys and the threshold of members that must sign what
// it does; applications check that with verifyQuorum.
//
// Stored by governance under authorityKey(id); a revoked id is remembered
// under revokedAuthorityKey(id) and never admitted again, so nothing an
// application recorded under an id can later be claimed by another group.
//
// Thread-safety: value types and pure functions.
#pragma once

#include "primitives/block.h"

#include <string>
#include <string_view>
#include <vector>

namespace fides {

struct AuthorityMember {
    crypto::PublicKey key;
    std::string name;  // for people, public on the ledger: an office, not a person's name

    bool operator==(const AuthorityMember&) const = default;
};

// A member's signature over something the authority does.
using AuthoritySignature = CommitSig;

struct Authority {
    static constexpr std::uint8_t kVersion = 1;
    static constexpr std::size_t kMaxIdLength = 64;
    static constexpr std::size_t kMaxRoleLength = 32;
    static constexpr std::size_t kMaxMembers = 64;
    static constexpr std::size_t kMaxNameLength = 64;

    std::string id;    // 1-64 of a-z 0-9 '-' '.': unique on the chain, never reused
    std::string role;  // 1-32 of a-z 0-9 '-': what it may do ("election-authority", "agency")
    std::vector<AuthorityMember> members;  // ascending key, no duplicates, 1-64
    std::uint32_t threshold = 0;           // 1 to members.size()
    std::uint64_t sinceHeight = 0;         // the block that admitted or last changed it

    Bytes encode() const;
    // Strict (one encoding per value), and valid as validate() says.
    static Result<Authority> decode(ByteView bytes);
    // INVALID_ARGUMENT naming the fault: id or role malformed, no or too
    // many members, members unsorted or repeated, threshold out of range.
    Status validate() const;
    const AuthorityMember* find(const crypto::PublicKey& key) const;
    // OK iff `signatures` are valid signatures of `digest` by at least
    // `threshold` distinct members, in ascending key order. INVALID_ARGUMENT
    // for order or duplicates, UNAUTHENTICATED for a non-member or a bad
    // signature, PERMISSION_DENIED when too few signed.
    Status verifyQuorum(const crypto::Hash256& digest,
                        const std::vector<AuthoritySignature>& signatures) const;
};

// "fides/authority/" || id, and "fides/authority-revoked/" || id.
Bytes authorityKey(std::string_view id);
Bytes revokedAuthorityKey(std::string_view id);

}  // namespace fides
