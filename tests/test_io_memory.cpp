// The memory rule for input files: no file makes gander use more than max(2 x its size, 64 MiB)
// beyond the model it describes. Each hostile file is read by `gander inspect` in a child process
// and the child's peak RSS (wait4) is compared with that of reading a tiny valid file.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "test_io_writers.h"
#include "testdata.h"

namespace gander {
namespace {

struct Child {
  int exit_code;   // -1 when killed by a signal
  int signal;
  uint64_t peak;   // bytes of resident memory at the peak
  std::string err;  // what it printed
};

Child inspect(const std::string& path) {
  const std::string log = test::temp_path("inspect.log");
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(GANDER_CLI_PATH, "gander", "inspect", path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  EXPECT_EQ(::wait4(pid, &status, 0, &ru), pid);
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), {});
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
          uint64_t(ru.ru_maxrss) * 1024, out};
}

std::string write(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_path(name);
  test::write_file(path, bytes);
  return path;
}

// A 200-byte file whose pickle stores into memo slot 0x01000000 (the memo was a vector
// sized by the largest index: 270 MB).
std::string huge_memo_index() {
  test::Pickle p;
  p.op('}').op('r');
  test::put_le(p.bytes, 0x01000000, 4);
  p.op('N').op('.');  // then an error, so that the reader fails after the memo is built
  return test::torch_archive(p.bytes, {});
}

// 1 MB of EMPTY_LIST opcodes: a million values (each was ~370 bytes).
std::string million_empty_lists() {
  test::Pickle p;
  p.bytes.append(1 << 20, ']');
  p.op('.');
  return test::torch_archive(p.bytes, {});
}

// A 59 MB safetensors header of a million empty tensors (925 MB as a DOM plus Checkpoint entries).
std::string million_empty_tensors() {
  std::string h = "{";
  for (int i = 0; i < 1000000; ++i)
    h += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
  return test::safetensors_bytes(h + "}", 0);
}

// A header nested 4 million arrays deep.
std::string deeply_nested_header() {
  return test::safetensors_bytes("{\"x\":" + std::string(4 << 20, '[') + std::string(4 << 20, ']') + "}", 0);
}

// A header whose one string is 40 MB long, and one of 40 MB of white space: the JSON lexer
// buffers each whole.
std::string long_token_header() {
  return test::safetensors_bytes("{\"__metadata__\":{\"k\":\"" + std::string(40 << 20, 'v') + "\"}}", 0);
}
std::string long_space_header() { return test::safetensors_bytes("{" + std::string(40 << 20, ' ') + "}", 0); }

TEST(IoMemory, HostileFilesStayWithinTwiceTheirSize) {
  const std::string tiny = write("tiny.safetensors",
                                 test::safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8));
  const Child base = inspect(tiny);
  ASSERT_EQ(base.exit_code, 0) << base.err;

  struct Case {
    const char* name;
    std::string (*make)();
  };
  for (const Case& c : {Case{"huge_memo_index.pth", huge_memo_index}, Case{"empty_lists.pth", million_empty_lists},
                        Case{"empty_tensors.safetensors", million_empty_tensors},
                        Case{"nested.safetensors", deeply_nested_header},
                        Case{"long_token.safetensors", long_token_header},
                        Case{"long_space.safetensors", long_space_header}}) {
    const std::string bytes = c.make();
    const std::string path = write(c.name, bytes);
    const Child r = inspect(path);
    std::filesystem::remove(path);
    EXPECT_EQ(r.signal, 0) << c.name << " killed the reader";
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find("error: " + path + ": "), std::string::npos) << c.name << ": " << r.err;
    const uint64_t allowed = std::max<uint64_t>(2 * bytes.size(), uint64_t(64) << 20);
    const uint64_t used = r.peak > base.peak ? r.peak - base.peak : 0;
    std::printf("%-28s %10zu bytes: peak %4llu MiB beyond the baseline (allowed %llu)\n", c.name, bytes.size(),
                (unsigned long long)(used >> 20), (unsigned long long)(allowed >> 20));
    EXPECT_LE(used, allowed) << c.name << " (" << bytes.size() << " bytes) took " << (used >> 20)
                             << " MiB beyond the baseline of " << (base.peak >> 20) << " MiB; " << r.err;
  }
}

}  // namespace
}  // namespace gander
