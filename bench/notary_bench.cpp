// notary_bench: notarisation throughput and submit-to-commit latency against
// one fides-node over gRPC, printed as JSON.
//
// By default it starts its own validator (fides-node init + start in a
// temporary home, SQLCipher on, signatures verified) so that a run is
// self-contained; --node ADDR uses a running one instead.
//
// Phase 1 (throughput): N pre-signed transactions are streamed over S
// client streams in batches; committed transactions per second are counted
// from the block stream, from the first submission to the last commit.
// Phase 2 (latency): transactions are sent at half the measured rate, in
// small batches every 10 ms; each one's latency is from just before its batch
// was written to the arrival of the block that contains it.
#include "client/node_client.h"
#include "crypto/random.h"
#include "notary/notary_app.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

extern char** environ;

namespace {

using namespace fides;
using Clock = std::chrono::steady_clock;
namespace v1 = fides::node::v1;

struct SpawnedNodes {
    std::vector<pid_t> pids;
    std::string home;
    ~SpawnedNodes() {
        for (pid_t pid : pids) ::kill(pid, SIGTERM);
        for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
        if (!home.empty()) std::filesystem::remove_all(home);
    }
};

// CPU time (user + system) the processes have used so far, in seconds;
// 0 for a process that cannot be read.
double cpuSeconds(const std::vector<pid_t>& pids) {
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    double total = 0;
    for (pid_t pid : pids) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');  // the command name may contain spaces
        if (close == std::string::npos) continue;
        std::istringstream fields(text.substr(close + 2));
        std::string f;
        unsigned long long utime = 0;
        unsigned long long stime = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i) {  // fields 3.. after the name; utime 14, stime 15
            if (i == 14) utime = std::stoull(f);
            if (i == 15) stime = std::stoull(f);
        }
        total += static_cast<double>(utime + stime) / tick;
    }
    return total;
}

// Starts `fides-node start` with `args` and returns its RPC address.
// One core's cost of checking one transaction signature on this machine now
// (the key already parsed, as a validator has it), in microseconds: the best
// of seven passes over up to 1,000 of the benchmark's own transactions. The
// machine is shared and its speed drifts between days; this figure, taken in
// the same run, turns the throughput into a fraction of the bound that
// signature checks alone set (every validator checks every transaction once).
double verifyMicros(const std::vector<Bytes>& txs) {
    std::vector<Transaction> decoded;
    for (std::size_t i = 0; i < std::min<std::size_t>(1000, txs.size()); ++i) {
        auto tx = Transaction::decode(txs[i]);
        if (tx) decoded.push_back(std::move(tx).value());
    }
    if (decoded.empty()) return 0;
    double best = 0;
    for (int pass = 0; pass < 7; ++pass) {
        const auto t0 = Clock::now();
        std::size_t ok = 0;
        for (const auto& tx : decoded) ok += tx.verifySignature() ? 1 : 0;
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
                          static_cast<double>(decoded.size());
        if (ok != decoded.size()) return 0;
        if (pass == 0 || us < best) best = us;
    }
    return best;
}

std::optional<std::string> startNode(const std::string& binary, const std::vector<std::string>& args,
                                     SpawnedNodes& spawned);

bool runCommand(const std::vector<std::string>& argv, std::string* firstLine, pid_t* keepRunning) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) return false;
    FILE* out = ::fdopen(fds[0], "r");
    char buf[512];
    std::string line;
    while (std::fgets(buf, sizeof buf, out) != nullptr) {
        line = buf;
        if (keepRunning != nullptr && line.find("listening on ") != std::string::npos) break;
    }
    if (firstLine != nullptr) *firstLine = line;
    if (keepRunning != nullptr) {
        *keepRunning = pid;
        return true;  // leave the pipe open: the node keeps writing nothing more to stdout
    }
    std::fclose(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    return v[i];
}

