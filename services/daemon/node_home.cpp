#include "daemon/node_home.h"

#include "crypto/key_file.h"
#include "p2p/tls_certs.h"
#include "primitives/genesis.h"
#include "storage/store_key.h"
#include "util/private_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
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
store_key_file = config/store.key

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

# --- Several validators (consensus); ignored when genesis has only one. ---
# Where the other validators connect (gRPC, mutual TLS).
p2p_listen = 127.0.0.1:26656
# The other validators: public_key@host:port, comma separated.
peers =
# The chain's certificate authority, and this validator's TLS certificate and key.
tls_ca_file = config/ca.pem
tls_cert_file = config/node.pem
tls_key_file = config/node.key
# The consensus write-ahead log (fsynced before any vote leaves).
consensus_wal_dir = data/consensus
# Round timeouts: propose, then prevote and precommit, growing by delta per round.
timeout_propose_ms = 1000
timeout_vote_ms = 500
timeout_delta_ms = 250
# Pause after a commit before the next height: commit_pause_ms while
# transactions wait, empty_block_pause_ms when none do. An idle chain makes
# one empty block per empty_block_pause_ms (about 190 MB a year with four
# validators at 120 s; 23 GB at 1 s); a transaction ends the pause at once,
# and an application that needs a block at a time (an election's close) gets
# it then whatever the pause.
commit_pause_ms = 50
empty_block_pause_ms = 120000
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
        return Status::invalidArgument("setting " + key + " must be a non-negative integer, got '" + value +
                                       "'");
    }
}

std::string resolve(const std::string& home, const std::string& p) {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(home) / p).string();
}

}  // namespace

namespace {
// A secret (a TLS private key) is created with mode 0600 and never written
// over an existing file, as the validator key is; before, it was written with
// the umask's mode and restricted afterwards, readable by others meanwhile.
Status writeText(const fs::path& path, const std::string& text, bool secret) {
    if (secret) return writePrivateFile(path.string(), text.data(), text.size());
    std::ofstream out(path);
    out << text;
    out.close();
    if (!out) return Status::internal("cannot write " + path.string());
    return Status::ok();
}

// Replaces the whole "key = ..." line of the configuration template.
Status setConf(std::string& conf, const std::string& key, const std::string& value) {
    const std::string prefix = "\n" + key + " =";
    const auto at = conf.find(prefix);
    if (at == std::string::npos) return Status::internal("configuration template lacks " + key);
    const auto end = conf.find('\n', at + 1);
    conf.replace(at, end - at, prefix + " " + value);
    return Status::ok();
}
std::uint64_t nowMs() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

// What every validator home holds: config/ (owner only) and data/, the
// validator key, a store key file unless the passphrase is used, genesis,
// and node.conf from the template with `settings` applied and the modules'
// sections appended.
Status writeHome(const fs::path& home, const crypto::SecretKey& key, const Genesis& genesis,
                 bool storeKeyFile, const std::vector<std::pair<std::string, std::string>>& settings,
                 const std::string& moduleConfig) {
    std::error_code ec;
    fs::create_directories(home / "config", ec);
    if (!ec) fs::create_directories(home / "data", ec);
    if (!ec) fs::permissions(home / "config", fs::perms::owner_all, ec);
    if (ec) return Status::internal("cannot create " + home.string() + ": " + ec.message());
    FIDES_RETURN_IF_ERROR(crypto::writeSecretKeyFile((home / "config" / "validator.key").string(), key));
    if (storeKeyFile) FIDES_RETURN_IF_ERROR(storage::createKeyFile((home / "config" / "store.key").string()));
    FIDES_RETURN_IF_ERROR(writeText(home / "config" / "genesis.json", genesis.toJson(), false));
    std::string conf = kConfigTemplate;
    if (!storeKeyFile) FIDES_RETURN_IF_ERROR(setConf(conf, "store_key_file", ""));
    for (const auto& [k, v] : settings) FIDES_RETURN_IF_ERROR(setConf(conf, k, v));
    return writeText(home / "config" / "node.conf", conf + moduleConfig, false);
}
}  // namespace

Status initHome(const InitOptions& o) {
    const fs::path home(o.home);
    if (fs::exists(home / "config" / "genesis.json")) {
        return Status::alreadyExists(o.home + " is already initialised (config/genesis.json exists)");
    }
    crypto::SecretKey validatorKey = crypto::SecretKey::generate();
    Genesis g;
    g.chainId = o.chainId;
    g.genesisTimeMs = nowMs();
    FIDES_ASSIGN_OR_RETURN(g.validators, ValidatorSet::create({{validatorKey.publicKey(), 10, o.moniker}}));
    return writeHome(home, validatorKey, g, !o.passphrase, {}, o.moduleConfig);
}

