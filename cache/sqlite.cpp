#include "cache/sqlite.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include "util/error.hpp"

namespace perfbisect {

namespace {

// What to do about a failed statement, by SQLite's primary result code: a
// message that only says "disk I/O error" leaves the user guessing.
std::string hint(sqlite3* db) {
    switch (sqlite3_extended_errcode(db) & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
            return " (is the disk full, or a file size limit reached? free space, then continue "
                   "the session with `perfbisect resume`: everything stored before is kept)";
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return " (the file is damaged or not a perfbisect database: give another --db, or "
                   "restore it from a backup)";
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return " (another process holds the database: wait for it to finish, or give another "
                   "--db)";
        case SQLITE_READONLY:
            return " (the database or its directory is read-only: make both writable, or give "
                   "another --db)";
        default:
            return "";
    }
}

}  // namespace

void Database::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Statement::Finalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Database Database::open(const std::filesystem::path& path) {
    Database db;
    db.m_path = path;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db.m_db.reset(raw);
    if (rc != SQLITE_OK) {
        throw Failure(ErrorKind::runtime,
                      fmt::format("cannot open database {}: {} (check the --db path and its "
                                  "permissions)",
                                  path.string(), raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

void Database::fail(std::string_view what) const {
    throw Failure(ErrorKind::runtime, fmt::format("database {}: {}: {}{}", m_path.string(), what,
                                                  sqlite3_errmsg(m_db.get()), hint(m_db.get())));
}

void Database::exec(std::string_view sql) {
    char* message = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string error = message ? message : "unknown error";
        sqlite3_free(message);
        throw Failure(ErrorKind::runtime,
                      fmt::format("database {}: {} (in: {}){}", m_path.string(), error,
                                  text.substr(0, 60), hint(m_db.get())));
    }
}

Statement Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
        fail(fmt::format("cannot prepare '{}'", sql.substr(0, 60)));
    }
    return Statement(*this, stmt);
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db.get()); }

int Database::user_version() {
    Statement stmt = prepare("PRAGMA user_version");
    stmt.step();
    return static_cast<int>(stmt.column_int(0));
}

void Database::set_user_version(int version) {
    exec(fmt::format("PRAGMA user_version = {}", version));
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(m_stmt.get(), index, value) != SQLITE_OK) {
        m_db->fail("bind");
    }
    return *this;
}

Statement& Statement::bind(int index, double value) {
    if (sqlite3_bind_double(m_stmt.get(), index, value) != SQLITE_OK) {
        m_db->fail("bind");
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    if (sqlite3_bind_text(m_stmt.get(), index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
        m_db->fail("bind");
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (sqlite3_bind_null(m_stmt.get(), index) != SQLITE_OK) {
        m_db->fail("bind");
    }
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(m_stmt.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    m_db->fail("query failed");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(m_stmt.get());
    sqlite3_clear_bindings(m_stmt.get());
}

std::int64_t Statement::column_int(int index) const {
    return sqlite3_column_int64(m_stmt.get(), index);
}

double Statement::column_double(int index) const {
    return sqlite3_column_double(m_stmt.get(), index);
}

std::string Statement::column_text(int index) const {
    const auto* text = sqlite3_column_text(m_stmt.get(), index);
    if (text == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), index)));
}

std::string_view Statement::column_view(int index) const {
    const auto* text = sqlite3_column_text(m_stmt.get(), index);
    if (text == nullptr) {
        return {};
    }
    return std::string_view(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), index)));
}

bool Statement::column_is_null(int index) const {
    return sqlite3_column_type(m_stmt.get(), index) == SQLITE_NULL;
}

Transaction::Transaction(Database& db)
    : m_db(db), m_nested(sqlite3_get_autocommit(db.handle()) == 0) {
    m_db.exec(m_nested ? "SAVEPOINT perfbisect_nested" : "BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (!m_done) {
        try {
            m_db.exec(m_nested ? "ROLLBACK TO perfbisect_nested; RELEASE perfbisect_nested"
                               : "ROLLBACK");
        } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more to do while unwinding
        }
    }
}

void Transaction::commit() {
    m_db.exec(m_nested ? "RELEASE perfbisect_nested" : "COMMIT");
    m_done = true;
}

}  // namespace perfbisect
