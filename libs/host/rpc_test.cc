#include "libs/host/rpc.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/common/errors.h"

namespace takt::host {
namespace {

struct Details {
  google::rpc::Status status;
  google::rpc::ErrorInfo info;
  bool has_info = false;
  google::rpc::BadRequest bad;
  bool has_bad = false;
};

Details Decode(const grpc::Status& s) {
  Details d;
  EXPECT_TRUE(d.status.ParseFromString(s.error_details())) << "no google.rpc.Status in the details";
  for (const auto& any : d.status.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) d.has_info = any.UnpackTo(&d.info);
    if (any.Is<google::rpc::BadRequest>()) d.has_bad = any.UnpackTo(&d.bad);
  }
  return d;
}

TEST(FieldOfMessageTest, TheFieldPathAMessageBeginsWith) {
  EXPECT_EQ(FieldOfMessage("from: not a date (YYYY-MM-DD)"), "from");
  EXPECT_EQ(FieldOfMessage("observations[3].unit: not a unit of detroit-1"), "observations[3].unit");
  EXPECT_EQ(FieldOfMessage("plan.lines[12].days_away: at most 180"), "plan.lines[12].days_away");
  // Not a field: a sentence, a flag, an upper-case word, no ": " after it.
  EXPECT_EQ(FieldOfMessage("facility detroit-1: unknown"), "");
  EXPECT_EQ(FieldOfMessage("--record-reads: empty"), "");
  EXPECT_EQ(FieldOfMessage("HTTP: no body"), "");
  EXPECT_EQ(FieldOfMessage("from:no space"), "");
  EXPECT_EQ(FieldOfMessage("lines[]: empty index"), "");
  EXPECT_EQ(FieldOfMessage("lines[2: unclosed"), "");
  EXPECT_EQ(FieldOfMessage(""), "");
}

TEST(ToGrpcTest, InvalidArgumentCarriesErrorInfoAndTheFieldViolation) {
  grpc::Status s = ToGrpc(absl::InvalidArgumentError("observations[3].unit: not a unit of detroit-1"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "observations[3].unit: not a unit of detroit-1");
  Details d = Decode(s);
  EXPECT_EQ(d.status.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(d.status.message(), s.error_message());
  ASSERT_TRUE(d.has_info);
  EXPECT_EQ(d.info.domain(), "takt.dev");
  EXPECT_EQ(d.info.reason(), "INVALID_ARGUMENT");
  ASSERT_TRUE(d.has_bad);
  ASSERT_EQ(d.bad.field_violations_size(), 1);
  EXPECT_EQ(d.bad.field_violations(0).field(), "observations[3].unit");
  EXPECT_EQ(d.bad.field_violations(0).description(), "not a unit of detroit-1");
}

TEST(ToGrpcTest, AReasonAndAFieldSetByTheCodeWin) {
  grpc::Status s = ToGrpc(WithField(WithReason(absl::InvalidArgumentError("the batch is too large"), "BATCH_TOO_LARGE"),
                                    "observations"));
  Details d = Decode(s);
  EXPECT_EQ(d.info.reason(), "BATCH_TOO_LARGE");
  ASSERT_TRUE(d.has_bad);
  EXPECT_EQ(d.bad.field_violations(0).field(), "observations");
  EXPECT_EQ(d.bad.field_violations(0).description(), "the batch is too large");
}

TEST(ToGrpcTest, OtherCodesCarryNoFieldViolation) {
  Details d = Decode(ToGrpc(absl::NotFoundError("scope: facilities/nowhere is not a facility")));
  EXPECT_EQ(d.info.reason(), "NOT_FOUND");
  EXPECT_FALSE(d.has_bad);
  d = Decode(ToGrpc(absl::InvalidArgumentError("the request names nothing")));
  EXPECT_FALSE(d.has_bad);  // no field named
}

TEST(ToGrpcTest, OkHasNoDetails) {
  EXPECT_TRUE(ToGrpc(absl::OkStatus()).ok());
  EXPECT_TRUE(ToGrpc(absl::OkStatus()).error_details().empty());
  EXPECT_TRUE(WithErrorDetails(grpc::Status::OK).error_details().empty());
}

TEST(ToGrpcTest, LongMessagesAreShortened) {
  const std::string message = "name: " + std::string(20000, 'x') + "\xc3\xa9";
  grpc::Status s = ToGrpc(absl::InvalidArgumentError(message));
  EXPECT_EQ(s.error_message().size(), kMaxStatusMessage);
  EXPECT_EQ(s.error_message(), message.substr(0, kMaxStatusMessage - 3) + "...");
  EXPECT_LT(s.error_details().size(), 2 * kMaxDetailText + 200);
  Details d = Decode(s);
  EXPECT_LE(d.status.message().size(), kMaxDetailText);
  EXPECT_LE(d.bad.field_violations(0).description().size(), kMaxDetailText);
}

TEST(ValidUtf8Test, KeepsUtf8AndReplacesTheRest) {
  EXPECT_EQ(ValidUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8f\xad"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8f\xad");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(ValidUtf8("a\xff" "b"), "a" + replacement + "b");
  EXPECT_EQ(ValidUtf8("cut \xc3"), "cut " + replacement);                 // a character cut in half
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), replacement + replacement);            // overlong '/'
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), replacement + replacement + replacement);  // a surrogate
  EXPECT_EQ(ValidUtf8(std::string("nul\0in", 6)), std::string("nul\0in", 6));
}

