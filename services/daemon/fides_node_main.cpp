// fides-node: the validator daemon.
//   fides-node init  --home DIR [--chain-id ID] [--moniker NAME] [--passphrase]
//   fides-node start --home DIR [--rpc-listen ADDR] [--store-key-file FILE]
//   fides-node wal-repair --home DIR [--height H] --yes-i-understand
//   fides-node testnet --out DIR [--validators N] [--chain-id ID] [--base-port P]
// Exit codes: 0 clean stop, 1 runtime failure, 2 usage or configuration
// error, 3 the store cannot be opened (wrong key, damaged, other chain),
// 4 the RPC address cannot be bound, 5 another fides-node uses the home.
#include "consensus/evidence_app.h"
#include "consensus/wal.h"
#include "crypto/key_file.h"
#include "daemon/app_modules.h"
#include "daemon/node_home.h"
#include "node/consensus_driver.h"
#include "p2p/peer_network.h"
#include "rpc/node_service.h"
#include "storage/store_key.h"
#include "util/private_file.h"

#include <CLI/CLI.hpp>
#include <botan/mem_ops.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#ifdef FIDES_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

// The allocator this daemon was linked with (doc/adr/0022), for the start-up
// log: an operator comparing validators sees at once whether one differs.
std::string allocatorName() {
#ifdef FIDES_WITH_JEMALLOC
    const char* version = nullptr;
    std::size_t len = sizeof(version);
    if (mallctl("version", static_cast<void*>(&version), &len, nullptr, 0) == 0 && version != nullptr) {
        const std::string v(version);
        return "jemalloc " + v.substr(0, v.find('-'));
    }
    return "jemalloc";
#else
    return "the default malloc (built without jemalloc)";
#endif
}

int fail(int code, const std::string& msg) {
    std::cerr << "fides-node: " << msg << "\n";
    return code;
}

// The node.conf sections of every application module, for init and testnet.
std::string moduleConfig() {
    std::string out;
    for (const auto& m : fides::daemon::appModules()) out += fides::appmodule::configSection(*m);
    return out;
}

// Each module's application from its node.conf section; a section no module
// claims, an unknown setting or a bad value is a configuration error.
fides::Result<std::vector<std::unique_ptr<fides::app::Application>>> moduleApplications(
    const fides::daemon::NodeSettings& settings,
    std::vector<std::unique_ptr<fides::appmodule::AppModule>>& modules, std::vector<bool>& serveRpc) {
    using namespace fides;
    std::string names;
    for (const auto& m : modules) names += (names.empty() ? "" : ", ") + m->name();
    for (const auto& [section, values] : settings.sections) {
        const bool known =
            std::any_of(modules.begin(), modules.end(), [&](const auto& m) { return m->name() == section; });
        if (!known) {
            return Status::invalidArgument(settings.configPath + ": unknown section [" + section +
                                           "] (application modules: " + names + ")");
        }
    }
    std::vector<std::unique_ptr<app::Application>> apps;
    for (const auto& m : modules) {
        const auto it = settings.sections.find(m->name());
        FIDES_ASSIGN_OR_RETURN(auto values,
                               appmodule::resolveSettings(
                                   *m, it == settings.sections.end() ? appmodule::RawSection{} : it->second,
                                   settings.configPath));
        serveRpc.push_back(values.at(appmodule::kServeRpc) == "true");
        auto a = m->createApplication(values);
        if (!a) return a.status().withContext("application module '" + m->name() + "'");
        apps.push_back(std::move(*a));
    }
    return apps;
}

