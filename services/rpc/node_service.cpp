#include "rpc/node_service.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace fides::rpc {

namespace v1 = fides::node::v1;

namespace {
constexpr auto kMaxCommitWait = std::chrono::seconds(60);
constexpr std::size_t kMaxListedRejections = 100;

ByteView view(const std::string& s) { return asBytes(s); }

void fill(v1::SignedHeader* out, const node::SignedHeader& sh) {
    out->set_header(toStdString(sh.header.encode()));
    out->set_commit(toStdString(sh.commit.encode()));
}

Result<crypto::Hash256> hashField(const std::string& field, const char* what) {
    auto h = crypto::Hash256::fromBytes(view(field));
    if (!h) return Status::invalidArgument(std::string(what) + " must be 32 bytes");
    return *h;
}
}  // namespace

grpc::Status toGrpc(const Status& s) {
    using G = grpc::StatusCode;
    G code = G::UNKNOWN;
    switch (s.code()) {
    case Code::Ok: return grpc::Status::OK;
    case Code::InvalidArgument: code = G::INVALID_ARGUMENT; break;
    case Code::NotFound: code = G::NOT_FOUND; break;
    case Code::AlreadyExists: code = G::ALREADY_EXISTS; break;
    case Code::Unauthenticated: code = G::UNAUTHENTICATED; break;
    case Code::PermissionDenied: code = G::PERMISSION_DENIED; break;
    case Code::ResourceExhausted: code = G::RESOURCE_EXHAUSTED; break;
    case Code::FailedPrecondition: code = G::FAILED_PRECONDITION; break;
    case Code::DeadlineExceeded: code = G::DEADLINE_EXCEEDED; break;
    case Code::Unavailable: code = G::UNAVAILABLE; break;
    case Code::DataLoss: code = G::DATA_LOSS; break;
    case Code::Internal: code = G::INTERNAL; break;
    }
    if (code == G::INTERNAL || code == G::DATA_LOSS || code == G::UNKNOWN) {
        // These carry what went wrong inside the validator (SQL text, file
        // paths): the operator's log gets it, the caller a reference to it.
        static std::atomic<std::uint64_t> incidents{0};
        const std::uint64_t incident = ++incidents;
        spdlog::error("rpc: incident {}: {}", incident, s.toString());
        return {code, "internal error on this validator (incident " + std::to_string(incident) +
                          " in its log); nothing was changed by this call"};
    }
    return {code, s.message()};
}

