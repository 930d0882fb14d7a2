// Stored records as they come back from disk or a Kafka partition: framing,
// the chain fields and the envelope. Whatever decodes must survive a round
// trip through EncodeRecord unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "google/protobuf/util/message_differencer.h"
#include "libs/eventlog/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  std::string_view hash, body, prev;
  uint64_t sequence = 0;
  if (takt::eventlog::SplitRecord(record, &hash, &body)) (void)takt::eventlog::ScanBody(body, &sequence, &prev);
  auto decoded = takt::eventlog::DecodeRecord(record);
  if (!decoded.ok()) return 0;
  auto again = takt::eventlog::DecodeRecord(takt::eventlog::EncodeRecord(*decoded));
  if (!again.ok() || !google::protobuf::util::MessageDifferencer::Equals(*decoded, *again)) std::abort();
  return 0;
}
