#include "services/rollups/rollup_store.h"

#include "libs/storage/rocksdb_util.h"

#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/write_batch.h"

namespace takt::rollup {
namespace {

constexpr size_t kSumsBytes = 8 * kpi::kElementCount;

using storage::FromRocks;
using storage::GetBigEndian64;
using storage::PutBigEndian64;

std::string HourKey(std::string_view prefix, absl::Time hour) {
  std::string key(prefix);
  PutBigEndian64(&key, static_cast<uint64_t>(absl::ToUnixSeconds(hour)));
  return key;
}

constexpr absl::CivilDay kEpochDay(1970, 1, 1);

std::string DayKey(const std::string& facility, absl::CivilDay day) {
  std::string key = absl::StrCat(facility, std::string(1, '\0'));
  PutBigEndian64(&key, static_cast<uint64_t>(day - kEpochDay + (int64_t{1} << 40)));
  return key;
}

std::string UnitPrefix(const std::string& facility, const std::string& unit) {
  return absl::StrCat(facility, std::string(1, '\0'), unit, std::string(1, '\0'));
}

std::string FacilityPrefix(const std::string& facility) {
  return absl::StrCat(facility, std::string(1, '\0'));
}

// A family's rows live in the same column families as production's, under
// keys of their own: "\x01" family "\0" then the production key. Facility
// ids never start with \x01, so production scans never meet them.
constexpr char kFamilyMark = '\x01';

std::string FamilyPrefix(const std::string& family) {
  return absl::StrCat(std::string(1, kFamilyMark), family, std::string(1, '\0'));
}

// A family's production-day rows of one work unit (or other key of its
// own, such as a characteristic): "\x02" family "\0" facility "\0" unit
// "\0" day, in facility_days.
constexpr char kFamilyUnitDayMark = '\x02';

std::string FamilyUnitDayBase(const std::string& family, const std::string& facility,
                              const std::string& unit) {
  return absl::StrCat(std::string(1, kFamilyUnitDayMark), family, std::string(1, '\0'), facility,
                      std::string(1, '\0'), unit);
}

bool IsFamilyKey(const rocksdb::Slice& key) {
  return !key.empty() && (key[0] == kFamilyMark || key[0] == kFamilyUnitDayMark);
}

// A family's cursor: "cursor/<context>#<family>"; production's: "cursor/<context>".
bool IsFamilyCursor(const rocksdb::Slice& key) {
  return key.starts_with("cursor/") && key.ToStringView().find('#') != std::string_view::npos;
}


// Element-wise addition of little-endian int64 vectors of equal length:
// writes never read. Overflow-checked like ElementSums: a sum that leaves
// the int64 range is stored as kpi::kOverflowed and stays so.
class SumsAddOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    if (value.size() % 8 != 0) return false;  // -> Corruption on read
    if (existing == nullptr) {
      new_value->assign(value.data(), value.size());
      return true;
    }
    if (existing->size() != value.size()) return false;
    new_value->resize(value.size());
    for (size_t i = 0; i < value.size(); i += 8) {
      int64_t a = 0, b = 0;
      std::memcpy(&a, existing->data() + i, 8);
      std::memcpy(&b, value.data() + i, 8);
      a = kpi::AddChecked(a, b);  // little-endian hosts only (x86-64, arm64)
      std::memcpy(new_value->data() + i, &a, 8);
    }
    return true;
  }
  const char* Name() const override { return "takt.SumsAdd.v1"; }
};

std::string EncodeCursor(const Cursor& cursor) {
  std::string encoded;
  for (const auto& [partition, offset] : cursor) {
    absl::StrAppend(&encoded, partition.size(), ":", partition, "=", offset, ";");
  }
  return encoded;
}

std::string EncodePair(int64_t a, int64_t b) {
  std::string out(16, '\0');
  std::memcpy(out.data(), &a, 8);
  std::memcpy(out.data() + 8, &b, 8);
  return out;
}

}  // namespace

std::string EncodeSums(const kpi::ElementSums& sums) {
  std::string out(kSumsBytes, '\0');
  for (int i = 0; i < kpi::kElementCount; ++i) {
    uint64_t v = static_cast<uint64_t>(sums.v[i]);
    for (int b = 0; b < 8; ++b) out[8 * i + b] = static_cast<char>(v >> (8 * b));
  }
  return out;
}

