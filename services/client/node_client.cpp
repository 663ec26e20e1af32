#include "client/node_client.h"

#include "crypto/random.h"
#include "primitives/append_log.h"
#include "state/state_tree.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace fides::client {

namespace v1 = fides::node::v1;

namespace {
Bytes bytes(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

Result<crypto::Hash256> hashFile(const std::string& path, const std::atomic<bool>* cancel) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::notFound("cannot read " + path);
    crypto::Sha256 h;
    std::vector<std::uint8_t> buf(1 << 16);
    while (in) {
        if (cancel != nullptr && cancel->load()) return Status::unavailable("cancelled");
        in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
        h.update(ByteView(buf.data(), static_cast<std::size_t>(in.gcount())));
    }
    if (in.bad()) return Status::internal("error reading " + path);
    return h.finish();
}

Status fromGrpc(const grpc::Status& s) {
    using G = grpc::StatusCode;
    switch (s.error_code()) {
    case G::OK: return Status::ok();
    case G::INVALID_ARGUMENT: return Status::invalidArgument(s.error_message());
    case G::NOT_FOUND: return Status::notFound(s.error_message());
    case G::ALREADY_EXISTS: return Status::alreadyExists(s.error_message());
    case G::UNAUTHENTICATED: return Status::unauthenticated(s.error_message());
    case G::PERMISSION_DENIED: return Status::permissionDenied(s.error_message());
    case G::RESOURCE_EXHAUSTED: return Status::resourceExhausted(s.error_message());
    case G::FAILED_PRECONDITION: return Status::failedPrecondition(s.error_message());
    case G::DEADLINE_EXCEEDED: return {Code::DeadlineExceeded, s.error_message()};
    case G::UNAVAILABLE: return Status::unavailable(s.error_message());
    case G::DATA_LOSS: return Status::dataLoss(s.error_message());
    default: return Status::internal(s.error_message());
    }
}

NodeClient::NodeClient(const std::string& address, std::chrono::milliseconds timeout) : m_timeout(timeout) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    m_channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    m_stub = v1::NodeService::NewStub(m_channel);
}

void NodeClient::prepare(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + m_timeout);
}

Result<v1::GetStatusResponse> NodeClient::status() const {
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::GetStatusResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->GetStatus(&ctx, {}, &resp)));
    return resp;
}

namespace {
Result<v1::GetBlockResponse> getBlock(v1::NodeService::Stub& stub, grpc::ClientContext& ctx,
                                      std::uint64_t height, bool headerOnly) {
    v1::GetBlockRequest req;
    req.set_height(height);
    req.set_header_only(headerOnly);
    v1::GetBlockResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(stub.GetBlock(&ctx, req, &resp)));
    return resp;
}
}  // namespace

Result<v1::GetBlockResponse> NodeClient::block(std::uint64_t height) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    return getBlock(*m_stub, ctx, height, false);
}

Result<v1::SignedHeader> NodeClient::signedHeader(std::uint64_t height) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    FIDES_ASSIGN_OR_RETURN(v1::GetBlockResponse resp, getBlock(*m_stub, ctx, height, true));
    return std::move(*resp.mutable_signed_header());
}

Result<v1::GetValidatorSetsResponse> NodeClient::validatorSets() const {
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::GetValidatorSetsResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->GetValidatorSets(&ctx, {}, &resp)));
    return resp;
}

Result<crypto::Hash256> NodeClient::submit(const Bytes& tx) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::SubmitTransactionRequest req;
    req.set_transaction(toStdString(tx));
    v1::SubmitTransactionResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->SubmitTransaction(&ctx, req, &resp)));
    auto h = crypto::Hash256::fromBytes(bytes(resp.tx_hash()));
    if (!h) return Status::internal("node answered a malformed transaction hash");
    return *h;
}

Result<CommitAck> NodeClient::submitAndWait(const Bytes& tx) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::SubmitTransactionRequest req;
    req.set_transaction(toStdString(tx));
    req.set_wait_for_commit(true);
    v1::SubmitTransactionResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->SubmitTransaction(&ctx, req, &resp)));
    auto h = crypto::Hash256::fromBytes(bytes(resp.tx_hash()));
    if (!h) return Status::internal("node answered a malformed transaction hash");
    return CommitAck{*h, resp.height(), resp.index()};
}

