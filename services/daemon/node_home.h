// A validator's home folder: layout, the commented configuration file, and
// `fides-node init`. Layout (doc/spec/storage.md for the store):
//   config/node.conf        settings, commented
//   config/genesis.json     chain id and validator set
//   config/validator.key    validator secret key, 64 hex characters, mode 0600
//   config/store.key        store key (when not using a passphrase), mode 0600
//   data/chain.db           the encrypted store
//
// Thread-safety: not thread-safe; used at start-up only.
#pragma once

#include "crypto/schnorr.h"
#include "node/node.h"

#include <string>

namespace fides::daemon {

struct NodeSettings {
    std::string rpcListen = "127.0.0.1:26657";
    std::string genesisFile = "config/genesis.json";
    std::string validatorKeyFile = "config/validator.key";
    std::string storePath = "data/chain.db";
    std::string storeKeyFile = "config/store.key";  // empty: passphrase from FIDES_STORE_PASSPHRASE
    std::string logLevel = "info";
    node::NodeConfig node;
};

struct InitOptions {
    std::string home;
    std::string chainId = "fides-local";
    std::string moniker = "validator-0";
    bool passphrase = false;  // store key from a passphrase instead of a key file
};

Status initHome(const InitOptions& options);
// Reads config/node.conf; relative paths are resolved against `home`.
Result<NodeSettings> loadSettings(const std::string& home);

}  // namespace fides::daemon
