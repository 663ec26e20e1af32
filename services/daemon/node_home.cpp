#include "daemon/node_home.h"

#include "crypto/key_file.h"
#include "primitives/genesis.h"
#include "storage/store_key.h"



#include <chrono>
#include <filesystem>
#include <fstream>

namespace fides::daemon {

namespace fs = std::filesystem;

namespace {

const char* kConfigTemplate = R"(# Fides validator configuration (fides-node).
# Lines are "key = value"; '#' starts a comment. Relative paths are relative
# to the home folder.

# gRPC address for clients (NodeService, health, reflection).
# Use 127.0.0.1:0 to pick a free port; the chosen address is printed at start.
rpc_listen = 127.0.0.1:26657

# Chain definition and this validator's secret key (keep it mode 0600).
genesis_file = config/genesis.json
validator_key_file = config/validator.key

# Encrypted store (SQLCipher, 4096-byte pages, WAL).
store_path = data/chain.db
# The store key: a file of 64 hex characters. Leave empty to derive the key
# from the passphrase in the environment variable FIDES_STORE_PASSPHRASE
# (Argon2id; the salt is kept next to the store as <store_path>.salt).
store_key_file = %STORE_KEY_FILE%

# Block production: a block is formed as soon as transactions wait, after
# gathering for batch_wait_ms; with empty_block_interval_ms > 0 an empty block
# is formed at least that often (0: only when there are transactions).
max_block_transactions = 10000
batch_wait_ms = 5
empty_block_interval_ms = 0

# Mempool bounds: beyond them submissions get RESOURCE_EXHAUSTED.
mempool_max_transactions = 200000
mempool_max_bytes = 268435456

# Longest a transaction's expiry may lie in the future, in seconds.
max_tx_ttl_seconds = 86400

# trace, debug, info, warn, error
log_level = info
)";

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

Result<std::uint64_t> number(const std::string& key, const std::string& value) {
    try {
        std::size_t used = 0;
        unsigned long long v = std::stoull(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        return static_cast<std::uint64_t>(v);
    } catch (const std::exception&) {
        return Status::invalidArgument("setting " + key + " must be a non-negative integer, got '" + value + "'");
    }
}

std::string resolve(const std::string& home, const std::string& p) {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(home) / p).string();
}

}  // namespace

Status initHome(const InitOptions& o) {
    const fs::path home(o.home);
    if (fs::exists(home / "config" / "genesis.json")) {
        return Status::alreadyExists(o.home + " is already initialised (config/genesis.json exists)");
    }
    std::error_code ec;
    fs::create_directories(home / "config", ec);
    fs::create_directories(home / "data", ec);
    if (ec) return Status::internal("cannot create " + o.home + ": " + ec.message());
    fs::permissions(home / "config", fs::perms::owner_all, ec);

    crypto::SecretKey validatorKey = crypto::SecretKey::generate();
    FIDES_RETURN_IF_ERROR(crypto::writeSecretKeyFile((home / "config" / "validator.key").string(), validatorKey));
    if (!o.passphrase) FIDES_RETURN_IF_ERROR(storage::createKeyFile((home / "config" / "store.key").string()));

    Genesis g;
    g.chainId = o.chainId;
    g.genesisTimeMs = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    FIDES_ASSIGN_OR_RETURN(g.validators, ValidatorSet::create({{validatorKey.publicKey(), 10, o.moniker}}));
    {
        std::ofstream out(home / "config" / "genesis.json");
        out << g.toJson();
        if (!out) return Status::internal("cannot write genesis.json");
    }
    std::string conf = kConfigTemplate;
    const std::string marker = "%STORE_KEY_FILE%";
    conf.replace(conf.find(marker), marker.size(), o.passphrase ? "" : "config/store.key");
    std::ofstream out(home / "config" / "node.conf");
    out << conf;
    if (!out) return Status::internal("cannot write node.conf");
    return Status::ok();
}

Result<NodeSettings> loadSettings(const std::string& home) {
    const std::string path = (fs::path(home) / "config" / "node.conf").string();
    std::ifstream in(path);
    if (!in) return Status::notFound("cannot read " + path + " (run `fides-node init --home " + home + "` first)");
    NodeSettings s;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        line = trim(line);
        if (line.empty()) continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            return Status::invalidArgument(path + ":" + std::to_string(lineNo) + ": expected 'key = value'");
        }
        const std::string key = trim(line.substr(0, eq));
        const std::string value = trim(line.substr(eq + 1));
        auto num = [&](auto& field) -> Status {
            FIDES_ASSIGN_OR_RETURN(auto v, number(key, value));
            field = static_cast<std::remove_reference_t<decltype(field)>>(v);
            return Status::ok();
        };
        std::uint64_t ms = 0;
        Status st;
        if (key == "rpc_listen") s.rpcListen = value;
        else if (key == "genesis_file") s.genesisFile = value;
        else if (key == "validator_key_file") s.validatorKeyFile = value;
        else if (key == "store_path") s.storePath = value;
        else if (key == "store_key_file") s.storeKeyFile = value;
        else if (key == "log_level") s.logLevel = value;
        else if (key == "max_block_transactions") st = num(s.node.maxBlockTransactions);
        else if (key == "batch_wait_ms") { st = num(ms); s.node.batchWait = std::chrono::milliseconds(ms); }
        else if (key == "empty_block_interval_ms") { st = num(ms); s.node.emptyBlockInterval = std::chrono::milliseconds(ms); }
        else if (key == "mempool_max_transactions") st = num(s.node.mempool.maxTransactions);
        else if (key == "mempool_max_bytes") st = num(s.node.mempool.maxBytes);
        else if (key == "max_tx_ttl_seconds") { st = num(ms); s.node.maxTxTtl = std::chrono::seconds(ms); }
        else return Status::invalidArgument(path + ":" + std::to_string(lineNo) + ": unknown setting '" + key + "'");
        if (!st) return st.withContext(path + ":" + std::to_string(lineNo));
    }
    if (s.node.maxBlockTransactions == 0) return Status::invalidArgument("max_block_transactions must be positive");
    s.genesisFile = resolve(home, s.genesisFile);
    s.validatorKeyFile = resolve(home, s.validatorKeyFile);
    s.storePath = resolve(home, s.storePath);
    s.storeKeyFile = resolve(home, s.storeKeyFile);
    s.node.storePath = s.storePath;
    return s;
}

}  // namespace fides::daemon