Status initTestnet(const TestnetOptions& o) {
    if (o.validators < 1 || o.validators > 64) return Status::invalidArgument("validators must be 1 to 64");
    if (o.standby > 16) return Status::invalidArgument("standby must be 0 to 16");
    const std::size_t homes = o.validators + o.standby;
    const fs::path out(o.out);
    if (fs::exists(out / "genesis.json")) return Status::alreadyExists(o.out + " already holds a testnet");
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return Status::internal("cannot create " + o.out + ": " + ec.message());
    FIDES_ASSIGN_OR_RETURN(p2p::PemPair ca, p2p::createCertificateAuthority(o.chainId));
    FIDES_RETURN_IF_ERROR(writeText(out / "ca.key", ca.keyPem, true));
    FIDES_RETURN_IF_ERROR(writeText(out / "ca.pem", ca.certPem, false));

    std::vector<crypto::SecretKey> keys;
    std::vector<Validator> set;
    for (std::size_t i = 0; i < homes; ++i) {
        keys.push_back(crypto::SecretKey::generate());
        if (i < o.validators) set.push_back({keys.back().publicKey(), 10, "validator-" + std::to_string(i)});
    }
    Genesis g;
    g.chainId = o.chainId;
    g.genesisTimeMs = nowMs();
    FIDES_ASSIGN_OR_RETURN(g.validators, ValidatorSet::create(set));
    FIDES_RETURN_IF_ERROR(writeText(out / "genesis.json", g.toJson(), false));

    auto p2pPort = [&](std::size_t i) { return o.basePort + 2 * static_cast<int>(i) + 1; };
    for (std::size_t i = 0; i < homes; ++i) {
        const fs::path home = out / ("validator-" + std::to_string(i));
        std::string peers;
        for (std::size_t j = 0; j < homes; ++j) {
            if (j == i) continue;
            if (!peers.empty()) peers += ",";
            peers += keys[j].publicKey().hex() + "@" + o.host + ":" + std::to_string(p2pPort(j));
        }
        FIDES_RETURN_IF_ERROR(writeHome(home, keys[i], g, true,
                                        {{"rpc_listen", o.host + ":" + std::to_string(p2pPort(i) - 1)},
                                         {"p2p_listen", o.host + ":" + std::to_string(p2pPort(i))},
                                         {"peers", peers}},
                                        o.moduleConfig));
        FIDES_RETURN_IF_ERROR(writeText(home / "config" / "ca.pem", ca.certPem, false));
        FIDES_ASSIGN_OR_RETURN(p2p::PemPair cert,
                               p2p::issueNodeCertificate(ca, "validator-" + std::to_string(i)));
        FIDES_RETURN_IF_ERROR(writeText(home / "config" / "node.pem", cert.certPem, false));
        FIDES_RETURN_IF_ERROR(writeText(home / "config" / "node.key", cert.keyPem, true));
    }
    return Status::ok();
}

HomeLock::~HomeLock() {
    if (m_fd >= 0) ::close(m_fd);  // releases the lock; the file stays (removing it would race a new owner)
}

Result<HomeLock> lockHome(const std::string& home) {
    const fs::path path = fs::path(home) / "fides-node.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return Status::internal("cannot create the lock file " + path.string() + ": " + std::strerror(errno));
    HomeLock lock(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            return Status::internal("cannot lock " + path.string() + ": " + std::strerror(errno));
        }
        char pid[32] = {};
        const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
        std::string owner = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string();
        while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
        return Status::failedPrecondition("the home " + home + " is in use by fides-node process " +
                                          (owner.empty() ? std::string("(unknown)") : owner) + " (lock " +
                                          path.string() + "); stop it first");
    }
    // Ours: record who holds it, for the message above.
    const std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
        return Status::internal("cannot write the lock file " + path.string() + ": " + std::strerror(errno));
    }
    return lock;
}

