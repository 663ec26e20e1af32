#include "storage/block_store.h"

#include "primitives/transaction.h"
#include "util/encoding.h"

#include <algorithm>
#include <charconv>

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
constexpr int kSchemaVersion = 2;

const char* kMetaTable = "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);";

// Schema version 2 (doc/spec/storage.md §4).
const char* kSchema = R"sql(
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
  khash  BLOB PRIMARY KEY,
  key    BLOB NOT NULL,
  value  BLOB NOT NULL,
  height INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_writes (
  height INTEGER PRIMARY KEY,
  writes BLOB NOT NULL
);
)sql";

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

Result<std::optional<std::string>> metaValue(Database& db, const char* key) {
    FIDES_ASSIGN_OR_RETURN(auto sel, db.prepare("SELECT v FROM meta WHERE k = ?"));
    sel.bindText(1, key);
    FIDES_ASSIGN_OR_RETURN(bool row, sel.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(text(sel.columnBlob(0)));
}

Status setMeta(Database& db, const char* key, const std::string& value) {
    FIDES_ASSIGN_OR_RETURN(auto ins, db.prepare("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)"));
    return ins.bindText(1, key).bind(2, asBytes(value)).run();
}

// A block's state writes as kept in `recent_writes` (doc/spec/storage.md §4):
// u32 count, then each write's key and value as var fields
// (doc/spec/encoding.md). A block that erases keys is written in the second
// form: u32 (count | kErasingForm), then per write a u8 kind (0 put, 1
// erase), the key, and for a put the value. Rows written before erasures
// existed are all of the first form.
constexpr std::uint32_t kErasingForm = 0x80000000u;
constexpr std::uint8_t kPut = 0;
constexpr std::uint8_t kErase = 1;

Bytes encodeWrites(const std::vector<StateWrite>& writes) {
    std::size_t size = 4;
    bool erasing = false;
    for (const auto& wr : writes) {
        size += 9 + wr.key.size() + wr.value.size();
        erasing = erasing || wr.erased;
    }
    Writer w;
    const auto count = static_cast<std::uint32_t>(writes.size());
    w.reserve(size).u32(erasing ? count | kErasingForm : count);
    for (const auto& wr : writes) {
        if (!erasing) {
            w.var(wr.key).var(wr.value);
        } else if (wr.erased) {
            w.u8(kErase).var(wr.key);
        } else {
            w.u8(kPut).var(wr.key).var(wr.value);
        }
    }
    return std::move(w).take();
}

Result<std::vector<StateWrite>> decodeWrites(ByteView bytes) {
    Reader r(bytes);
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    const bool erasing = (n & kErasingForm) != 0;
    n &= ~kErasingForm;
    std::vector<StateWrite> out;
    out.reserve(std::min<std::size_t>(n, bytes.size() / 8));
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint8_t kind = kPut;
        if (erasing) {
            FIDES_RETURN_IF_ERROR(r.u8(kind));
            if (kind != kPut && kind != kErase) return Status::invalidArgument("unknown state write kind");
        }
        Bytes key;
        FIDES_RETURN_IF_ERROR(r.var(key));
        if (kind == kErase) {
            out.push_back(StateWrite::erasure(std::move(key)));
            continue;
        }
        Bytes value;
        FIDES_RETURN_IF_ERROR(r.var(value));
        out.emplace_back(std::move(key), std::move(value));
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    return out;
}
}  // namespace

std::uint64_t BlockStore::mergeHeight(std::uint64_t height, std::size_t bucket) {
    return height + (bucket + kBuckets - height % kBuckets) % kBuckets;
}

