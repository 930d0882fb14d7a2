#include "libs/eventlog/record.h"

#include "gtest/gtest.h"
#include "libs/crypto/sha256.h"

namespace takt::eventlog {
namespace {

TEST(RecordTest, BodyIsAValidEnvelopeWithChainFieldsFirst) {
  v1::Envelope rest;
  rest.set_context("scheduling");
  rest.set_facility("f1");
  rest.set_payload("xyz");
  std::string prev(kHashSize, '\x07');
  std::string body = BuildBody(300, prev, rest.SerializeAsString());
  uint64_t seq = 0;
  std::string_view scanned_prev;
  ASSERT_TRUE(ScanBody(body, &seq, &scanned_prev));
  EXPECT_EQ(seq, 300u);
  EXPECT_EQ(scanned_prev, prev);
  v1::Envelope parsed;
  ASSERT_TRUE(parsed.ParseFromString(body));
  EXPECT_EQ(parsed.sequence(), 300u);
  EXPECT_EQ(parsed.prev_hash(), prev);
  EXPECT_EQ(parsed.payload(), "xyz");
  // Canonical: re-serializing gives the same bytes.
  EXPECT_EQ(parsed.SerializeAsString(), body);
}

TEST(RecordTest, FrameRoundTripAndDecode) {
  std::string body = BuildBody(1, ZeroHash(), "");
  std::string hash = crypto::Sha256().Chain(ZeroHash(), body);
  std::string record = FrameRecord(hash, body);
  std::string_view h, b;
  ASSERT_TRUE(SplitRecord(record, &h, &b));
  EXPECT_EQ(h, hash);
  EXPECT_EQ(b, body);
  auto env = DecodeRecord(record);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->hash(), hash);
  EXPECT_EQ(env->sequence(), 1u);
}

TEST(RecordTest, MalformedInputIsRejected) {
  std::string_view h, b;
  EXPECT_FALSE(SplitRecord("", &h, &b));
  EXPECT_FALSE(SplitRecord(std::string(40, '\x02'), &h, &b));
  uint64_t seq;
  std::string_view prev;
  EXPECT_FALSE(ScanBody("", &seq, &prev));
  EXPECT_FALSE(ScanBody("\x12\x20", &seq, &prev));
  EXPECT_FALSE(ScanBody(std::string("\x08\x01\x12\x05short", 9), &seq, &prev));
  EXPECT_EQ(DecodeRecord(std::string(1, kRecordFormatV1) + std::string(32, 'h') + "\xff\xff")
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace takt::eventlog

namespace takt::eventlog {
namespace {

TEST(RecordTest, FrameInPlaceMatchesFrameRecord) {
  v1::Envelope rest;
  rest.set_facility("f1");
  rest.set_payload(std::string(300, 'p'));
  std::string serialized = rest.SerializeAsString();
  for (uint64_t seq : {1ull, 127ull, 128ull, 1ull << 40}) {
    std::string prev(kHashSize, static_cast<char>(seq));
    std::string buf(kRecordHeadroom, '?');
    buf += serialized;
    std::string hash;
    std::string_view record = FrameInPlace(buf, seq, prev, hash);
    std::string body = BuildBody(seq, prev, serialized);
    EXPECT_EQ(record, FrameRecord(crypto::Sha256().Chain(prev, body), body)) << seq;
    EXPECT_EQ(hash, crypto::Sha256().Chain(prev, body));
  }
}

}  // namespace
}  // namespace takt::eventlog
