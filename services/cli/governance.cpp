// `fides validators` and `fides governance …` (see governance.h).
#include "governance.h"

#include "client/node_client.h"
#include "consensus/governance.h"
#include "crypto/key_file.h"
#include "crypto/random.h"
#include "primitives/genesis.h"
#include "primitives/light_client.h"
#include "terminal_text.h"
#include "util/encoding.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace fides::cli {

namespace {

namespace fs = std::filesystem;
using consensus::ChangeOp;
using consensus::GovernancePayload;
using consensus::GovernanceProposal;
using consensus::ValidatorChange;
using Json = nlohmann::ordered_json;

constexpr const char* kFileFormat = "fides governance proposal v1";
constexpr std::uintmax_t kMaxFileSize = 1 << 20;

int fail(int code, const std::string& msg) {
    std::cerr << "fides: " << msg << "\n";
    return code;
}

// Exit code for a failed exchange with the node: 3 when its answer does
// not check out, 4 when it refused or could not be reached.
int nodeFailure(const Status& s) { return client::isVerificationFailure(s) ? 3 : 4; }

std::string plural(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string setSummary(const ValidatorSet& set) {
    return plural(set.validators().size(), "validator", "validators") + ", total power " +
           std::to_string(set.totalPower());
}

void printMembers(const ValidatorSet& set, const std::string& indent) {
    std::size_t nameWidth = 4;
    std::size_t powerWidth = 5;
    for (const auto& v : set.validators()) {
        nameWidth = std::max(nameWidth, printable(v.name).size());
        powerWidth = std::max(powerWidth, std::to_string(v.power).size());
    }
    std::cout << indent << std::left << std::setw(static_cast<int>(nameWidth)) << "NAME"
              << "  " << std::right << std::setw(static_cast<int>(powerWidth)) << "POWER"
              << "  PUBLIC KEY\n";
    for (const auto& v : set.validators()) {
        std::cout << indent << std::left << std::setw(static_cast<int>(nameWidth)) << printable(v.name)
                  << "  " << std::right << std::setw(static_cast<int>(powerWidth)) << v.power << "  "
                  << v.publicKey.hex() << "\n";
    }
}

std::string memberNote(const ValidatorSet* base, const crypto::PublicKey& key) {
    if (base == nullptr) return "";
    const Validator* v = base->find(key);
    if (v == nullptr) return " (not in the base set)";
    return " (" + printable(v->name) + ", power " + std::to_string(v->power) + ")";
}

// One line per change, naming the members concerned when the base set is known.
std::string describeChange(const ValidatorChange& c, const ValidatorSet* base) {
    switch (c.op) {
    case ChangeOp::Add:
        return "add " + c.key.hex() + " \"" + printable(c.name) + "\" with power " + std::to_string(c.power);
    case ChangeOp::Remove: return "remove " + c.key.hex() + memberNote(base, c.key);
    case ChangeOp::SetPower:
        return "set the power of " + c.key.hex() + memberNote(base, c.key) + " to " + std::to_string(c.power);
    case ChangeOp::RotateKey:
        return "rotate the key of " + c.key.hex() + memberNote(base, c.key) + " to " + c.newKey.hex();
    }
    return "unknown change";
}

const char* opName(ChangeOp op) {
    switch (op) {
    case ChangeOp::Add: return "add";
    case ChangeOp::Remove: return "remove";
    case ChangeOp::SetPower: return "set_power";
    case ChangeOp::RotateKey: return "rotate_key";
    }
    return "unknown";
}

void printProposal(const std::string& chainId, const GovernanceProposal& p, const ValidatorSet* base) {
    std::cout << "  chain:        " << printable(chainId) << "\n"
              << "  base set:     " << p.baseSetHash.hex() << "\n"
              << "  description:  " << (p.description.empty() ? "(none)" : printable(p.description)) << "\n"
              << "  changes:\n";
    for (std::size_t i = 0; i < p.changes.size(); ++i) {
        std::cout << "    " << (i + 1) << ". " << describeChange(p.changes[i], base) << "\n";
    }
    std::cout << "  digest:       " << p.digest(chainId).hex() << "\n";
}

// ---- change specifications on the command line ----

Result<crypto::PublicKey> parseKey(const std::string& text, const std::string& what) {
    auto k = crypto::PublicKey::fromHex(text);
    if (!k) {
        return Status::invalidArgument(
            what + ": '" + printable(text) +
            "' is not a validator public key (64 hex characters, a valid curve point)");
    }
    return *k;
}

Result<std::uint64_t> parsePower(const std::string& text, const std::string& what) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v == 0) {
        return Status::invalidArgument(what + ": '" + printable(text) + "' is not a positive voting power");
    }
    return v;
}