bool DecodeSums(std::string_view bytes, kpi::ElementSums* sums) {
  if (bytes.size() != kSumsBytes) return false;
  for (int i = 0; i < kpi::kElementCount; ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 * i + b])) << (8 * b);
    }
    sums->v[i] = static_cast<int64_t>(v);
  }
  return true;
}

std::string EncodeValues(const kpi::Values& values) {
  std::string out(8 * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    const auto v = static_cast<uint64_t>(values[i]);
    for (int b = 0; b < 8; ++b) out[8 * i + b] = static_cast<char>(v >> (8 * b));
  }
  return out;
}

bool DecodeValues(std::string_view bytes, size_t width, kpi::Values* values) {
  if (bytes.size() != 8 * width) return false;
  values->assign(width, 0);
  for (size_t i = 0; i < width; ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 * i + b])) << (8 * b);
    }
    (*values)[i] = static_cast<int64_t>(v);
  }
  return true;
}

struct RollupStore::Impl {
  std::unique_ptr<storage::RocksHandle> rocks;
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* unit_hours = nullptr;
  rocksdb::ColumnFamilyHandle* facility_hours = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* timelines = nullptr;
  rocksdb::ColumnFamilyHandle* reason_hours = nullptr;
  rocksdb::ColumnFamilyHandle* facility_days = nullptr;
  rocksdb::ColumnFamilyHandle* orders = nullptr;
  uint64_t batch = 0;  // last timeline batch number (Apply is single-writer)

  // Adds to `wb` the deletion of a family's rows, its cursor and its parked
  // facilities.
  absl::Status DeleteFamily(const kpi::Family& family, const std::string& cursor_key, rocksdb::WriteBatch& wb) {
    const std::string prefix = FamilyPrefix(family.name);
    const std::string unit_days =
        absl::StrCat(std::string(1, kFamilyUnitDayMark), family.name, std::string(1, '\0'));
    for (rocksdb::ColumnFamilyHandle* cf : {unit_hours, facility_hours, facility_days}) {
      for (const std::string& p : {prefix, unit_days}) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
        for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) wb.Delete(cf, it->key());
        if (!it->status().ok()) return FromRocks(it->status(), "clearing a family's rows");
      }
    }
    wb.Delete(meta, absl::StrCat("cursor/", cursor_key));
    const std::string parked = absl::StrCat("parked/", cursor_key, "/");
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
    for (it->Seek(parked); it->Valid() && it->key().starts_with(parked); it->Next()) wb.Delete(meta, it->key());
    return FromRocks(it->status(), "clearing a family's parked facilities");
  }

  // Calls fn(hour, value) for every hour row under `prefix` in [from, to).
  template <typename Fn>
  absl::Status ScanHours(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                         absl::Time from, absl::Time to, Fn fn) const {
    rocksdb::ReadOptions ro;
    std::string upper = HourKey(prefix, to);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    for (it->Seek(HourKey(prefix, from)); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      TAKT_RETURN_IF_ERROR(fn(absl::FromUnixSeconds(static_cast<int64_t>(
                                  GetBigEndian64(key.substr(key.size() - 8)))),
                              it->value().ToStringView()));
    }
    return FromRocks(it->status(), "reading rollups");
  }

  // Calls fn(day, value) for every day row of `prefix` (a facility's,
  // possibly under a family's prefix) in [from, to].
  template <typename Fn>
  absl::Status ScanDays(const std::string& prefix, absl::CivilDay from, absl::CivilDay to,
                        Fn fn) const {
    rocksdb::ReadOptions ro;
    std::string upper = DayKey(prefix, to + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, facility_days));
    for (it->Seek(DayKey(prefix, from)); it->Valid(); it->Next()) {
      const int64_t n =
          static_cast<int64_t>(GetBigEndian64(it->key().ToStringView().substr(prefix.size() + 1))) -
          (int64_t{1} << 40);
      TAKT_RETURN_IF_ERROR(fn(kEpochDay + n, it->value().ToStringView()));
    }
    return FromRocks(it->status(), "reading rollups");
  }

  absl::StatusOr<kpi::ElementSums> Sum(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                                       absl::Time from, absl::Time to,
                                       std::map<absl::Time, kpi::ElementSums>* hours) const {
    kpi::ElementSums total;
    TAKT_RETURN_IF_ERROR(
        ScanHours(cf, prefix, from, to, [&](absl::Time hour, std::string_view value) {
          kpi::ElementSums row;
          if (!DecodeSums(value, &row)) {
            return absl::DataLossError("rollup row does not decode; rebuild the rollups");
          }
          total += row;
          if (hours != nullptr) (*hours)[hour] += row;
          return absl::OkStatus();
        }));
    return total;
  }

  absl::StatusOr<kpi::Values> SumValues(rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
                                        absl::Time from, absl::Time to, size_t width,
                                        std::map<absl::Time, kpi::Values>* hours) const {
    kpi::Values total(width, 0);
    TAKT_RETURN_IF_ERROR(
        ScanHours(cf, prefix, from, to, [&](absl::Time hour, std::string_view value) {
          kpi::Values row;
          if (!DecodeValues(value, width, &row)) {
            return absl::DataLossError("a family's rollup row does not decode; rebuild the rollups");
          }
          kpi::AddInto(total, row);
          if (hours != nullptr) kpi::AddInto((*hours)[hour], row);
          return absl::OkStatus();
        }));
    return total;
  }
};

