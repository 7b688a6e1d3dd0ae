#pragma once

// Thin RAII layer over the SQLite C API: a move-only Database owning the
// sqlite3*, and Statement owning a prepared sqlite3_stmt*. Errors throw
// Failure(runtime) with SQLite's message and the database path: a database
// that stops working is unusable setup, not an expected failure.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace perfbisect {

class Statement;

class Database {
public:
    // Opens (creating if needed) the file at path. ":memory:" works for tests.
    static Database open(const std::filesystem::path& path);

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql);
    std::int64_t last_insert_rowid() const;
    int user_version();
    void set_user_version(int version);
    const std::filesystem::path& path() const { return m_path; }
    sqlite3* handle() const { return m_db.get(); }

    // Throws Failure naming what failed, with SQLite's current error message.
    [[noreturn]] void fail(std::string_view what) const;

private:
    struct Closer {
        void operator()(sqlite3* db) const;
    };
    std::unique_ptr<sqlite3, Closer> m_db;
    std::filesystem::path m_path;
};

class Statement {
public:
    Statement(const Database& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}

    // Binds by 1-based index; returns *this for chaining.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind_null(int index);
    Statement& bind(int index, std::optional<double> value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // Steps once: true while a row is available.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    void reset();

    std::int64_t column_int(int index) const;
    double column_double(int index) const;
    std::string column_text(int index) const;
    // The text without a copy: valid until the next step, reset or column call.
    std::string_view column_view(int index) const;
    bool column_is_null(int index) const;

private:
    struct Finalizer {
        void operator()(sqlite3_stmt* stmt) const;
    };
    const Database* m_db;
    std::unique_ptr<sqlite3_stmt, Finalizer> m_stmt;
};

// Commits on commit(), rolls back otherwise (e.g. when an exception unwinds).
// Nests: inside another transaction it is a savepoint, so a caller can make
// several calls that each use a Transaction into one atomic change.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Database& m_db;
    bool m_done = false;
    bool m_nested = false;
};

}  // namespace perfbisect