grpc::Status NodeServiceImpl::SubmitTransaction(grpc::ServerContext* ctx,
                                                const v1::SubmitTransactionRequest* req,
                                                v1::SubmitTransactionResponse* resp) {
    auto hash = m_node.submit(view(req->transaction()));
    if (!hash) return toGrpc(hash.status());
    admitted({view(req->transaction())});
    resp->set_tx_hash(toStdString(hash->bytes()));
    if (!req->wait_for_commit()) return grpc::Status::OK;
    auto deadline = std::chrono::steady_clock::now() + kMaxCommitWait;
    const auto clientDeadline = ctx->deadline();
    if (clientDeadline != std::chrono::system_clock::time_point::max()) {
        deadline = std::min(deadline, std::chrono::steady_clock::now() +
                                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              clientDeadline - std::chrono::system_clock::now()));
    }
    auto loc = m_node.waitForCommit(*hash, deadline);
    if (!loc) return toGrpc(loc.status());
    resp->set_height(loc->height);
    resp->set_index(loc->index);
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::SubmitTransactions(grpc::ServerContext* ctx,
                                                 grpc::ServerReader<v1::SubmitTransactionsRequest>* reader,
                                                 v1::SubmitTransactionsResponse* resp) {
    v1::SubmitTransactionsRequest batch;
    std::uint32_t position = 0;
    std::uint64_t accepted = 0;
    std::uint64_t rejected = 0;
    std::vector<ByteView> txs;
    std::vector<ByteView> admittedTxs;
    while (reader->Read(&batch)) {
        if (ctx->IsCancelled()) return {grpc::StatusCode::CANCELLED, "client cancelled the stream"};
        if (static_cast<std::size_t>(batch.transactions_size()) > kMaxBatchTransactions) {
            return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "a SubmitTransactions message holds at most " + std::to_string(kMaxBatchTransactions) +
                        " transactions, this one " + std::to_string(batch.transactions_size()) +
                        "; none of it was admitted (earlier messages were)"};
        }
        txs.clear();
        admittedTxs.clear();
        for (const auto& tx : batch.transactions()) txs.push_back(view(tx));
        const auto results = m_node.submitBatch(txs);
        for (std::size_t i = 0; i < txs.size(); ++i) {
            const auto& hash = results[i];
            if (hash) {
                ++accepted;
                admittedTxs.push_back(txs[i]);
            } else {
                ++rejected;
                if (static_cast<std::size_t>(resp->rejections_size()) < kMaxListedRejections) {
                    auto* r = resp->add_rejections();
                    r->set_position(position);
                    r->set_code(static_cast<int>(toGrpc(hash.status()).error_code()));
                    r->set_message(hash.status().message());
                    if (txs[i].size() <= limits::kMaxTransactionSize)
                        r->set_tx_hash(toStdString(txHash(txs[i]).bytes()));
                }
            }
            ++position;
        }
        admitted(admittedTxs);
    }
    resp->set_accepted(accepted);
    resp->set_rejected(rejected);
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                        v1::GetStatusResponse* resp) {
    const node::NodeStatus s = m_node.status();
    resp->set_chain_id(s.chainId);
    resp->set_height(s.height);
    resp->set_latest_block_hash(toStdString(s.latestBlockHash.bytes()));
    resp->set_latest_block_time_ms(s.latestBlockTimeMs);
    resp->set_state_root(toStdString(s.stateRoot.bytes()));
    resp->set_validator_public_key(toStdString(s.validator.bytes()));
    resp->set_mempool_size(s.mempoolSize);
    resp->set_mempool_bytes(s.mempoolBytes);
    resp->set_validators(static_cast<std::uint32_t>(s.validators));
    resp->set_version(FIDES_VERSION);
    resp->set_is_validator(s.isValidator);
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::GetValidatorSets(grpc::ServerContext*, const v1::GetValidatorSetsRequest*,
                                               v1::GetValidatorSetsResponse* resp) {
    resp->set_height(m_node.height());
    for (const auto& [from, set] : m_node.validatorSchedule().entries()) {
        auto* e = resp->add_sets();
        e->set_from_height(from);
        e->set_validator_set(toStdString(set->encodeFull()));
        e->set_hash(toStdString(set->hash().bytes()));
    }
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::GetBlock(grpc::ServerContext*, const v1::GetBlockRequest* req,
                                       v1::GetBlockResponse* resp) {
    auto b = m_node.block(req->height());
    if (!b) return toGrpc(b.status());
    fill(resp->mutable_signed_header(), node::SignedHeader{b->header, b->commit});
    if (!req->header_only()) {
        for (const auto& tx : b->transactions) resp->add_transactions(toStdString(tx));
    }
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::GetTransaction(grpc::ServerContext*, const v1::GetTransactionRequest* req,
                                             v1::GetTransactionResponse* resp) {
    auto hash = hashField(req->tx_hash(), "tx_hash");
    if (!hash) return toGrpc(hash.status());
    auto t = m_node.transaction(*hash);
    if (!t) return toGrpc(t.status());
    resp->set_transaction(toStdString(t->transaction));
    resp->set_height(t->height);
    resp->set_index(t->index);
    for (const auto& p : t->proof) resp->add_inclusion_proof(toStdString(p.bytes()));
    fill(resp->mutable_signed_header(), t->signedHeader);
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::QueryState(grpc::ServerContext*, const v1::QueryStateRequest* req,
                                         v1::QueryStateResponse* resp) {
    if (req->key().empty() || req->key().size() > kMaxKeyBytes) {
        return {grpc::StatusCode::INVALID_ARGUMENT, "key must have 1 to 1024 bytes"};
    }
    auto a = m_node.query(view(req->key()));
    if (!a) return toGrpc(a.status());
    resp->set_found(a->value.has_value());
    if (a->value) resp->set_value(toStdString(*a->value));
    resp->set_proof(toStdString(a->proof.encode()));
    fill(resp->mutable_signed_header(), a->signedHeader);
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::SubscribeBlocks(grpc::ServerContext* ctx, const v1::SubscribeBlocksRequest* req,
                                              grpc::ServerWriter<v1::BlockEvent>* writer) {
    std::uint64_t next = req->from_height() == 0 ? m_node.height() + 1 : req->from_height();
    while (!ctx->IsCancelled()) {
        if (!m_node.waitForHeight(next, std::chrono::steady_clock::now() + std::chrono::milliseconds(500))) {
            if (!m_node.health().isOk()) return toGrpc(m_node.health());
            continue;
        }
        auto b = m_node.block(next);
        if (!b) return toGrpc(b.status());
        v1::BlockEvent ev;
        fill(ev.mutable_signed_header(), node::SignedHeader{b->header, b->commit});
        for (const auto& tx : b->transactions) ev.add_tx_hashes(toStdString(txHash(tx).bytes()));
        if (!writer->Write(ev)) break;
        ++next;
    }
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::QueryStates(grpc::ServerContext*, const v1::QueryStatesRequest* req,
                                          v1::QueryStatesResponse* resp) {
    if (req->keys_size() == 0 || static_cast<std::size_t>(req->keys_size()) > node::Node::kMaxQueryKeys) {
        return {grpc::StatusCode::INVALID_ARGUMENT, "ask for 1 to " +
                                                        std::to_string(node::Node::kMaxQueryKeys) +
                                                        " keys, not " + std::to_string(req->keys_size())};
    }
    std::vector<Bytes> keys;
    keys.reserve(static_cast<std::size_t>(req->keys_size()));
    for (const auto& k : req->keys()) {
        if (k.empty() || k.size() > kMaxKeyBytes) {
            return {grpc::StatusCode::INVALID_ARGUMENT,
                    "key " + std::to_string(keys.size()) + " must have 1 to 1024 bytes"};
        }
        keys.emplace_back(k.begin(), k.end());
    }
    auto a = m_node.queryMany(keys);
    if (!a) return toGrpc(a.status());
    for (const auto& e : a->entries) {
        auto* out = resp->add_entries();
        out->set_found(e.value.has_value());
        if (e.value) out->set_value(toStdString(*e.value));
        out->set_proof(toStdString(e.proof.encode()));
    }
    fill(resp->mutable_signed_header(), a->signedHeader);
    return grpc::Status::OK;
}

grpc::Status NodeServiceImpl::ListLog(grpc::ServerContext*, const v1::ListLogRequest* req,
                                      v1::ListLogResponse* resp) {
    auto page = m_node.listLog(view(req->base()), req->from(), req->limit());
    if (!page) return toGrpc(page.status());
    auto* head = resp->mutable_head();
    head->set_found(page->head.value.has_value());
    if (page->head.value) head->set_value(toStdString(*page->head.value));
    head->set_proof(toStdString(page->head.proof.encode()));
    fill(head->mutable_signed_header(), page->head.signedHeader);
    resp->set_size(page->size);
    resp->set_from(page->from);
    for (const auto& item : page->items) resp->add_items(toStdString(item));
    return grpc::Status::OK;
}

Result<std::unique_ptr<RpcServer>> RpcServer::start(node::Node& node, const std::string& address,
                                                    NodeServiceImpl::AdmittedHook onAdmitted,
                                                    std::vector<std::unique_ptr<grpc::Service>> services,
                                                    std::vector<std::string> serviceNames) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    std::unique_ptr<RpcServer> s(new RpcServer());
    s->m_service = std::make_unique<NodeServiceImpl>(node, std::move(onAdmitted));
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &s->m_port);
    builder.RegisterService(s->m_service.get());
    s->m_services = std::move(services);
    s->m_serviceNames = std::move(serviceNames);
    for (const auto& service : s->m_services) builder.RegisterService(service.get());
    builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
    builder.SetMaxSendMessageSize(64 << 20);
    s->m_server = builder.BuildAndStart();
    if (!s->m_server || s->m_port == 0) {
        return Status::unavailable("cannot listen on " + address + " (address in use or invalid)");
    }
    if (auto* health = s->m_server->GetHealthCheckService()) {
        health->SetServingStatus(true);
        health->SetServingStatus("fides.node.v1.NodeService", true);
        for (const auto& name : s->m_serviceNames) health->SetServingStatus(name, true);
    }
    return s;
}

void RpcServer::shutdown() {
    if (m_server) {
        if (auto* health = m_server->GetHealthCheckService()) health->SetServingStatus(false);
        m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
        m_server->Wait();
        m_server.reset();
    }
}

RpcServer::~RpcServer() { shutdown(); }

}  // namespace fides::rpc
