// `fides validators` and `fides governance propose|approve|submit`: the
// operator side of validator-set governance (consensus/governance.h).
//
//   fides validators [--node ADDR] [--genesis FILE]
//       the validator sets by first height, members, powers; marks the set
//       that signs the next height; with a genesis file, each set is checked
//       against the header that announced it (LightClient).
//   fides governance propose [--node ADDR] [--add KEYHEX:POWER:NAME]...
//       [--remove KEYHEX]... [--set-power KEYHEX:POWER]...
//       [--rotate OLDHEX:NEWHEX]... [--description TEXT] --out FILE
//       builds a proposal against the node's latest scheduled set (changes
//       applied in command-line order), checks that it applies, writes FILE.
//   fides governance approve FILE --key KEYFILE [--expect-digest HEX]
//       shows the proposal and signs it with a validator key (offline).
//   fides governance submit FILE [--node ADDR] [--no-wait]
//       checks the approvals locally, submits the ValidatorUpdate
//       transaction (signed by a throwaway key), waits for its commit.
//
// The proposal file is JSON: "chain_id", "proposal" (hex of
// GovernanceProposal::encode()), "approvals" [{"validator", "signature"}]
// are read; the other fields mirror them for people and are ignored on
// read. A proposal file is written atomically and never overwritten by
// `propose`.
//
// Exit codes as the rest of `fides`: 0 success, 2 usage or bad input (a file
// that does not decode, a change that does not apply), 3 verification failed
// (the node's answer does not check out, a digest other than expected),
// 4 the ledger refuses (checked by the node, or locally before sending:
// approvals short of 2/3, already applied) or the node cannot be reached.
//
// Thread-safety: used from main() only.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fides::cli {

class GovernanceCommands {
public:
    // Adds the subcommands to `app`. `node` and `genesis` are the variables
    // of the global --node and --genesis options; the subcommands accept
    // them after their name too.
    GovernanceCommands(CLI::App& app, std::string& node, std::string& genesis);

    // After parsing: the chosen command's exit code, or nullopt if none of
    // these commands was chosen.
    std::optional<int> run() const;

private:
    std::string& m_node;
    std::string& m_genesis;
    CLI::App* m_validators = nullptr;
    CLI::App* m_propose = nullptr;
    CLI::App* m_approve = nullptr;
    CLI::App* m_submit = nullptr;
    std::vector<std::string> m_add;
    std::vector<std::string> m_remove;
    std::vector<std::string> m_setPower;
    std::vector<std::string> m_rotate;
    std::string m_description;
    std::string m_out;
    std::string m_file;
    std::string m_key;
    std::string m_expectDigest;
    bool m_noWait = false;
};

}  // namespace fides::cli
