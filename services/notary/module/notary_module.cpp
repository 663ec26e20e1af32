#include "notary/module/notary_module.h"

#include "fides/notary/v1/notary.grpc.pb.h"
#include "notary/notary_app.h"
#include "notary/notary_proof.h"
#include "rpc/node_service.h"
#include "util/bytes.h"

namespace fides::notary {

namespace {

class NotaryServiceImpl final : public fides::notary::v1::NotaryService::Service {
public:
    explicit NotaryServiceImpl(node::Node& node) : m_node(node) {}

    grpc::Status GetEvidence(grpc::ServerContext*, const v1::GetEvidenceRequest* req,
                             v1::GetEvidenceResponse* resp) override {
        if (req->document_hash().size() != crypto::Hash256::kSize) {
            return {grpc::StatusCode::INVALID_ARGUMENT, "document_hash must be 32 bytes (SHA-256), got " +
                                                            std::to_string(req->document_hash().size())};
        }
        const auto doc = crypto::Hash256::fromBytes(asBytes(req->document_hash()));
        auto ev = gatherEvidence(m_node, *doc);
        if (!ev) return rpc::toGrpc(ev.status());
        resp->set_state_header(toStdString(ev->stateHeader));
        resp->set_state_commit(toStdString(ev->stateCommit));
        resp->set_state_proof(toStdString(ev->stateProof));
        resp->set_registered(ev->value.has_value());
        if (!ev->value) return grpc::Status::OK;
        resp->set_registration(toStdString(*ev->value));
        resp->set_transaction(toStdString(ev->transaction));
        resp->set_tx_height(ev->txHeight);
        resp->set_tx_index(ev->txIndex);
        for (const auto& p : ev->inclusionProof) resp->add_inclusion_proof(toStdString(p.bytes()));
        resp->set_tx_header(toStdString(ev->txHeader));
        resp->set_tx_commit(toStdString(ev->txCommit));
        return grpc::Status::OK;
    }

private:
    node::Node& m_node;
};

class NotaryModule final : public appmodule::AppModule {
public:
    std::string name() const override { return "notary"; }
    Result<std::unique_ptr<app::Application>> createApplication(const appmodule::SettingValues&) override {
        return std::unique_ptr<app::Application>(std::make_unique<NotaryApp>());
    }
    std::vector<std::unique_ptr<grpc::Service>> createServices(node::Node& node) override {
        std::vector<std::unique_ptr<grpc::Service>> out;
        out.push_back(std::make_unique<NotaryServiceImpl>(node));
        return out;
    }
    std::vector<std::string> serviceNames() const override {
        return {fides::notary::v1::NotaryService::service_full_name()};
    }
};

}  // namespace

std::unique_ptr<appmodule::AppModule> makeModule() { return std::make_unique<NotaryModule>(); }

Result<NotarizationEvidence> gatherEvidence(const node::Node& node, const crypto::Hash256& documentHash) {
    FIDES_ASSIGN_OR_RETURN(node::StateAnswer a, node.query(documentKey(documentHash)));
    NotarizationEvidence ev;
    ev.stateHeader = a.signedHeader.header.encode();
    ev.stateCommit = a.signedHeader.commit.encode();
    ev.stateProof = a.proof.encode();
    ev.value = std::move(a.value);
    if (!ev.value) return ev;
    auto reg = Registration::decode(*ev.value);
    if (!reg) return Status::dataLoss("the stored registration is damaged: " + reg.status().message());
    FIDES_ASSIGN_OR_RETURN(node::TxWithProof t, node.transaction(reg->txHash));
    ev.transaction = std::move(t.transaction);
    ev.txHeight = t.height;
    ev.txIndex = t.index;
    ev.inclusionProof = std::move(t.proof);
    ev.txHeader = t.signedHeader.header.encode();
    ev.txCommit = t.signedHeader.commit.encode();
    return ev;
}

}  // namespace fides::notary
