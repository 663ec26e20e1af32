// The application modules fides-node runs, in registration order (their
// applications run in this order in every block, before the built-in
// evidence and governance). Adding an application to the daemon is one line
// in app_modules.cpp.
//
// Thread-safety: call from one thread.
#pragma once

#include "appmodule/app_module.h"

#include <memory>
#include <vector>

namespace fides::daemon {

std::vector<std::unique_ptr<appmodule::AppModule>> appModules();

}  // namespace fides::daemon
