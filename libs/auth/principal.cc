#include "libs/auth/principal.h"

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"

namespace takt::auth {
namespace {

constexpr struct {
  PrincipalKind kind;
  std::string_view prefix;
} kPrefixes[] = {{PrincipalKind::kPerson, "person:"},
                 {PrincipalKind::kFacilitySystem, "facility:"},
                 {PrincipalKind::kService, "service:"},
                 {PrincipalKind::kInsecure, "insecure:"}};

constexpr size_t kMaxSubject = 128;

bool SubjectChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '@' || c == '+';
}

}  // namespace

absl::Status ValidateSubject(std::string_view subject) {
  if (subject.empty()) return absl::InvalidArgumentError("the subject is empty");
  if (subject.size() > kMaxSubject) return absl::InvalidArgumentError("the subject is longer than 128 bytes");
  for (char c : subject) {
    if (!SubjectChar(c)) return absl::InvalidArgumentError("the subject has characters outside [A-Za-z0-9._@+-]");
  }
  return absl::OkStatus();
}

std::string Principal::Actor() const {
  for (const auto& p : kPrefixes) {
    if (p.kind == kind) return absl::StrCat(std::string(p.prefix), name);
  }
  return name;
}

absl::StatusOr<Principal> ParseActor(std::string_view actor) {
  for (const auto& p : kPrefixes) {
    if (actor.substr(0, p.prefix.size()) == p.prefix) {
      return Principal{p.kind, std::string(actor.substr(p.prefix.size()))};
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("'", std::string(actor.substr(0, 80)), "' is not an actor"));
}

absl::StatusOr<Principal> PrincipalOfCertificate(std::string_view common_name) {
  for (PrincipalKind kind : {PrincipalKind::kFacilitySystem, PrincipalKind::kService}) {
    auto p = ParseActor(common_name);
    if (p.ok() && p->kind == kind) {
      if (absl::Status s = ValidateId("certificate common name", p->name); !s.ok()) return s;
      return p;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("certificate common name '", std::string(common_name.substr(0, 80)),
                   "' names no principal: it must be facility:<facility id> or service:<name>"));
}

}  // namespace takt::auth
