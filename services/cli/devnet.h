// `fides devnet`: a local network of validators for development and the
// main job. start creates the homes (fides-node testnet) on first use and
// launches each validator detached (log: <dir>/validator-<i>.log, pid file
// <dir>/validator-<i>.pid); status shows each validator's process and
// chain; stop terminates them (SIGTERM, then SIGKILL after 10 s); reset
// stops them and deletes the folder.
#pragma once

#include <string>

namespace fides::cli {

struct DevnetOptions {
    std::string dir = "run/devnet";
    int validators = 4;
    int basePort = 26700;
};

// Exit codes as the rest of `fides`: 0 success, 2 usage, 4 failure.
int runDevnet(const std::string& action, const DevnetOptions& options);

}  // namespace fides::cli
