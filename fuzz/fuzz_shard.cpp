// Token shards and compressed inputs from untrusted bytes. The first byte picks the reader:
// even: a binidx pair (4 bytes little-endian: the .idx length, then .idx, then .bin), opened and
// read to the end; odd: a file for CompressedInput (plain, gzip or zstd), read line by line.
// Either gives its contents or a gander::Error, nothing else.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/binidx.h"
#include "io/compressed_input.h"

namespace {

std::string dir() {
  static const std::string d = [] {
    char tmpl[] = "/tmp/gander_fuzz_shard_XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return d;
}

void write(const std::string& path, const uint8_t* p, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (n) std::fwrite(p, 1, n, f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string prefix = dir() + "/s";
  try {
    if (data[0] % 2 == 0) {
      if (size < 5) return 0;
      uint32_t idx_len;
      std::memcpy(&idx_len, data + 1, 4);
      const size_t rest = size - 5, n = std::min<size_t>(idx_len, rest);
      write(prefix + ".idx", data + 5, n);
      write(prefix + ".bin", data + 5 + n, rest - n);
      const gander::io::BinidxReader r(prefix);
      std::vector<int32_t> tokens(size_t(r.tokens()));
      r.read(0, tokens);
      for (int64_t d = 0; d < r.documents(); ++d)
        if (r.document_start(d) + r.document_size(d) > r.tokens()) __builtin_trap();  // the index was checked
    } else {
      write(prefix + ".in", data + 1, size - 1);
      gander::io::CompressedInput in(prefix + ".in");
      std::string line;
      size_t total = 0;
      while (total < (size_t(64) << 20) && in.next_line(line)) total += line.size() + 1;  // (bounded: a bomb is not a bug)
    }
  } catch (const gander::Error&) {
  }
  return 0;
}
