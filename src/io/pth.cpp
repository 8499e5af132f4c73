#include "io/pth.h"

#include <string_view>

#include "io/pickle.h"
#include "io/zip.h"

namespace gander::io {

Checkpoint parse_pth(std::shared_ptr<Buffer> buffer, const std::string& source) {
  const ZipArchive zip(*buffer, source);
  std::string prefix;
  for (auto& [name, e] : zip.entries())
    if (name.ends_with("/data.pkl") && name.find('/') == name.size() - 9) {
      prefix = name.substr(0, name.size() - 8);
      break;
    }
  GANDER_CHECK(!prefix.empty(), source, ": no <name>/data.pkl inside: not a torch.save checkpoint");
  if (zip.find(prefix + "byteorder")) {
    const ZipEntry* bo = &zip.stored(prefix + "byteorder");
    std::string_view order(reinterpret_cast<const char*>(buffer->data() + bo->data_offset), size_t(bo->size));
    GANDER_CHECK(order == "little", source, ": storages are '", order, "'-endian; only little-endian is supported");
  }
  const ZipEntry& pkl = zip.stored(prefix + "data.pkl");
  const std::string_view pickle(reinterpret_cast<const char*>(buffer->data() + pkl.data_offset), size_t(pkl.size));
  Checkpoint ck(source, "pth");
  for (const PickledTensor& t : unpickle_state_dict(pickle, source)) {
    const std::string where = concat(source, ": tensor '", t.name, "'");
    // Only contiguous row-major tensors: official checkpoints store nothing else.
    int64_t expect = 1, numel = 1;
    for (size_t d = t.shape.size(); d-- > 0;) {
      GANDER_CHECK(t.shape[d] == 1 || t.stride[d] == expect, where, ": is not contiguous (stride ", t.stride[d],
                   " in dimension ", d, ")");
      expect *= t.shape[d];
    }
    for (int64_t s : t.shape) {
      GANDER_CHECK(s < (int64_t(1) << 40) && (s == 0 || numel <= (int64_t(1) << 48) / s), where, ": shape too large");
      numel *= s;
    }
    GANDER_CHECK(t.offset + numel <= t.storage_numel, where, ": extends past its storage (", t.offset, " + ", numel,
                 " > ", t.storage_numel, " elements)");
    const ZipEntry& st = zip.stored(prefix + "data/" + t.storage_key);
    const uint64_t esz = dtype_size(t.dtype);
    GANDER_CHECK(st.size == uint64_t(t.storage_numel) * esz, where, ": storage '", t.storage_key, "' holds ", st.size,
                 " bytes, expected ", uint64_t(t.storage_numel) * esz);
    ck.add(t.name, Tensor::view(buffer, size_t(st.data_offset + uint64_t(t.offset) * esz), t.dtype,
                                Shape(t.shape.begin(), t.shape.end())));
  }
  return ck;
}

Checkpoint load_pth(const std::string& path) { return parse_pth(MappedFile::open(path), path); }

}  // namespace gander::io