Result<CommitAck> NodeClient::notarize(const crypto::SecretKey& key, const crypto::Hash256& documentHash,
                                       const std::string& label, std::chrono::seconds ttl) const {
    if (label.size() > notary::kMaxLabelLength) {
        return Status::invalidArgument("label is longer than " + std::to_string(notary::kMaxLabelLength) +
                                       " bytes");
    }
    FIDES_ASSIGN_OR_RETURN(auto st, status());
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    const Transaction tx =
        notary::makeNotarizeTx(st.chain_id(), key, documentHash, label, crypto::randomU64(),
                               now + static_cast<std::uint64_t>(ttl.count()));
    return submitAndWait(tx.encode());
}

Result<notary::NotarizationEvidence> NodeClient::notarizationEvidence(
    const crypto::Hash256& documentHash) const {
    notary::NotarizationEvidence ev;
    {
        grpc::ClientContext ctx;
        prepare(ctx);
        v1::QueryStateRequest req;
        req.set_key(toStdString(notary::documentKey(documentHash)));
        v1::QueryStateResponse resp;
        FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->QueryState(&ctx, req, &resp)));
        ev.stateHeader = bytes(resp.signed_header().header());
        ev.stateCommit = bytes(resp.signed_header().commit());
        ev.stateProof = bytes(resp.proof());
        if (resp.found()) ev.value = bytes(resp.value());
    }
    if (!ev.value) return ev;
    FIDES_ASSIGN_OR_RETURN(notary::Registration reg, notary::Registration::decode(*ev.value));
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::GetTransactionRequest req;
    req.set_tx_hash(toStdString(reg.txHash.bytes()));
    v1::GetTransactionResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->GetTransaction(&ctx, req, &resp)));
    ev.transaction = bytes(resp.transaction());
    ev.txHeight = resp.height();
    ev.txIndex = resp.index();
    for (const auto& p : resp.inclusion_proof()) {
        auto h = crypto::Hash256::fromBytes(bytes(p));
        if (!h) return Status::unauthenticated("inclusion proof element is not 32 bytes");
        ev.inclusionProof.push_back(*h);
    }
    ev.txHeader = bytes(resp.signed_header().header());
    ev.txCommit = bytes(resp.signed_header().commit());
    return ev;
}

std::size_t NodeValidatorSets::indexAt(std::uint64_t h) const {
    std::size_t i = 0;
    for (std::size_t k = 0; k < entries.size() && entries[k].first <= h; ++k) i = k;
    return i;
}

namespace {
// The listed entries in height order, whatever the listing order.
std::vector<const v1::ValidatorSetEntry*> inHeightOrder(const v1::GetValidatorSetsResponse& response) {
    std::vector<const v1::ValidatorSetEntry*> listed;
    for (const auto& e : response.sets()) listed.push_back(&e);
    std::sort(listed.begin(), listed.end(),
              [](const auto* a, const auto* b) { return a->from_height() < b->from_height(); });
    return listed;
}

// One entry's set: it must decode and match its listed hash.
Result<ValidatorSet> decodeEntry(const v1::ValidatorSetEntry& e) {
    const std::string where = "validator set from height " + std::to_string(e.from_height());
    auto set = ValidatorSet::decodeFull(asBytes(e.validator_set()));
    if (!set) return set.status().withContext(where);
    if (crypto::Hash256::fromBytes(asBytes(e.hash())) != set->hash()) {
        return Status::unauthenticated(where + ": the listed hash is not the hash of the listed set");
    }
    return set;
}

// An error the node answered an RPC with: the node refused or failed, which
// is never a verification failure here, whatever its code (a node answering
// INVALID_ARGUMENT has not shown a forged commit). Codes isVerificationFailure
// counts become UNAVAILABLE; the node's own code stays in the message.
Status nodeError(const Status& remote, const std::string& context) {
    if (!isVerificationFailure(remote)) return remote.withContext(context);
    return Status(Code::Unavailable,
                  context + ": the node answered " + codeName(remote.code()) + ": " + remote.message());
}

// Learns `set` from `from` if it is new to the client and a committed header
// (the node is at `height`) has announced it.
Status learnFromNode(const NodeClient& node, LightClient& lightClient, std::uint64_t from,
                     const ValidatorSet& set, std::uint64_t height) {
    if (from <= lightClient.latestChange() || from - 1 > height) return Status::ok();
    const std::string context = "validator set from height " + std::to_string(from);
    auto announcing = node.signedHeader(from - 1);
    if (!announcing) {
        return nodeError(announcing.status(),
                         context + ": fetching its announcing block " + std::to_string(from - 1));
    }
    return lightClient.learnSet(from, set, asBytes(announcing->header()), asBytes(announcing->commit()))
        .withContext(context);
}
}  // namespace