// Watches the block stream and records when each transaction hash committed.
class CommitWatcher {
public:
    CommitWatcher(const std::string& address, std::uint64_t fromHeight) {
        m_thread = std::thread([this, address, fromHeight] {
            client::NodeClient c(address, std::chrono::hours(1));
            v1::SubscribeBlocksRequest req;
            req.set_from_height(fromHeight);
            auto reader = c.stub().SubscribeBlocks(&m_ctx, req);
            v1::BlockEvent ev;
            while (reader->Read(&ev)) {
                const auto now = Clock::now();
                std::lock_guard lock(m_mutex);
                for (const auto& h : ev.tx_hashes()) m_commits.emplace(h, now);
                m_timeline.push_back({now, static_cast<std::size_t>(ev.tx_hashes_size())});
                ++m_blocks;
                m_cv.notify_all();
            }
        });
    }
    ~CommitWatcher() {
        m_ctx.TryCancel();
        m_thread.join();
    }
    // Waits until `n` transactions have committed or `timeout` passes.
    std::size_t waitFor(std::size_t n, std::chrono::seconds timeout) {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, timeout, [&] { return m_commits.size() >= n; });
        return m_commits.size();
    }
    std::unordered_map<std::string, Clock::time_point> commits() {
        std::lock_guard lock(m_mutex);
        return m_commits;
    }
    std::size_t blocks() {
        std::lock_guard lock(m_mutex);
        return m_blocks;
    }
    // When each block reached the watcher, and how many transactions it held.
    std::vector<std::pair<Clock::time_point, std::size_t>> timeline() {
        std::lock_guard lock(m_mutex);
        return m_timeline;
    }

private:
    grpc::ClientContext m_ctx;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::unordered_map<std::string, Clock::time_point> m_commits;
    std::vector<std::pair<Clock::time_point, std::size_t>> m_timeline;
    std::size_t m_blocks = 0;
};

// Transaction i is signed by signer i mod `signers` (0: one per thread).
std::vector<Bytes> signTransactions(const std::string& chainId, std::size_t n, unsigned threads,
                                    std::size_t signers) {
    std::vector<Bytes> txs(n);
    const auto expiry = static_cast<std::uint64_t>(std::time(nullptr)) + 3600;
    std::vector<crypto::SecretKey> keys;
    for (std::size_t k = 0; k < (signers == 0 ? threads : signers); ++k)
        keys.push_back(crypto::SecretKey::generate());
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            for (std::size_t i = t; i < n; i += threads) {
                crypto::Hash256 doc(crypto::randomArray<32>());
                const auto& key = keys[signers == 0 ? t : i % signers];
                txs[i] = notary::makeNotarizeTx(chainId, key, doc, "", crypto::randomU64(), expiry).encode();
            }
        });
    }
    for (auto& t : ts) t.join();
    return txs;
}

