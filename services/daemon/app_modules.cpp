#include "daemon/app_modules.h"

#include "notary/module/notary_module.h"

namespace fides::daemon {

std::vector<std::unique_ptr<appmodule::AppModule>> appModules() {
    std::vector<std::unique_ptr<appmodule::AppModule>> modules;
    modules.push_back(notary::makeModule());
    return modules;
}

}  // namespace fides::daemon
