// File: backup_command.h
// -----------------------------------------------------------------------------
// `takt backup` and `takt restore`. A backup is taken by the server while it
// serves (takt.operations.v1.OperationsService/Backup; --target), or, with
// no server running on the data directory, by this process opening it
// (--data-dir). A restore copies a backup into a new data directory; the
// server started on it rebuilds the rollups from the restored log.
#ifndef TAKT_LIBS_CLI_BACKUP_COMMAND_H_
#define TAKT_LIBS_CLI_BACKUP_COMMAND_H_

#include <ostream>
#include <string>

namespace takt::cli {

struct BackupArgs {
  std::string target;    // a running server (administrator), or
  std::string data_dir;  // a data directory no server runs on
  std::string out;       // the new backup directory (absolute on the server's machine)
  bool json = false;
};
int RunBackup(const BackupArgs& args, std::ostream& out, std::ostream& err);

struct RestoreArgs {
  std::string from;      // a backup directory
  std::string data_dir;  // new or empty
};
int RunRestore(const RestoreArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_BACKUP_COMMAND_H_
