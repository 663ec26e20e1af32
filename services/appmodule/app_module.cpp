#include "appmodule/app_module.h"

#include <sstream>

namespace fides::appmodule {

std::vector<Setting> allSettings(const AppModule& module) {
    std::vector<Setting> out = module.settings();
    out.push_back({kServeRpc, "true",
                   "Serve this application's gRPC services (fides." + module.name() +
                       ".v1) on rpc_listen. The application runs either way."});
    return out;
}

Result<SettingValues> resolveSettings(const AppModule& module, const RawSection& section,
                                      const std::string& path) {
    const std::vector<Setting> declared = allSettings(module);
    SettingValues values;
    std::string names;
    for (const Setting& s : declared) {
        values.emplace(s.key, s.defaultValue);
        names += (names.empty() ? "" : ", ") + s.key;
    }
    for (const auto& [key, raw] : section) {
        auto it = values.find(key);
        if (it == values.end()) {
            return Status::invalidArgument(path + ":" + std::to_string(raw.line) + ": unknown setting '" +
                                           key + "' in [" + module.name() + "] (settings: " + names + ")");
        }
        it->second = raw.value;
    }
    const std::string& serve = values.at(kServeRpc);
    if (serve != "true" && serve != "false") {
        const auto at = section.find(kServeRpc);
        return Status::invalidArgument(path + ":" + std::to_string(at->second.line) + ": " + kServeRpc +
                                       " in [" + module.name() + "] must be true or false, got '" + serve +
                                       "'");
    }
    return values;
}

std::string configSection(const AppModule& module) {
    std::ostringstream out;
    out << "\n# --- Application " << module.name() << " ---\n[" << module.name() << "]\n";
    for (const Setting& s : allSettings(module)) {
        std::istringstream lines(s.comment);
        std::string line;
        while (std::getline(lines, line)) out << "# " << line << "\n";
        out << s.key << " = " << s.defaultValue << "\n";
    }
    return out.str();
}

}  // namespace fides::appmodule
