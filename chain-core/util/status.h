// Status and Result<T>: errors as values at module boundaries.
//
// A Status is a code plus a human-readable message. Codes mirror the gRPC
// canonical codes so the service adapters can map them 1:1, but nothing in
// chain-core depends on gRPC. Third-party exceptions (Botan, SQLCipher) are
// caught at the wrapper that calls the library and turned into a Status.
//
// Thread-safety: value types, safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace fides {

enum class Code {
    Ok = 0,
    InvalidArgument,
    NotFound,
    AlreadyExists,
    Unauthenticated,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    DeadlineExceeded,
    Unavailable,
    DataLoss,
    Internal,
};

const char* codeName(Code code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Code code, std::string message) : m_code(code), m_message(std::move(message)) {}

    static Status ok() { return {}; }
    static Status invalidArgument(std::string m) { return {Code::InvalidArgument, std::move(m)}; }
    static Status notFound(std::string m) { return {Code::NotFound, std::move(m)}; }
    static Status alreadyExists(std::string m) { return {Code::AlreadyExists, std::move(m)}; }
    static Status unauthenticated(std::string m) { return {Code::Unauthenticated, std::move(m)}; }
    static Status permissionDenied(std::string m) { return {Code::PermissionDenied, std::move(m)}; }
    static Status resourceExhausted(std::string m) { return {Code::ResourceExhausted, std::move(m)}; }
    static Status failedPrecondition(std::string m) { return {Code::FailedPrecondition, std::move(m)}; }
    static Status unavailable(std::string m) { return {Code::Unavailable, std::move(m)}; }
    static Status dataLoss(std::string m) { return {Code::DataLoss, std::move(m)}; }
    static Status internal(std::string m) { return {Code::Internal, std::move(m)}; }

    bool isOk() const { return m_code == Code::Ok; }
    explicit operator bool() const { return isOk(); }
    Code code() const { return m_code; }
    const std::string& message() const { return m_message; }
    std::string toString() const;

    // Prefixes the message with context, keeping the code: "opening store: <message>".
    Status withContext(const std::string& context) const;

private:
    Code m_code = Code::Ok;
    std::string m_message;
};

// Result<T>: either a value or a non-OK Status (a small std::expected).
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}        // NOLINT(google-explicit-constructor)
    Result(Status status) : m_v(std::move(status)) {  // NOLINT(google-explicit-constructor)
        assert(!std::get<Status>(m_v).isOk() && "Result constructed from an OK status");
    }

    bool isOk() const { return std::holds_alternative<T>(m_v); }
    explicit operator bool() const { return isOk(); }

    const T& value() const& { return std::get<T>(m_v); }
    T& value() & { return std::get<T>(m_v); }
    T&& value() && { return std::get<T>(std::move(m_v)); }
    const T& operator*() const& { return value(); }
    T& operator*() & { return value(); }
    const T* operator->() const { return &value(); }
    T* operator->() { return &value(); }

    Status status() const { return isOk() ? Status::ok() : std::get<Status>(m_v); }

private:
    std::variant<T, Status> m_v;
};

}  // namespace fides

// Propagates a non-OK Status from an expression returning Status.
#define FIDES_RETURN_IF_ERROR(expr)                      \
    do {                                                 \
        ::fides::Status fides_status_ = (expr);          \
        if (!fides_status_.isOk()) return fides_status_; \
    } while (0)

#define FIDES_CONCAT_INNER(a, b) a##b
#define FIDES_CONCAT(a, b) FIDES_CONCAT_INNER(a, b)
// Assigns the value of a Result<T> expression to `lhs`, or returns its Status.
#define FIDES_ASSIGN_OR_RETURN(lhs, expr) \
    FIDES_ASSIGN_OR_RETURN_IMPL(FIDES_CONCAT(fides_result_, __LINE__), lhs, expr)
#define FIDES_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                              \
    if (!tmp.isOk()) return tmp.status();           \
    lhs = std::move(tmp).value()
