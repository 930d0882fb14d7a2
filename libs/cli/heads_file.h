// File: heads_file.h
// -----------------------------------------------------------------------------
// The file of stream heads an auditor keeps between verifications
// (`--save-heads`, `--trusted-heads`): JSON Lines, one head per stream.
#ifndef TAKT_LIBS_CLI_HEADS_FILE_H_
#define TAKT_LIBS_CLI_HEADS_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/verify_report.h"

namespace takt::cli {

absl::StatusOr<std::vector<eventlog::VerifiedHead>> ReadHeadsFile(const std::string& path);

// Written whole or not at all (a temporary file, then a rename).
absl::Status WriteHeadsFile(const std::string& path, const std::vector<eventlog::VerifiedHead>& heads);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_HEADS_FILE_H_