Result<NodeValidatorSets> decodeValidatorSets(const v1::GetValidatorSetsResponse& response) {
    NodeValidatorSets out;
    out.height = response.height();
    for (const v1::ValidatorSetEntry* e : inHeightOrder(response)) {
        FIDES_ASSIGN_OR_RETURN(ValidatorSet set, decodeEntry(*e));
        if (!out.entries.empty() ? e->from_height() <= out.entries.back().first : e->from_height() != 1) {
            return Status::invalidArgument("validator set from height " + std::to_string(e->from_height()) +
                                           " is listed twice, or the list does not start at height 1");
        }
        out.entries.emplace_back(e->from_height(), std::move(set));
    }
    if (out.entries.empty()) return Status::invalidArgument("the node lists no validator set");
    return out;
}

Result<NodeValidatorSets> fetchValidatorSets(const NodeClient& node) {
    auto sets = node.validatorSets();
    if (!sets) return nodeError(sets.status(), "fetching the validator sets");
    return decodeValidatorSets(*sets);
}

Status syncLightClient(const NodeClient& node, LightClient& lightClient) {
    auto sets = node.validatorSets();
    if (!sets) return nodeError(sets.status(), "fetching the validator sets");
    // Entry by entry, so that what is learned before an error stays learned.
    for (const v1::ValidatorSetEntry* e : inHeightOrder(*sets)) {
        if (e->from_height() <= lightClient.latestChange() || e->from_height() - 1 > sets->height()) continue;
        FIDES_ASSIGN_OR_RETURN(ValidatorSet set, decodeEntry(*e));
        FIDES_RETURN_IF_ERROR(learnFromNode(node, lightClient, e->from_height(), set, sets->height()));
    }
    return Status::ok();
}

Status syncLightClient(const NodeClient& node, LightClient& lightClient, const NodeValidatorSets& sets) {
    for (const auto& [from, set] : sets.entries) {
        FIDES_RETURN_IF_ERROR(learnFromNode(node, lightClient, from, set, sets.height));
    }
    return Status::ok();
}

bool isVerificationFailure(const Status& status) {
    switch (status.code()) {
    case Code::Unauthenticated:
    case Code::InvalidArgument:
    case Code::FailedPrecondition:
    case Code::DataLoss: return true;
    default: return false;
    }
}

Result<node::v1::QueryStatesResponse> NodeClient::queryStates(const std::vector<Bytes>& keys) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::QueryStatesRequest req;
    for (const Bytes& k : keys) req.add_keys(toStdString(k));
    v1::QueryStatesResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->QueryStates(&ctx, req, &resp)));
    return resp;
}

Result<node::v1::ListLogResponse> NodeClient::listLogPage(ByteView base, std::uint64_t from,
                                                          std::uint32_t limit) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    v1::ListLogRequest req;
    req.set_base(toStdString(base));
    req.set_from(from);
    req.set_limit(limit);
    v1::ListLogResponse resp;
    FIDES_RETURN_IF_ERROR(fromGrpc(m_stub->ListLog(&ctx, req, &resp)));
    return resp;
}