RollupStore::RollupStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RollupStore::~RollupStore() = default;

// The layout of the store; a store written with another layout is dropped
// and rebuilt from the log (projections are derived data).
constexpr char kFormatKey[] = "format";
// 2: timeline rows per unit and batch; 3: 24 elements (work orders), and
// work-order rows; 4: times in whole microseconds between instants; 5:
// states and orders hold at most kpi::kMaxStateSpan, sums never wrap.
constexpr char kFormat[] = "5";
constexpr char kTimelineBatchKey[] = "timeline_batch";

absl::StatusOr<std::unique_ptr<RollupStore>> RollupStore::Open(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    TAKT_ASSIGN_OR_RETURN(auto store, OpenOnce(path));
    std::string format;
    rocksdb::Status s =
        store->impl_->db->Get(rocksdb::ReadOptions(), store->impl_->meta, kFormatKey, &format);
    if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the rollups format");
    bool empty;
    {
      std::unique_ptr<rocksdb::Iterator> it(
          store->impl_->db->NewIterator(rocksdb::ReadOptions(), store->impl_->meta));
      it->SeekToFirst();
      empty = !it->Valid();
    }
    if (empty) {
      TAKT_RETURN_IF_ERROR(FromRocks(
          store->impl_->db->Put(rocksdb::WriteOptions(), store->impl_->meta, kFormatKey, kFormat),
          "writing the rollups format"));
      return store;
    }
    if (s.ok() && format == kFormat) return store;
    if (attempt > 0) return absl::InternalError("cannot reset the rollups store at " + path);
    // Another layout: drop it; the projection rebuilds from the log.
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the rollups at ", path, " have an old layout and cannot be removed: ", ec.message()));
    }
  }
}

absl::StatusOr<std::unique_ptr<RollupStore>> RollupStore::OpenOnce(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  rocksdb::ColumnFamilyOptions sums;
  sums.merge_operator = std::make_shared<SumsAddOperator>();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"unit_hours", sums},
      {"facility_hours", sums},
      {"meta", rocksdb::ColumnFamilyOptions()},
      {"timelines", rocksdb::ColumnFamilyOptions()},
      {"reason_hours", sums},
      {"facility_days", sums},
      {"orders", rocksdb::ColumnFamilyOptions()},
  };
  auto impl = std::make_unique<Impl>();
  auto rocks = storage::OpenRocks(options, path, cfs, false);
  if (!rocks.ok()) return rocks.status();
  impl->rocks = std::move(*rocks);
  impl->db = impl->rocks->db.get();
  impl->unit_hours = impl->rocks->handles[1];
  impl->facility_hours = impl->rocks->handles[2];
  impl->meta = impl->rocks->handles[3];
  impl->timelines = impl->rocks->handles[4];
  impl->reason_hours = impl->rocks->handles[5];
  impl->facility_days = impl->rocks->handles[6];
  impl->orders = impl->rocks->handles[7];
  std::string batch;
  rocksdb::Status s = impl->db->Get(rocksdb::ReadOptions(), impl->meta, kTimelineBatchKey, &batch);
  if (s.ok() && batch.size() == 8) {
    impl->batch = GetBigEndian64(batch);
  } else if (!s.IsNotFound()) {
    return s.ok() ? absl::DataLossError("rollups timeline batch counter is corrupt")
                  : FromRocks(s, "reading the rollups batch counter");
  }
  return std::unique_ptr<RollupStore>(new RollupStore(std::move(impl)));
}

