#include "libs/common/errors.h"

#include "absl/strings/cord.h"

namespace takt {
namespace {

constexpr absl::string_view kReasonUrl = "type.takt.dev/takt.ErrorReason";
constexpr absl::string_view kFieldUrl = "type.takt.dev/takt.ErrorField";

absl::Status With(absl::Status s, absl::string_view url, absl::string_view value) {
  if (!s.ok()) s.SetPayload(url, absl::Cord(value));
  return s;
}

std::optional<std::string> Get(const absl::Status& s, absl::string_view url) {
  const auto payload = s.GetPayload(url);  // absl::optional here
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

}  // namespace

absl::Status WithReason(absl::Status s, absl::string_view reason) { return With(std::move(s), kReasonUrl, reason); }
std::optional<std::string> ReasonOf(const absl::Status& s) { return Get(s, kReasonUrl); }
absl::Status WithField(absl::Status s, absl::string_view field) { return With(std::move(s), kFieldUrl, field); }
std::optional<std::string> FieldOf(const absl::Status& s) { return Get(s, kFieldUrl); }

}  // namespace takt