// Splits at the first `parts - 1` colons (the last part may hold colons).
std::vector<std::string> splitColons(const std::string& s, std::size_t parts) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (out.size() + 1 < parts) {
        const std::size_t colon = s.find(':', start);
        if (colon == std::string::npos) break;
        out.push_back(s.substr(start, colon - start));
        start = colon + 1;
    }
    out.push_back(s.substr(start));
    return out;
}

Result<ValidatorChange> parseChange(ChangeOp op, const std::string& spec) {
    ValidatorChange c;
    c.op = op;
    switch (op) {
    case ChangeOp::Add: {
        const std::string what = "--add " + printable(spec);
        const auto p = splitColons(spec, 3);
        if (p.size() != 3) return Status::invalidArgument(what + ": expected KEYHEX:POWER:NAME");
        FIDES_ASSIGN_OR_RETURN(c.key, parseKey(p[0], "--add"));
        FIDES_ASSIGN_OR_RETURN(c.power, parsePower(p[1], "--add"));
        c.name = p[2];
        if (c.name.empty()) return Status::invalidArgument(what + ": name the validator's operator");
        if (c.name.size() > ValidatorSet::kMaxNameLength) {
            return Status::invalidArgument(what + ": the name is longer than " +
                                           std::to_string(ValidatorSet::kMaxNameLength) + " bytes");
        }
        break;
    }
    case ChangeOp::Remove: {
        FIDES_ASSIGN_OR_RETURN(c.key, parseKey(spec, "--remove"));
        break;
    }
    case ChangeOp::SetPower: {
        const auto p = splitColons(spec, 2);
        if (p.size() != 2)
            return Status::invalidArgument("--set-power " + printable(spec) + ": expected KEYHEX:POWER");
        FIDES_ASSIGN_OR_RETURN(c.key, parseKey(p[0], "--set-power"));
        FIDES_ASSIGN_OR_RETURN(c.power, parsePower(p[1], "--set-power"));
        break;
    }
    case ChangeOp::RotateKey: {
        const auto p = splitColons(spec, 2);
        if (p.size() != 2)
            return Status::invalidArgument("--rotate " + printable(spec) + ": expected OLDHEX:NEWHEX");
        FIDES_ASSIGN_OR_RETURN(c.key, parseKey(p[0], "--rotate"));
        FIDES_ASSIGN_OR_RETURN(c.newKey, parseKey(p[1], "--rotate"));
        break;
    }
    }
    return c;
}

// ---- the proposal file ----

struct ProposalFile {
    std::string chainId;
    GovernancePayload payload;
};

