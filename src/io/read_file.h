// Reading a whole input file into memory with the checks every input path needs: it must be a
// regular file (a FIFO, a terminal or /dev/zero would be read until memory runs out) no larger
// than a limit that fits what the file can hold. Errors name the path and the `what` given.
#pragma once
#include <cstdint>
#include <string>

namespace gander::io {

inline constexpr uint64_t kMiB = uint64_t(1) << 20;

// Throws "<path>: <what> is not a regular file" / "... is N bytes, larger than the limit of M".
std::string read_file(const std::string& path, uint64_t max_bytes, const char* what = "input");
// Checks the same without reading (for files read by other means, e.g. memory mapping).
void check_regular_file(const std::string& path, const char* what = "input");

}  // namespace gander::io
