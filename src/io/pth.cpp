#include "io/pth.h"

#include <string_view>

#include "io/pickle.h"
#include "io/zip.h"

namespace gander::io {

Checkpoint parse_pth(std::shared_ptr<Buffer> buffer, const std::string& source) {
  MemoryBudget budget(buffer->size(), source);
  const ZipArchive zip(*buffer, source, budget);
  std::string prefix;
  for (const ZipEntry& e : zip.entries())
    if (e.name.ends_with("/data.pkl") && e.name.find('/') == e.name.size() - 9) {
      prefix = std::string(e.name.substr(0, e.name.size() - 8));
      break;
    }
  GANDER_CHECK(!prefix.empty(), source, ": no <name>/data.pkl inside: not a torch.save checkpoint");
  if (zip.find(prefix + "byteorder")) {
    const ZipEntry& bo = zip.stored(prefix + "byteorder");
    std::string_view order(reinterpret_cast<const char*>(buffer->data() + bo.data_offset), size_t(bo.size));
    GANDER_CHECK(order == "little", source, ": storages are ", quote_name(order),
                 "-endian; only little-endian is supported");
  }
  const ZipEntry& pkl = zip.stored(prefix + "data.pkl");
  const std::string_view pickle(reinterpret_cast<const char*>(buffer->data() + pkl.data_offset), size_t(pkl.size));
  Checkpoint ck(source, "pth");
  for (const PickledTensor& t : unpickle_state_dict(pickle, source, budget)) {
    const std::string where = concat(source, ": tensor ", quote_name(t.name));
    const Shape shape(t.shape.begin(), t.shape.end());
    GANDER_CHECK(shape_fits(shape, t.dtype), where, ": shape ", shape_str(shape), " is too large");
    const uint64_t numel = uint64_t(shape_numel(shape)), esz = dtype_size(t.dtype);
    // Only contiguous row-major tensors: official checkpoints store nothing else. (The strides of
    // an empty tensor do not matter, as for torch's is_contiguous.)
    uint64_t expect = 1;  // a product of dimensions: no larger than numel's, so it cannot wrap
    for (size_t d = shape.size(); d-- > 0 && numel > 0;) {
      GANDER_CHECK(shape[d] == 1 || uint64_t(t.stride[d]) == expect, where, ": is not contiguous (stride ", t.stride[d],
                   " in dimension ", d, ")");
      expect *= uint64_t(shape[d]);
    }
    // Unsigned and in this order: offset + numel and storage_numel * element size wrapped in
    // signed 64-bit arithmetic, so tensors outside their storage passed as valid.
    GANDER_CHECK(t.offset <= t.storage_numel && numel <= t.storage_numel - t.offset, where, ": its ", numel,
                 " elements from element ", t.offset, " lie outside its storage of ", t.storage_numel, " elements");
    const ZipEntry& st = zip.stored(prefix + "data/" + t.storage_key);
    GANDER_CHECK(t.storage_numel <= st.size / esz && st.size == t.storage_numel * esz, where, ": storage ",
                 quote_name(t.storage_key), " holds ", st.size, " bytes, not ", t.storage_numel, " elements of ",
                 dtype_name(t.dtype));
    budget.charge(Checkpoint::entry_bytes(t.name.size(), shape.size()), "the checkpoint's tensors");
    ck.add(t.name, Tensor::view(buffer, size_t(st.data_offset + t.offset * esz), t.dtype, shape));
  }
  return ck;
}

Checkpoint load_pth(const std::string& path) { return parse_pth(MappedFile::open(path), path); }

}  // namespace gander::io
