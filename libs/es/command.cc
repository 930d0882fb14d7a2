#include "libs/common/errors.h"
#include "libs/es/command.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "libs/crypto/sha256.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/record.h"

namespace takt::es {

Envelope CommandEnvelope(const Event& event, const std::string& actor,
                         const std::string& request_id, absl::Time now) {
  Envelope env;
  env.set_event_type(event.type);
  env.set_schema_version(1);
  env.set_actor(actor);
  env.set_request_id(request_id);
  *env.mutable_occurred_time() = ToProto(now);
  env.set_payload(event.payload);
  return env;
}

std::string ClientRequestId(const google::protobuf::Message& request) {
  const auto* field = request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return request.GetReflection()->GetString(request, field);
}


std::string RequestFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  if (const auto* field = copy->GetDescriptor()->FindFieldByName("request_id");
      field != nullptr && field->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
      !field->is_repeated()) {
    copy->GetReflection()->ClearField(copy.get(), field);
  }
  return crypto::Sha256::ThreadLocal().Digest(eventlog::SerializeDeterministic(*copy));
}

void RecordOutcome(const std::string& fingerprint, const google::protobuf::Message& response,
                   Envelope& first) {
  first.set_request_fingerprint(fingerprint);
  first.set_response(response.SerializeAsString());
}

absl::Status ReplayOutcome(const Envelope& first, const std::string& fingerprint,
                           google::protobuf::Message* response) {
  if (first.request_fingerprint() != fingerprint) {
    return WithReason(absl::AlreadyExistsError(absl::StrCat(
                          "request_id '", first.request_id(), "' was used for another request (recorded at ",
                          first.context(), "/", first.facility(), " sequence ", first.sequence(),
                          "); use a new request id for a new request")),
                      "REQUEST_ID_REUSED");
  }
  if (!response->ParseFromString(first.response())) {
    return absl::DataLossError(absl::StrCat("the response recorded at ", first.context(), "/",
                                            first.facility(), " sequence ", first.sequence(),
                                            " does not decode"));
  }
  return absl::OkStatus();
}

}  // namespace takt::es
