// File: cli.h
// -----------------------------------------------------------------------------
// `takt quality ...`: apply plans, stream samples, approve limits, charts,
// capability and NCR/CAPA, as clients of takt.quality.v1.QualityService.
#ifndef TAKT_SERVICES_QUALITY_CLI_H_
#define TAKT_SERVICES_QUALITY_CLI_H_

namespace CLI {
class App;
}

namespace takt::quality {

void AddQualityCommands(CLI::App& app, int* exit_code);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_CLI_H_
