// fides: command-line client of a Fides node.
//   fides [--node ADDR] [--genesis FILE] status
//   fides notarize FILE [--label TEXT] [--key FILE]
//   fides prove FILE
//   fides block HEIGHT
//   fides devnet start|status|stop|reset [--dir run/devnet] [--validators 4]
//   fides validators; fides governance propose|approve|submit (governance.h)
// `prove` (and `block` with a genesis) checks the answer itself (signed
// header, state proof, inclusion proof) against the validator sets it
// follows from the genesis file: each validator-set change is learned from
// the header that announced it (primitives/light_client.h); it never trusts
// the node.
// Exit codes: 0 success (prove: registration verified), 1 prove: the document
// is provably NOT registered, 2 usage error, 3 verification failed (the node's
// answer does not check out), 4 the node refused or could not be reached.
#include "client/node_client.h"
#include "crypto/key_file.h"
#include "devnet.h"
#include "governance.h"
#include "notary/notary_app.h"
#include "notary/notary_proof.h"
#include "primitives/light_client.h"
#include "primitives/proof.h"
#include "terminal_text.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

namespace {

using namespace fides;
namespace fs = std::filesystem;

int fail(int code, const std::string& msg) {
    std::cerr << "fides: " << msg << "\n";
    return code;
}

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : fallback;
}

std::string formatTime(std::uint64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
    return buf;
}

Result<crypto::SecretKey> clientKey(const std::string& path) {
    bool created = false;
    auto k = crypto::loadOrCreateSecretKeyFile(path, &created);
    if (k && created) std::cerr << "fides: created a new signing key in " << path << "\n";
    return k;
}

int cmdStatus(const client::NodeClient& c) {
    auto s = c.status();
    if (!s) return fail(4, s.status().toString());
    std::cout << "chain:      " << s->chain_id() << "\n"
              << "height:     " << s->height() << "\n"
              << "block hash: " << toHex(asBytes(s->latest_block_hash())) << "\n"
              << "block time: " << (s->height() ? formatTime(s->latest_block_time_ms()) : "-") << "\n"
              << "state root: " << toHex(asBytes(s->state_root())) << "\n"
              << "validator:  " << toHex(asBytes(s->validator_public_key())) << "\n"
              << "validators: " << s->validators() << "\n"
              << "mempool:    " << s->mempool_size() << " transactions\n"
              << "version:    " << s->version() << "\n";
    return 0;
}

int cmdNotarize(const client::NodeClient& c, const std::string& file, const std::string& label,
                const std::string& keyPath) {
    if (label.size() > notary::kMaxLabelLength) return fail(2, "label is longer than 256 bytes");
    auto doc = client::hashFile(file);
    if (!doc) return fail(2, doc.status().message());
    auto key = clientKey(keyPath);
    if (!key) return fail(2, key.status().message());
    auto ack = c.notarize(*key, *doc, label);
    if (!ack) return fail(4, ack.status().toString());
    std::cout << "registered " << file << "\n"
              << "  document sha256: " << doc->hex() << "\n"
              << "  transaction:     " << ack->txHash.hex() << "\n"
              << "  block:           " << ack->height << " (position " << ack->index << ")\n";
    return 0;
}

// ", following N validator-set change(s), each verified" when a header of
// `height` was verified through learned changes; empty when the genesis set
// signed it.
std::string changesFollowed(const LightClient& lc, std::uint64_t height) {
    const std::size_t n = lc.changesUpTo(height);
    if (n == 0) return "";
    return ", following " + std::to_string(n) + " validator-set change(s), each verified";
}

int cmdProve(const client::NodeClient& c, const std::string& file, const std::string& genesisPath) {
    auto genesis = Genesis::load(genesisPath);
    if (!genesis) return fail(2, genesis.status().message() + " (the trusted genesis; set --genesis)");
    auto doc = client::hashFile(file);
    if (!doc) return fail(2, doc.status().message());
    auto ev = c.notarizationEvidence(*doc);
    if (!ev) return fail(4, ev.status().toString());
    // Synced after the evidence was fetched, so every set up to its headers is known.
    LightClient lc(*genesis);
    if (Status s = client::syncLightClient(c, lc); !s.isOk()) {
        if (!client::isVerificationFailure(s)) return fail(4, s.toString());
        std::cout << "NOT VERIFIED: " << s.message() << "\n";
        return 3;
    }
    auto v = notary::verifyNotarization(lc, *doc, *ev);
    if (!v) {
        std::cout << "NOT VERIFIED: " << v.status().message() << "\n";
        return 3;
    }
    const std::string signers = std::to_string(v->signatures) + " validator signature(s), " +
                                std::to_string(v->signedPower) + "/" + std::to_string(v->totalPower) +
                                " voting power, checked locally against " + genesisPath +
                                changesFollowed(lc, v->provenAtHeight);
    if (!v->registered) {
        std::cout << "NOT REGISTERED: document " << doc->hex() << "\n"
                  << "  absence proven against block " << v->provenAtHeight << " (" << signers << ")\n";
        return 1;
    }
    const auto& r = *v->registration;
    std::cout << "VERIFIED: " << file << "\n"
              << "  document sha256: " << doc->hex() << "\n"
              << "  registered at block " << r.height << ", " << formatTime(v->blockTimeMs) << "\n"
              << "  registrant:      " << r.registrant.hex() << "\n"
              << (r.label.empty() ? "" : "  label:           " + cli::printable(r.label) + "\n")
              << "  transaction:     " << r.txHash.hex() << " (inclusion proof checked)\n"
              << "  state proof checked against block " << v->provenAtHeight << " (" << signers << ")\n";
    return 0;
}

