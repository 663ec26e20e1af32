#include "app/authorities.h"

namespace fides::app {

Result<std::optional<Authority>> readAuthority(const StateReader& state, std::string_view id) {
    FIDES_ASSIGN_OR_RETURN(auto stored, state.get(authorityKey(id)));
    if (!stored) return std::optional<Authority>();
    auto a = Authority::decode(*stored);
    if (!a)
        return Status::dataLoss("the stored authority '" + std::string(id) +
                                "' is damaged: " + a.status().message());
    return std::optional<Authority>(std::move(*a));
}

Result<Authority> requireAuthority(const StateReader& state, std::string_view id, std::string_view role) {
    FIDES_ASSIGN_OR_RETURN(auto a, readAuthority(state, id));
    if (!a) return Status::notFound("no authority '" + std::string(id) + "' is admitted");
    if (a->role != role) {
        return Status::permissionDenied("authority '" + std::string(id) + "' is a " + a->role + ", not a " +
                                        std::string(role));
    }
    return std::move(*a);
}

}  // namespace fides::app