Result<ProposalFile> readProposalFile(const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return Status::notFound("cannot read " + path + ": " + ec.message());
    if (size > kMaxFileSize) return Status::invalidArgument(path + " is too large to be a proposal file");
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Status::notFound("cannot read " + path);
    const Json j = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    const std::string bad = path + " is not a governance proposal file: ";
    if (j.is_discarded() || !j.is_object()) return Status::invalidArgument(bad + "not a JSON object");
    if (j.contains("format") && j["format"] != kFileFormat) {
        return Status::invalidArgument(bad + "unknown format (expected \"" + kFileFormat + "\")");
    }
    if (!j.contains("chain_id") || !j["chain_id"].is_string() || j["chain_id"].get<std::string>().empty()) {
        return Status::invalidArgument(bad + "no \"chain_id\"");
    }
    ProposalFile f;
    f.chainId = j["chain_id"].get<std::string>();
    if (!j.contains("proposal") || !j["proposal"].is_string())
        return Status::invalidArgument(bad + "no \"proposal\"");
    const auto encoded = fromHex(j["proposal"].get<std::string>());
    if (!encoded) return Status::invalidArgument(bad + "\"proposal\" is not hex");
    auto proposal = GovernanceProposal::decode(*encoded);
    if (!proposal)
        return Status::invalidArgument(bad + "the proposal does not decode: " + proposal.status().message());
    f.payload.proposal = std::move(*proposal);
    const crypto::Hash256 digest = f.payload.proposal.digest(f.chainId);
    if (j.contains("approvals")) {
        if (!j["approvals"].is_array()) return Status::invalidArgument(bad + "\"approvals\" is not a list");
        for (const auto& a : j["approvals"]) {
            if (!a.is_object() || !a.contains("validator") || !a["validator"].is_string() ||
                !a.contains("signature") || !a["signature"].is_string()) {
                return Status::invalidArgument(bad + "an approval lacks \"validator\" or \"signature\"");
            }
            auto key = crypto::PublicKey::fromHex(a["validator"].get<std::string>());
            auto sig = crypto::Signature::fromHex(a["signature"].get<std::string>());
            if (!key || !sig)
                return Status::invalidArgument(bad + "an approval's key or signature is malformed");
            if (!crypto::verify(*key, digest, *sig)) {
                return Status::invalidArgument(path + ": the approval by " + key->hex() +
                                               " is not a valid signature of this proposal on chain " +
                                               printable(f.chainId));
            }
            f.payload.approvals.push_back({*key, *sig});
        }
    }
    if (f.payload.approvals.size() > ValidatorSet::kMaxValidators) {
        return Status::invalidArgument(bad + "more approvals than a validator set has members");
    }
    auto& approvals = f.payload.approvals;
    std::sort(
        approvals.begin(), approvals.end(),
        [](const consensus::Approval& a, const consensus::Approval& b) { return a.validator < b.validator; });
    for (std::size_t i = 1; i < approvals.size(); ++i) {
        if (approvals[i - 1].validator == approvals[i].validator) {
            return Status::invalidArgument(path + " holds two approvals by " + approvals[i].validator.hex());
        }
    }
    return f;
}

// Writes `content` to `path` through a temporary file in the same folder,
// fsynced, then renamed: a crash leaves the old file or the new one.
Status writeFileAtomically(const std::string& path, const std::string& content, bool mayReplace) {
    const fs::path target = fs::absolute(path);
    const std::string tmp = target.string() + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Status::unavailable("cannot write " + tmp + ": " + std::strerror(errno));
    std::size_t done = 0;
    bool ok = true;
    while (ok && done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    const int savedErrno = errno;
    ok = ok && ::fsync(fd) == 0;
    ::close(fd);
    if (ok && !mayReplace && fs::exists(target)) {
        ::unlink(tmp.c_str());
        return Status::alreadyExists(path + " already exists");
    }
    if (!ok || ::rename(tmp.c_str(), target.c_str()) != 0) {
        const std::string why = std::strerror(ok ? errno : savedErrno);
        ::unlink(tmp.c_str());
        return Status::unavailable("cannot write " + path + ": " + why);
    }
    return Status::ok();
}

Status writeProposalFile(const std::string& path, const ProposalFile& f, bool mayReplace) {
    const GovernanceProposal& p = f.payload.proposal;
    Json j;
    j["format"] = kFileFormat;
    j["chain_id"] = f.chainId;
    j["proposal"] = toHex(p.encode());
    j["approvals"] = Json::array();
    for (const auto& a : f.payload.approvals) {
        j["approvals"].push_back({{"validator", a.validator.hex()}, {"signature", a.signature.hex()}});
    }
    j["note"] =
        "only chain_id, proposal and approvals are read; the fields below mirror the proposal for people";
    j["digest"] = p.digest(f.chainId).hex();
    j["base_set_hash"] = p.baseSetHash.hex();
    j["nonce"] = std::to_string(p.nonce);  // a string: JSON readers may hold numbers as doubles
    j["description"] = p.description;
    j["changes"] = Json::array();
    for (const auto& c : p.changes) {
        Json jc;
        jc["op"] = opName(c.op);
        jc["validator"] = c.key.hex();
        if (c.op == ChangeOp::Add || c.op == ChangeOp::SetPower) jc["power"] = c.power;
        if (c.op == ChangeOp::Add) jc["name"] = c.name;
        if (c.op == ChangeOp::RotateKey) jc["new_key"] = c.newKey.hex();
        j["changes"].push_back(std::move(jc));
    }
    // Names and descriptions are bytes on the ledger: replace invalid UTF-8
    // in the mirror fields rather than fail (the hex is what counts).
    return writeFileAtomically(path, j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n",
                               mayReplace);
}

// ---- the node's validator sets ----

using NodeSets = client::NodeValidatorSets;

const std::pair<std::uint64_t, ValidatorSet>* withHash(const NodeSets& sets, const crypto::Hash256& hash) {
    for (const auto& e : sets.entries) {
        if (e.second.hash() == hash) return &e;
    }
    return nullptr;
}

// The activation height recorded for an applied proposal, if the node's
// state holds one (an unverified query: used for a clear message only).
std::optional<std::uint64_t> appliedAt(client::NodeClient& c, const crypto::Hash256& digest) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    node::v1::QueryStateRequest req;
    const Bytes key = consensus::governanceKey(digest);
    req.set_key(std::string(key.begin(), key.end()));
    node::v1::QueryStateResponse resp;
    if (!c.stub().QueryState(&ctx, req, &resp).ok() || !resp.found()) return std::nullopt;
    Reader r(asBytes(resp.value()));
    std::uint64_t from = 0;
    if (!r.u64(from).isOk() || !r.finish().isOk()) return std::nullopt;
    return from;
}

