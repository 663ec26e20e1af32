#include "util/status.h"

namespace fides {

const char* codeName(Code code) {
    switch (code) {
    case Code::Ok: return "OK";
    case Code::InvalidArgument: return "INVALID_ARGUMENT";
    case Code::NotFound: return "NOT_FOUND";
    case Code::AlreadyExists: return "ALREADY_EXISTS";
    case Code::Unauthenticated: return "UNAUTHENTICATED";
    case Code::PermissionDenied: return "PERMISSION_DENIED";
    case Code::ResourceExhausted: return "RESOURCE_EXHAUSTED";
    case Code::FailedPrecondition: return "FAILED_PRECONDITION";
    case Code::DeadlineExceeded: return "DEADLINE_EXCEEDED";
    case Code::Unavailable: return "UNAVAILABLE";
    case Code::DataLoss: return "DATA_LOSS";
    case Code::Internal: return "INTERNAL";
    }
    return "UNKNOWN";
}

std::string Status::toString() const {
    if (isOk()) return "OK";
    return std::string(codeName(m_code)) + ": " + m_message;
}

Status Status::withContext(const std::string& context) const {
    if (isOk()) return *this;
    return {m_code, context + ": " + m_message};
}

}  // namespace fides