Result<NodeSettings> loadSettings(const std::string& home) {
    const std::string path = (fs::path(home) / "config" / "node.conf").string();
    std::ifstream in(path);
    if (!in)
        return Status::notFound("cannot read " + path + " (run `fides-node init --home " + home + "` first)");
    NodeSettings s;
    s.configPath = path;
    std::string line;
    int lineNo = 0;
    appmodule::RawSection* section = nullptr;  // after a "[name]" line
    while (std::getline(in, line)) {
        ++lineNo;
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        line = trim(line);
        if (line.empty()) continue;
        const std::string where = path + ":" + std::to_string(lineNo);
        if (line.front() == '[') {
            const std::string name =
                line.back() == ']' ? trim(line.substr(1, line.size() - 2)) : std::string();
            const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            });
            if (!valid)
                return Status::invalidArgument(where + ": expected a section '[name]' (lower case, digits)");
            auto [it, fresh] = s.sections.try_emplace(name);
            if (!fresh) return Status::invalidArgument(where + ": section [" + name + "] appears twice");
            section = &it->second;
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            return Status::invalidArgument(path + ":" + std::to_string(lineNo) + ": expected 'key = value'");
        }
        const std::string key = trim(line.substr(0, eq));
        const std::string value = trim(line.substr(eq + 1));
        if (section != nullptr) {
            if (!section->try_emplace(key, appmodule::RawValue{value, lineNo}).second) {
                return Status::invalidArgument(where + ": setting '" + key +
                                               "' appears twice in its section");
            }
            continue;
        }
        auto num = [&](auto& field) -> Status {
            FIDES_ASSIGN_OR_RETURN(auto v, number(key, value));
            field = static_cast<std::remove_reference_t<decltype(field)>>(v);
            return Status::ok();
        };
        std::uint64_t ms = 0;
        Status st;
        if (key == "rpc_listen")
            s.rpcListen = value;
        else if (key == "genesis_file")
            s.genesisFile = value;
        else if (key == "validator_key_file")
            s.validatorKeyFile = value;
        else if (key == "store_path")
            s.storePath = value;
        else if (key == "store_key_file")
            s.storeKeyFile = value;
        else if (key == "log_level")
            s.logLevel = value;
        else if (key == "p2p_listen")
            s.p2pListen = value;
        else if (key == "peers")
            s.peers = value;
        else if (key == "tls_ca_file")
            s.tlsCaFile = value;
        else if (key == "tls_cert_file")
            s.tlsCertFile = value;
        else if (key == "tls_key_file")
            s.tlsKeyFile = value;
        else if (key == "consensus_wal_dir")
            s.consensusWalDir = value;
        else if (key == "timeout_propose_ms")
            st = num(s.timeoutProposeMs);
        else if (key == "timeout_vote_ms")
            st = num(s.timeoutVoteMs);
        else if (key == "timeout_delta_ms")
            st = num(s.timeoutDeltaMs);
        else if (key == "commit_pause_ms")
            st = num(s.commitPauseMs);
        else if (key == "empty_block_pause_ms")
            st = num(s.emptyBlockPauseMs);
        else if (key == "max_block_transactions")
            st = num(s.node.maxBlockTransactions);
        else if (key == "batch_wait_ms") {
            st = num(ms);
            s.node.batchWait = std::chrono::milliseconds(ms);
        } else if (key == "empty_block_interval_ms") {
            st = num(ms);
            s.node.emptyBlockInterval = std::chrono::milliseconds(ms);
        } else if (key == "mempool_max_transactions")
            st = num(s.node.mempool.maxTransactions);
        else if (key == "mempool_max_bytes")
            st = num(s.node.mempool.maxBytes);
        else if (key == "max_tx_ttl_seconds") {
            st = num(ms);
            s.node.maxTxTtl = std::chrono::seconds(ms);
        } else
            return Status::invalidArgument(path + ":" + std::to_string(lineNo) + ": unknown setting '" + key +
                                           "'");
        if (!st) return st.withContext(path + ":" + std::to_string(lineNo));
    }
    if (s.node.maxBlockTransactions == 0 || s.node.maxBlockTransactions > limits::kMaxBlockTransactions) {
        return Status::invalidArgument(
            path + ": max_block_transactions must be 1 to " + std::to_string(limits::kMaxBlockTransactions) +
            " (it bounds the blocks this validator proposes; every validator accepts "
            "blocks of up to that many)");
    }
    s.genesisFile = resolve(home, s.genesisFile);
    s.validatorKeyFile = resolve(home, s.validatorKeyFile);
    s.storePath = resolve(home, s.storePath);
    s.storeKeyFile = resolve(home, s.storeKeyFile);
    s.tlsCaFile = resolve(home, s.tlsCaFile);
    s.tlsCertFile = resolve(home, s.tlsCertFile);
    s.tlsKeyFile = resolve(home, s.tlsKeyFile);
    s.consensusWalDir = resolve(home, s.consensusWalDir);
    s.node.storePath = s.storePath;
    return s;
}

}  // namespace fides::daemon
