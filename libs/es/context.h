// File: context.h
// -----------------------------------------------------------------------------
// A bounded context as the shared infrastructure sees it: its name (Kafka
// topic takt.<name>.v1, the `context` of its envelopes, an audit context)
// and the streams that hold one facility's history in it. Each context
// declares this once, in its module (libs/host/module.h).
#ifndef TAKT_LIBS_ES_CONTEXT_H_
#define TAKT_LIBS_ES_CONTEXT_H_

#include <functional>
#include <string>
#include <vector>

namespace takt::es {

struct ContextDescriptor {
  std::string name;
  // The streams of `facility` in this context, in replay order (scheduling:
  // the shop floor and the plan; enterprise: its one master-data stream).
  std::function<std::vector<std::string>(const std::string& facility)> facility_streams =
      [](const std::string& facility) { return std::vector<std::string>{facility}; };
};

// The names of `contexts`.
inline std::vector<std::string> ContextNames(const std::vector<ContextDescriptor>& contexts) {
  std::vector<std::string> out;
  for (const auto& c : contexts) out.push_back(c.name);
  return out;
}

}  // namespace takt::es

#endif  // TAKT_LIBS_ES_CONTEXT_H_