Result<std::unique_ptr<BlockStore>> BlockStore::open(const std::string& path, const StoreKey& key,
                                                     const std::string& chainId) {
    std::unique_ptr<BlockStore> s(new BlockStore());
    s->m_chainId = chainId;
    FIDES_ASSIGN_OR_RETURN(s->m_writer, Database::open(path, key, /*create=*/true));
    auto& w = *s->m_writer;
    FIDES_RETURN_IF_ERROR(w.exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
        FIDES_RETURN_IF_ERROR(w.exec(kMetaTable));
        FIDES_ASSIGN_OR_RETURN(auto storedChain, metaValue(w, "chain_id"));
        if (!storedChain) {
            FIDES_RETURN_IF_ERROR(w.exec(kSchema));
            FIDES_RETURN_IF_ERROR(setMeta(w, "chain_id", chainId));
            FIDES_RETURN_IF_ERROR(setMeta(w, "schema_version", std::to_string(kSchemaVersion)));
            return setMeta(w, "buckets_from", "0");
        }
        if (*storedChain != chainId) {
            return Status::failedPrecondition("store " + path + " belongs to chain '" + *storedChain +
                                              "', not '" + chainId + "'");
        }
        FIDES_ASSIGN_OR_RETURN(auto version, metaValue(w, "schema_version"));
        FIDES_ASSIGN_OR_RETURN(auto top, w.prepare("SELECT COALESCE(MAX(height), 0) FROM blocks"));
        FIDES_ASSIGN_OR_RETURN(bool row, top.step());
        s->m_height = row ? static_cast<std::uint64_t>(top.columnInt(0)) : 0;
        top.reset();  // DROP TABLE needs no statement running
        if (version && *version == "1") return s->migrateFromVersion1(w, s->m_height.load());
        if (!version || *version != std::to_string(kSchemaVersion)) {
            return Status::failedPrecondition("store " + path + " has schema version '" +
                                              version.value_or("") + "', this build reads versions 1 and " +
                                              std::to_string(kSchemaVersion));
        }
        return Status::ok();
    }();
    if (!st) {
        (void)w.exec("ROLLBACK");
        return st;
    }
    FIDES_RETURN_IF_ERROR(w.exec("COMMIT"));
    {
        FIDES_ASSIGN_OR_RETURN(auto from, metaValue(w, "buckets_from"));
        std::uint64_t v = 0;
        const char* end = from ? from->data() + from->size() : nullptr;
        if (!from || from->empty() || std::from_chars(from->data(), end, v).ptr != end) {
            return Status::dataLoss("store " + path +
                                    " is damaged: its meta row 'buckets_from' is missing or invalid");
        }
        s->m_bucketsFrom = v;
    }

    FIDES_ASSIGN_OR_RETURN(s->m_insertBlock,
                           w.prepare("INSERT INTO blocks (height, hash, header, body, commit_sig) "
                                     "VALUES (?, ?, ?, ?, ?)"));
    FIDES_ASSIGN_OR_RETURN(s->m_insertTx, w.prepare("INSERT INTO txs (hash, height, idx) VALUES (?, ?, ?)"));
    // Not INSERT OR REPLACE: a REPLACE may delete rows, so SQLite opens a
    // statement journal for it and copies every page it touches there first
    // (encrypted by SQLCipher: one extra page encryption per written key).
    // A plain UPDATE, and a plain INSERT when it changed nothing, need none.
    FIDES_ASSIGN_OR_RETURN(s->m_updateState,
                           w.prepare("UPDATE state SET value = ?, height = ? WHERE khash = ?"));
    FIDES_ASSIGN_OR_RETURN(s->m_insertState,
                           w.prepare("INSERT INTO state (khash, key, value, height) VALUES (?, ?, ?, ?)"));
    FIDES_ASSIGN_OR_RETURN(s->m_deleteState, w.prepare("DELETE FROM state WHERE khash = ?"));
    FIDES_ASSIGN_OR_RETURN(s->m_insertWrites,
                           w.prepare("INSERT INTO recent_writes (height, writes) VALUES (?, ?)"));
    FIDES_ASSIGN_OR_RETURN(s->m_deleteWrites, w.prepare("DELETE FROM recent_writes WHERE height <= ?"));
    for (auto& reader : s->m_readers) {
        // Readers do point lookups and fetch whole blocks: a smaller cache each
        // (4 x 32 MiB) next to the writer's 128 MiB.
        FIDES_ASSIGN_OR_RETURN(reader.db, Database::open(path, key, /*create=*/false, /*cacheMiB=*/32));
        auto& r = *reader.db;
        FIDES_ASSIGN_OR_RETURN(reader.selectBlock,
                               r.prepare("SELECT header, body, commit_sig FROM blocks WHERE height = ?"));
        FIDES_ASSIGN_OR_RETURN(reader.selectTx, r.prepare("SELECT height, idx FROM txs WHERE hash = ?"));
        FIDES_ASSIGN_OR_RETURN(reader.selectState, r.prepare("SELECT key, value FROM state WHERE khash = ?"));
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
    FIDES_RETURN_IF_ERROR(s->loadPending().withContext("store " + path));
    return s;
}

Status BlockStore::migrateFromVersion1(Database& w, std::uint64_t height) {
    // Schema 1 kept `state` ordered by key. Rewrite it ordered by key hash;
    // every row of the blocks stored so far is in the tables.
    FIDES_RETURN_IF_ERROR(w.exec("ALTER TABLE state RENAME TO state_v1"));
    FIDES_RETURN_IF_ERROR(w.exec(kSchema));
    {
        FIDES_ASSIGN_OR_RETURN(auto all, w.prepare("SELECT key, value, height FROM state_v1"));
        FIDES_ASSIGN_OR_RETURN(
            auto ins, w.prepare("INSERT INTO state (khash, key, value, height) VALUES (?, ?, ?, ?)"));
        while (true) {
            FIDES_ASSIGN_OR_RETURN(bool row, all.step());
            if (!row) break;
            const Bytes k = all.columnBlob(0);
            FIDES_RETURN_IF_ERROR(ins.bind(1, crypto::sha256(k).bytes())
                                      .bind(2, k)
                                      .bind(3, all.columnBlob(1))
                                      .bind(4, all.columnInt(2))
                                      .run());
        }
    }
    FIDES_RETURN_IF_ERROR(w.exec("DROP TABLE state_v1"));
    FIDES_RETURN_IF_ERROR(setMeta(w, "buckets_from", std::to_string(height)));
    return setMeta(w, "schema_version", std::to_string(kSchemaVersion));
}

Status BlockStore::loadPending() {
    // The rows of the last blocks whose bucket has not had its turn since
    // (mergeHeight > height): their writes from `recent_writes`, their
    // index rows from the block bodies.
    const std::uint64_t top = m_height.load();
    std::uint64_t from = m_bucketsFrom + 1;
    if (top >= kBuckets) from = std::max<std::uint64_t>(from, top - kBuckets + 1);
    if (from > top) return Status::ok();
    FIDES_ASSIGN_OR_RETURN(auto selWrites,
                           m_writer->prepare("SELECT writes FROM recent_writes WHERE height = ?"));
    for (std::uint64_t h = from; h <= top; ++h) {
        const auto damaged = [&](const std::string& what) {
            return Status::dataLoss("the " + what + " of block " + std::to_string(h) +
                                    " is damaged or missing");
        };
        selWrites.bind(1, static_cast<std::int64_t>(h));
        FIDES_ASSIGN_OR_RETURN(bool row, selWrites.step());
        if (!row) return damaged("recent_writes row");
        auto writes = decodeWrites(selWrites.columnBlob(0));
        selWrites.reset();
        if (!writes) return damaged("recent_writes row");
        auto blk = block(h);
        if (!blk) return blk.status();
        for (std::uint32_t i = 0; i < blk->transactions.size(); ++i) {
            const crypto::Hash256 th = txHash(blk->transactions[i]);
            const std::size_t b = bucketOf(th);
            if (mergeHeight(h, b) > top) {
                m_committedTxs.insert(th);  // not in the index table yet
                m_pending[b].txs.insert_or_assign(th, TxLocation{h, i});
            }
        }
        for (auto& wr : *writes) {
            const crypto::Hash256 kh = wr.keyHash;
            const std::size_t b = bucketOf(kh);
            if (mergeHeight(h, b) > top) {
                m_pending[b].state.insert_or_assign(
                    kh, PendingWrite{std::move(wr.key), std::move(wr.value), h, false, wr.erased});
            }
        }
    }
    return Status::ok();
}

std::size_t BlockStore::pendingRows() const {
    std::shared_lock lock(m_pendingMutex);
    std::size_t n = 0;
    for (const auto& b : m_pending) n += b.state.size() + b.txs.size();
    return n;
}

Status BlockStore::mergeBucket(std::size_t bucket, std::uint64_t height,
                               const std::vector<crypto::Hash256>& txHashes,
                               const std::vector<StateWrite>& writes) {
    // Only the writer changes m_pending, and it holds m_writeMutex: reading
    // it here needs no lock. Rows go in hash order, so each page of the
    // bucket's range is written once.
    const Bucket& pending = m_pending[bucket];
    std::vector<std::pair<crypto::Hash256, TxLocation>> txRows(pending.txs.begin(), pending.txs.end());
    for (std::uint32_t i = 0; i < txHashes.size(); ++i) {
        if (bucketOf(txHashes[i]) == bucket) txRows.emplace_back(txHashes[i], TxLocation{height, i});
    }
    std::sort(txRows.begin(), txRows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [th, loc] : txRows) {
        FIDES_RETURN_IF_ERROR(m_insertTx.bindUncopied(1, th.bytes())
                                  .bind(2, static_cast<std::int64_t>(loc.height))
                                  .bind(3, static_cast<std::int64_t>(loc.index))
                                  .run());
    }
    struct Row {
        const crypto::Hash256* khash;
        ByteView key;
        ByteView value;
        std::uint64_t height;
        bool created;
        bool erased;
    };
    std::vector<Row> rows;
    rows.reserve(pending.state.size());
    for (const auto& [kh, pw] : pending.state) {
        rows.push_back({&kh, pw.key, pw.value, pw.height, pw.created, pw.erased});
    }
    for (const StateWrite& wr : writes) {
        if (bucketOf(wr.keyHash) == bucket) {
            rows.push_back({&wr.keyHash, wr.key, wr.value, height, wr.created, wr.erased});
        }
    }
    // This block's writes win over pending ones of the same key (and a later
    // write of the block over an earlier one): stable order, last one kept,
    // with the first one's hint (whether the row is in the table).
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return *a.khash < *b.khash; });
    std::size_t out = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (out > 0 && *rows[out - 1].khash == *rows[i].khash) {
            const bool created = rows[out - 1].created;
            rows[out - 1] = rows[i];
            rows[out - 1].created = created;
        } else {
            rows[out++] = rows[i];
        }
    }
    rows.resize(out);
    for (const Row& r : rows) {
        if (r.erased) {
            // No row to delete (a key erased before it was ever merged) is fine.
            FIDES_RETURN_IF_ERROR(m_deleteState.bindUncopied(1, r.khash->bytes()).run());
            continue;
        }
        const auto sh = static_cast<std::int64_t>(r.height);
        // The rows' bytes live in the pending rows and `writes` until the
        // merge is over: bound without a copy.
        const auto insert = [&] {
            return m_insertState.bindUncopied(1, r.khash->bytes())
                .bindUncopied(2, r.key)
                .bindUncopied(3, r.value)
                .bind(4, sh)
                .run();
        };
        if (r.created) {
            // Most writes of new keys: one B-tree descent instead of two. A
            // wrong hint fails on the primary key and takes the update.
            const Status inserted = insert();
            if (inserted.isOk()) continue;
            if (inserted.code() != Code::AlreadyExists) return inserted;
        }
        FIDES_RETURN_IF_ERROR(
            m_updateState.bindUncopied(1, r.value).bind(2, sh).bindUncopied(3, r.khash->bytes()).run());
        if (m_writer->changes() == 0) FIDES_RETURN_IF_ERROR(insert());
    }
    return Status::ok();
}