absl::Status RollupStore::Apply(const std::vector<UnitHourDelta>& deltas,
                                const std::vector<TimelineChange>& changes,
                                const std::vector<ReasonHourDelta>& reasons,
                                const std::vector<std::pair<std::string, std::string>>& orders,
                                const std::string& context, const Cursor& cursor, bool sync) {
  rocksdb::WriteBatch wb;
  for (const auto& [key, value] : orders) wb.Put(impl_->orders, key, value);
  if (!changes.empty()) {
    // One row per unit and batch (key: unit, batch number), holding the
    // unit's changes of this batch in order: few writes, and a replay in
    // key order restores them in the order they were applied.
    std::map<std::pair<std::string_view, std::string_view>, std::string> rows;
    for (const TimelineChange& c : changes) {
      std::string& row = rows[{c.facility, c.unit}];
      PutBigEndian64(&row, static_cast<uint64_t>(absl::ToUnixMicros(c.at)));
      row.push_back(static_cast<char>(c.state));
      PutBigEndian64(&row, c.reason.size());
      row.append(c.reason);
    }
    const uint64_t batch = ++impl_->batch;
    for (const auto& [unit, row] : rows) {
      std::string key = UnitPrefix(std::string(unit.first), std::string(unit.second));
      PutBigEndian64(&key, batch);
      wb.Put(impl_->timelines, key, row);
    }
    std::string counter;
    PutBigEndian64(&counter, batch);
    wb.Put(impl_->meta, kTimelineBatchKey, counter);
  }
  for (const ReasonHourDelta& r : reasons) {
    wb.Merge(impl_->reason_hours, HourKey(FacilityPrefix(r.facility), r.hour) + r.reason,
             EncodePair(r.micros, r.stoppages));
  }
  // A facility's hour and day rows get one operand per batch, the sum of
  // its units' deltas (overflow-checked addition is associative and the
  // overflow sticky, so this equals merging each delta): a third of the
  // memtable inserts per unit delta instead of three.
  std::map<std::pair<std::string_view, absl::Time>, kpi::ElementSums> facility_hours;
  std::map<std::pair<std::string_view, absl::CivilDay>, kpi::ElementSums> facility_days;
  for (const UnitHourDelta& d : deltas) {
    if (d.day == kEpochDay) {
      return absl::InvalidArgumentError("a rollup delta needs the production day of its hour");
    }
    wb.Merge(impl_->unit_hours, HourKey(UnitPrefix(d.facility, d.unit), d.hour), EncodeSums(d.delta));
    facility_hours[{d.facility, d.hour}] += d.delta;
    facility_days[{d.facility, d.day}] += d.delta;
  }
  for (const auto& [key, sums] : facility_hours) {
    wb.Merge(impl_->facility_hours, HourKey(FacilityPrefix(std::string(key.first)), key.second), EncodeSums(sums));
  }
  for (const auto& [key, sums] : facility_days) {
    wb.Merge(impl_->facility_days, DayKey(std::string(key.first), key.second), EncodeSums(sums));
  }
  wb.Put(impl_->meta, absl::StrCat("cursor/", context), EncodeCursor(cursor));
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(impl_->db->Write(wo, &wb), "writing rollups");
}

absl::StatusOr<Cursor> RollupStore::LoadCursor(const std::string& context) const {
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, absl::StrCat("cursor/", context), &value);
  Cursor cursor;
  if (s.IsNotFound()) return cursor;
  if (!s.ok()) return FromRocks(s, "reading cursor");
  std::string_view rest = value;
  const absl::Status corrupt = absl::DataLossError(
      absl::StrCat("the stored cursor of ", context, " is corrupt; rebuild the rollups"));
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    size_t len = 0;
    if (colon == std::string_view::npos ||
        !absl::SimpleAtoi(absl::string_view(rest.data(), colon), &len) ||
        rest.size() < colon + 1 + len) {
      return corrupt;
    }
    std::string partition(rest.substr(colon + 1, len));
    rest.remove_prefix(colon + 1 + len);
    size_t semi = rest.find(';');
    uint64_t offset = 0;
    if (rest.empty() || rest[0] != '=' || semi == std::string_view::npos ||
        !absl::SimpleAtoi(absl::string_view(rest.data() + 1, semi - 1), &offset)) {
      return corrupt;
    }
    cursor[partition] = offset;
    rest.remove_prefix(semi + 1);
  }
  return cursor;
}

