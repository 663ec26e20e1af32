// A validator's home folder: layout, the commented configuration file, and
// `fides-node init`. Layout (doc/spec/storage.md for the store):
//   config/node.conf        settings, commented
//   config/genesis.json     chain id and validator set
//   config/validator.key    validator secret key, 64 hex characters, mode 0600
//   config/store.key        store key (when not using a passphrase), mode 0600
//   data/chain.db           the encrypted store
//   fides-node.lock         held (flock) by the fides-node process using the home
//
// Thread-safety: not thread-safe; used at start-up only.
#pragma once

#include "appmodule/app_module.h"
#include "crypto/schnorr.h"
#include "node/node.h"

#include <string>
#include <utility>

namespace fides::daemon {

struct NodeSettings {
    std::string rpcListen = "127.0.0.1:26657";
    std::string genesisFile = "config/genesis.json";
    std::string validatorKeyFile = "config/validator.key";
    std::string storePath = "data/chain.db";
    std::string storeKeyFile = "config/store.key";  // empty: passphrase from FIDES_STORE_PASSPHRASE
    std::string logLevel = "info";
    node::NodeConfig node;
    // Several validators (consensus): peer links and consensus settings.
    std::string p2pListen = "127.0.0.1:26656";
    std::string peers;  // public_key@host:port, comma separated
    std::string tlsCaFile = "config/ca.pem";
    std::string tlsCertFile = "config/node.pem";
    std::string tlsKeyFile = "config/node.key";
    std::string consensusWalDir = "data/consensus";
    std::uint64_t timeoutProposeMs = 1000;
    std::uint64_t timeoutVoteMs = 500;
    std::uint64_t timeoutDeltaMs = 250;
    std::uint64_t commitPauseMs = 50;
    std::uint64_t emptyBlockPauseMs = 120000;
    // Application modules' sections ("[name]" and the lines after it),
    // checked against the modules by appmodule::resolveSettings.
    std::map<std::string, appmodule::RawSection> sections;
    std::string configPath;  // node.conf, for messages
};

struct TestnetOptions {
    std::string out;
    std::size_t validators = 4;
    std::string chainId = "fides-devnet";
    std::string host = "127.0.0.1";
    int basePort = 26700;  // validator i: RPC basePort + 2i, peers basePort + 2i + 1
    // Extra homes (validator-<validators>…) whose keys are not in genesis:
    // they follow the chain until governance adds them.
    std::size_t standby = 0;
    // Appended to each node.conf: the application modules' sections.
    std::string moduleConfig;
};

// Creates `validators` (+ `standby`) homes out/validator-<i> sharing one
// genesis and one TLS certificate authority (out/ca.pem; its key out/ca.key,
// mode 0600), each with its keys, certificate and a config naming all the
// others as peers.
Status initTestnet(const TestnetOptions& options);

struct InitOptions {
    std::string home;
    std::string chainId = "fides-local";
    std::string moniker = "validator-0";
    bool passphrase = false;   // store key from a passphrase instead of a key file
    std::string moduleConfig;  // appended to node.conf: the application modules' sections
};

Status initHome(const InitOptions& options);

// An exclusive lock on a home folder (fides-node.lock, flock(2)), held
// for the life of the object: a second fides-node on the same home would
// write the same store and consensus log, and could sign twice. The kernel
// releases it when the process ends, however it ends (kill -9 included).
class HomeLock {
public:
    HomeLock(HomeLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    HomeLock& operator=(HomeLock&&) = delete;
    ~HomeLock();

private:
    friend Result<HomeLock> lockHome(const std::string& home);
    explicit HomeLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};
// FAILED_PRECONDITION "… is in use by fides-node process <pid>" when another
// process holds it; INTERNAL when the lock file cannot be created.
Result<HomeLock> lockHome(const std::string& home);
// Reads config/node.conf; relative paths are resolved against `home`. After
// a line "[name]", settings belong to the application module `name` (each
// section once; the top-level settings come first).
Result<NodeSettings> loadSettings(const std::string& home);

}  // namespace fides::daemon
