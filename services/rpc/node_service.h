// gRPC adapter for the node: translates requests into node::Node calls and
// fides::Status into grpc::Status with the matching canonical code. No logic
// of its own beyond request validation and deadline handling.
//
// Thread-safety: gRPC calls the handlers from its thread pool; Node is
// thread-safe.
#pragma once

#include "fides/node/v1/node.grpc.pb.h"
#include "node/node.h"

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fides::rpc {

grpc::Status toGrpc(const Status& status);

class NodeServiceImpl final : public fides::node::v1::NodeService::Service {
public:
    // `onAdmitted` (optional) sees every transaction a client got admitted,
    // a batch at a time (the p2p layer gossips them to the other validators).
    using AdmittedHook = std::function<void(const std::vector<ByteView>&)>;
    explicit NodeServiceImpl(node::Node& node, AdmittedHook onAdmitted = {})
        : m_node(node), m_onAdmitted(std::move(onAdmitted)) {}

    grpc::Status SubmitTransaction(grpc::ServerContext* ctx, const node::v1::SubmitTransactionRequest* req,
                                   node::v1::SubmitTransactionResponse* resp) override;
    grpc::Status SubmitTransactions(grpc::ServerContext* ctx,
                                    grpc::ServerReader<node::v1::SubmitTransactionsRequest>* reader,
                                    node::v1::SubmitTransactionsResponse* resp) override;
    grpc::Status GetStatus(grpc::ServerContext* ctx, const node::v1::GetStatusRequest* req,
                           node::v1::GetStatusResponse* resp) override;
    grpc::Status GetBlock(grpc::ServerContext* ctx, const node::v1::GetBlockRequest* req,
                          node::v1::GetBlockResponse* resp) override;
    grpc::Status GetTransaction(grpc::ServerContext* ctx, const node::v1::GetTransactionRequest* req,
                                node::v1::GetTransactionResponse* resp) override;
    grpc::Status QueryState(grpc::ServerContext* ctx, const node::v1::QueryStateRequest* req,
                            node::v1::QueryStateResponse* resp) override;
    grpc::Status SubscribeBlocks(grpc::ServerContext* ctx, const node::v1::SubscribeBlocksRequest* req,
                                 grpc::ServerWriter<node::v1::BlockEvent>* writer) override;
    grpc::Status GetValidatorSets(grpc::ServerContext* ctx, const node::v1::GetValidatorSetsRequest* req,
                                  node::v1::GetValidatorSetsResponse* resp) override;
    grpc::Status QueryStates(grpc::ServerContext* ctx, const node::v1::QueryStatesRequest* req,
                             node::v1::QueryStatesResponse* resp) override;
    grpc::Status ListLog(grpc::ServerContext* ctx, const node::v1::ListLogRequest* req,
                         node::v1::ListLogResponse* resp) override;

private:
    void admitted(const std::vector<ByteView>& txs) {
        if (m_onAdmitted && !txs.empty()) m_onAdmitted(txs);
    }
    node::Node& m_node;
    AdmittedHook m_onAdmitted;
};

// The node's gRPC server: NodeService, the application modules' services
// (`services`, reported serving under `serviceNames` by health), the
// standard health service and server reflection, on `address` (e.g.
// "127.0.0.1:26657").
class RpcServer {
public:
    static Result<std::unique_ptr<RpcServer>> start(node::Node& node, const std::string& address,
                                                    NodeServiceImpl::AdmittedHook onAdmitted = {},
                                                    std::vector<std::unique_ptr<grpc::Service>> services = {},
                                                    std::vector<std::string> serviceNames = {});
    ~RpcServer();
    void shutdown();
    int port() const { return m_port; }

private:
    RpcServer() = default;
    std::unique_ptr<NodeServiceImpl> m_service;
    std::vector<std::unique_ptr<grpc::Service>> m_services;
    std::vector<std::string> m_serviceNames;
    std::unique_ptr<grpc::Server> m_server;
    int m_port = 0;
};

inline constexpr int kMaxRequestBytes = 8 << 20;
inline constexpr std::size_t kMaxKeyBytes = 1024;
// Transactions in one SubmitTransactions message (besides the 8 MiB limit).
inline constexpr std::size_t kMaxBatchTransactions = 10'000;

}  // namespace fides::rpc
