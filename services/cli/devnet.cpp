#include "devnet.h"

#include "client/node_client.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace fides::cli {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string selfDir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? "." : exe.parent_path().string();
}

std::vector<fs::path> homes(const fs::path& dir) {
    std::vector<fs::path> out;
    for (int i = 0;; ++i) {
        const fs::path h = dir / ("validator-" + std::to_string(i));
        if (!fs::exists(h / "config" / "node.conf")) break;
        out.push_back(h);
    }
    return out;
}

std::string setting(const fs::path& home, const std::string& key) {
    std::ifstream in(home / "config" / "node.conf");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + " =", 0) == 0) {
            std::string v = line.substr(key.size() + 2);
            while (!v.empty() && v.front() == ' ') v.erase(v.begin());
            return v;
        }
    }
    return "";
}

pid_t readPid(const fs::path& file) {
    std::ifstream in(file);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
}

// Whether `pid` is this devnet's validator of `home`: alive, and running
// `fides-node start --home <home>` exactly as devnet starts it. A pid file
// that outlived its process (a reboot) may name an unrelated process, which
// must never be signalled; so may one whose command line merely mentions
// the home (an editor on its config) or a longer one (validator-1 and -10).
bool alive(pid_t pid, const fs::path& home) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::vector<std::string> args;
    for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
    return args.size() == 4 && fs::path(args[0]).filename() == "fides-node" && args[1] == "start" &&
           args[2] == "--home" && args[3] == home.string();
}

pid_t spawnDetached(const std::vector<std::string>& argv, const fs::path& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? pid : -1;
}

int stopAll(const fs::path& dir) {
    const auto hs = homes(dir);
    struct Running {
        fs::path pidFile, home;
        pid_t pid;
    };
    std::vector<Running> running;
    for (std::size_t i = 0; i < hs.size(); ++i) {
        const fs::path pidFile = dir / ("validator-" + std::to_string(i) + ".pid");
        const pid_t pid = readPid(pidFile);
        if (alive(pid, hs[i])) {
            ::kill(pid, SIGTERM);
            running.push_back({pidFile, hs[i], pid});
        } else {
            fs::remove(pidFile);
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (const auto& r : running) {
        while (alive(r.pid, r.home) && std::chrono::steady_clock::now() < deadline) {
            ::waitpid(r.pid, nullptr, WNOHANG);
            std::this_thread::sleep_for(50ms);
        }
        if (alive(r.pid, r.home)) ::kill(r.pid, SIGKILL);
        fs::remove(r.pidFile);
    }
    std::cout << "devnet: stopped " << running.size() << " validator(s)" << std::endl;
    return 0;
}

int showStatus(const fs::path& dir) {
    const auto hs = homes(dir);
    if (hs.empty()) {
        std::cout << "devnet: none in " << dir.string() << " (start one with `fides devnet start`)"
                  << std::endl;
        return 4;
    }
    int up = 0;
    std::cout << "validator  pid      rpc               height  latest block\n";
    for (std::size_t i = 0; i < hs.size(); ++i) {
        const pid_t pid = readPid(dir / ("validator-" + std::to_string(i) + ".pid"));
        const std::string rpc = setting(hs[i], "rpc_listen");
        std::string height = "-";
        const bool running = alive(pid, hs[i]);
        std::string hash = running ? "(not answering)" : "(stopped)";
        if (running) {
            client::NodeClient c(rpc, 2s);
            if (auto s = c.status()) {
                height = std::to_string(s->height());
                hash = toHex(asBytes(s->latest_block_hash())).substr(0, 16);
                ++up;
            }
        }
        std::printf("%-10zu %-8s %-17s %-7s %s\n", i, running ? std::to_string(pid).c_str() : "-",
                    rpc.c_str(), height.c_str(), hash.c_str());
    }
    std::cout << up << " of " << hs.size()
              << " validators answering; genesis: " << (dir / "genesis.json").string() << std::endl;
    return up == static_cast<int>(hs.size()) ? 0 : 4;
}

int start(const fs::path& dir, const DevnetOptions& o) {
    const std::string nodeBin = selfDir() + "/fides-node";
    if (homes(dir).empty()) {
        std::error_code ec;
        fs::create_directories(dir.parent_path().empty() ? fs::path(".") : dir.parent_path(), ec);
        std::vector<std::string> argv{nodeBin,        "testnet",
                                      "--out",        dir.string(),
                                      "--validators", std::to_string(o.validators),
                                      "--base-port",  std::to_string(o.basePort)};
        const pid_t pid = spawnDetached(argv, dir.string() + ".init.log");
        int st = 0;
        if (pid <= 0 || ::waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            std::cerr << "fides: creating the devnet failed (see " << dir.string() << ".init.log)\n";
            return 4;
        }
    }
    const auto hs = homes(dir);
    for (std::size_t i = 0; i < hs.size(); ++i) {
        const fs::path pidFile = dir / ("validator-" + std::to_string(i) + ".pid");
        if (alive(readPid(pidFile), hs[i])) continue;
        const pid_t pid = spawnDetached({nodeBin, "start", "--home", hs[i].string()},
                                        dir / ("validator-" + std::to_string(i) + ".log"));
        if (pid <= 0) {
            std::cerr << "fides: cannot start validator " << i << "\n";
            return 4;
        }
        std::ofstream(pidFile) << pid << "\n";
    }
    // Wait until every validator answers and the chain has a block.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        bool ready = true;
        for (const auto& h : hs) {
            client::NodeClient c(setting(h, "rpc_listen"), 1s);
            auto s = c.status();
            ready = ready && s && s->height() >= 1;
        }
        if (ready) break;
        std::this_thread::sleep_for(200ms);
    }
    return showStatus(dir);
}

}  // namespace

int runDevnet(const std::string& action, const DevnetOptions& o) {
    const fs::path dir(o.dir);
    if (action == "start") return start(dir, o);
    if (action == "status") return showStatus(dir);
    if (action == "stop") return stopAll(dir);
    if (action == "reset") {
        stopAll(dir);
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::remove(dir.string() + ".init.log", ec);
        std::cout << "devnet: removed " << dir.string() << std::endl;
        return 0;
    }
    std::cerr << "fides: devnet actions are start, status, stop, reset\n";
    return 2;
}

}  // namespace fides::cli
