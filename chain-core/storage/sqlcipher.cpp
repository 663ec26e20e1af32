#define SQLITE_HAS_CODEC 1
#include "storage/sqlcipher.h"

#include <botan/hex.h>
#include <sqlcipher/sqlite3.h>

#include <filesystem>

namespace fides::storage {

namespace {
Status sqlError(sqlite3* db, const std::string& what) {
    const int code = sqlite3_extended_errcode(db);
    std::string msg = what + ": " + sqlite3_errmsg(db);
    if ((code & 0xff) == SQLITE_FULL) return Status::resourceExhausted(msg);
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) return Status::dataLoss(msg);
    if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE)
        return Status::alreadyExists(msg);
    return Status::internal(msg);
}
}  // namespace

Statement::~Statement() {
    if (m_stmt != nullptr) sqlite3_finalize(m_stmt);
}
Statement::Statement(Statement&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt) { o.m_stmt = nullptr; }
Statement& Statement::operator=(Statement&& o) noexcept {
    if (this != &o) {
        if (m_stmt != nullptr) sqlite3_finalize(m_stmt);
        m_db = o.m_db;
        m_stmt = o.m_stmt;
        o.m_stmt = nullptr;
    }
    return *this;
}

Statement& Statement::bind(int index, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, index, v);
    return *this;
}
namespace {
int bindBlob(sqlite3_stmt* stmt, int index, ByteView v, sqlite3_destructor_type lifetime) {
    // Zero-length blobs must still be blobs, not NULL.
    static const std::uint8_t kEmpty = 0;
    return sqlite3_bind_blob(stmt, index, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                             lifetime);
}
}  // namespace

Statement& Statement::bind(int index, ByteView v) {
    bindBlob(m_stmt, index, v, SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bindUncopied(int index, ByteView v) {
    bindBlob(m_stmt, index, v, SQLITE_STATIC);
    return *this;
}
Statement& Statement::bindText(int index, const std::string& v) {
    sqlite3_bind_text(m_stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Result<bool> Statement::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlError(m_db, "SQL step failed");
}

Status Statement::run() {
    auto r = step();
    reset();
    if (!r) return r.status();
    return Status::ok();
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::int64_t Statement::columnInt(int col) const { return sqlite3_column_int64(m_stmt, col); }

Bytes Statement::columnBlob(int col) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, col));
    const int n = sqlite3_column_bytes(m_stmt, col);
    if (p == nullptr || n <= 0) return {};
    return Bytes(p, p + n);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const StoreKey& key, bool create,
                                                 int cacheMiB) {
    if (key.size() != 32) return Status::invalidArgument("store key must be 256 bits");
    const bool existed = std::filesystem::exists(path);
    if (!existed && !create) return Status::notFound("store " + path + " does not exist");

    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
        std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        return Status::unavailable("cannot open store " + path + ": " + msg);
    }
    std::unique_ptr<Database> db(new Database(raw));

    // Raw key: x'<64 hex>' bypasses SQLCipher 3's PBKDF2-SHA1 derivation.
    Botan::secure_vector<char> keySpec(3 + 64 + 1);
    keySpec[0] = 'x';
    keySpec[1] = '\'';
    Botan::hex_encode(keySpec.data() + 2, key.data(), key.size(), false);
    keySpec[66] = '\'';
    keySpec.resize(67);
    if (sqlite3_key(raw, keySpec.data(), static_cast<int>(keySpec.size())) != SQLITE_OK) {
        return Status::internal("cannot set store key");
    }
    FIDES_RETURN_IF_ERROR(db->exec("PRAGMA cipher_page_size = 4096"));

    // First read: decrypts page 1. With a wrong key this fails before
    // anything is written.
    if (sqlite3_exec(raw, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK) {
        if (existed) {
            return Status::failedPrecondition("cannot decrypt store " + path +
                                              ": wrong store key, or not a Fides store");
        }
        return sqlError(raw, "cannot initialise store " + path);
    }
    FIDES_RETURN_IF_ERROR(db->exec("PRAGMA journal_mode = WAL"));
    FIDES_RETURN_IF_ERROR(db->exec("PRAGMA synchronous = FULL"));
    FIDES_RETURN_IF_ERROR(db->exec("PRAGMA cache_size = -" + std::to_string(cacheMiB * 1024)));  // KiB
    FIDES_RETURN_IF_ERROR(db->exec("PRAGMA foreign_keys = ON"));
    return db;
}

Database::~Database() { sqlite3_close_v2(m_db); }

std::int64_t Database::changes() const { return sqlite3_changes(m_db); }

Status Database::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err != nullptr ? err : "unknown error";
        sqlite3_free(err);
        Status s = sqlError(m_db, "SQL failed");
        return {s.code(), msg + " (in: " + sql.substr(0, 60) + ")"};
    }
    return Status::ok();
}

Result<Statement> Database::prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        return sqlError(m_db, "cannot prepare '" + sql + "'");
    }
    return Statement(m_db, stmt);
}

}  // namespace fides::storage
