#include "io/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace gander::io {

namespace {
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct stat stat_regular(int fd, const std::string& path, const char* what) {
  struct stat st {};
  GANDER_CHECK(::fstat(fd, &st) == 0, path, ": cannot stat: ", std::strerror(errno));
  GANDER_CHECK(!S_ISDIR(st.st_mode), path, ": ", what, " is a folder, not a file");
  GANDER_CHECK(S_ISREG(st.st_mode), path, ": ", what, " is not a regular file (a pipe or device cannot be read here)");
  return st;
}
}  // namespace

void check_regular_file(const std::string& path, const char* what) {
  const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  GANDER_CHECK(f.fd >= 0, path, ": cannot open ", what, ": ", std::strerror(errno));
  stat_regular(f.fd, path, what);
}

std::string read_file(const std::string& path, uint64_t max_bytes, const char* what) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever before fstat can refuse it.
  const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  GANDER_CHECK(f.fd >= 0, path, ": cannot open ", what, ": ", std::strerror(errno));
  const struct stat st = stat_regular(f.fd, path, what);
  const uint64_t size = uint64_t(st.st_size);
  GANDER_CHECK(size <= max_bytes, path, ": ", what, " is ", size, " bytes, larger than the limit of ", max_bytes);
  std::string out(size, '\0');
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(f.fd, out.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    GANDER_CHECK(n >= 0, path, ": read failed: ", std::strerror(errno));
    if (n == 0) break;  // the file shrank while we read it
    got += size_t(n);
  }
  out.resize(got);
  return out;
}

}  // namespace gander::io
