#include "services/scheduling/solver/jssp.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace takt::sched {
namespace {

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  for (absl::string_view f : absl::StrSplit(absl::string_view(line.data(), line.size()),
                                            absl::ByAnyChar(" \t\r"), absl::SkipEmpty())) {
    out.emplace_back(f);
  }
  return out;
}

}  // namespace

absl::StatusOr<JsspInstance> ParseJssp(std::string_view text) {
  std::vector<std::vector<std::string>> lines;
  std::vector<int> line_numbers;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++number;
    auto fields = Fields(std::string_view(line.data(), line.size()));
    if (fields.empty() || fields[0][0] == '#') continue;
    lines.push_back(std::move(fields));
    line_numbers.push_back(number);
  }
  if (lines.empty()) return absl::InvalidArgumentError("empty instance");
  JsspInstance inst;
  if (lines[0].size() != 2 || !absl::SimpleAtoi(lines[0][0], &inst.jobs) ||
      !absl::SimpleAtoi(lines[0][1], &inst.machines) || inst.jobs <= 0 || inst.machines <= 0) {
    return absl::InvalidArgumentError("line 1: expected '<jobs> <machines>' (positive integers)");
  }
  if (static_cast<int>(lines.size()) - 1 != inst.jobs) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", inst.jobs, " job lines, found ",
                                                   lines.size() - 1));
  }
  Problem& p = inst.problem;
  for (int m = 0; m < inst.machines; ++m) p.units.push_back(Unit{absl::StrCat("m", m), {}});
  for (int j = 0; j < inst.jobs; ++j) {
    const auto& f = lines[j + 1];
    const int ln = line_numbers[j + 1];
    if (static_cast<int>(f.size()) != 2 * inst.machines) {
      return absl::InvalidArgumentError(absl::StrCat("line ", ln, ": expected ", inst.machines,
                                                     " (machine, time) pairs, found ", f.size(),
                                                     " numbers"));
    }
    p.jobs.push_back(Job{absl::StrCat("j", j), 0, kNoDue, 1});
    for (int k = 0; k < inst.machines; ++k) {
      int machine = 0;
      int64_t time = 0;
      if (!absl::SimpleAtoi(f[2 * k], &machine) || !absl::SimpleAtoi(f[2 * k + 1], &time)) {
        return absl::InvalidArgumentError(absl::StrCat("line ", ln, ": operation ", k,
                                                       " is not two integers"));
      }
      if (machine < 0 || machine >= inst.machines) {
        return absl::InvalidArgumentError(absl::StrCat("line ", ln, ": operation ", k,
                                                       " names machine ", machine,
                                                       ", which does not exist"));
      }
      if (time < 0) {
        return absl::InvalidArgumentError(absl::StrCat("line ", ln, ": operation ", k,
                                                       " has a negative time"));
      }
      Operation op;
      op.id = absl::StrCat("j", j, "o", k);
      op.job = j;
      op.options = {Option{machine, time}};
      if (k > 0) op.predecessors = {static_cast<int>(p.ops.size()) - 1};
      p.ops.push_back(std::move(op));
    }
  }
  return inst;
}

absl::StatusOr<JsspInstance> ReadJsspFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto inst = ParseJssp(text.str());
  if (!inst.ok()) {
    return absl::Status(inst.status().code(), absl::StrCat(path, ": ", inst.status().message()));
  }
  return inst;
}

std::string FormatJsspSchedule(const JsspInstance& inst, const Schedule& s) {
  std::string out;
  for (int j = 0; j < inst.jobs; ++j) {
    for (int k = 0; k < inst.machines; ++k) {
      const Assignment& a = s.ops[j * inst.machines + k];
      absl::StrAppend(&out, j, " ", k, " ", a.unit, " ", a.start, " ", a.end, "\n");
    }
  }
  return out;
}

absl::StatusOr<std::map<std::string, int64_t>> ReadJsspBounds(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::map<std::string, int64_t> out;
  std::string line;
  std::getline(in, line);  // header: instance,jobs,machines,optimum,lower_bound,upper_bound
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() < 6) continue;
    int64_t v = 0;
    if (absl::SimpleAtoi(f[3], &v) || absl::SimpleAtoi(absl::StripAsciiWhitespace(f[5]), &v)) {
      out[f[0]] = v;
    }
  }
  return out;
}

}  // namespace takt::sched
