#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/signals.h"

namespace gander::io {

namespace {
bool is_stdout(const std::string& path) { return path == "-" || path == "/dev/stdout"; }

// The folder a new file at `path` would go into ("." for a bare name).
std::string folder_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// A symlink to a regular file is replaced at its target (the link stays a link).
std::string resolve_link(const std::string& path) {
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) return path;
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}
}  // namespace

void check_writable(const std::string& path, const char* what) {
  GANDER_CHECK(!path.empty(), "empty path given for the ", what);
  if (is_stdout(path)) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    GANDER_CHECK(!S_ISDIR(st.st_mode), path, ": cannot write ", what, ": it is a folder");
    GANDER_CHECK(::access(path.c_str(), W_OK) == 0, path, ": cannot write ", what, ": ", std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return;  // a device or pipe is written straight through
  }
  const std::string dir = folder_of(resolve_link(path));
  struct stat dst {};
  GANDER_CHECK(::stat(dir.c_str(), &dst) == 0 && S_ISDIR(dst.st_mode), path, ": cannot write ", what, ": folder '",
               dir, "' does not exist");
  GANDER_CHECK(::access(dir.c_str(), W_OK | X_OK) == 0, path, ": cannot write ", what, ": folder '", dir,
               "' is not writable (", std::strerror(errno), ")");
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (is_stdout(path_)) {
    std::fflush(stdout);  // what was printed before comes first
    fd_ = STDOUT_FILENO;
    close_fd_ = false;
    return;
  }
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    GANDER_CHECK(!S_ISDIR(st.st_mode), path_, ": cannot write: it is a folder");
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    GANDER_CHECK(fd_ >= 0, path_, ": cannot open for writing: ", std::strerror(errno));
    return;
  }
  target_ = resolve_link(path_);
  tmp_ = target_ + ".tmp." + std::to_string(::getpid());
  signal_slot_ = signals::register_temp_file(tmp_);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int e = errno;
    signals::release_temp_file(signal_slot_);
    fail(path_, ": cannot create: ", std::strerror(e));
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0 && close_fd_) ::close(fd_);
  if (!tmp_.empty() && !committed_) ::unlink(tmp_.c_str());
  signals::release_temp_file(signal_slot_);
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    GANDER_CHECK(w > 0, path_, ": write failed: ", w < 0 ? std::strerror(errno) : "no progress");
    p += w;
    n -= size_t(w);
  }
}

void AtomicFile::commit() {
  if (tmp_.empty()) {  // written straight through: nothing to rename
    if (close_fd_) {
      const int rc = ::close(fd_);
      fd_ = -1;
      GANDER_CHECK(rc == 0, path_, ": close failed: ", std::strerror(errno));
    }
    committed_ = true;
    return;
  }
  GANDER_CHECK(::fsync(fd_) == 0, path_, ": fsync failed: ", std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  GANDER_CHECK(rc == 0, path_, ": close failed: ", std::strerror(errno));
  GANDER_CHECK(std::rename(tmp_.c_str(), target_.c_str()) == 0, path_, ": cannot replace: ", std::strerror(errno));
  committed_ = true;
  const int dfd = ::open(folder_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: the rename is durable once the folder is
    ::close(dfd);
  }
}

void make_output_folder(const std::string& path, const char* what) {
  GANDER_CHECK(!path.empty(), "empty path given for the ", what);
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (std::filesystem::exists(st)) {
    GANDER_CHECK(std::filesystem::is_directory(st), path, ": cannot write ", what, ": it exists and is not a folder");
  } else {
    std::filesystem::create_directories(path, ec);
    GANDER_CHECK(!ec, path, ": cannot create the ", what, " folder: ", ec.message());
  }
  GANDER_CHECK(::access(path.c_str(), W_OK | X_OK) == 0, path, ": cannot write ", what, ": ", std::strerror(errno));
}

void write_file(const std::string& path, const std::string& contents) {
  AtomicFile f(path);
  f.write(contents.data(), contents.size());
  f.commit();
}

}  // namespace gander::io
