// NodeClient: a blocking client of fides.node.v1.NodeService with results as
// fides::Result values (gRPC errors mapped back to codes and messages). It
// fetches evidence; it does not trust it — verification is the caller's
// (notary/notary_proof.h, primitives/proof.h, primitives/light_client.h).
// syncLightClient() feeds a LightClient the validator-set changes a node
// reports, each checked against the header that announced it.
//
// Thread-safety: thread-safe (gRPC stubs are).
#pragma once

#include "fides/node/v1/node.grpc.pb.h"
#include "notary/notary_proof.h"
#include "primitives/light_client.h"
#include "util/status.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace fides::client {

Status fromGrpc(const grpc::Status& s);

// SHA-256 of a file, read in 64 KiB chunks. If `cancel` becomes true the
// read stops with UNAVAILABLE.
Result<crypto::Hash256> hashFile(const std::string& path, const std::atomic<bool>* cancel = nullptr);

struct CommitAck {
    crypto::Hash256 txHash;
    std::uint64_t height = 0;
    std::uint32_t index = 0;
};

class NodeClient {
public:
    explicit NodeClient(const std::string& address,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

    Result<node::v1::GetStatusResponse> status() const;
    Result<node::v1::GetBlockResponse> block(std::uint64_t height) const;
    // The block's signed header and commit alone (GetBlock with header_only):
    // what a light client needs, without the block's transactions.
    Result<node::v1::SignedHeader> signedHeader(std::uint64_t height) const;
    // Every validator set the node has scheduled (genesis first) and its
    // height; unverified until syncLightClient checks them.
    Result<node::v1::GetValidatorSetsResponse> validatorSets() const;
    Result<crypto::Hash256> submit(const Bytes& tx) const;
    Result<CommitAck> submitAndWait(const Bytes& tx) const;
    // Registers a document: reads the node's chain id, signs a notarisation
    // (random nonce, expiry `ttl` from now) and waits for its commit.
    Result<CommitAck> notarize(const crypto::SecretKey& key, const crypto::Hash256& documentHash,
                               const std::string& label,
                               std::chrono::seconds ttl = std::chrono::hours(1)) const;
    Result<notary::NotarizationEvidence> notarizationEvidence(const crypto::Hash256& documentHash) const;
    // Several keys proven against one header (unverified).
    Result<node::v1::QueryStatesResponse> queryStates(const std::vector<Bytes>& keys) const;
    // One page of an append log (unverified).
    Result<node::v1::ListLogResponse> listLogPage(ByteView base, std::uint64_t from,
                                                  std::uint32_t limit) const;
    node::v1::NodeService::Stub& stub() { return *m_stub; }

private:
    void prepare(grpc::ClientContext& ctx) const;
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<node::v1::NodeService::Stub> m_stub;
    std::chrono::milliseconds m_timeout;
};

// A node's GetValidatorSets answer, decoded and put in height order: every
// set decodes and matches its listed hash, first heights are distinct and
// start at 1. Consistent, not
// authenticated: that is LightClient's job (syncLightClient).
struct NodeValidatorSets {
    std::uint64_t height = 0;                                     // the node's committed height
    std::vector<std::pair<std::uint64_t, ValidatorSet>> entries;  // first height -> set, ascending

    // Index of the entry in force at height `h`.
    std::size_t indexAt(std::uint64_t h) const;
    const ValidatorSet& at(std::uint64_t h) const { return entries[indexAt(h)].second; }
};
// INVALID_ARGUMENT / UNAUTHENTICATED (a listed hash that is not its set's)
// when the answer does not check out.
Result<NodeValidatorSets> decodeValidatorSets(const node::v1::GetValidatorSetsResponse& response);
// GetValidatorSets, decoded.
Result<NodeValidatorSets> fetchValidatorSets(const NodeClient& node);

// Brings `lightClient` up to date with the node: fetches GetValidatorSets
// and, in height order, learns every set that starts after the client's
// latest known change and has already been announced by a committed header
// (from_height - 1 <= the node's height; later ones are skipped). Each set
// must decode and match its listed hash; it is learned from the signed
// header of height from_height - 1 (LightClient::learnSet), so a node cannot
// invent a set. The first error stops the sync and is returned with
// context; sets learned before it stay learned. A node that hides a change
// is not caught here but by the next LightClient::verify of a header signed
// by the hidden set (FAILED_PRECONDITION).
Status syncLightClient(const NodeClient& node, LightClient& lightClient);
// The same with the node's sets already fetched (no second GetValidatorSets).
Status syncLightClient(const NodeClient& node, LightClient& lightClient, const NodeValidatorSets& sets);

// Whether an error of syncLightClient means the node's answer does not check
// out (UNAUTHENTICATED, INVALID_ARGUMENT, FAILED_PRECONDITION, DATA_LOSS)
// rather than that the node refused or could not be reached. syncLightClient
// reports an error status the node answered with as UNAVAILABLE (its code in
// the message), so a node's own INVALID_ARGUMENT is not taken for a forgery.
bool isVerificationFailure(const Status& status);

// A state value (or its absence) checked against a header the light client
// verifies: UNAUTHENTICATED when the proof does not show it.
struct VerifiedState {
    std::optional<Bytes> value;
    VerifiedHeader header;
};
Result<VerifiedState> verifyStateAnswer(const LightClient& lightClient, ByteView key,
                                        const node::v1::QueryStateResponse& answer);
// Every value of `keys` from one QueryStates answer, each checked against
// its one header (as of that header: check `header` for freshness).
Result<std::vector<std::optional<Bytes>>> verifyStatesAnswer(const LightClient& lightClient,
                                                             const std::vector<Bytes>& keys,
                                                             const node::v1::QueryStatesResponse& answer,
                                                             VerifiedHeader* header = nullptr);

// A whole append log (primitives/append_log.h), fetched page by page and
// checked: its head against a header the light client verifies, every item
// against the head's root, none left out. Complete *as of that header*: a
// node may answer from an older state, so a caller that needs the log as it
// is now passes `minHeight` (the height it knows the chain has reached) or
// checks `header` (its height and time) itself; an older head is
// FAILED_PRECONDITION. `pageItems`: items asked per page (at least 1).
struct VerifiedLog {
    std::vector<Bytes> items;
    VerifiedHeader header;  // the header the head was proven against
};
Result<VerifiedLog> fetchVerifiedLog(const NodeClient& node, const LightClient& lightClient, ByteView base,
                                     std::uint32_t pageItems = 10'000, std::uint64_t minHeight = 0);

}  // namespace fides::client
