#include "libs/cli/heads_file.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace takt::cli {

absl::StatusOr<std::vector<eventlog::VerifiedHead>> ReadHeadsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<eventlog::VerifiedHead> heads;
  std::string error;
  if (!eventlog::ParseHeadsJsonLines(ss.str(), &heads, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", error));
  }
  return heads;
}

absl::Status WriteHeadsFile(const std::string& path,
                            const std::vector<eventlog::VerifiedHead>& heads) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << eventlog::HeadsToJsonLines(heads);
    if (!f.flush()) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace takt::cli
