#include "storage/block_store.h"

#include <algorithm>

namespace fides::storage {

class BlockStore::ReaderLease {
public:
    ReaderLease(Reader& r, std::unique_lock<std::mutex> lock) : m_reader(r), m_lock(std::move(lock)) {}
    Reader* operator->() { return &m_reader; }

private:
    Reader& m_reader;
    std::unique_lock<std::mutex> m_lock;
};

BlockStore::ReaderLease BlockStore::lease() const {
    const std::size_t start = m_nextReader.fetch_add(1);
    for (std::size_t i = 0; i < kReaders; ++i) {
        Reader& r = m_readers[(start + i) % kReaders];
        std::unique_lock lock(r.mutex, std::try_to_lock);
        if (lock.owns_lock()) return {r, std::move(lock)};
    }
    Reader& r = m_readers[start % kReaders];
    return {r, std::unique_lock(r.mutex)};
}

namespace {
constexpr int kSchemaVersion = 1;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
  height INTEGER PRIMARY KEY,
  hash   BLOB NOT NULL,
  header BLOB NOT NULL,
  body   BLOB NOT NULL,
  commit_sig BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
  hash   BLOB PRIMARY KEY,
  height INTEGER NOT NULL,
  idx    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
  key    BLOB PRIMARY KEY,
  value  BLOB NOT NULL,
  height INTEGER NOT NULL
) WITHOUT ROWID;
)sql";
}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::open(const std::string& path, const StoreKey& key,
                                                     const std::string& chainId) {
    std::unique_ptr<BlockStore> s(new BlockStore());
    s->m_chainId = chainId;
    FIDES_ASSIGN_OR_RETURN(s->m_writer, Database::open(path, key, /*create=*/true));
    auto& w = *s->m_writer;
    FIDES_RETURN_IF_ERROR(w.exec("BEGIN IMMEDIATE"));
    FIDES_RETURN_IF_ERROR(w.exec(kSchema));
    {
        FIDES_ASSIGN_OR_RETURN(auto sel, w.prepare("SELECT v FROM meta WHERE k = 'chain_id'"));
        FIDES_ASSIGN_OR_RETURN(bool row, sel.step());
        if (row) {
            FIDES_ASSIGN_OR_RETURN(auto ver, w.prepare("SELECT v FROM meta WHERE k = 'schema_version'"));
            FIDES_ASSIGN_OR_RETURN(bool verRow, ver.step());
            const Bytes v = verRow ? ver.columnBlob(0) : Bytes{};
            if (std::string(v.begin(), v.end()) != std::to_string(kSchemaVersion)) {
                (void)w.exec("ROLLBACK");
                return Status::failedPrecondition("store " + path + " has schema version '" +
                                                  std::string(v.begin(), v.end()) + "', this build reads version " +
                                                  std::to_string(kSchemaVersion));
            }
            Bytes stored = sel.columnBlob(0);
            if (std::string(stored.begin(), stored.end()) != chainId) {
                (void)w.exec("ROLLBACK");
                return Status::failedPrecondition("store " + path + " belongs to chain '" +
                                                  std::string(stored.begin(), stored.end()) +
                                                  "', not '" + chainId + "'");
            }
        } else {
            FIDES_ASSIGN_OR_RETURN(auto ins, w.prepare("INSERT INTO meta (k, v) VALUES (?, ?)"));
            FIDES_RETURN_IF_ERROR(ins.bindText(1, "chain_id").bind(2, asBytes(chainId)).run());
            std::string ver = std::to_string(kSchemaVersion);
            FIDES_RETURN_IF_ERROR(ins.bindText(1, "schema_version").bind(2, asBytes(ver)).run());
        }
    }
    FIDES_RETURN_IF_ERROR(w.exec("COMMIT"));


    FIDES_ASSIGN_OR_RETURN(s->m_insertBlock,
                           w.prepare("INSERT INTO blocks (height, hash, header, body, commit_sig) "
                                     "VALUES (?, ?, ?, ?, ?)"));
    FIDES_ASSIGN_OR_RETURN(s->m_insertTx, w.prepare("INSERT INTO txs (hash, height, idx) VALUES (?, ?, ?)"));
    // Not INSERT OR REPLACE: a REPLACE may delete rows, so SQLite opens a
    // statement journal for it and copies every page it touches there first
    // (encrypted by SQLCipher: one extra page encryption per written key).
    // A plain UPDATE, and a plain INSERT when it changed nothing, need none.
    FIDES_ASSIGN_OR_RETURN(s->m_updateState, w.prepare("UPDATE state SET value = ?, height = ? WHERE key = ?"));
    FIDES_ASSIGN_OR_RETURN(s->m_insertState, w.prepare("INSERT INTO state (key, value, height) VALUES (?, ?, ?)"));
    for (auto& reader : s->m_readers) {
        // Readers do point lookups and fetch whole blocks: a smaller cache each
        // (4 x 32 MiB) next to the writer's 128 MiB.
        FIDES_ASSIGN_OR_RETURN(reader.db, Database::open(path, key, /*create=*/false, /*cacheMiB=*/32));
        auto& r = *reader.db;
        FIDES_ASSIGN_OR_RETURN(reader.selectBlock,
                               r.prepare("SELECT header, body, commit_sig FROM blocks WHERE height = ?"));
        FIDES_ASSIGN_OR_RETURN(reader.selectTx, r.prepare("SELECT height, idx FROM txs WHERE hash = ?"));
        FIDES_ASSIGN_OR_RETURN(reader.selectState, r.prepare("SELECT value FROM state WHERE key = ?"));
    }
    {
        FIDES_ASSIGN_OR_RETURN(auto all, w.prepare("SELECT hash FROM txs"));
        while (true) {
            FIDES_ASSIGN_OR_RETURN(bool more, all.step());
            if (!more) break;
            const auto h = crypto::Hash256::fromBytes(all.columnBlob(0));
            if (!h) return Status::dataLoss("a transaction index row is damaged");
            s->m_committedTxs.insert(*h);
        }
    }
    FIDES_ASSIGN_OR_RETURN(auto top, w.prepare("SELECT COALESCE(MAX(height), 0) FROM blocks"));
    FIDES_ASSIGN_OR_RETURN(bool row, top.step());
    if (row) s->m_height = static_cast<std::uint64_t>(top.columnInt(0));
    return s;
}

