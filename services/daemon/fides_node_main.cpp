// fides-node: the validator daemon.
//   fides-node init  --home DIR [--chain-id ID] [--moniker NAME] [--passphrase]
//   fides-node start --home DIR [--rpc-listen ADDR] [--store-key-file FILE]
// Exit codes: 0 clean stop, 1 runtime failure, 2 usage or configuration
// error, 3 the store cannot be opened (wrong key, damaged, other chain),
// 4 the RPC address cannot be bound.
#include "crypto/key_file.h"
#include "daemon/node_home.h"
#include "notary/notary_app.h"
#include "rpc/node_service.h"
#include "storage/store_key.h"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <iostream>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

int fail(int code, const std::string& msg) {
    std::cerr << "fides-node: " << msg << "\n";
    return code;
}

int runStart(const std::string& home, const std::string& rpcOverride, const std::string& storeKeyOverride) {
    using namespace fides;
    auto settings = daemon::loadSettings(home);
    if (!settings) return fail(2, settings.status().message());
    if (!rpcOverride.empty()) settings->rpcListen = rpcOverride;
    if (!storeKeyOverride.empty()) settings->storeKeyFile = storeKeyOverride;
    spdlog::set_level(spdlog::level::from_str(settings->logLevel));

    auto genesis = Genesis::load(settings->genesisFile);
    if (!genesis) return fail(2, genesis.status().message());
    auto key = crypto::loadSecretKeyFile(settings->validatorKeyFile);
    if (!key) return fail(2, key.status().message());

    Result<storage::StoreKey> storeKey = Status::invalidArgument("no store key");
    if (!settings->storeKeyFile.empty()) {
        storeKey = storage::loadKeyFile(settings->storeKeyFile);
    } else {
        const char* pass = std::getenv("FIDES_STORE_PASSPHRASE");
        if (pass == nullptr) return fail(2, "store_key_file is empty and FIDES_STORE_PASSPHRASE is not set");
        const bool newStore = !std::filesystem::exists(settings->storePath);
        storeKey = storage::deriveFromPassphrase(pass, settings->storePath + ".salt", newStore);
    }
    if (!storeKey) return fail(2, storeKey.status().message());

    std::vector<std::unique_ptr<app::Application>> apps;
    apps.push_back(std::make_unique<notary::NotaryApp>());
    auto node = node::Node::open(std::move(*genesis), std::move(key).value(), *storeKey, settings->node,
                                 std::move(apps));
    if (!node) {
        const Code code = node.status().code();
        const bool storeProblem = code == Code::FailedPrecondition || code == Code::DataLoss;
        const bool configProblem = code == Code::InvalidArgument || code == Code::NotFound ||
                                   code == Code::PermissionDenied;
        return fail(storeProblem ? 3 : configProblem ? 2 : 1, node.status().message());
    }
    (*node)->start();
    auto server = rpc::RpcServer::start(**node, settings->rpcListen);
    if (!server) {
        (*node)->stop();
        return fail(4, server.status().message());
    }
    const std::string host = settings->rpcListen.substr(0, settings->rpcListen.rfind(':'));
    std::cout << "fides-node: listening on " << host << ":" << (*server)->port() << std::endl;
    spdlog::info("node: serving gRPC on {}:{}", host, (*server)->port());

    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    int rc = 0;
    while (g_stop == 0) {
        if (!(*node)->health().isOk()) {
            rc = 1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    spdlog::info("node: stopping");
    (*server)->shutdown();
    (*node)->stop();
    if (rc != 0) return fail(rc, (*node)->health().message());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Logs go to stderr; stdout carries only the "listening on" line.
    spdlog::set_default_logger(spdlog::stderr_color_mt("fides-node"));
    CLI::App app{"fides-node: a Fides validator"};
    app.require_subcommand(1);
    std::string home;
    fides::daemon::InitOptions init;
    auto* initCmd = app.add_subcommand("init", "create a home folder: keys, commented config, genesis");
    initCmd->add_option("--home", init.home, "home folder")->required();
    initCmd->add_option("--chain-id", init.chainId, "chain id")->capture_default_str();
    initCmd->add_option("--moniker", init.moniker, "this validator's name")->capture_default_str();
    initCmd->add_flag("--passphrase", init.passphrase,
                      "derive the store key from FIDES_STORE_PASSPHRASE instead of a key file");
    std::string rpcListen;
    auto* startCmd = app.add_subcommand("start", "run the validator");
    startCmd->add_option("--home", home, "home folder")->required();
    startCmd->add_option("--rpc-listen", rpcListen, "override rpc_listen, e.g. 127.0.0.1:0");
    std::string storeKeyFile;
    startCmd->add_option("--store-key-file", storeKeyFile,
                         "override store_key_file (64 hex characters); with store_key_file empty in the "
                         "config, the key is derived from FIDES_STORE_PASSPHRASE");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (*initCmd) {
        fides::Status st = fides::daemon::initHome(init);
        if (!st) return fail(2, st.message());
        std::cout << "initialised " << init.home << " for chain '" << init.chainId << "'\n"
                  << "  config:  " << init.home << "/config/node.conf\n"
                  << "  genesis: " << init.home << "/config/genesis.json\n"
                  << "start it with: fides-node start --home " << init.home << "\n";
        return 0;
    }
    return runStart(home, rpcListen, storeKeyFile);
}