Result<VerifiedState> verifyStateAnswer(const LightClient& lightClient, ByteView key,
                                        const node::v1::QueryStateResponse& answer) {
    VerifiedState out;
    FIDES_ASSIGN_OR_RETURN(out.header, lightClient.verify(asBytes(answer.signed_header().header()),
                                                          asBytes(answer.signed_header().commit())));
    auto proof = state::StateProof::decode(asBytes(answer.proof()));
    if (!proof) return Status::unauthenticated("state proof does not decode: " + proof.status().message());
    if (answer.found()) out.value = bytes(answer.value());
    if (!state::verifyStateProof(out.header.header.stateRoot, key, out.value, *proof)) {
        return Status::unauthenticated(
            "the state proof does not show the answer under the header's state root");
    }
    return out;
}

Result<std::vector<std::optional<Bytes>>> verifyStatesAnswer(const LightClient& lightClient,
                                                             const std::vector<Bytes>& keys,
                                                             const node::v1::QueryStatesResponse& answer,
                                                             VerifiedHeader* headerOut) {
    if (static_cast<std::size_t>(answer.entries_size()) != keys.size()) {
        return Status::unauthenticated("the answer has " + std::to_string(answer.entries_size()) +
                                       " entries for " + std::to_string(keys.size()) + " keys");
    }
    FIDES_ASSIGN_OR_RETURN(VerifiedHeader header,
                           lightClient.verify(asBytes(answer.signed_header().header()),
                                              asBytes(answer.signed_header().commit())));
    std::vector<std::optional<Bytes>> values;
    values.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& e = answer.entries(static_cast<int>(i));
        auto proof = state::StateProof::decode(asBytes(e.proof()));
        if (!proof) return Status::unauthenticated("state proof " + std::to_string(i) + " does not decode");
        std::optional<Bytes> value;
        if (e.found()) value = bytes(e.value());
        if (!state::verifyStateProof(header.header.stateRoot, keys[i], value, *proof)) {
            return Status::unauthenticated("the proof of key " + std::to_string(i) +
                                           " does not show its answer");
        }
        values.push_back(std::move(value));
    }
    if (headerOut != nullptr) *headerOut = std::move(header);
    return values;
}

Result<VerifiedLog> fetchVerifiedLog(const NodeClient& node, const LightClient& lightClient, ByteView base,
                                     std::uint32_t pageItems, std::uint64_t minHeight) {
    if (pageItems == 0) return Status::invalidArgument("ask for at least one item per page");
    FIDES_ASSIGN_OR_RETURN(auto first, node.listLogPage(base, 0, pageItems));
    FIDES_ASSIGN_OR_RETURN(VerifiedState head,
                           verifyStateAnswer(lightClient, applog::headKey(base), first.head()));
    if (head.header.header.height < minHeight) {
        return Status::failedPrecondition("the node answered as of height " +
                                          std::to_string(head.header.header.height) + ", older than the " +
                                          std::to_string(minHeight) + " asked for");
    }
    merkle::Frontier frontier;
    if (head.value) {
        // Proven state that is no log head: the caller named another key.
        auto f = merkle::Frontier::decode(*head.value);
        if (!f) {
            return Status::failedPrecondition("the key '<base>/head' holds no log head: " +
                                              f.status().message());
        }
        frontier = std::move(*f);
    }
    // Later pages may come from later heads (the log grew): the items of the
    // pinned head never change, so they are checked against it alone.
    applog::ListingCheck check(frontier);
    VerifiedLog out;
    out.header = std::move(head.header);
    auto page = std::move(first);
    while (true) {
        if (page.from() != check.fed()) return Status::unauthenticated("the node answered another page");
        for (const auto& item : page.items()) {
            if (check.fed() == check.size()) break;
            FIDES_RETURN_IF_ERROR(check.add(asBytes(item)));
            out.items.push_back(bytes(item));
        }
        if (check.fed() == check.size()) break;
        if (page.items_size() == 0) {
            return Status::unauthenticated("the node stopped listing at item " + std::to_string(check.fed()) +
                                           " of " + std::to_string(check.size()));
        }
        FIDES_ASSIGN_OR_RETURN(page, node.listLogPage(base, check.fed(), pageItems));
    }
    FIDES_RETURN_IF_ERROR(check.finish());
    return out;
}

}  // namespace fides::client
