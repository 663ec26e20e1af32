// block_bench: the CPU cost of each step of the block pipeline, per
// transaction, in one process, printed as JSON.
//
// Two nodes with SQLCipher stores share a one-validator genesis: A builds
// (the proposer), B validates (every other validator), both commit. Each
// round submits the same pre-signed notarisations to both mempools
// (admission: decode, checks, one BIP-340 verification), then A builds a
// block of them, B validates it, and both commit it with the validator's
// commit. Each step is timed by the process's CPU clock (nothing else runs
// in the process meanwhile, the nodes are not started).
//
// notary_bench measures the network end to end; this one says which step
// of a validator's work costs what, without gRPC, TLS, gossip or the load
// generator, and its figures repeat within a few per cent.
#include "crypto/random.h"
#include "node/node.h"
#include "notary/notary_app.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

using namespace fides;

namespace {

double cpuNow() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Step {
    double cpu = 0;
    std::size_t txs = 0;
    double usPerTx() const { return txs == 0 ? 0 : cpu * 1e6 / static_cast<double>(txs); }
};

template <typename F>
auto timed(Step& step, std::size_t txs, F&& f) {
    const double before = cpuNow();
    auto r = f();
    step.cpu += cpuNow() - before;
    step.txs += txs;
    return r;
}

[[noreturn]] void die(const std::string& what, const Status& s) {
    std::cerr << "block_bench: " << what << ": " << s.toString() << "\n";
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"block_bench: CPU per transaction of admission, build, validate and commit"};
    std::size_t blockTxs = 7000;
    std::size_t rounds = 6;
    std::size_t signers = 4;
    std::size_t warmup = 0;
    app.add_option("--block", blockTxs, "transactions per block")->check(CLI::Range(1, 10'000));
    app.add_option("--rounds", rounds, "blocks measured")->check(CLI::PositiveNumber);
    app.add_option("--warmup", warmup, "blocks committed before measuring (a larger state)");
    app.add_option("--signers", signers, "distinct signing keys, transaction i signed by key i mod N")
        ->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    spdlog::set_default_logger(spdlog::stderr_color_mt("block_bench"));  // stdout is the JSON

    const auto dir =
        std::filesystem::temp_directory_path() / ("fides-block-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto validator = crypto::SecretKey::generate();
    Genesis genesis;
    genesis.chainId = "block-bench";
    genesis.genesisTimeMs = 1;
    genesis.validators = ValidatorSet::create({{validator.publicKey(), 10, "v0"}}).value();
    auto open = [&](const std::string& name) {
        node::NodeConfig cfg;
        cfg.storePath = (dir / (name + ".db")).string();
        cfg.consensus = true;  // no block producer: this program drives the steps
        cfg.maxBlockTransactions = blockTxs;
        cfg.mempool.maxTransactions = std::max(cfg.mempool.maxTransactions, blockTxs * 2);
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<notary::NotaryApp>());
        auto key = crypto::SecretKey::fromBytes(
            Bytes(validator.secretBytes().begin(), validator.secretBytes().end()));
        auto n = node::Node::open(genesis, std::move(*key), storage::StoreKey(32, 7), cfg, std::move(apps));
        if (!n) die("open " + name, n.status());
        return std::move(*n);
    };
    auto a = open("proposer");
    auto b = open("validator");

    std::vector<crypto::SecretKey> keys;
    for (std::size_t k = 0; k < signers; ++k) keys.push_back(crypto::SecretKey::generate());
    const auto expiry = static_cast<std::uint64_t>(std::time(nullptr)) + 3600;
    std::size_t signedCount = 0;
    auto sign = [&](std::size_t n) {
        std::vector<Bytes> txs(n);
        for (auto& tx : txs) {
            const auto& key = keys[signedCount++ % signers];
            tx = notary::makeNotarizeTx(genesis.chainId, key, crypto::Hash256(crypto::randomArray<32>()), "",
                                        crypto::randomU64(), expiry)
                     .encode();
        }
        return txs;
    };

    Step admit, build, validate, commitProposer, commitValidator;
    Step ignore;
    for (std::size_t round = 0; round < warmup + rounds; ++round) {
        const bool measured = round >= warmup;
        const auto txs = sign(blockTxs);
        for (auto* n : {a.get(), b.get()}) {
            timed(measured ? admit : ignore, txs.size(), [&] {
                // In batches of 500, as clients and peers deliver them.
                for (std::size_t i = 0; i < txs.size(); i += 500) {
                    std::vector<ByteView> batch;
                    for (std::size_t j = i; j < std::min(txs.size(), i + 500); ++j) batch.push_back(txs[j]);
                    for (const auto& h : n->submitBatch(batch)) {
                        if (!h) die("submit", h.status());
                    }
                }
                return 0;
            });
        }
        const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::system_clock::now().time_since_epoch())
                                                        .count());
        auto built = timed(measured ? build : ignore, blockTxs, [&] { return a->buildBlock(now); });
        if (!built) die("build", built.status());
        if (built->block.transactions.size() != blockTxs) {
            die("build", Status::internal("built " + std::to_string(built->block.transactions.size()) +
                                          " of " + std::to_string(blockTxs) + " transactions"));
        }
        auto checked =
            timed(measured ? validate : ignore, blockTxs, [&] { return b->validateBlock(built->block); });
        if (!checked) die("validate", checked.status());
        const std::uint64_t height = built->block.header.height;
        const crypto::Hash256 hash = built->block.header.hash();
        Commit commit;
        commit.height = height;
        commit.blockHash = hash;
        commit.signatures.push_back(
            {validator.publicKey(),
             crypto::sign(validator, precommitDigest(genesis.chainId, height, 0, hash))});
        auto s = timed(measured ? commitProposer : ignore, blockTxs,
                       [&] { return a->commitBlock(std::move(*built), commit); });
        if (!s.isOk()) die("commit (proposer)", s);
        s = timed(measured ? commitValidator : ignore, blockTxs,
                  [&] { return b->commitBlock(std::move(*checked), commit); });
        if (!s.isOk()) die("commit (validator)", s);
        if (a->status().stateRoot != b->status().stateRoot)
            die("commit", Status::internal("state roots differ"));
    }
    const std::uint64_t height = a->height();
    a.reset();
    b.reset();
    std::filesystem::remove_all(dir);

    // One height of a network of n validators: each admits every
    // transaction, one builds, n-1 validate, all commit.
    const unsigned n = 4;
    const double network = n * admit.usPerTx() + build.usPerTx() + (n - 1) * validate.usPerTx() +
                           commitProposer.usPerTx() + (n - 1) * commitValidator.usPerTx();
    nlohmann::json out;
    out["benchmark"] = "block";
    out["store"] = "sqlcipher";
    out["block_transactions"] = blockTxs;
    out["rounds"] = rounds;
    out["warmup_blocks"] = warmup;
    out["signers"] = signers;
    out["final_height"] = height;
    out["cpu_us_per_tx"] = {{"admit", admit.usPerTx()},
                            {"build", build.usPerTx()},
                            {"validate", validate.usPerTx()},
                            {"commit_proposer", commitProposer.usPerTx()},
                            {"commit_validator", commitValidator.usPerTx()}};
    out["four_validators_us_per_tx"] = network;
    std::cout << out.dump(2) << std::endl;
    return 0;
}
