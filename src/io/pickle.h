// A restricted unpickler for PyTorch state dicts. It understands exactly the opcodes and globals
// that torch.save emits for a dict of tensors (protocols 2-4) and never executes anything: the
// only "callables" are a fixed table (tensor rebuild, OrderedDict, storage types); any other
// opcode or global is rejected with an error naming it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "io/checkpoint.h"

namespace gander::io {

struct PickledTensor {
  std::string name;         // state-dict key
  DType dtype;              // from the storage type
  std::string storage_key;  // archive entry data/<key>
  uint64_t storage_numel;   // elements in the whole storage
  uint64_t offset;          // storage offset, in elements
  std::vector<int64_t> shape, stride;  // non-negative, at most kMaxDims entries
};

// Parses data.pkl of a torch zip checkpoint: a (possibly nested under one level like
// "state_dict") dict from names to tensors. `source` names the file in errors. The values live
// in one arena and refer to each other by index, so no nesting depth or cycle through the memo
// can overflow the stack or leak; their memory is charged to `budget`.
std::vector<PickledTensor> unpickle_state_dict(std::string_view bytes, const std::string& source,
                                               MemoryBudget& budget);

}  // namespace gander::io
