// Reading the application authorities governance admitted
// (primitives/authority.h) from an application's state: how elections find
// their election authority and the access log an agency.
//
// Thread-safety: pure functions over a StateReader.
#pragma once

#include "app/application.h"
#include "primitives/authority.h"

#include <optional>
#include <string_view>

namespace fides::app {

// The authority `id` as committed (or as written earlier in the block), or
// nullopt when none is admitted under that id.
Result<std::optional<Authority>> readAuthority(const StateReader& state, std::string_view id);
// The same, requiring it: NOT_FOUND when no authority `id` is admitted,
// PERMISSION_DENIED when its role is not `role`.
Result<Authority> requireAuthority(const StateReader& state, std::string_view id, std::string_view role);

}  // namespace fides::app
