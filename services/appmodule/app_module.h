// AppModule: one application as the validator daemon registers it, the
// module-level half of the application seam (ADR 0024). chain-core runs an
// app::Application; a module also brings what only the daemon knows of:
//   - its settings, a section "[<name>]" of node.conf, declared with their
//     defaults and comments (init writes them; unknown keys are refused);
//   - its own gRPC services (package fides.<name>.v1), served on the node's
//     client port next to fides.node.v1.NodeService once the node is open.
// Registering an application is one line in services/daemon/app_modules.cpp.
//
// Every module section also accepts `serve_rpc` (default true): false keeps
// the module's services off this validator's port (the application still
// runs: validity never depends on a local setting).
//
// Thread-safety: used from the daemon's main thread at start-up; the
// services it creates are called by gRPC's threads (they must be
// thread-safe, as node::Node is).
#pragma once

#include "app/application.h"
#include "node/node.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fides::appmodule {

struct Setting {
    std::string key;           // lower case, digits and '_'
    std::string defaultValue;  // as written in node.conf
    std::string comment;       // one or more lines for the template, without '#'
};

// A section of node.conf as read: key -> (value, line number).
struct RawValue {
    std::string value;
    int line = 0;
};
using RawSection = std::map<std::string, RawValue>;
// Every declared key with its value (the default where node.conf has none).
using SettingValues = std::map<std::string, std::string>;

inline constexpr const char* kServeRpc = "serve_rpc";

class AppModule {
public:
    virtual ~AppModule() = default;
    // Lower case letters and digits: the node.conf section and the gRPC
    // package fides.<name>.v1.
    virtual std::string name() const = 0;
    // Its own settings (serve_rpc is added by the daemon).
    virtual std::vector<Setting> settings() const { return {}; }
    // The application, from its settings; INVALID_ARGUMENT names a bad value.
    virtual Result<std::unique_ptr<app::Application>> createApplication(const SettingValues& values) = 0;
    // Its gRPC services over the open node (none by default).
    virtual std::vector<std::unique_ptr<grpc::Service>> createServices(node::Node& /*node*/) { return {}; }
    // The full names of those services ("fides.<name>.v1.XService"), for
    // the health service.
    virtual std::vector<std::string> serviceNames() const { return {}; }
};

// The module's settings with serve_rpc added.
std::vector<Setting> allSettings(const AppModule& module);
// The values of `section` for `module`: every key declared (defaults filled
// in), unknown keys refused with INVALID_ARGUMENT "<path>:<line>: unknown
// setting 'k' in [name] (settings: a, b)"; serve_rpc must be true or false.
Result<SettingValues> resolveSettings(const AppModule& module, const RawSection& section,
                                      const std::string& path);
// The commented "[name]" section init writes into node.conf.
std::string configSection(const AppModule& module);

}  // namespace fides::appmodule