Status BlockStore::append(const Block& block, const std::vector<crypto::Hash256>& txHashes,
                          std::vector<StateWrite> writes) {
    std::lock_guard lock(m_writeMutex);
    const std::uint64_t h = block.header.height;
    if (h != m_height.load() + 1) {
        return Status::failedPrecondition("block " + std::to_string(h) + " does not follow stored height " +
                                          std::to_string(m_height.load()));
    }
    if (txHashes.size() != block.transactions.size()) {
        return Status::invalidArgument("transaction hash count does not match the block");
    }
    {
        // A transaction is stored once: the node checks this before, the
        // store makes sure (before any change).
        crypto::Hash256Set seen;
        seen.reserve(txHashes.size());
        for (const auto& th : txHashes) {
            if (!seen.insert(th).second) {
                return Status::invalidArgument("storing block: a transaction appears twice in it");
            }
        }
        for (const auto& th : txHashes) {
            FIDES_ASSIGN_OR_RETURN(auto stored, findTx(th));
            if (stored) {
                return Status::alreadyExists("storing block: transaction " + th.hex() +
                                             " was stored at height " + std::to_string(stored->height));
            }
        }
    }
    const std::size_t turn = h % kBuckets;
    FIDES_RETURN_IF_ERROR(m_writer->exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
        const auto sh = static_cast<std::int64_t>(h);
        const Bytes header = block.header.encode();
        const crypto::Hash256 hash = crypto::sha256(header);
        // The blobs outlive each statement's run (temporaries last to the end
        // of the full expression): bound without a copy.
        FIDES_RETURN_IF_ERROR(m_insertBlock.bind(1, sh)
                                  .bind(2, hash.bytes())
                                  .bindUncopied(3, header)
                                  .bindUncopied(4, Block::encodeBody(block.transactions))
                                  .bindUncopied(5, block.commit.encode())
                                  .run());
        FIDES_RETURN_IF_ERROR(m_insertWrites.bind(1, sh).bindUncopied(2, encodeWrites(writes)).run());
        // Writes older than this are all merged (mergeHeight < h + kBuckets).
        FIDES_RETURN_IF_ERROR(m_deleteWrites.bind(1, sh - static_cast<std::int64_t>(kBuckets)).run());
        // Into the filter before COMMIT: whoever can see the block (in SQL, or
        // its transactions gone from a mempool) also sees its hashes here. A
        // failed COMMIT leaves false positives only, which findTx looks up.
        for (const auto& txh : txHashes) m_committedTxs.insert(txh);
        return mergeBucket(turn, h, txHashes, writes);
    }();
    // COMMIT and the pending rows' update under one exclusive lock: a reader
    // finds each row of the block either pending or in the tables, and never
    // a merged row hidden by the older pending value of its key.
    std::unique_lock pendingLock(m_pendingMutex);
    if (st) st = m_writer->exec("COMMIT");
    if (!st) {
        pendingLock.unlock();
        (void)m_writer->exec("ROLLBACK");
        return st.withContext("storing block");
    }
    // The bucket fills again to about the size it had: one allocation of
    // that size now rather than growing through rehashes (clear() frees a
    // large Swiss table's array).
    const auto empty = [](auto& table) {
        const std::size_t n = table.size();
        table.clear();
        table.reserve(n);
    };
    empty(m_pending[turn].txs);
    empty(m_pending[turn].state);
    for (std::uint32_t i = 0; i < txHashes.size(); ++i) {
        const std::size_t b = bucketOf(txHashes[i]);
        if (b != turn) m_pending[b].txs.insert_or_assign(txHashes[i], TxLocation{h, i});
    }
    for (StateWrite& wr : writes) {
        const std::size_t b = bucketOf(wr.keyHash);
        if (b != turn) {
            // A key pending already keeps its first write's hint: whether its
            // row is in the table has not changed since.
            auto [it, fresh] = m_pending[b].state.try_emplace(wr.keyHash);
            const bool created = fresh ? wr.created : it->second.created;
            it->second = PendingWrite{std::move(wr.key), std::move(wr.value), h, created, wr.erased};
        }
    }
    pendingLock.unlock();
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
    {
        std::shared_lock lock(m_pendingMutex);
        const auto& txs = m_pending[bucketOf(txHash)].txs;
        if (auto it = txs.find(txHash); it != txs.end()) return std::optional<TxLocation>(it->second);
    }
    auto r = lease();
    Statement& st = r->selectTx;
    st.bind(1, txHash.bytes());
    auto row = st.step();
    std::optional<TxLocation> loc;
    if (row && *row) {
        loc = TxLocation{static_cast<std::uint64_t>(st.columnInt(0)),
                         static_cast<std::uint32_t>(st.columnInt(1))};
    }
    st.reset();
    if (!row) return row.status();
    return loc;
}