absl::StatusOr<std::vector<std::tuple<absl::Time, int, std::string>>> RollupStore::LoadTimeline(
    const std::string& facility, const std::string& unit) const {
  std::vector<std::tuple<absl::Time, int, std::string>> out;
  const std::string prefix = UnitPrefix(facility, unit);
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->timelines));
  const absl::Status corrupt =
      absl::DataLossError("unit timeline row is corrupt; delete the rollups directory to rebuild");
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) return corrupt;
    std::string_view row = it->value().ToStringView();
    while (!row.empty()) {
      if (row.size() < 17) return corrupt;
      const auto at = static_cast<int64_t>(GetBigEndian64(row.substr(0, 8)));
      const int state = static_cast<unsigned char>(row[8]);
      const uint64_t reason_size = GetBigEndian64(row.substr(9, 8));
      row.remove_prefix(17);
      if (reason_size > row.size()) return corrupt;
      out.emplace_back(absl::FromUnixMicros(at), state, std::string(row.substr(0, reason_size)));
      row.remove_prefix(reason_size);
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading unit timeline");
  return out;
}

absl::StatusOr<std::optional<std::string>> RollupStore::LoadOrder(const std::string& key) const {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->orders, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading a work order's facts");
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RollupStore::LoadOrders(
    const std::string& facility) const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string prefix = FacilityPrefix(facility);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->orders));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading work orders");
  return out;
}

absl::StatusOr<std::optional<absl::Time>> RollupStore::LoadCalendarMark(
    const std::string& facility) const {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta,
                                     absl::StrCat("calendar/", facility), &value);
  if (s.IsNotFound()) return std::optional<absl::Time>();
  if (!s.ok()) return FromRocks(s, "reading a calendar mark");
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(value, &seconds)) {
    return absl::DataLossError("a calendar mark is corrupt; rebuild the rollups");
  }
  return std::optional<absl::Time>(absl::FromUnixSeconds(seconds));
}

absl::Status RollupStore::SaveCalendarMark(const std::string& facility, absl::Time change) {
  return FromRocks(impl_->db->Put(rocksdb::WriteOptions(), impl_->meta,
                                  absl::StrCat("calendar/", facility),
                                  absl::StrCat(absl::ToUnixSeconds(change))),
                   "writing a calendar mark");
}

absl::Status RollupStore::Clear() {
  rocksdb::WriteBatch wb;
  for (rocksdb::ColumnFamilyHandle* cf :
       {impl_->unit_hours, impl_->facility_hours, impl_->timelines, impl_->reason_hours,
        impl_->facility_days, impl_->orders}) {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!IsFamilyKey(it->key())) wb.Delete(cf, it->key());  // other families stay
    }
    if (!it->status().ok()) return FromRocks(it->status(), "clearing the rollups");
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->meta));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if ((it->key().starts_with("cursor/") && !IsFamilyCursor(it->key())) ||
        it->key().starts_with("calendar/") ||
        (it->key().starts_with("parked/") && it->key().ToStringView().find('#') == std::string_view::npos)) {
      wb.Delete(impl_->meta, it->key());
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "clearing the rollups");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(impl_->db->Write(wo, &wb), "clearing the rollups");
}

absl::StatusOr<std::map<std::string, std::pair<int64_t, int64_t>>> RollupStore::Reasons(
    const std::string& facility, absl::Time from, absl::Time to) const {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  const std::string prefix = FacilityPrefix(facility);
  rocksdb::ReadOptions ro;
  std::string upper = HourKey(prefix, to);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->reason_hours));
  for (it->Seek(HourKey(prefix, from)); it->Valid(); it->Next()) {
    if (it->value().size() != 16) return absl::DataLossError("reason row is corrupt");
    int64_t micros = 0, stoppages = 0;
    std::memcpy(&micros, it->value().data(), 8);
    std::memcpy(&stoppages, it->value().data() + 8, 8);
    std::string reason(it->key().ToStringView().substr(prefix.size() + 8));
    out[reason].first += micros;
    out[reason].second += stoppages;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading reasons");
  return out;
}

absl::StatusOr<kpi::ElementSums> RollupStore::SumUnit(const std::string& facility,
                                                      const std::string& unit, absl::Time from,
                                                      absl::Time to) const {
  return impl_->Sum(impl_->unit_hours, UnitPrefix(facility, unit), from, to, nullptr);
}

