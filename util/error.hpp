#pragma once

// Errors, in two tiers (as in ccache):
//  - expected failures (a build that fails, a probe without a metric, a
//    revision that does not exist) are returned as Result<T> = std::expected;
//  - unusable setup or misuse is thrown as Failure and caught once, at the top
//    of the command line, where its kind becomes an exit code.
// Messages are one line that says what was wrong and what to do about it.

#include <expected>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace perfbisect {

enum class ErrorKind {
    usage,        // bad input from the user: flags, config, revisions (exit 2)
    runtime,      // the environment failed us: I/O, database, a broken good build (exit 1)
    interrupted,  // SIGINT/SIGTERM arrived; the session can be resumed (exit 130)
};

struct Error {
    ErrorKind kind = ErrorKind::runtime;
    std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> usage_error(std::string message) {
    return std::unexpected(Error{ErrorKind::usage, std::move(message)});
}

inline std::unexpected<Error> runtime_error(std::string message) {
    return std::unexpected(Error{ErrorKind::runtime, std::move(message)});
}

// The one exception type of the project.
class Failure : public std::runtime_error {
public:
    explicit Failure(Error error) : std::runtime_error(error.message), m_error(std::move(error)) {}
    Failure(ErrorKind kind, std::string message) : Failure(Error{kind, std::move(message)}) {}

    const Error& error() const { return m_error; }
    ErrorKind kind() const { return m_error.kind; }

private:
    Error m_error;
};

// Unwraps a Result, throwing its error as Failure: for callers for whom the
// failure is not expected.
template <typename T>
T value_or_throw(Result<T> result) {
    if (!result) {
        throw Failure(std::move(result.error()));
    }
    if constexpr (!std::is_void_v<T>) {
        return std::move(*result);
    }
}

}  // namespace perfbisect
