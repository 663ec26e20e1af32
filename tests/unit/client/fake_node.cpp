#include "fake_node.h"

#include <algorithm>
#include <thread>

namespace fides::testing {

namespace v1 = fides::node::v1;

namespace {

const std::string kChain = "chain-fake";

}  // namespace

FakeNode::FakeNode() {
    for (int s = 0; s < 4; ++s) {
        Members m;
        std::vector<Validator> vs;
        for (int i = 0; i < 4; ++i) {
            m.keys.push_back(crypto::SecretKey::generate());
            vs.push_back(
                {m.keys.back().publicKey(), 10, "set" + std::to_string(s) + "-v" + std::to_string(i)});
        }
        m.set = ValidatorSet::create(vs).value();
        m_sets.push_back(std::move(m));
    }
    m_genesis.chainId = kChain;
    m_genesis.genesisTimeMs = 1'800'000'000'000ULL;
    m_genesis.validators = m_sets[0].set;

    // Set index signing each height: A 1-4, B 5-8, C 9-13, D from 14.
    auto signerOf = [](std::uint64_t h) -> std::size_t { return h <= 4 ? 0 : h <= 8 ? 1 : h <= 13 ? 2 : 3; };
    crypto::Hash256 prev;
    for (std::uint64_t h = 1; h <= kHeight; ++h) {
        const Members& by = m_sets[signerOf(h)];
        BlockHeader hd;
        hd.chainId = kChain;
        hd.height = h;
        hd.timeMs = m_genesis.genesisTimeMs + h * 1000;
        hd.prevHash = prev;
        hd.txRoot = Block::computeTxRoot({});
        hd.stateRoot = crypto::sha256(asBytes("state " + std::to_string(h)));
        hd.proposer = by.set.validators().front().publicKey;
        hd.validatorSetHash = by.set.hash();
        hd.nextValidatorSetHash = m_sets[signerOf(h + 1)].set.hash();
        Commit c;
        c.height = h;
        c.blockHash = hd.hash();
        std::vector<std::size_t> order{0, 1, 2, 3};
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return by.keys[a].publicKey() < by.keys[b].publicKey();
        });
        for (std::size_t i : order) {
            c.signatures.push_back({by.keys[i].publicKey(),
                                    crypto::sign(by.keys[i], precommitDigest(kChain, h, 0, c.blockHash))});
        }
        m_blocks.emplace(h, std::make_pair(hd.encode(), c.encode()));
        prev = hd.hash();
    }
    const std::uint64_t starts[] = {1, 5, 9, 14};
    for (std::size_t s = 0; s < m_sets.size(); ++s) {
        v1::ValidatorSetEntry e;
        e.set_from_height(starts[s]);
        e.set_validator_set(toStdString(m_sets[s].set.encodeFull()));
        e.set_hash(toStdString(m_sets[s].set.hash().bytes()));
        m_listed.push_back(e);
    }

    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &m_port);
    builder.RegisterService(this);
    m_server = builder.BuildAndStart();
}

FakeNode::~FakeNode() {
    if (m_server) m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

std::vector<v1::ValidatorSetEntry> FakeNode::listedSets() const {
    std::lock_guard lock(m_mutex);
    return m_listed;
}

void FakeNode::setListedSets(std::vector<v1::ValidatorSetEntry> entries) {
    std::lock_guard lock(m_mutex);
    m_listed = std::move(entries);
}

void FakeNode::hideChange(std::uint64_t fromHeight) {
    std::lock_guard lock(m_mutex);
    std::erase_if(m_listed, [&](const v1::ValidatorSetEntry& e) { return e.from_height() == fromHeight; });
}

grpc::Status FakeNode::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                 v1::GetStatusResponse* resp) {
    const auto& tip = m_blocks.at(kHeight);
    auto header = BlockHeader::decode(tip.first);
    resp->set_chain_id(kChain);
    resp->set_height(kHeight);
    resp->set_latest_block_hash(toStdString(header->hash().bytes()));
    resp->set_latest_block_time_ms(header->timeMs);
    resp->set_state_root(toStdString(header->stateRoot.bytes()));
    resp->set_validators(4);
    resp->set_version("fake");
    return grpc::Status::OK;
}

void FakeNode::refuseBlocks(grpc::Status status) {
    std::lock_guard lock(m_mutex);
    m_blockRefusal = std::move(status);
}

grpc::Status FakeNode::GetBlock(grpc::ServerContext*, const v1::GetBlockRequest* req,
                                v1::GetBlockResponse* resp) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_blockRefusal.ok()) return m_blockRefusal;
    }
    auto it = m_blocks.find(req->height());
    if (it == m_blocks.end()) {
        return {grpc::StatusCode::NOT_FOUND, "no block at height " + std::to_string(req->height())};
    }
    resp->mutable_signed_header()->set_header(toStdString(it->second.first));
    resp->mutable_signed_header()->set_commit(toStdString(it->second.second));
    return grpc::Status::OK;
}

grpc::Status FakeNode::SubscribeBlocks(grpc::ServerContext* ctx, const v1::SubscribeBlocksRequest* req,
                                       grpc::ServerWriter<v1::BlockEvent>* writer) {
    for (std::uint64_t h = std::max<std::uint64_t>(req->from_height(), 1); h <= kHeight; ++h) {
        const auto& [header, commit] = m_blocks.at(h);
        v1::BlockEvent ev;
        ev.mutable_signed_header()->set_header(toStdString(header));
        ev.mutable_signed_header()->set_commit(toStdString(commit));
        if (!writer->Write(ev)) return grpc::Status::OK;
    }
    while (!ctx->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return grpc::Status::CANCELLED;
}

grpc::Status FakeNode::GetValidatorSets(grpc::ServerContext*, const v1::GetValidatorSetsRequest*,
                                        v1::GetValidatorSetsResponse* resp) {
    std::lock_guard lock(m_mutex);
    resp->set_height(kHeight);
    for (const auto& e : m_listed) *resp->add_sets() = e;
    return grpc::Status::OK;
}

}  // namespace fides::testing