absl::StatusOr<kpi::ElementSums> RollupStore::SumFacility(const std::string& facility,
                                                          absl::Time from, absl::Time to) const {
  return impl_->Sum(impl_->facility_hours, FacilityPrefix(facility), from, to, nullptr);
}

absl::StatusOr<std::map<absl::Time, kpi::ElementSums>> RollupStore::Hours(
    const std::string& facility, const std::string& unit, absl::Time from, absl::Time to) const {
  std::map<absl::Time, kpi::ElementSums> hours;
  auto total = unit.empty()
                   ? impl_->Sum(impl_->facility_hours, FacilityPrefix(facility), from, to, &hours)
                   : impl_->Sum(impl_->unit_hours, UnitPrefix(facility, unit), from, to, &hours);
  if (!total.ok()) return total.status();
  return hours;
}

absl::StatusOr<std::map<absl::CivilDay, kpi::ElementSums>> RollupStore::FacilityDays(
    const std::string& facility, absl::CivilDay from, absl::CivilDay to) const {
  std::map<absl::CivilDay, kpi::ElementSums> out;
  TAKT_RETURN_IF_ERROR(impl_->ScanDays(facility, from, to, [&](absl::CivilDay day, std::string_view v) {
    kpi::ElementSums row;
    if (!DecodeSums(v, &row)) {
      return absl::DataLossError("rollup day row does not decode; rebuild the rollups");
    }
    out[day] += row;
    return absl::OkStatus();
  }));
  return out;
}

absl::Status RollupStore::ApplyFamily(const std::string& family,
                                      const std::vector<FamilyHourDelta>& deltas,
                                      const std::string& cursor_key, const Cursor& cursor,
                                      bool sync) {
  const std::string prefix = FamilyPrefix(family);
  rocksdb::WriteBatch wb;
  // One operand per row and batch, the sum of its deltas (as in Apply).
  std::map<std::string, kpi::Values> unit_hours, facility_hours, days;
  for (const FamilyHourDelta& d : deltas) {
    if (d.day == kEpochDay) {
      return absl::InvalidArgumentError("a rollup delta needs the production day of its hour");
    }
    if (!d.unit.empty()) {
      kpi::AddInto(unit_hours[HourKey(prefix + UnitPrefix(d.facility, d.unit), d.hour)], d.values);
      kpi::AddInto(days[DayKey(FamilyUnitDayBase(family, d.facility, d.unit), d.day)], d.values);
    }
    kpi::AddInto(facility_hours[HourKey(prefix + FacilityPrefix(d.facility), d.hour)], d.values);
    kpi::AddInto(days[DayKey(prefix + d.facility, d.day)], d.values);
  }
  for (const auto& [key, values] : unit_hours) wb.Merge(impl_->unit_hours, key, EncodeValues(values));
  for (const auto& [key, values] : facility_hours) wb.Merge(impl_->facility_hours, key, EncodeValues(values));
  for (const auto& [key, values] : days) wb.Merge(impl_->facility_days, key, EncodeValues(values));
  wb.Put(impl_->meta, absl::StrCat("cursor/", cursor_key), EncodeCursor(cursor));
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(impl_->db->Write(wo, &wb), "writing rollups");
}

absl::Status RollupStore::CheckFamilyLayout(const kpi::Family& family,
                                            const std::string& cursor_key) {
  // The element list and the row kinds (a store written before unit-day
  // rows existed rebuilds the family).
  std::string layout = "unit-days;";
  for (const kpi::ElementDef& e : family.elements) absl::StrAppend(&layout, e.name, ";");
  const std::string layout_key = absl::StrCat("family/", family.name);
  std::string stored;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta, layout_key, &stored);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading a family's layout");
  if (s.ok() && stored == layout) return absl::OkStatus();
  rocksdb::WriteBatch wb;
  // Another element list: this family's rows and cursor go.
  if (s.ok()) TAKT_RETURN_IF_ERROR(impl_->DeleteFamily(family, cursor_key, wb));
  wb.Put(impl_->meta, layout_key, layout);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(impl_->db->Write(wo, &wb), "writing a family's layout");
}

absl::Status RollupStore::ClearFamily(const kpi::Family& family, const std::string& cursor_key) {
  rocksdb::WriteBatch wb;
  TAKT_RETURN_IF_ERROR(impl_->DeleteFamily(family, cursor_key, wb));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(impl_->db->Write(wo, &wb), "clearing a family's rows");
}

