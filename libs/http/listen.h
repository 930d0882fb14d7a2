// File: listen.h
// -----------------------------------------------------------------------------
// Binds an httplib server to a "host:port" flag value (port 0: any free
// port): the port bound, or INVALID_ARGUMENT / UNAVAILABLE naming the flag.
// Include only in units that already include httplib.h.
#ifndef TAKT_LIBS_HTTP_LISTEN_H_
#define TAKT_LIBS_HTTP_LISTEN_H_

#include <httplib.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace takt::http {

inline absl::StatusOr<int> BindListen(httplib::Server& server, const std::string& listen, const char* flag) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", listen, "' is not host:port"));
  }
  const std::string host = listen.substr(0, colon);
  int port = -1;
  const std::string digits = listen.substr(colon + 1);
  if (!digits.empty() && digits.size() <= 5 && digits.find_first_not_of("0123456789") == std::string::npos) {
    port = std::stoi(digits);
  }
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", listen, "' has no valid port"));
  }
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, " (", flag, "): in use or not valid here"));
  }
  return bound;
}

}  // namespace takt::http

#endif  // TAKT_LIBS_HTTP_LISTEN_H_
