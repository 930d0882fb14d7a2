// HTTP requests as the gateway turns them into request messages
// (http::RequestOf): the input's first line is a query string
// ("kpis=oee&from=2026-01-01&..."), the rest the JSON body; the message is
// QueryKpisRequest, the route the dashboard calls most.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_split.h"
#include "libs/http/gateway.h"
#include "takt/rollups/v1/rollups.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string query(in.substr(0, nl));
  const std::string body(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    params.push_back(std::move(kv));
  }
  (void)takt::http::RequestOf(*takt::rollups::v1::QueryKpisRequest::descriptor(), {{"scope", "regions/emea"}},
                              params, body);
  return 0;
}