// ---- the commands ----

int cmdValidators(const std::string& node, const std::string& genesisPath) {
    std::optional<Genesis> genesis;
    if (!genesisPath.empty()) {
        auto g = Genesis::load(genesisPath);
        if (!g) return fail(2, g.status().message() + " (the trusted genesis; set --genesis)");
        genesis = std::move(*g);
    }
    client::NodeClient c(node);
    auto st = c.status();
    if (!st) return fail(4, st.status().toString());
    auto sets = client::fetchValidatorSets(c);
    if (!sets) return fail(nodeFailure(sets.status()), sets.status().toString());
    std::optional<LightClient> light;
    if (genesis) {
        if (genesis->chainId != st->chain_id()) {
            return fail(3, "the node runs chain " + printable(st->chain_id()) + ", but " + genesisPath +
                               " is for " + printable(genesis->chainId));
        }
        light.emplace(*genesis);
        const Status synced = client::syncLightClient(c, *light, *sets);
        if (!synced) {
            if (!client::isVerificationFailure(synced)) return fail(4, synced.toString());
            return fail(3, "the node's validator sets do not check out against " + genesisPath + ": " +
                               synced.message());
        }
    }
    const std::uint64_t next = sets->height + 1;
    const std::size_t inForce = sets->indexAt(next);
    bool unverified = false;
    std::cout << "chain " << printable(st->chain_id()) << " at height " << sets->height
              << "; * marks the set in force at height " << next << "\n";
    for (std::size_t i = 0; i < sets->entries.size(); ++i) {
        const auto& [from, set] = sets->entries[i];
        std::string state;
        if (i == inForce)
            state = "in force";
        else if (i < inForce)
            state = "past";
        else
            state = "scheduled";
        std::string check;
        if (light) {
            const bool learned = from <= light->latestChange() && light->setAt(from).hash() == set.hash();
            if (learned)
                check = ", verified against " + genesisPath;
            else if (from - 1 > sets->height)
                check = ", not yet announced by a signed header";
            else {
                check = ", NOT VERIFIED: not the set the genesis file and the signed headers name";
                unverified = true;
            }
        }
        std::cout << "\n"
                  << (i == inForce ? "* " : "  ") << "from height " << from << " (" << state << ")" << check
                  << "\n"
                  << "    set hash:    " << set.hash().hex() << "\n"
                  << "    total power: " << set.totalPower() << " ("
                  << plural(set.validators().size(), "validator", "validators") << "; more than 2/3 is "
                  << set.quorumPower() << ")\n";
        printMembers(set, "    ");
    }
    if (unverified)
        return fail(3, "the node lists validator sets that do not check out against " + genesisPath);
    return 0;
}