Status BlockStore::append(const Block& block, const std::vector<crypto::Hash256>& txHashes,
                          const std::vector<StateWrite>& writes) {
    std::lock_guard lock(m_writeMutex);
    const std::uint64_t h = block.header.height;
    if (h != m_height.load() + 1) {
        return Status::failedPrecondition("block " + std::to_string(h) + " does not follow stored height " +
                                          std::to_string(m_height.load()));
    }
    if (txHashes.size() != block.transactions.size()) {
        return Status::invalidArgument("transaction hash count does not match the block");
    }
    FIDES_RETURN_IF_ERROR(m_writer->exec("BEGIN IMMEDIATE"));
    auto fail = [this](const Status& s) {
        (void)m_writer->exec("ROLLBACK");
        return s.withContext("storing block");
    };
    const auto sh = static_cast<std::int64_t>(h);
    const Bytes header = block.header.encode();
    const Bytes body = Block::encodeBody(block.transactions);
    const Bytes commit = block.commit.encode();
    const crypto::Hash256 hash = crypto::sha256(header);
    Status st = m_insertBlock.bind(1, sh).bind(2, hash.bytes()).bind(3, header).bind(4, body).bind(5, commit).run();
    if (!st) return fail(st);
    // Insert index rows in key order: each B-tree page is then touched once
    // per block rather than once per (randomly placed) transaction hash.
    std::vector<std::uint32_t> order(txHashes.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return txHashes[a] < txHashes[b]; });
    // Into the filter before COMMIT: whoever can see the block (in SQL, or
    // its transactions gone from a mempool) also sees its hashes here. A
    // failed COMMIT leaves false positives only, which findTx looks up.
    for (const auto& txh : txHashes) m_committedTxs.insert(txh);
    for (std::uint32_t i : order) {
        st = m_insertTx.bind(1, txHashes[i].bytes()).bind(2, sh).bind(3, static_cast<std::int64_t>(i)).run();
        if (!st) return fail(st);
    }
    for (const auto& wr : writes) {
        st = m_updateState.bind(1, wr.value).bind(2, sh).bind(3, wr.key).run();
        if (!st) return fail(st);
        if (m_writer->changes() == 0) {
            st = m_insertState.bind(1, wr.key).bind(2, wr.value).bind(3, sh).run();
            if (!st) return fail(st);
        }
    }
    st = m_writer->exec("COMMIT");
    if (!st) return fail(st);
    m_height = h;
    return Status::ok();
}

Result<Block> BlockStore::block(std::uint64_t height) const {
    Bytes header;
    Bytes body;
    Bytes commit;
    {
        auto r = lease();
        Statement& st = r->selectBlock;
        st.bind(1, static_cast<std::int64_t>(height));
        auto row = st.step();
        if (row && *row) {
            header = st.columnBlob(0);
            body = st.columnBlob(1);
            commit = st.columnBlob(2);
        }
        st.reset();
        if (!row) return row.status();
        if (!*row) return Status::notFound("no block at height " + std::to_string(height));
    }
    Block b;
    auto hdr = BlockHeader::decode(header);
    if (!hdr) return Status::dataLoss("stored header is damaged: " + hdr.status().message());
    b.header = std::move(hdr).value();
    auto txs = Block::decodeBody(body);
    if (!txs) return Status::dataLoss("stored block body is damaged: " + txs.status().message());
    b.transactions = std::move(txs).value();
    auto c = Commit::decode(commit);
    if (!c) return Status::dataLoss("stored commit is damaged: " + c.status().message());
    b.commit = std::move(c).value();
    return b;
}

Result<std::optional<TxLocation>> BlockStore::findTx(const crypto::Hash256& txHash) const {
    if (!m_committedTxs.mayContain(txHash)) return std::optional<TxLocation>();
    auto r = lease();
    Statement& st = r->selectTx;
    st.bind(1, txHash.bytes());
    auto row = st.step();
    std::optional<TxLocation> loc;
    if (row && *row) {
        loc = TxLocation{static_cast<std::uint64_t>(st.columnInt(0)), static_cast<std::uint32_t>(st.columnInt(1))};
    }
    st.reset();
    if (!row) return row.status();
    return loc;
}

Result<std::optional<Bytes>> BlockStore::getState(ByteView key) const {
    auto r = lease();
    Statement& st = r->selectState;
    st.bind(1, key);
    auto row = st.step();
    std::optional<Bytes> value;
    if (row && *row) value = st.columnBlob(0);
    st.reset();
    if (!row) return row.status();
    return value;
}

Status BlockStore::forEachState(const std::function<void(ByteView key, ByteView value)>& visit) const {
    auto r = lease();
    FIDES_ASSIGN_OR_RETURN(auto all, r->db->prepare("SELECT key, value FROM state"));
    while (true) {
        FIDES_ASSIGN_OR_RETURN(bool row, all.step());
        if (!row) break;
        Bytes k = all.columnBlob(0);
        Bytes v = all.columnBlob(1);
        visit(k, v);
    }
    return Status::ok();
}

}  // namespace fides::storage
