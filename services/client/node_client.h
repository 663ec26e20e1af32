// NodeClient: a blocking client of fides.node.v1.NodeService with results as
// fides::Result values (gRPC errors mapped back to codes and messages). It
// fetches evidence; it does not trust it — verification is the caller's
// (notary/notary_proof.h, primitives/proof.h).
//
// Thread-safety: thread-safe (gRPC stubs are).
#pragma once

#include "fides/node/v1/node.grpc.pb.h"
#include "notary/notary_proof.h"
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
    Result<crypto::Hash256> submit(const Bytes& tx) const;
    Result<CommitAck> submitAndWait(const Bytes& tx) const;
    // Registers a document: reads the node's chain id, signs a notarisation
    // (random nonce, expiry `ttl` from now) and waits for its commit.
    Result<CommitAck> notarize(const crypto::SecretKey& key, const crypto::Hash256& documentHash,
                               const std::string& label, std::chrono::seconds ttl = std::chrono::hours(1)) const;
    Result<notary::NotarizationEvidence> notarizationEvidence(const crypto::Hash256& documentHash) const;
    node::v1::NodeService::Stub& stub() { return *m_stub; }

private:
    void prepare(grpc::ClientContext& ctx) const;
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<node::v1::NodeService::Stub> m_stub;
    std::chrono::milliseconds m_timeout;
};

}  // namespace fides::client
