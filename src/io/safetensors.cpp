#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "io/atomic_file.h"

namespace gander::io {

using json = nlohmann::json;

const char* safetensors_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::U8: return "U8";
  }
  return "?";
}

namespace {
bool parse_dtype(const std::string& s, DType& out) {
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::F64, DType::I64, DType::I32, DType::U8})
    if (s == safetensors_dtype_name(t)) {
      out = t;
      return true;
    }
  return false;
}

uint64_t read_u64_le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint64_t(p[i]);
  return v;
}

struct Range {
  uint64_t begin, end;
  std::string name;
};
}  // namespace

Checkpoint parse_safetensors(std::shared_ptr<Buffer> buffer, const std::string& source) {
  const uint64_t size = buffer->size();
  GANDER_CHECK(size >= 8, source, ": not a safetensors file (", size, " bytes, shorter than the 8-byte header length)");
  const uint64_t header_len = read_u64_le(buffer->data());
  GANDER_CHECK(header_len <= kMaxSafetensorsHeader, source, ": header length ", header_len, " is implausible (limit ",
               kMaxSafetensorsHeader, ")");
  GANDER_CHECK(header_len <= size - 8, source, ": truncated: header claims ", header_len, " bytes but the file has ",
               size - 8, " after the length field");
  const char* hdr = reinterpret_cast<const char*>(buffer->data() + 8);
  json j = json::parse(hdr, hdr + header_len, nullptr, /*allow_exceptions=*/false);
  GANDER_CHECK(!j.is_discarded(), source, ": header is not valid JSON");
  GANDER_CHECK(j.is_object(), source, ": header JSON is not an object");

  const uint64_t data_begin = 8 + header_len, data_size = size - data_begin;
  Checkpoint ck(source, "safetensors");
  std::vector<Range> ranges;
  for (auto& [name, e] : j.items()) {
    if (name == "__metadata__") {
      GANDER_CHECK(e.is_object(), source, ": __metadata__ is not an object");
      for (auto& [k, v] : e.items()) {
        GANDER_CHECK(v.is_string(), source, ": __metadata__ value for '", k, "' is not a string");
        ck.metadata()[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = concat(source, ": tensor '", name, "'");
    GANDER_CHECK(e.is_object(), where, ": entry is not an object");
    GANDER_CHECK(e.contains("dtype") && e["dtype"].is_string(), where, ": missing dtype");
    GANDER_CHECK(e.contains("shape") && e["shape"].is_array(), where, ": missing shape");
    GANDER_CHECK(e.contains("data_offsets") && e["data_offsets"].is_array() && e["data_offsets"].size() == 2, where,
                 ": data_offsets must be [begin, end]");
    DType dt;
    const std::string dts = e["dtype"].get<std::string>();
    GANDER_CHECK(parse_dtype(dts, dt), where, ": unsupported dtype '", dts, "'");
    Shape shape;
    uint64_t numel = 1;
    for (auto& d : e["shape"]) {
      GANDER_CHECK(d.is_number_unsigned(), where, ": shape entries must be non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      GANDER_CHECK(v < (uint64_t(1) << 40) && (v == 0 || numel <= (uint64_t(1) << 48) / v), where, ": shape is too large");
      numel *= v;
      shape.push_back(int64_t(v));
    }
    for (auto& o : e["data_offsets"]) GANDER_CHECK(o.is_number_unsigned(), where, ": data_offsets must be non-negative integers");
    const uint64_t b = e["data_offsets"][0].get<uint64_t>(), en = e["data_offsets"][1].get<uint64_t>();
    GANDER_CHECK(b <= en, where, ": data_offsets [", b, ", ", en, "] are reversed");
    GANDER_CHECK(en <= data_size, where, ": data [", b, ", ", en, ") lies beyond the end of the file (", data_size,
                 " data bytes): truncated?");
    GANDER_CHECK(en - b == numel * dtype_size(dt), where, ": ", en - b, " bytes do not hold ", dts, shape_str(shape),
                 " (", numel * dtype_size(dt), " bytes)");
    ranges.push_back({b, en, name});
    ck.add(name, Tensor::view(buffer, size_t(data_begin + b), dt, std::move(shape)));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) { return x.begin < y.begin; });
  for (size_t i = 1; i < ranges.size(); ++i)
    GANDER_CHECK(ranges[i].begin >= ranges[i - 1].end || ranges[i].begin == ranges[i].end ||
                     ranges[i - 1].begin == ranges[i - 1].end,
                 source, ": tensors '", ranges[i - 1].name, "' and '", ranges[i].name, "' overlap");
  return ck;
}

Checkpoint load_safetensors(const std::string& path) { return parse_safetensors(MappedFile::open(path), path); }

Checkpoint load_safetensors_index(const std::string& index_path) {
  namespace fs = std::filesystem;
  std::ifstream f(index_path);
  GANDER_CHECK(f, index_path, ": cannot open");
  json j = json::parse(f, nullptr, false);
  GANDER_CHECK(!j.is_discarded() && j.is_object(), index_path, ": not a valid JSON object");
  GANDER_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), index_path, ": missing 'weight_map'");
  const fs::path dir = fs::path(index_path).parent_path();
  std::map<std::string, Checkpoint> shards;
  Checkpoint out(index_path, "safetensors-sharded");
  for (auto& [name, file] : j["weight_map"].items()) {
    GANDER_CHECK(file.is_string(), index_path, ": weight_map entry for '", name, "' is not a file name");
    const std::string shard = file.get<std::string>();
    GANDER_CHECK(shard.find('/') == std::string::npos && shard != "..", index_path, ": shard name '", shard,
                 "' must be a file in the same folder");
    auto it = shards.find(shard);
    if (it == shards.end()) {
      const std::string shard_path = (dir / shard).string();
      GANDER_CHECK(fs::exists(shard_path), index_path, ": shard '", shard, "' listed for tensor '", name, "' is missing");
      it = shards.emplace(shard, load_safetensors(shard_path)).first;
    }
    const Tensor* t = it->second.find(name);
    GANDER_CHECK(t, index_path, ": tensor '", name, "' is listed in shard '", shard, "' but not stored there");
    out.add(name, *t);
  }
  for (auto& [shard, ck] : shards)
    for (auto& [k, v] : ck.metadata()) out.metadata()[k] = v;
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::set<std::string> seen;
  for (auto& [name, t] : tensors) {
    GANDER_CHECK(seen.insert(name).second, path, ": tensor '", name, "' given twice");
    header[name] = {{"dtype", safetensors_dtype_name(t.dtype())}, {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
  AtomicFile f(path);
  f.write(len, 8);
  f.write(h.data(), h.size());
  for (auto& [name, t] : tensors) f.write(t.raw(), t.nbytes());
  f.commit();
}

}  // namespace gander::io
