#include "primitives/genesis.h"

#include "primitives/transaction.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fides {

Result<Genesis> Genesis::parseJson(const std::string& text) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Status::invalidArgument("genesis is not a JSON object");
    Genesis g;
    try {
        g.chainId = j.at("chain_id").get<std::string>();
        g.genesisTimeMs = j.at("genesis_time_ms").get<std::uint64_t>();
        std::vector<Validator> vs;
        for (const auto& v : j.at("validators")) {
            Validator val;
            auto pk = crypto::PublicKey::fromHex(v.at("public_key").get<std::string>());
            if (!pk) return Status::invalidArgument("genesis validator public key is invalid");
            val.publicKey = *pk;
            if (!v.at("power").is_number_unsigned()) {
                return Status::invalidArgument("genesis validator power must be a positive integer");
            }
            val.power = v.at("power").get<std::uint64_t>();
            val.name = v.value("name", "");
            vs.push_back(std::move(val));
        }
        FIDES_ASSIGN_OR_RETURN(g.validators, ValidatorSet::create(std::move(vs)));
    } catch (const nlohmann::json::exception& e) {
        return Status::invalidArgument(std::string("genesis: ") + e.what());
    }
    if (g.chainId.empty() || g.chainId.size() > limits::kMaxChainIdLength) {
        return Status::invalidArgument("genesis chain_id must have 1 to 64 characters");
    }
    return g;
}

Result<Genesis> Genesis::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Status::notFound("cannot read genesis file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto g = parseJson(ss.str());
    if (!g) return g.status().withContext(path);
    return g;
}

std::string Genesis::toJson() const {
    nlohmann::json j;
    j["chain_id"] = chainId;
    j["genesis_time_ms"] = genesisTimeMs;
    j["validators"] = nlohmann::json::array();
    for (const auto& v : validators.validators()) {
        j["validators"].push_back({{"name", v.name}, {"public_key", v.publicKey.hex()}, {"power", v.power}});
    }
    return j.dump(2) + "\n";
}

}  // namespace fides
