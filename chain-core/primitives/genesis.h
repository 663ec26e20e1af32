// Genesis: the chain id, start time and initial validator set, read from
// genesis.json (doc/spec/genesis.md). Clients load the same file as their
// trust anchor for verifying commits.
//
// Thread-safety: a value type.
#pragma once

#include "primitives/validator_set.h"
#include "util/status.h"

#include <string>

namespace fides {

struct Genesis {
    std::string chainId;
    std::uint64_t genesisTimeMs = 0;
    ValidatorSet validators;

    static Result<Genesis> parseJson(const std::string& text);
    static Result<Genesis> load(const std::string& path);
    std::string toJson() const;
};

}  // namespace fides