std::optional<std::string> startNode(const std::string& binary, const std::vector<std::string>& args,
                                     SpawnedNodes& spawned) {
    std::vector<std::string> argv{binary, "start"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string line;
    pid_t pid = -1;
    if (!runCommand(argv, &line, &pid) || line.find("listening on ") == std::string::npos) {
        std::cerr << "notary_bench: fides-node did not start\n";
        return std::nullopt;
    }
    spawned.pids.push_back(pid);
    line = line.substr(line.find("listening on ") + 13);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    return line;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"notary_bench: notarisation throughput and latency against one validator"};
    std::string node;
    std::string nodeBinary = FIDES_NODE_BINARY;
    std::size_t count = 60000;
    unsigned streams = 2;
    std::size_t batch = 500;
    unsigned validators = 1;
    int basePort = 28700;
    int commitPauseMs = -1;
    double latencySeconds = 5;
    app.add_option("--node", node, "use a running node at ADDR instead of starting one");
    app.add_option("--node-binary", nodeBinary, "fides-node to start")->capture_default_str();
    app.add_option("--count", count, "transactions in the throughput phase")->capture_default_str();
    app.add_option("--streams", streams, "concurrent client streams")->capture_default_str();
    app.add_option("--batch", batch, "transactions per stream message")->capture_default_str();
    app.add_option("--validators", validators, "validators to start (consensus over mutual TLS when > 1)")
        ->capture_default_str();
    app.add_option("--commit-pause-ms", commitPauseMs, "with --validators > 1: override commit_pause_ms")
        ->capture_default_str();
    std::vector<std::string> confOverrides;
    std::size_t signers = 0;
    app.add_option("--signers", signers,
                   "distinct signing keys, transaction i signed by key i mod N (0: one per signing thread)")
        ->capture_default_str();
    app.add_option("--set", confOverrides,
                   "with --validators > 1: override a node.conf setting, KEY=VALUE (repeatable)");
    app.add_option("--base-port", basePort, "with --validators > 1: validator i RPC base + 2i, peers + 1")
        ->capture_default_str();
    app.add_option("--latency-seconds", latencySeconds, "duration of the latency phase")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    SpawnedNodes spawned;
    std::vector<std::string> addresses;
    if (node.empty()) {
        spawned.home =
            (std::filesystem::temp_directory_path() / ("fides-bench-" + std::to_string(::getpid()))).string();
        if (validators <= 1) {
            if (!runCommand({nodeBinary, "init", "--home", spawned.home, "--chain-id", "bench"}, nullptr,
                            nullptr)) {
                std::cerr << "notary_bench: fides-node init failed\n";
                return 1;
            }
            auto a1 = startNode(nodeBinary, {"--home", spawned.home, "--rpc-listen", "127.0.0.1:0"}, spawned);
            if (!a1) return 1;
            addresses.push_back(*a1);
        } else {
            if (!runCommand(
                    {nodeBinary, "testnet", "--out", spawned.home, "--validators", std::to_string(validators),
                     "--chain-id", "bench", "--base-port", std::to_string(basePort)},
                    nullptr, nullptr)) {
                std::cerr << "notary_bench: fides-node testnet failed\n";
                return 1;
            }
            if (commitPauseMs >= 0)
                confOverrides.push_back("commit_pause_ms=" + std::to_string(commitPauseMs));
            for (const auto& kv : confOverrides) {
                const auto eq = kv.find('=');
                if (eq == std::string::npos) {
                    std::cerr << "notary_bench: --set expects KEY=VALUE, got '" << kv << "'\n";
                    return 2;
                }
                const std::string key = kv.substr(0, eq) + " = ";
                for (unsigned i = 0; i < validators; ++i) {
                    const std::string conf =
                        spawned.home + "/validator-" + std::to_string(i) + "/config/node.conf";
                    std::ifstream in(conf);
                    std::stringstream ss;
                    ss << in.rdbuf();
                    std::string text = ss.str();
                    const auto at = text.find("\n" + key);
                    if (at == std::string::npos) {
                        std::cerr << "notary_bench: node.conf has no setting '" << kv.substr(0, eq) << "'\n";
                        return 2;
                    }
                    text.replace(at + 1, text.find('\n', at + 1) - at - 1, key + kv.substr(eq + 1));
                    std::ofstream(conf) << text;
                }
            }
            for (unsigned i = 0; i < validators; ++i) {
                auto ai = startNode(nodeBinary, {"--home", spawned.home + "/validator-" + std::to_string(i)},
                                    spawned);
                if (!ai) return 1;
                addresses.push_back(*ai);
            }
        }
        node = addresses.front();
    } else {
        addresses.push_back(node);
    }
    client::NodeClient c(node, std::chrono::seconds(60));
    auto status = c.status();
    if (!status) {
        std::cerr << "notary_bench: " << status.status().toString() << "\n";
        return 1;
    }
    const std::string chainId = status->chain_id();

    // Phase 1: throughput.
    const auto latencyCount = static_cast<std::size_t>(latencySeconds * 30000);
    auto txs = signTransactions(chainId, count + latencyCount,
                                std::max(1u, std::thread::hardware_concurrency()), signers);
    const double verifyUs = verifyMicros(txs);
    std::size_t committed = 0;
    double seconds = 0;
    std::uint64_t rejected = 0;
    std::size_t blocks = 0;
    double nodeCpu = 0;
    nlohmann::json timeline;
    {
        CommitWatcher watcher(node, c.status()->height() + 1);
        std::atomic<std::uint64_t> rej{0};
        std::cerr << "notary_bench: throughput phase" << std::endl;  // a marker for profilers
        const double cpuBefore = cpuSeconds(spawned.pids);
        const auto start = Clock::now();
        std::vector<std::thread> senders;
        for (unsigned s = 0; s < streams; ++s) {
            senders.emplace_back([&, s] {
                client::NodeClient sc(addresses[s % addresses.size()], std::chrono::minutes(10));
                grpc::ClientContext ctx;
                v1::SubmitTransactionsResponse resp;
                auto writer = sc.stub().SubmitTransactions(&ctx, &resp);
                v1::SubmitTransactionsRequest req;
                for (std::size_t i = s; i < count; i += streams) {
                    req.add_transactions(toStdString(txs[i]));
                    if (static_cast<std::size_t>(req.transactions_size()) == batch) {
                        writer->Write(req);
                        req.Clear();
                    }
                }
                if (req.transactions_size() > 0) writer->Write(req);
                writer->WritesDone();
                writer->Finish();
                rej += resp.rejected();
            });
        }
        for (auto& t : senders) t.join();
        const auto submitted = Clock::now();
        rejected = rej.load();
        committed = watcher.waitFor(count - rejected, std::chrono::seconds(120));
        nodeCpu = cpuSeconds(spawned.pids) - cpuBefore;
        auto commits = watcher.commits();
        Clock::time_point last = start;
        for (const auto& [h, t] : commits) last = std::max(last, t);
        seconds = std::chrono::duration<double>(last - start).count();
        blocks = watcher.blocks();
        const auto ms = [&](Clock::time_point t) {
            return std::chrono::duration<double, std::milli>(t - start).count();
        };
        timeline = {{"submitted_ms", ms(submitted)}, {"blocks", nlohmann::json::array()}};
        for (const auto& [t, n] : watcher.timeline())
            timeline["blocks"].push_back({{"ms", ms(t)}, {"transactions", n}});
    }
    const double throughput = seconds > 0 ? static_cast<double>(committed) / seconds : 0;

    // Phase 2: latency at half the measured rate.
    std::cerr << "notary_bench: latency phase" << std::endl;
    const double rate = std::max(100.0, throughput / 2);
    std::vector<double> latenciesMs;
    std::size_t latencySent = 0;
    {
        CommitWatcher watcher(node, c.status()->height() + 1);
        std::vector<std::pair<std::string, Clock::time_point>> sent;
        grpc::ClientContext ctx;
        v1::SubmitTransactionsResponse resp;
        auto writer = c.stub().SubmitTransactions(&ctx, &resp);
        const auto start = Clock::now();
        const auto tick = std::chrono::milliseconds(10);
        std::size_t next = count;
        const std::size_t end =
            count + std::min(latencyCount, static_cast<std::size_t>(rate * latencySeconds));
        for (auto t = start; next < end; t += tick) {
            std::this_thread::sleep_until(t);
            const auto due =
                static_cast<std::size_t>(rate * std::chrono::duration<double>(Clock::now() - start).count());
            v1::SubmitTransactionsRequest req;
            const auto now = Clock::now();
            while (next < end && next - count < due) {
                req.add_transactions(toStdString(txs[next]));
                sent.emplace_back(std::string(reinterpret_cast<const char*>(txHash(txs[next]).data()), 32),
                                  now);
                ++next;
            }
            if (req.transactions_size() > 0) writer->Write(req);
        }
        writer->WritesDone();
        writer->Finish();
        latencySent = sent.size();
        watcher.waitFor(sent.size() - resp.rejected(), std::chrono::seconds(60));
        auto commits = watcher.commits();
        for (const auto& [h, t] : sent) {
            if (auto it = commits.find(h); it != commits.end()) {
                latenciesMs.push_back(std::chrono::duration<double, std::milli>(it->second - t).count());
            }
        }
    }

    nlohmann::json out;
    out["benchmark"] = "notary";
    out["validators"] = addresses.size();
    out["signatures_verified"] = true;
    out["signers"] = signers;
    out["store"] = "sqlcipher";
    out["throughput"] = {
        {"transactions", count},
        {"committed", committed},
        {"rejected", rejected},
        {"blocks", blocks},
        {"seconds", seconds},
        {"committed_tx_per_s", throughput},
        {"node_cpu_seconds", nodeCpu},
        {"node_cpu_us_per_tx", committed > 0 ? nodeCpu * 1e6 / static_cast<double>(committed) : 0.0},
        {"streams", streams},
        {"batch", batch},
        {"timeline", timeline}};
    out["latency"] = {{"offered_tx_per_s", rate},
                      {"sent", latencySent},
                      {"committed", latenciesMs.size()},
                      {"p50_ms", percentile(latenciesMs, 0.50)},
                      {"p99_ms", percentile(latenciesMs, 0.99)},
                      {"max_ms", percentile(latenciesMs, 1.0)}};
    // Measured again after the run: the machine's speed drifts within minutes
    // too. The faster figure sets the bound, so a slow moment while measuring
    // never flatters the fraction.
    const double verifyUsAfter = verifyMicros(txs);
    const double verifyBest =
        verifyUsAfter > 0 && (verifyUs <= 0 || verifyUsAfter < verifyUs) ? verifyUsAfter : verifyUs;
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const double bound =
        verifyBest > 0 ? cores * 1e6 / (verifyBest * static_cast<double>(addresses.size())) : 0;
    // Only for validators the benchmark started itself: behind --node, the
    // number of validators (each checking every signature) is unknown.
    if (!spawned.pids.empty())
        out["signature_bound"] = {{"verify_us", verifyBest},
                                  {"verify_us_before", verifyUs},
                                  {"verify_us_after", verifyUsAfter},
                                  {"cores", cores},
                                  {"tx_per_s", bound},
                                  {"fraction_reached", bound > 0 ? throughput / bound : 0.0}};
    std::cout << out.dump(2) << std::endl;
    return committed + rejected >= count ? 0 : 1;
}
