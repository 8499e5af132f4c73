// The .npy reader: a strict header parser, the data size checked against the file before any
// allocation, regular files only, and errors that name the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/npy.h"
#include "test_io_writers.h"
#include "testdata.h"

namespace gander::io {
namespace {

using test::error_of;
using test::npy_bytes;

// The message load_npy throws for these bytes, checked to name the file.
std::string load_error(const std::string& bytes) {
  const std::string path = test::temp_path("bad.npy");
  test::write_file(path, bytes);
  const std::string err = error_of([&] { load_npy(path); });
  EXPECT_NE(err.find(path), std::string::npos) << "error should name the file: '" << err << "'";
  return err;
}

std::string floats(size_t n) { return std::string(4 * n, '\0'); }

TEST(IoNpy, RoundTripsShapesNumpyWrites) {
  for (const Shape& shape : {Shape{}, Shape{5}, Shape{2, 3}, Shape{0, 4}, Shape{2, 1, 3}}) {
    Tensor t = Tensor::zeros(DType::F32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i) - 1.5f;
    const std::string path = test::temp_path("rt.npy");
    save_npy(path, t);
    const Tensor back = load_npy(path);
    EXPECT_EQ(back.shape(), shape);
    EXPECT_EQ(back.to_f32_vector(), t.to_f32_vector());
  }
  // Python 2 numpy wrote longs as "3L"; double quotes and no trailing comma are valid Python too.
  const Tensor t = parse_npy(npy_bytes("{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (3L, 1L)}",
                                       std::string(24, '\0')),
                             "mem");
  EXPECT_EQ(t.shape(), (Shape{3, 1}));
  EXPECT_EQ(t.dtype(), DType::I64);
}

// A header longer than the file, or a huge unterminated string, crashed inside std::regex.
TEST(IoNpy, LongOrShortHeadersAreErrors) {
  std::string past_end = "\x93NUMPY\x02";
  past_end += '\0';
  test::put_le(past_end, 0x000fffff, 4);
  past_end += "{'descr': '<f4', ";
  EXPECT_NE(load_error(past_end).find("runs past the end"), std::string::npos);
  const std::string long_string = npy_bytes("{'descr': '" + std::string(1 << 20, 'f'), "");
  EXPECT_NE(load_error(long_string).find("unexpected character in a string"), std::string::npos);
  EXPECT_NE(load_error(std::string("\x93NUMPY\x01\x00\x05", 9)).find("truncated"), std::string::npos);
  EXPECT_NE(load_error("\x93NUMPX\x01\x00\x00\x00").find("not a .npy file"), std::string::npos);
  EXPECT_NE(load_error(std::string("\x93NUMPY\x07\x00\x00\x00", 10)).find("version 7"), std::string::npos);
}

TEST(IoNpy, HeaderIsParsedStrictly) {
  const std::string data = floats(6);
  struct Case {
    std::string dict, expect;
  };
  const std::vector<Case> cases = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "'descr' twice"},
      {"{'descr': '<f4', 'shape': (2, 3)}", "lacks one of"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}", "Fortran-order"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3)}", "unsupported .npy dtype '>f4'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", "one-element shape needs its comma"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", "non-negative integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", "expected '('"},
      {"{'descr': '<f4', 'fortran_order': Nope, 'shape': (2, 3)}", "True or False"},
      {"{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 3)}", "unexpected character"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk", "text after"},
  };
  for (const Case& c : cases) {
    const std::string err = load_error(npy_bytes(c.dict, data));
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.dict << " -> '" << err << "'";
  }
}

// The data size is checked against the file before allocating: f32[2^62] is 2^64 bytes, which
// wrapped to an empty allocation that the tensor then described as 2^62 elements.
TEST(IoNpy, DataSizeMustMatchTheHeader) {
  auto dict = [](const std::string& shape) { return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }"; };
  EXPECT_NE(load_error(npy_bytes(dict("(4611686018427387904,)"), floats(16))).find("too large"), std::string::npos);
  EXPECT_NE(load_error(npy_bytes(dict("(1099511627776, 1099511627776)"), "")).find("too large"), std::string::npos);
  EXPECT_NE(load_error(npy_bytes(dict("(2, 3)"), floats(5))).find("truncated"), std::string::npos);
  EXPECT_NE(load_error(npy_bytes(dict("(2, 3)"), floats(7))).find("is 28 bytes, but f32[2, 3] takes 24"),
            std::string::npos);
}

// A dimension beyond 64 bits made std::stoll throw std::out_of_range out of the reader; the error
// now quotes the number as written (2^64 - 1 is not printed as -1).
TEST(IoNpy, OutOfRangeNumbersAreGanderErrors) {
  for (const char* n : {"18446744073709551615", "99999999999999999999999"}) {
    const std::string bytes = npy_bytes(std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (") + n + ",)}", "");
    std::string err;
    EXPECT_NO_THROW(err = load_error(bytes)) << "a non-gander exception escaped for " << n;
    EXPECT_NE(err.find(std::string(n) + " is too large"), std::string::npos) << err;
  }
}

// A FIFO would block the reader forever and /dev/zero never ends: only regular files are read.
// The load runs in a child process with an alarm, so a hang fails the test instead of stalling it.
TEST(IoNpy, RefusesFifosAndDevices) {
  const std::string fifo = test::temp_path("fifo.npy");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero")}) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(5);
      const std::string err = error_of([&] { load_npy(path); });
      _exit(err.find("not a regular file") != std::string::npos && err.find(path) != std::string::npos ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << path << ": " << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) + " (a hang?)"
                                                : "wrong or no error, exit " + std::to_string(WEXITSTATUS(status)));
  }
  ::unlink(fifo.c_str());
}

}  // namespace
}  // namespace gander::io
