#include "services/enterprise/definitions_yaml.h"

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/common/ids.h"

namespace takt::enterprise {
namespace {

// Walks the document, collecting the first error with its place.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  void Fail(const YAML::Node& at, const std::string& path, const std::string& what) {
    if (failed()) return;
    const YAML::Mark m = at.Mark();
    error_ = absl::StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", path, ": ", what);
  }

  // A map whose keys are all among `known`, with every key of `required`.
  bool Map(const YAML::Node& n, const std::string& path, std::initializer_list<const char*> known,
           std::initializer_list<const char*> required = {}) {
    if (!n.IsMap()) {
      Fail(n, path, "expected a map");
      return false;
    }
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (!ok) {
        Fail(kv.first, path, absl::StrCat("unknown key '", key, "' (expected ",
                                          absl::StrJoin(known, ", "), ")"));
        return false;
      }
    }
    for (const char* k : required) {
      if (!n[k]) {
        Fail(n, path, absl::StrCat("'", k, "' is required"));
        return false;
      }
    }
    return true;
  }

  // An optional sequence (absent: empty).
  bool Seq(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull() || n.IsSequence()) return true;
    Fail(n, path, "expected a list");
    return false;
  }

  // An optional scalar (absent: `fallback`).
  std::string Str(const YAML::Node& parent, const char* key, const std::string& path,
                  const std::string& fallback = "") {
    const YAML::Node n = parent[key];
    if (!n) return fallback;
    if (!n.IsScalar()) {
      Fail(n, absl::StrCat(path, ".", key), "expected a single value");
      return fallback;
    }
    return n.Scalar();
  }

  std::string Id(const YAML::Node& parent, const char* key, const std::string& path) {
    const std::string id = Str(parent, key, path);
    if (failed()) return id;
    if (absl::Status s = ValidateId(key, id); !s.ok()) {
      Fail(parent[key] ? parent[key] : parent, path, std::string(s.message()));
    }
    return id;
  }

  // Each id once per file (per `kind`, within `scope`).
  void Once(const YAML::Node& at, const std::string& path, const std::string& kind,
            const std::string& scope, const std::string& id, const std::string& where = "") {
    auto [it, fresh] = seen_.emplace(std::make_tuple(kind, scope, id), std::make_pair(path, where));
    if (fresh) return;
    if (!where.empty() && it->second.second != where) {
      Fail(at, path, absl::StrCat(kind, " '", id, "' is already under ", it->second.second,
                                  " (", it->second.first, "); one ", kind, " has one parent"));
    } else {
      Fail(at, path, absl::StrCat(kind, " '", id, "' is already defined at ", it->second.first));
    }
  }

 private:
  std::string file_;
  std::string error_;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<std::string, std::string>>
      seen_;
};

}  // namespace

