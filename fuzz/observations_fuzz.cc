// A gateway's batch off the wire (protobuf bytes), screened against a small
// plant: every observation accepted or rejected with a reason, never a
// crash.
#include <cstdint>
#include <cstdlib>

#include "absl/time/clock.h"
#include "services/scheduling/ingest.h"
#include "takt/enterprise/v1/model.pb.h"

namespace {

const takt::model::EnterpriseModel& Plant() {
  static const takt::model::EnterpriseModel* model = [] {
    namespace ev1 = ::takt::enterprise::v1;
    auto* m = new takt::model::EnterpriseModel();
    ev1::FacilityDefined f;
    f.set_facility("plant");
    f.mutable_calendar()->set_time_zone("UTC");
    ev1::AreaDefined a;
    a.set_facility("plant");
    a.set_area("body");
    ev1::WorkCenterDefined w;
    w.set_facility("plant");
    w.set_area("body");
    w.set_work_center("press");
    ev1::WorkUnitDefined u;
    u.set_facility("plant");
    u.set_work_center("press");
    u.set_work_unit("press-1");
    ev1::ProductDefined p;
    p.set_product("hood");
    p.set_planned_run_time_per_item_us(60'000'000);
    for (const google::protobuf::Message* msg : {static_cast<const google::protobuf::Message*>(&f),
                                                 static_cast<const google::protobuf::Message*>(&a),
                                                 static_cast<const google::protobuf::Message*>(&w),
                                                 static_cast<const google::protobuf::Message*>(&u),
                                                 static_cast<const google::protobuf::Message*>(&p)}) {
      auto events = m->Decide(*msg);
      if (!events.ok()) std::abort();
      for (const auto& e : *events) {
        if (!m->Apply(e).ok()) std::abort();
      }
    }
    return m;
  }();
  return *model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  takt::scheduling::v1::ObservationBatch batch;
  if (size > 256 * 1024 || !batch.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)takt::scheduling::Screen(batch, Plant(), absl::FromUnixSeconds(1'800'000'000), "fuzz");
  return 0;
}
