// FakeNode: an in-process fides.node.v1.NodeService (unit tests only) that
// serves a made-up chain with validator-set changes, so the clients that
// follow them (client::syncLightClient, qtclient::NodeConnection) can be
// tested without validators. It answers GetStatus, GetBlock,
// GetValidatorSets and SubscribeBlocks (the stored blocks, then nothing
// until cancelled); every other call is UNIMPLEMENTED.
//
// The chain: set A (genesis) signs heights 1-4, header 4 announces B; B signs
// 5-8, header 8 announces C; C signs 9-12 (the tip). A fourth set D is
// scheduled from 14 (committed in block 12, to be announced by header 13,
// which does not exist yet). GetValidatorSets lists all four, as a node
// does; tests edit that list to make the node lie or hide a change.
//
// Thread-safety: thread-safe (the listed entries are guarded by a mutex).
#pragma once

#include "fides/node/v1/node.grpc.pb.h"
#include "primitives/block.h"
#include "primitives/genesis.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fides::testing {

class FakeNode final : public node::v1::NodeService::Service {
public:
    static constexpr std::uint64_t kHeight = 12;

    FakeNode();
    ~FakeNode() override;

    const Genesis& genesis() const { return m_genesis; }
    std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
    // The sets as built: index 0 = A (genesis) … 3 = D.
    const ValidatorSet& set(std::size_t i) const { return m_sets.at(i).set; }

    // What GetValidatorSets lists (initially A@1, B@5, C@9, D@14).
    std::vector<node::v1::ValidatorSetEntry> listedSets() const;
    void setListedSets(std::vector<node::v1::ValidatorSetEntry> entries);
    // Removes the entry starting at `fromHeight` (a node hiding a change).
    void hideChange(std::uint64_t fromHeight);
    // GetBlock answers `status` from now on (a node refusing requests).
    void refuseBlocks(grpc::Status status);

    grpc::Status GetStatus(grpc::ServerContext*, const node::v1::GetStatusRequest*,
                           node::v1::GetStatusResponse* resp) override;
    grpc::Status GetBlock(grpc::ServerContext*, const node::v1::GetBlockRequest* req,
                          node::v1::GetBlockResponse* resp) override;
    grpc::Status SubscribeBlocks(grpc::ServerContext* ctx, const node::v1::SubscribeBlocksRequest* req,
                                 grpc::ServerWriter<node::v1::BlockEvent>* writer) override;
    grpc::Status GetValidatorSets(grpc::ServerContext*, const node::v1::GetValidatorSetsRequest*,
                                  node::v1::GetValidatorSetsResponse* resp) override;

private:
    struct Members {
        std::vector<crypto::SecretKey> keys;
        ValidatorSet set;
    };
    Genesis m_genesis;
    std::vector<Members> m_sets;
    std::map<std::uint64_t, std::pair<Bytes, Bytes>> m_blocks;  // height -> header, commit (immutable)
    mutable std::mutex m_mutex;
    std::vector<node::v1::ValidatorSetEntry> m_listed;  // guarded by m_mutex
    grpc::Status m_blockRefusal;                        // guarded by m_mutex; OK = answer
    std::unique_ptr<grpc::Server> m_server;
    int m_port = 0;
};

}  // namespace fides::testing
