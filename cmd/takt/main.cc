// takt: one binary for every Takt command and service. All logic lives in
// libraries (libs/cli and below); this file only hands over argv.
#include "libs/cli/app.h"

int main(int argc, char** argv) { return takt::cli::RunTakt(argc, argv); }