int cmdPropose(CLI::App& sub, const std::string& node, const std::vector<std::string>& add,
               const std::vector<std::string>& remove, const std::vector<std::string>& setPower,
               const std::vector<std::string>& rotate, const std::string& description,
               const std::string& out) {
    if (fs::exists(out)) return fail(2, out + " already exists; a proposal file is never overwritten");
    if (description.size() > GovernanceProposal::kMaxDescription) {
        return fail(2, "the description is longer than " +
                           std::to_string(GovernanceProposal::kMaxDescription) + " bytes");
    }
    // The changes in command-line order (they apply in order).
    GovernanceProposal proposal;
    proposal.description = description;
    const std::map<const CLI::Option*, std::pair<ChangeOp, const std::vector<std::string>*>> sources{
        {sub.get_option("--add"), {ChangeOp::Add, &add}},
        {sub.get_option("--remove"), {ChangeOp::Remove, &remove}},
        {sub.get_option("--set-power"), {ChangeOp::SetPower, &setPower}},
        {sub.get_option("--rotate"), {ChangeOp::RotateKey, &rotate}},
    };
    std::map<const CLI::Option*, std::size_t> used;
    for (const CLI::Option* o : sub.parse_order()) {
        const auto it = sources.find(o);
        if (it == sources.end()) continue;
        const std::size_t k = used[o]++;
        if (k >= it->second.second->size()) continue;
        auto change = parseChange(it->second.first, (*it->second.second)[k]);
        if (!change) return fail(2, change.status().message());
        proposal.changes.push_back(std::move(*change));
    }
    if (proposal.changes.size() != add.size() + remove.size() + setPower.size() + rotate.size()) {
        return fail(2, "cannot tell the order of the changes on the command line");
    }
    if (proposal.changes.empty())
        return fail(2, "propose what? give --add, --remove, --set-power or --rotate");
    if (proposal.changes.size() > GovernanceProposal::kMaxChanges) {
        return fail(
            2, "a proposal holds at most " + std::to_string(GovernanceProposal::kMaxChanges) + " changes");
    }

    client::NodeClient c(node);
    auto st = c.status();
    if (!st) return fail(4, st.status().toString());
    auto sets = client::fetchValidatorSets(c);
    if (!sets) return fail(nodeFailure(sets.status()), sets.status().toString());
    // The base is the latest scheduled set: it is the set of the next height
    // unless a change is pending, and a proposal can only be included once
    // that change took effect.
    const auto& [baseFrom, base] = sets->entries.back();
    proposal.baseSetHash = base.hash();
    proposal.nonce = crypto::randomU64();
    auto next = consensus::applyChanges(base, proposal.changes);
    if (!next)
        return fail(2, "the changes do not apply to the current validator set: " + next.status().message());
    if (next->hash() == base.hash()) return fail(2, "the changes leave the validator set unchanged");
    auto roundTrip = GovernanceProposal::decode(proposal.encode());
    if (!roundTrip || !(roundTrip->changes == proposal.changes)) {
        return fail(2, "the proposal cannot be encoded: " + roundTrip.status().message());
    }

    ProposalFile f{st->chain_id(), GovernancePayload{proposal, {}}};
    if (const Status w = writeProposalFile(out, f, /*mayReplace=*/false); !w) return fail(2, w.message());

    std::cout << "wrote the proposal to " << out << "\n";
    printProposal(f.chainId, proposal, &base);
    std::cout << "base set (from height " << baseFrom << "): " << setSummary(base) << "\n";
    if (baseFrom > sets->height + 1) {
        std::cout << "  a change is pending: this proposal can be submitted from height " << baseFrom
                  << " on\n";
    }
    std::cout << "resulting set: " << setSummary(*next) << ", set hash " << next->hash().hex() << "\n";
    printMembers(*next, "    ");
    // Keys that do not sign yet must be online when the set takes effect,
    // or the chain stops unless the others hold more than 2/3.
    std::uint64_t continuing = 0;
    for (const auto& v : next->validators()) {
        if (base.find(v.publicKey) != nullptr) continuing += v.power;
    }
    if (continuing < next->quorumPower()) {
        std::cout
            << "warning: keys that already validate hold " << continuing << " of " << next->totalPower()
            << " voting power in the new set; the chain stops when it takes effect unless the new keys' "
               "validators are running by then\n";
    }
    std::cout << "approvals needed: validators of the base set holding more than 2/3 of its "
              << base.totalPower() << " voting power (at least " << base.quorumPower() << ")\n"
              << "next: each approver runs `fides governance approve " << out
              << " --key VALIDATOR_KEY_FILE`,\n"
              << "      then anyone runs `fides governance submit " << out << "`\n";
    return 0;
}