absl::Status RollupStore::Park(const std::string& owner, const std::string& facility) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(impl_->db->Put(wo, impl_->meta, absl::StrCat("parked/", owner, "/", facility), ""),
                   "parking a facility");
}

absl::StatusOr<std::set<std::string>> RollupStore::Parked(const std::string& owner) const {
  std::set<std::string> out;
  const std::string prefix = absl::StrCat("parked/", owner, "/");
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->meta));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.insert(std::string(it->key().ToStringView().substr(prefix.size())));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the parked facilities");
  return out;
}

absl::StatusOr<kpi::Values> RollupStore::SumFamily(const kpi::Family& family,
                                                   const std::string& facility,
                                                   const std::string& unit, absl::Time from,
                                                   absl::Time to) const {
  const std::string prefix = FamilyPrefix(family.name);
  return unit.empty() ? impl_->SumValues(impl_->facility_hours, prefix + FacilityPrefix(facility),
                                         from, to, family.elements.size(), nullptr)
                      : impl_->SumValues(impl_->unit_hours, prefix + UnitPrefix(facility, unit),
                                         from, to, family.elements.size(), nullptr);
}

absl::StatusOr<std::map<absl::Time, kpi::Values>> RollupStore::FamilyHours(
    const kpi::Family& family, const std::string& facility, const std::string& unit,
    absl::Time from, absl::Time to) const {
  const std::string prefix = FamilyPrefix(family.name);
  std::map<absl::Time, kpi::Values> hours;
  auto total = unit.empty()
                   ? impl_->SumValues(impl_->facility_hours, prefix + FacilityPrefix(facility), from,
                                      to, family.elements.size(), &hours)
                   : impl_->SumValues(impl_->unit_hours, prefix + UnitPrefix(facility, unit), from,
                                      to, family.elements.size(), &hours);
  if (!total.ok()) return total.status();
  return hours;
}

absl::StatusOr<std::map<absl::CivilDay, kpi::Values>> RollupStore::FamilyDays(
    const kpi::Family& family, const std::string& facility, absl::CivilDay from,
    absl::CivilDay to) const {
  std::map<absl::CivilDay, kpi::Values> out;
  const size_t width = family.elements.size();
  TAKT_RETURN_IF_ERROR(impl_->ScanDays(
      FamilyPrefix(family.name) + facility, from, to, [&](absl::CivilDay day, std::string_view v) {
        kpi::Values row;
        if (!DecodeValues(v, width, &row)) {
          return absl::DataLossError("a family's day row does not decode; rebuild the rollups");
        }
        kpi::AddInto(out[day], row);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<kpi::Values> RollupStore::SumFamilyUnitDays(const kpi::Family& family,
                                                           const std::string& facility,
                                                           const std::string& unit,
                                                           absl::CivilDay from,
                                                           absl::CivilDay to) const {
  kpi::Values sum(family.elements.size(), 0);
  const size_t width = family.elements.size();
  TAKT_RETURN_IF_ERROR(impl_->ScanDays(
      FamilyUnitDayBase(family.name, facility, unit), from, to,
      [&](absl::CivilDay, std::string_view v) {
        kpi::Values row;
        if (!DecodeValues(v, width, &row)) {
          return absl::DataLossError("a family's unit-day row does not decode; rebuild the rollups");
        }
        kpi::AddInto(sum, row);
        return absl::OkStatus();
      }));
  return sum;
}

storage::StorageHealth RollupStore::Health() const { return storage::ReadStorageHealth(impl_->db); }

absl::Status RollupStore::Compact() {
  for (auto* cf : {impl_->unit_hours, impl_->facility_hours, impl_->reason_hours,
                   impl_->facility_days}) {
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    absl::Status s = FromRocks(impl_->db->CompactRange(o, cf, nullptr, nullptr), "compacting");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, kpi::ElementSums>> RollupStore::DumpUnitHours() const {
  std::map<std::string, kpi::ElementSums> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->unit_hours));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (IsFamilyKey(it->key())) continue;
    kpi::ElementSums row;
    if (!DecodeSums(it->value().ToStringView(), &row)) {
      return absl::DataLossError("rollup row does not decode");
    }
    out[it->key().ToString()] = row;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading rollups");
  return out;
}

}  // namespace takt::rollup
