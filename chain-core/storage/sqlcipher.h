// A minimal RAII wrapper over the SQLCipher C API (libsqlcipher, which
// exports the sqlite3_* symbols; never link libsqlite3 or Qt's SQLite plugin
// into the same process).
//
// Thread-safety: a Database and its Statements belong to one thread at a
// time; callers hold their own lock (storage/block_store.h does).
#pragma once

#include "storage/store_key.h"
#include "util/bytes.h"
#include "util/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace fides::storage {

class Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    ~Statement();
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&& o) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t v);
    Statement& bind(int index, ByteView v);  // copies the bytes
    // Binds without copying: the bytes must stay alive and unchanged until
    // the statement is reset (run() resets it). For large blobs bound and
    // run in one expression.
    Statement& bindUncopied(int index, ByteView v);
    Statement& bindText(int index, const std::string& v);
    // Row available: true; done: false; error: Status.
    Result<bool> step();
    Status run();  // step to completion, then reset
    void reset();

    std::int64_t columnInt(int col) const;
    Bytes columnBlob(int col) const;

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

class Database {
public:
    // Opens (creating if `create`) an encrypted database with a raw 256-bit
    // key, 4096-byte pages, WAL, synchronous=FULL and a page cache of
    // `cacheMiB`. A wrong key is FAILED_PRECONDITION and nothing is written
    // to the file.
    static Result<std::unique_ptr<Database>> open(const std::string& path, const StoreKey& key, bool create,
                                                  int cacheMiB = 128);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Status exec(const std::string& sql);
    Result<Statement> prepare(const std::string& sql);
    // Rows changed by this connection's most recent INSERT, UPDATE or DELETE.
    std::int64_t changes() const;

private:
    explicit Database(sqlite3* db) : m_db(db) {}
    sqlite3* m_db;
};

}  // namespace fides::storage