int cmdBlock(const client::NodeClient& c, std::uint64_t height, const std::string& genesisPath) {
    auto b = c.block(height);
    if (!b) return fail(4, b.status().toString());
    auto header = BlockHeader::decode(asBytes(b->signed_header().header()));
    if (!header) return fail(3, "node sent a malformed header: " + header.status().message());
    std::string verified = "not checked (no genesis file)";
    if (auto g = Genesis::load(genesisPath)) {
        LightClient lc(*g);
        if (Status s = client::syncLightClient(c, lc); !s.isOk()) {
            return fail(client::isVerificationFailure(s) ? 3 : 4, s.toString());
        }
        auto vh = lc.verify(asBytes(b->signed_header().header()), asBytes(b->signed_header().commit()));
        if (!vh)
            return fail(3, "block " + std::to_string(height) + " does not verify: " + vh.status().message());
        std::vector<Bytes> txs;
        for (const auto& t : b->transactions()) txs.emplace_back(t.begin(), t.end());
        if (Block::computeTxRoot(txs) != header->txRoot || txs.size() != header->txCount) {
            return fail(3, "block body does not match its header's transaction root");
        }
        verified = "verified (" + std::to_string(vh->signatures) + " signature(s), " +
                   std::to_string(vh->signedPower) + "/" + std::to_string(vh->totalPower) + " power" +
                   changesFollowed(lc, vh->header.height) + ")";
    }
    const auto& h = *header;
    std::cout << "height:        " << h.height << "\n"
              << "hash:          " << h.hash().hex() << "\n"
              << "time:          " << formatTime(h.timeMs) << "\n"
              << "previous:      " << h.prevHash.hex() << "\n"
              << "transactions:  " << h.txCount << "\n"
              << "tx root:       " << h.txRoot.hex() << "\n"
              << "state root:    " << h.stateRoot.hex() << "\n"
              << "proposer:      " << h.proposer.hex() << "\n"
              << "validator set: " << h.validatorSetHash.hex() << "\n"
              << "commit:        " << verified << "\n";
    for (const auto& t : b->transactions()) std::cout << "  tx " << txHash(asBytes(t)).hex() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"fides: client of a Fides node"};
    app.set_version_flag("--version", std::string("fides ") + FIDES_VERSION);
    app.require_subcommand(1);
    std::string node = envOr("FIDES_NODE", "127.0.0.1:26657");
    std::string genesis = envOr("FIDES_GENESIS", "");
    app.add_option("--node", node, "node address (env FIDES_NODE)")->capture_default_str();
    app.add_option("--genesis", genesis, "trusted genesis.json (env FIDES_GENESIS)");
    auto* status = app.add_subcommand("status", "chain and node status");
    std::string file;
    std::string label;
    const char* home = std::getenv("HOME");
    std::string keyPath =
        envOr("FIDES_CLIENT_KEY", std::string(home ? home : ".") + "/.config/fides/client.key");
    auto* notarize = app.add_subcommand("notarize", "register a file's SHA-256 on the ledger");
    notarize->add_option("FILE", file, "the document")->required();
    notarize->add_option("--label", label, "public label (at most 256 bytes)");
    notarize->add_option("--key", keyPath, "signing key file (created if missing)")->capture_default_str();
    auto* prove = app.add_subcommand("prove", "prove a file's registration, checked locally");
    prove->add_option("FILE", file, "the document")->required();
    std::uint64_t height = 0;
    auto* blockCmd = app.add_subcommand("block", "show a block, its commit checked if --genesis is given");
    blockCmd->add_option("HEIGHT", height, "block height")->required();
    std::string devnetAction;
    fides::cli::DevnetOptions devnet;
    auto* devnetCmd =
        app.add_subcommand("devnet", "a local network of validators: start, status, stop, reset");
    devnetCmd->add_option("ACTION", devnetAction, "start | status | stop | reset")->required();
    devnetCmd->add_option("--dir", devnet.dir, "the network's folder")->capture_default_str();
    devnetCmd->add_option("--validators", devnet.validators, "validators (when creating)")
        ->capture_default_str();
    devnetCmd->add_option("--base-port", devnet.basePort, "validator i: RPC base + 2i, peers base + 2i + 1")
        ->capture_default_str();
    fides::cli::GovernanceCommands governance(app, node, genesis);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (*devnetCmd) return fides::cli::runDevnet(devnetAction, devnet);
    if (auto code = governance.run()) return *code;
    client::NodeClient c(node);
    if (*status) return cmdStatus(c);
    if (*notarize) return cmdNotarize(c, file, label, keyPath);
    if (*prove) {
        if (genesis.empty())
            return fail(2, "prove needs the trusted genesis: --genesis FILE or FIDES_GENESIS");
        return cmdProve(c, file, genesis);
    }
    if (*blockCmd) return cmdBlock(c, height, genesis);
    return 2;
}
