// File: log_commands.h
// -----------------------------------------------------------------------------
// `takt log ...`: offline verification, key export and the log demo.
#ifndef TAKT_LIBS_CLI_LOG_COMMANDS_H_
#define TAKT_LIBS_CLI_LOG_COMMANDS_H_

#include <ostream>
#include <string>

namespace takt::cli {

struct LogVerifyArgs {
  std::string data_dir;
  std::string context;
  std::string facility;
  std::string public_key_file;  // empty: <data_dir>/keys/checkpoint.pub
  std::string trusted_heads_file;  // heads kept earlier: detect a rollback or fork
  std::string trusted_ring_file;   // key ring kept earlier: today's must extend it
  std::string save_heads_file;     // keep today's heads here (JSON Lines)
  bool json = false;
};

// Returns the process exit code: 0 verified, 1 tampering found, 2 error.
int RunLogVerify(const LogVerifyArgs& args, std::ostream& out, std::ostream& err);

// Prints the checkpoint public key of a data directory.
int RunLogPublicKey(const std::string& data_dir, bool json, std::ostream& out, std::ostream& err);

// Replaces the checkpoint signing key of a stopped server's data directory
// by a new one that signs from now on (crypto::RotateSigningKey); the old
// public key stays in the key ring. Refuses while a server holds the data
// directory. Exit 0 rotated, 2 error.
int RunLogRotateKey(const std::string& data_dir, bool json, std::ostream& out, std::ostream& err);

// Appends observations and commands for a few facilities (with resends),
// reads them back and verifies every chain; prints what happened.
int RunLogDemo(const std::string& data_dir, bool json, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_LOG_COMMANDS_H_
