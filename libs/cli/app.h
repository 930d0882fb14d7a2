// File: app.h
// -----------------------------------------------------------------------------
// The `takt` command line. main() only calls RunTakt(); all commands live in
// libraries that tests and benchmarks link.
#ifndef TAKT_LIBS_CLI_APP_H_
#define TAKT_LIBS_CLI_APP_H_

namespace takt::cli {

// Parses argv and runs the command. Returns the process exit code.
int RunTakt(int argc, char** argv);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_APP_H_
