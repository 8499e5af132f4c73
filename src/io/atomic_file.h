// Output files that are never left torn or half-replaced. A regular file (or a path that does not
// exist yet) is written to a temporary beside it, fsynced and renamed over the target, then the
// folder is fsynced: a reader sees the old file or the new one. The temporary is removed on every
// error path and, through core/signals, when a signal ends the process. Anything else - a
// character device such as /dev/null or /dev/full, a pipe, standard output ("-" or /dev/stdout)
// - is written straight through: renaming over a device node would replace it with a file.
// Errors name the path the user gave, never the temporary.
#pragma once
#include <cstddef>
#include <string>

namespace gander::io {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void commit();

 private:
  std::string path_, target_, tmp_;  // target_: path_ with a symlink resolved; tmp_ empty when writing straight through
  int fd_ = -1;
  int signal_slot_ = -1;
  bool committed_ = false, close_fd_ = true;
};

// Checks, before any work is done, that `path` can be written as AtomicFile would write it: an
// existing regular file or device we may write, or a new file in an existing folder we may write
// to. Throws "<path>: cannot write <what>: <reason>".
void check_writable(const std::string& path, const char* what = "output");

// An output folder: created (with its parents) if absent; an existing file there is an error.
// Its files are then each written atomically.
void make_output_folder(const std::string& path, const char* what = "output");

// Writes a whole string through AtomicFile (JSON reports and the like).
void write_file(const std::string& path, const std::string& contents);

}  // namespace gander::io