absl::StatusOr<v1::ApplyDefinitionsRequest> ParseDefinitionsYaml(std::string_view text,
                                                                 std::string_view file) {
  // A UTF-8 byte order mark (editors on Windows write one) is not content.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  Reader r{std::string(file)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {  // yaml-cpp reports syntax by exception
    return absl::InvalidArgumentError(absl::StrCat(std::string(file), ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  v1::ApplyDefinitionsRequest req;
  if (!root || root.IsNull()) return absl::InvalidArgumentError(absl::StrCat(std::string(file), ": empty"));
  if (!r.Map(root, "(top)", {"regions", "products", "facilities", "moves"})) {
    return absl::InvalidArgumentError(r.error());
  }
  for (const char* list : {"regions", "products", "facilities", "moves"}) r.Seq(root[list], list);
  if (r.failed()) return absl::InvalidArgumentError(r.error());

  int i = 0;
  for (const auto& n : root["regions"]) {
    const std::string path = absl::StrCat("regions[", i++, "]");
    if (!r.Map(n, path, {"id", "name"}, {"id"})) break;
    auto* d = req.add_definitions()->mutable_region();
    d->set_region(r.Id(n, "id", path));
    d->set_display_name(r.Str(n, "name", path));
    r.Once(n, path, "region", "", d->region());
  }
  i = 0;
  for (const auto& n : root["products"]) {
    const std::string path = absl::StrCat("products[", i++, "]");
    if (!r.Map(n, path, {"id", "name", "planned_run_time_per_item"},
               {"id", "planned_run_time_per_item"})) {
      break;
    }
    auto* d = req.add_definitions()->mutable_product();
    d->set_product(r.Id(n, "id", path));
    d->set_display_name(r.Str(n, "name", path));
    const std::string pri = r.Str(n, "planned_run_time_per_item", path);
    absl::Duration dur;
    if (!r.failed() && !absl::ParseDuration(pri, &dur)) {
      r.Fail(n["planned_run_time_per_item"], path + ".planned_run_time_per_item",
             absl::StrCat("'", pri, "' is not a duration (e.g. 40s, 1m30s, 250ms, 1h)"));
    }
    d->set_planned_run_time_per_item_us(absl::ToInt64Microseconds(dur));
    r.Once(n, path, "product", "", d->product());
  }
  i = 0;
  for (const auto& f : root["facilities"]) {
    const std::string path = absl::StrCat("facilities[", i++, "]");
    if (!r.Map(f, path,
               {"id", "name", "region", "region_from", "commissioned_on", "calendar", "areas"},
               {"id", "calendar"})) {
      break;
    }
    const std::string id = r.Id(f, "id", path);
    r.Once(f, path, "facility", "", id);
    auto* fd = req.add_definitions()->mutable_facility();
    fd->set_facility(id);
    fd->set_display_name(r.Str(f, "name", path));
    fd->set_commissioned_on(r.Str(f, "commissioned_on", path));
    const YAML::Node cal = f["calendar"];
    const std::string cpath = path + ".calendar";
    if (!r.Map(cal, cpath, {"time_zone", "day_start", "effective_from", "shifts"}, {"time_zone"})) break;
    fd->mutable_calendar()->set_time_zone(r.Str(cal, "time_zone", cpath));
    fd->mutable_calendar()->set_day_start(r.Str(cal, "day_start", cpath, "00:00"));
    fd->mutable_calendar()->set_effective_from(r.Str(cal, "effective_from", cpath));
    if (!r.Seq(cal["shifts"], cpath + ".shifts")) break;
    int k = 0;
    for (const auto& s : cal["shifts"]) {
      const std::string spath = absl::StrCat(cpath, ".shifts[", k++, "]");
      if (!r.Map(s, spath, {"name", "start", "end"}, {"name", "start", "end"})) break;
      auto* shift = fd->mutable_calendar()->add_shifts();
      shift->set_name(r.Str(s, "name", spath));
      shift->set_start(r.Str(s, "start", spath));
      shift->set_end(r.Str(s, "end", spath));
    }
    if (f["region"]) {
      auto* mv = req.add_definitions()->mutable_move();
      mv->set_facility(id);
      mv->set_region(r.Id(f, "region", path));
      mv->set_effective_from(r.Str(f, "region_from", path, "2000-01-01"));
    }
    if (!r.Seq(f["areas"], path + ".areas")) break;
    int a = 0;
    for (const auto& area : f["areas"]) {
      const std::string apath = absl::StrCat(path, ".areas[", a++, "]");
      if (!r.Map(area, apath, {"id", "name", "work_centers"}, {"id"})) break;
      const std::string area_id = r.Id(area, "id", apath);
      r.Once(area, apath, "area", id, area_id);
      auto* ad = req.add_definitions()->mutable_area();
      ad->set_facility(id);
      ad->set_area(area_id);
      ad->set_display_name(r.Str(area, "name", apath));
      if (!r.Seq(area["work_centers"], apath + ".work_centers")) break;
      int w = 0;
      for (const auto& wc : area["work_centers"]) {
        const std::string wpath = absl::StrCat(apath, ".work_centers[", w++, "]");
        if (!r.Map(wc, wpath, {"id", "name", "work_units"}, {"id"})) break;
        const std::string wc_id = r.Id(wc, "id", wpath);
        r.Once(wc, wpath, "work center", id, wc_id, absl::StrCat("area '", area_id, "'"));
        auto* wd = req.add_definitions()->mutable_work_center();
        wd->set_facility(id);
        wd->set_area(area_id);
        wd->set_work_center(wc_id);
        wd->set_display_name(r.Str(wc, "name", wpath));
        if (!r.Seq(wc["work_units"], wpath + ".work_units")) break;
        int u = 0;
        for (const auto& unit : wc["work_units"]) {
          const std::string upath = absl::StrCat(wpath, ".work_units[", u++, "]");
          auto* ud = req.add_definitions()->mutable_work_unit();
          ud->set_facility(id);
          ud->set_work_center(wc_id);
          if (unit.IsScalar()) {
            ud->set_work_unit(unit.Scalar());
            if (absl::Status s = ValidateId("work_unit", unit.Scalar()); !s.ok()) {
              r.Fail(unit, upath, std::string(s.message()));
            }
          } else {
            if (!r.Map(unit, upath, {"id", "name"}, {"id"})) break;
            ud->set_work_unit(r.Id(unit, "id", upath));
            ud->set_display_name(r.Str(unit, "name", upath));
          }
          r.Once(unit, upath, "work unit", id, ud->work_unit(),
                 absl::StrCat("work center '", wc_id, "'"));
        }
      }
    }
    if (r.failed()) break;
  }
  i = 0;
  for (const auto& m : root["moves"]) {
    const std::string path = absl::StrCat("moves[", i++, "]");
    if (!r.Map(m, path, {"facility", "region", "effective_from"},
               {"facility", "region", "effective_from"})) {
      break;
    }
    auto* mv = req.add_definitions()->mutable_move();
    mv->set_facility(r.Id(m, "facility", path));
    mv->set_region(r.Id(m, "region", path));
    mv->set_effective_from(r.Str(m, "effective_from", path));
  }
  if (r.failed()) return absl::InvalidArgumentError(r.error());
  return req;
}

}  // namespace takt::enterprise