int cmdApprove(const std::string& file, const std::string& keyPath, const std::string& expectDigest) {
    auto f = readProposalFile(file);
    if (!f) return fail(2, f.status().message());
    auto key = crypto::loadSecretKeyFile(keyPath);
    if (!key) return fail(2, "validator key: " + key.status().message());
    const crypto::Hash256 digest = f->payload.proposal.digest(f->chainId);
    if (!expectDigest.empty()) {
        auto expected = crypto::Hash256::fromHex(expectDigest);
        if (!expected) return fail(2, "--expect-digest: not a 64-character hex digest");
        if (*expected != digest) {
            return fail(3, "the proposal's digest is " + digest.hex() + ", not the expected " +
                               expected->hex() + "; it was not approved");
        }
    }
    std::cout << "proposal in " << file << "\n";
    printProposal(f->chainId, f->payload.proposal, nullptr);
    const crypto::PublicKey me = key->publicKey();
    const bool again = std::any_of(f->payload.approvals.begin(), f->payload.approvals.end(),
                                   [&](const consensus::Approval& a) { return a.validator == me; });
    f->payload.approve(f->chainId, *key);
    if (const Status w = writeProposalFile(file, *f, /*mayReplace=*/true); !w) return fail(2, w.message());
    std::cout << (again ? "renewed the approval by " : "approved by ") << me.hex() << "\n"
              << "the file now holds " << plural(f->payload.approvals.size(), "approval", "approvals")
              << "\n";
    return 0;
}

int cmdSubmit(const std::string& node, const std::string& file, bool noWait) {
    auto f = readProposalFile(file);
    if (!f) return fail(2, f.status().message());
    const GovernanceProposal& proposal = f->payload.proposal;
    client::NodeClient c(node);
    auto st = c.status();
    if (!st) return fail(4, st.status().toString());
    if (st->chain_id() != f->chainId) {
        return fail(2, file + " is for chain " + printable(f->chainId) + ", but the node at " + node +
                           " runs chain " + printable(st->chain_id()));
    }
    auto sets = client::fetchValidatorSets(c);
    if (!sets) return fail(nodeFailure(sets.status()), sets.status().toString());
    const crypto::Hash256 digest = proposal.digest(f->chainId);
    std::cout << "proposal " << digest.hex() << " with "
              << plural(f->payload.approvals.size(), "approval", "approvals") << "\n";
    if (auto from = appliedAt(c, digest)) {
        return fail(
            4, Status::alreadyExists("this proposal was already applied; the set it made signs from height " +
                                     std::to_string(*from))
                   .toString());
    }
    const std::uint64_t next = sets->height + 1;
    const ValidatorSet& inForce = sets->at(next);
    if (inForce.hash() == proposal.baseSetHash) {
        for (const auto& a : f->payload.approvals) {
            const Validator* v = inForce.find(a.validator);
            std::cout << "  approved by " << a.validator.hex()
                      << (v ? " (" + printable(v->name) + ", power " + std::to_string(v->power) + ")"
                            : " (not a validator of the base set)")
                      << "\n";
        }
        if (const Status s = consensus::verifyApprovals(f->chainId, inForce, f->payload); !s) {
            return fail(4, s.toString() + " (not submitted)");
        }
        if (auto r = consensus::applyChanges(inForce, proposal.changes); !r)
            return fail(4, r.status().toString());
    } else if (const auto* e = withHash(*sets, proposal.baseSetHash); e != nullptr && e->first > next) {
        std::cerr << "fides: note: the proposal changes the set scheduled from height " << e->first
                  << "; a change is pending until then\n";
    } else {
        std::cerr << "fides: note: the proposal changes set " << proposal.baseSetHash.hex().substr(0, 16)
                  << ", but the set in force at height " << next << " is "
                  << inForce.hash().hex().substr(0, 16)
                  << "; the set has changed since the proposal was made\n";
    }

    // The approvals authenticate the change; the envelope's signer does not
    // matter, so a throwaway key signs it.
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    const Transaction tx =
        consensus::makeGovernanceTx(f->chainId, crypto::SecretKey::generate(), f->payload, now + 3600);
    if (noWait) {
        auto hash = c.submit(tx.encode());
        if (!hash) return fail(4, "the node refused the governance transaction: " + hash.status().toString());
        std::cout << "submitted transaction " << hash->hex() << " (not waiting for its commit)\n"
                  << "the new set takes effect " << ValidatorSchedule::kActivationDelay
                  << " heights after the block that commits it; `fides validators` lists it\n";
        return 0;
    }
    auto ack = c.submitAndWait(tx.encode());
    if (!ack) return fail(4, "the node refused the governance transaction: " + ack.status().toString());
    const std::uint64_t activation = ack->height + ValidatorSchedule::kActivationDelay;
    std::cout << "committed in block " << ack->height << " (transaction " << ack->txHash.hex() << ")\n"
              << "the new validator set signs from height " << activation << "\n";
    // The node schedules the set before the block is visible as committed.
    auto after = client::fetchValidatorSets(c);
    if (after && after->entries.back().first == activation) {
        const ValidatorSet& set = after->entries.back().second;
        std::cout << "new set: " << setSummary(set) << ", set hash " << set.hash().hex() << "\n";
        printMembers(set, "    ");
    } else {
        std::cerr << "fides: note: the node does not list the new set; see `fides validators`\n";
    }
    return 0;
}

}  // namespace