TEST(ToGrpcTest, DetailsAreValidUtf8AndTheMessageIsBounded) {
  // A client's bytes cut mid-character by the code that echoed them.
  grpc::Status s = ToGrpc(absl::InvalidArgumentError("unit: '\xc3' is not a unit of detroit-1"));
  Details d = Decode(s);
  EXPECT_EQ(d.status.message(), ValidUtf8(s.error_message()));
  EXPECT_EQ(d.bad.field_violations(0).description(), "'\xEF\xBF\xBD' is not a unit of detroit-1");
  const std::string huge(100000, 'x');
  s = ToGrpc(absl::PermissionDeniedError(huge));
  EXPECT_LE(s.error_message().size(), kMaxStatusMessage);
  EXPECT_LE(s.error_message().size() + s.error_details().size() * 4 / 3, 7000u);  // trailers under 8 KiB
}

TEST(WithMessageTest, TheDetailsSayTheNewMessageAndKeepTheirReason) {
  grpc::Status s = WithMessage(ToGrpc(WithReason(absl::PermissionDeniedError("no"), "OTHER_FACILITY")),
                               "no; the batches before it were acknowledged");
  EXPECT_EQ(s.error_message(), "no; the batches before it were acknowledged");
  Details d = Decode(s);
  EXPECT_EQ(d.status.message(), s.error_message());
  EXPECT_EQ(d.info.reason(), "OTHER_FACILITY");
}

TEST(KeepFieldsOfTest, AFieldViolationMustNameAFieldOfTheRequest) {
  const google::protobuf::Descriptor* request = google::rpc::BadRequest::descriptor();  // has field_violations
  grpc::Status ours = ToGrpc(absl::InvalidArgumentError("field_violations[2].field: empty"));
  EXPECT_TRUE(Decode(KeepFieldsOf(ours, request)).has_bad);
  grpc::Status other = ToGrpc(absl::InvalidArgumentError("calendar.day_start: not a time"));
  Details d = Decode(KeepFieldsOf(other, request));
  EXPECT_FALSE(d.has_bad);  // "calendar" is a path in another document
  EXPECT_TRUE(d.has_info);  // the rest stays
  EXPECT_EQ(KeepFieldsOf(other, nullptr).error_details(), other.error_details());
}

TEST(WithErrorDetailsTest, AddsDetailsOnceAndKeepsThoseThere) {
  grpc::Status plain(grpc::StatusCode::INVALID_ARGUMENT, "subject: not a person id");
  grpc::Status detailed = WithErrorDetails(plain);
  EXPECT_EQ(detailed.error_message(), plain.error_message());
  Details d = Decode(detailed);
  EXPECT_EQ(d.bad.field_violations(0).field(), "subject");
  grpc::Status reasoned = ToGrpc(WithReason(absl::PermissionDeniedError("no"), "NOT_GRANTED"));
  EXPECT_EQ(WithErrorDetails(reasoned).error_details(), reasoned.error_details());
}

}  // namespace
}  // namespace takt::host