Result<std::optional<Bytes>> BlockStore::getState(ByteView key) const {
    const crypto::Hash256 kh = crypto::sha256(key);
    {
        std::shared_lock lock(m_pendingMutex);
        const auto& state = m_pending[bucketOf(kh)].state;
        if (auto it = state.find(kh); it != state.end()) {
            if (it->second.erased) return std::optional<Bytes>();
            return std::optional<Bytes>(it->second.value);
        }
    }
    auto r = lease();
    Statement& st = r->selectState;
    st.bind(1, kh.bytes());
    auto row = st.step();
    std::optional<Bytes> value;
    bool sameKey = true;
    if (row && *row) {
        sameKey = st.columnBlob(0) == Bytes(key.begin(), key.end());
        value = st.columnBlob(1);
    }
    st.reset();
    if (!row) return row.status();
    if (!sameKey) return Status::dataLoss("the state row for a key holds another key with the same SHA-256");
    return value;
}

Status BlockStore::forEachState(
    const std::function<void(const crypto::Hash256& keyHash, ByteView key, ByteView value)>& visit) const {
    // No block is appended meanwhile: the tables and the pending rows are
    // one height's state.
    std::lock_guard writeLock(m_writeMutex);
    std::shared_lock pendingLock(m_pendingMutex);
    auto r = lease();
    FIDES_ASSIGN_OR_RETURN(auto all, r->db->prepare("SELECT khash, key, value FROM state"));
    while (true) {
        FIDES_ASSIGN_OR_RETURN(bool row, all.step());
        if (!row) break;
        const auto kh = crypto::Hash256::fromBytes(all.columnBlob(0));
        if (!kh) return Status::dataLoss("a state row is damaged");
        if (m_pending[bucketOf(*kh)].state.count(*kh) != 0) continue;
        Bytes k = all.columnBlob(1);
        Bytes v = all.columnBlob(2);
        visit(*kh, k, v);
    }
    for (const auto& bucket : m_pending) {
        for (const auto& [kh, pw] : bucket.state) {
            if (!pw.erased) visit(kh, pw.key, pw.value);
        }
    }
    return Status::ok();
}

}  // namespace fides::storage