GovernanceCommands::GovernanceCommands(CLI::App& app, std::string& node, std::string& genesis)
    : m_node(node), m_genesis(genesis) {
    m_validators =
        app.add_subcommand("validators", "the validator sets by height (checked if --genesis is given)");
    m_validators->add_option("--node", node, "node address (env FIDES_NODE)")->type_name("ADDR");
    m_validators
        ->add_option("--genesis", genesis, "trusted genesis.json: verify each set (env FIDES_GENESIS)")
        ->type_name("FILE");

    auto* gov = app.add_subcommand("governance", "change the validator set: propose, approve, submit");
    gov->require_subcommand(1);
    m_propose = gov->add_subcommand("propose", "write a proposal to change the node's current validator set");
    m_propose->add_option("--node", node, "node address (env FIDES_NODE)")->type_name("ADDR");
    m_propose->add_option("--add", m_add, "add a validator")
        ->type_name("KEYHEX:POWER:NAME")
        ->allow_extra_args(false);
    m_propose->add_option("--remove", m_remove, "remove a validator")
        ->type_name("KEYHEX")
        ->allow_extra_args(false);
    m_propose->add_option("--set-power", m_setPower, "change a validator's voting power")
        ->type_name("KEYHEX:POWER")
        ->allow_extra_args(false);
    m_propose->add_option("--rotate", m_rotate, "replace a validator's key")
        ->type_name("OLDHEX:NEWHEX")
        ->allow_extra_args(false);
    m_propose->add_option("--description", m_description, "why, for the approvers (at most 512 bytes)");
    m_propose->add_option("--out", m_out, "the proposal file to write (never overwritten)")
        ->type_name("FILE")
        ->required();

    m_approve = gov->add_subcommand("approve", "show a proposal and sign it with a validator key (offline)");
    m_approve->add_option("FILE", m_file, "the proposal file (rewritten with the approval)")->required();
    m_approve
        ->add_option("--key", m_key, "the validator's secret key file (config/validator.key in its home)")
        ->type_name("KEYFILE")
        ->required();
    m_approve->add_option("--expect-digest", m_expectDigest, "refuse unless the proposal has this digest")
        ->type_name("HEX");

    m_submit = gov->add_subcommand("submit", "submit an approved proposal and wait for its commit");
    m_submit->add_option("FILE", m_file, "the proposal file")->required();
    m_submit->add_option("--node", node, "node address (env FIDES_NODE)")->type_name("ADDR");
    m_submit->add_flag("--no-wait", m_noWait, "return once the node admitted the transaction");
}

std::optional<int> GovernanceCommands::run() const {
    if (*m_validators) return cmdValidators(m_node, m_genesis);
    if (*m_propose)
        return cmdPropose(*m_propose, m_node, m_add, m_remove, m_setPower, m_rotate, m_description, m_out);
    if (*m_approve) return cmdApprove(m_file, m_key, m_expectDigest);
    if (*m_submit) return cmdSubmit(m_node, m_file, m_noWait);
    return std::nullopt;
}

}  // namespace fides::cli