int runStart(const std::string& home, const std::string& rpcOverride, const std::string& storeKeyOverride) {
    using namespace fides;
    auto settings = daemon::loadSettings(home);
    if (!settings) return fail(2, settings.status().message());
    // Before anything but node.conf is read, and before anything is written.
    // It covers the home: a store_path or consensus_wal_dir outside the home
    // shared by two homes is not detected (do not configure that).
    auto homeLock = daemon::lockHome(home);
    if (!homeLock)
        return fail(homeLock.status().code() == Code::FailedPrecondition ? 5 : 1,
                    homeLock.status().message());
    if (!rpcOverride.empty()) settings->rpcListen = rpcOverride;
    if (!storeKeyOverride.empty()) settings->storeKeyFile = storeKeyOverride;
    spdlog::set_level(spdlog::level::from_str(settings->logLevel));
    spdlog::info("node: fides-node {}, memory allocator {}", FIDES_VERSION, allocatorName());
    // From here on SIGTERM and SIGINT mean a clean stop, also when they come
    // while the node is still starting: it stops as soon as it is up. (They
    // were installed after the "listening on" line, so a stop sent right
    // after that line killed the daemon without its shutdown.)
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);

    auto genesis = Genesis::load(settings->genesisFile);
    if (!genesis) return fail(2, genesis.status().message());
    auto key = crypto::loadSecretKeyFile(settings->validatorKeyFile);
    if (!key) return fail(2, key.status().message());

    // Consensus with several validators, or whenever peers are configured (a
    // validator of a one-member genesis whose set grew by governance).
    const bool consensusMode = genesis->validators.validators().size() > 1 || !settings->peers.empty();
    settings->node.consensus = consensusMode;
    // The TLS files, before the store key is read (or its salt made) and the
    // store opened: each one missing, or the key readable by others, is a
    // configuration error of its own.
    std::string caPem;
    p2p::PemPair tls;
    if (consensusMode) {
        // Straight into the string (no stream buffer keeps a copy of the key).
        const auto readPem = [](const std::string& path, const char* setting) {
            return readWholeFile<std::string>(path, 1 << 20,
                                              std::string("cannot read ") + setting + " " + path);
        };
        if (Status st = checkPrivateFile(settings->tlsKeyFile, "TLS key file (tls_key_file)"); !st) {
            return fail(2, st.message());
        }
        auto ca = readPem(settings->tlsCaFile, "tls_ca_file");
        if (!ca) return fail(2, ca.status().message());
        auto cert = readPem(settings->tlsCertFile, "tls_cert_file");
        if (!cert) return fail(2, cert.status().message());
        auto tlsKey = readPem(settings->tlsKeyFile, "tls_key_file");
        if (!tlsKey) return fail(2, tlsKey.status().message());
        caPem = std::move(*ca);
        tls = {std::move(*tlsKey), std::move(*cert)};
    }

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

    auto modules = daemon::appModules();
    std::vector<bool> serveRpc;
    auto apps = moduleApplications(*settings, modules, serveRpc);
    if (!apps) return fail(2, apps.status().message());
    const Genesis genesisCopy = *genesis;
    Botan::secure_vector<std::uint8_t> keyBytes(key->secretBytes().begin(), key->secretBytes().end());
    auto node = node::Node::open(std::move(*genesis), std::move(key).value(), *storeKey, settings->node,
                                 std::move(*apps));
    if (!node) {
        const Code code = node.status().code();
        const bool storeProblem = code == Code::FailedPrecondition || code == Code::DataLoss;
        const bool configProblem =
            code == Code::InvalidArgument || code == Code::NotFound || code == Code::PermissionDenied;
        return fail(storeProblem ? 3 : configProblem ? 2 : 1, node.status().message());
    }
    (*node)->start();

    // Several validators: peer links (mutual TLS) and the consensus driver.
    std::unique_ptr<p2p::PeerNetwork> network;
    std::unique_ptr<node::ConsensusDriver> driver;
    if (consensusMode) {
        p2p::P2pConfig pc;
        pc.listen = settings->p2pListen;
        auto peers = p2p::parsePeers(settings->peers);
        if (!peers) return fail(2, peers.status().message());
        pc.peers = std::move(*peers);
        pc.caPem = std::move(caPem);
        pc.tls = std::move(tls);  // the network wipes the key once its credentials are built
        auto k1 = crypto::SecretKey::fromBytes(keyBytes);
        auto k2 = crypto::SecretKey::fromBytes(keyBytes);
        Botan::secure_scrub_memory(keyBytes.data(), keyBytes.size());
        auto net = p2p::PeerNetwork::start(std::move(pc), genesisCopy, std::move(*k1), **node);
        if (!net) return fail(4, net.status().message());
        network = std::move(*net);
        node::DriverConfig dc;
        dc.walDir = settings->consensusWalDir;
        dc.timeouts.proposeBase = std::chrono::milliseconds(settings->timeoutProposeMs);
        dc.timeouts.proposeDelta = std::chrono::milliseconds(settings->timeoutDeltaMs);
        dc.timeouts.prevoteBase = std::chrono::milliseconds(settings->timeoutVoteMs);
        dc.timeouts.prevoteDelta = std::chrono::milliseconds(settings->timeoutDeltaMs);
        dc.timeouts.precommitBase = std::chrono::milliseconds(settings->timeoutVoteMs);
        dc.timeouts.precommitDelta = std::chrono::milliseconds(settings->timeoutDeltaMs);
        dc.commitPause = std::chrono::milliseconds(settings->commitPauseMs);
        dc.emptyBlockPause = std::chrono::milliseconds(settings->emptyBlockPauseMs);
        auto d = node::ConsensusDriver::create(**node, std::move(*k2), dc, *network);
        if (!d) return fail(1, d.status().message());
        driver = std::move(*d);
        Status st = driver->start();
        if (!st) {
            network->stop();  // never attached: no stream holds the driver
            return fail(st.code() == Code::DataLoss ? 3 : 1, st.message());
        }
        // Attached once running: stream readers may wait in deliver() for
        // the event thread, and only a running (or stopped) driver frees them.
        // On the way out the driver stops before the network.
        network->attach(driver.get());
        std::cout << "fides-node: peers on " << settings->p2pListen.substr(0, settings->p2pListen.rfind(':'))
                  << ":" << network->port() << std::endl;
    } else {
        Botan::secure_scrub_memory(keyBytes.data(), keyBytes.size());
    }
    rpc::NodeServiceImpl::AdmittedHook gossip;
    if (network)
        gossip = [&network](const std::vector<ByteView>& txs) { network->broadcastTransactions(txs); };
    // The modules' own services (fides.<module>.v1), beside NodeService.
    std::vector<std::unique_ptr<grpc::Service>> services;
    std::vector<std::string> serviceNames;
    for (std::size_t i = 0; i < modules.size(); ++i) {
        if (!serveRpc[i]) continue;
        for (auto& s : modules[i]->createServices(**node)) services.push_back(std::move(s));
        for (auto& n : modules[i]->serviceNames()) serviceNames.push_back(std::move(n));
    }
    auto server =
        rpc::RpcServer::start(**node, settings->rpcListen, gossip, std::move(services), serviceNames);
    if (!server) {
        if (driver) driver->stop();
        if (network) network->stop();
        (*node)->stop();
        return fail(4, server.status().message());
    }
    const std::string host = settings->rpcListen.substr(0, settings->rpcListen.rfind(':'));
    std::cout << "fides-node: listening on " << host << ":" << (*server)->port() << std::endl;
    spdlog::info("node: serving gRPC on {}:{}", host, (*server)->port());

    int rc = 0;
    Status failure;
    while (g_stop == 0) {
        if (!(*node)->health().isOk())
            failure = (*node)->health();
        else if (driver && !driver->health().isOk())
            failure = driver->health();
        if (!failure.isOk()) {
            rc = 1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    spdlog::info("node: stopping");
    (*server)->shutdown();
    if (driver) driver->stop();
    if (network) network->stop();
    (*node)->stop();
    if (rc != 0) return fail(rc, failure.message());
    return 0;
}

int runWalRepair(const std::string& home, std::uint64_t height, bool confirmed) {
    // The log folder the node uses (consensus_wal_dir in node.conf).
    auto settings = fides::daemon::loadSettings(home);
    if (!settings) return fail(2, settings.status().message());
    // Never under a running node (it may be appending to the log).
    auto homeLock = fides::daemon::lockHome(home);
    if (!homeLock) {
        return fail(homeLock.status().code() == fides::Code::FailedPrecondition ? 5 : 1,
                    homeLock.status().message());
    }
    const std::string dir = settings->consensusWalDir;
    if (height == 0) {
        for (std::uint64_t h : fides::consensus::Wal::heights(dir)) height = std::max(height, h);
        if (height == 0) return fail(2, "no consensus write-ahead log in " + dir);
    }
    if (!confirmed) {
        return fail(
            2, "refusing without --yes-i-understand: cutting " + fides::consensus::Wal::pathFor(dir, height) +
                   " may make this validator forget messages it signed at height " + std::to_string(height));
    }
    auto removed = fides::consensus::Wal::repair(dir, height);
    if (!removed)
        return fail(removed.status().code() == fides::Code::NotFound ? 2 : 1, removed.status().message());
    std::cout << "wal-repair: " << fides::consensus::Wal::pathFor(dir, height) << ": removed " << *removed
              << " bytes" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Logs go to stderr; stdout carries only the "listening on" line.
    spdlog::set_default_logger(spdlog::stderr_color_mt("fides-node"));
    CLI::App app{"fides-node: a Fides validator"};
    app.set_version_flag("--version", std::string("fides-node ") + FIDES_VERSION);
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
    std::string repairHome;
    std::uint64_t repairHeight = 0;
    bool repairConfirmed = false;
    auto* repairCmd = app.add_subcommand(
        "wal-repair",
        "cut a damaged consensus write-ahead log at its first bad record (see doc/spec/consensus.md)");
    repairCmd->add_option("--home", repairHome, "home folder")->required();
    repairCmd->add_option("--height", repairHeight, "the log's height (default: the highest present)");
    repairCmd->add_flag(
        "--yes-i-understand", repairConfirmed,
        "confirm: the validator may forget messages it signed at that height; run this only when "
        "the other validators have moved past it");
    fides::daemon::TestnetOptions testnet;
    auto* testnetCmd = app.add_subcommand("testnet", "create homes for a local network of validators");
    testnetCmd->add_option("--out", testnet.out, "folder for the validators' homes")->required();
    testnetCmd->add_option("--validators", testnet.validators, "number of validators")->capture_default_str();
    testnetCmd
        ->add_option("--standby", testnet.standby,
                     "extra homes not in genesis, following the chain until governance adds them")
        ->capture_default_str();
    testnetCmd->add_option("--chain-id", testnet.chainId, "chain id")->capture_default_str();
    testnetCmd->add_option("--host", testnet.host, "address the validators listen on")->capture_default_str();
    testnetCmd
        ->add_option("--base-port", testnet.basePort, "validator i: RPC on base + 2i, peers on base + 2i + 1")
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (*initCmd) {
        init.moduleConfig = moduleConfig();
        fides::Status st = fides::daemon::initHome(init);
        if (!st) return fail(2, st.message());
        std::cout << "initialised " << init.home << " for chain '" << init.chainId << "'\n"
                  << "  config:  " << init.home << "/config/node.conf\n"
                  << "  genesis: " << init.home << "/config/genesis.json\n"
                  << "start it with: fides-node start --home " << init.home << "\n";
        return 0;
    }
    if (*repairCmd) return runWalRepair(repairHome, repairHeight, repairConfirmed);
    if (*testnetCmd) {
        testnet.moduleConfig = moduleConfig();
        fides::Status st = fides::daemon::initTestnet(testnet);
        if (!st) return fail(2, st.message());
        std::cout << "created " << testnet.validators << " validator homes in " << testnet.out << " (chain '"
                  << testnet.chainId << "')" << std::endl;
        return 0;
    }
    return runStart(home, rpcListen, storeKeyFile);
}
