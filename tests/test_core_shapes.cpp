// Sizes derived from shapes are checked: a huge or negative shape throws an error naming it
// instead of wrapping into a small allocation that is then written past.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "core/buffer.h"
#include "core/tensor.h"
#include "testdata.h"

namespace gander {
namespace {

using test::error_of;

constexpr int64_t k2p62 = int64_t(1) << 62;  // x 4 bytes = 2^64: wraps to 0 unchecked

void expect_names_shape(const std::function<void()>& fn, const std::string& shape) {
  const std::string err = error_of(fn);
  EXPECT_NE(err.find(shape), std::string::npos) << "error should name the shape " << shape << ": '" << err << "'";
}

TEST(CoreShapes, HugeShapesAreRefusedNotWrapped) {
  expect_names_shape([] { Tensor::empty(DType::F32, {k2p62}); }, "[4611686018427387904]");
  expect_names_shape([] { Tensor::zeros(DType::F32, {int64_t(1) << 40, int64_t(1) << 40}); },
                     "[1099511627776, 1099511627776]");
  // A zero dimension does not make the others harmless: code multiplies them.
  expect_names_shape([] { Tensor::empty(DType::F32, {0, k2p62, 16}); }, "[0, 4611686018427387904, 16]");
  expect_names_shape([] { Tensor::empty(DType::F32, {3, -1}); }, "[3, -1]");
  EXPECT_THROW(shape_numel({k2p62, k2p62}), Error);
  EXPECT_THROW(shape_nbytes({k2p62}, DType::U8), Error);
  EXPECT_FALSE(shape_fits({k2p62}, DType::F32));
  EXPECT_TRUE(shape_fits({0, 1 << 20, 1 << 20}, DType::F64));
  EXPECT_EQ(shape_nbytes({3, 5}, DType::BF16), 30u);
  EXPECT_EQ(shape_numel({}), 1);
}

TEST(CoreShapes, ViewsAndLayoutsCheckTheirShape) {
  auto buffer = std::make_shared<AlignedBuffer>(64);
  expect_names_shape([&] { Tensor::view(buffer, 0, DType::F32, {k2p62}); }, "[4611686018427387904]");
  expect_names_shape([&] { Tensor::with_layout(Layout::Tiles, DType::BF16, {k2p62, 4}, 64); },
                     "[4611686018427387904, 4]");
  EXPECT_THROW(Tensor::view(buffer, 65, DType::U8, {0}), Error);
  EXPECT_THROW(Tensor::view(buffer, 8, DType::F32, {15}), Error);
  EXPECT_NO_THROW(Tensor::view(buffer, 4, DType::F32, {15}));
}

TEST(CoreShapes, ReshapeRowsAndPrefixDoNotWrap) {
  Tensor t = Tensor::zeros(DType::F32, {4});
  // (2^62 + 1) * 4 elements is 4 modulo 2^64.
  EXPECT_THROW(t.reshape({k2p62 + 1, 4}), Error);
  EXPECT_THROW(t.prefix({k2p62 + 1, 4}), Error);
  EXPECT_THROW(t.reshape({-1, -4}), Error);
  // begin + count overflows int64.
  EXPECT_THROW(t.rows(INT64_MAX, 2), Error);
  EXPECT_THROW(t.rows(2, INT64_MAX), Error);
  EXPECT_EQ(t.rows(4, 0).shape(), (Shape{0}));
  EXPECT_EQ(t.reshape({2, 2}).shape(), (Shape{2, 2}));
}

TEST(CoreShapes, BuffersRefuseImpossibleSizes) {
  // The page rounding of a mapped buffer wrapped to a small mapping for sizes near 2^64.
  const std::string err = error_of([] { AlignedBuffer b(SIZE_MAX - 100); });
  EXPECT_NE(err.find("18446744073709551515"), std::string::npos) << err;
  EXPECT_THROW(AlignedBuffer(kMaxBufferBytes + 1), Error);
  AlignedBuffer ok(100);
  EXPECT_EQ(ok.size(), 100u);
}

// The command-line reproducer: a random model whose vocabulary makes the embedding 2^68 bytes.
TEST(CoreShapes, HugeRandomModelIsAnErrorNotACrash) {
  const std::string cmd =
      std::string(GANDER_CLI_PATH) + " bench --random rwkv7:L1,D64,V4611686018427387904 2>&1 < /dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal: " << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("error: "), std::string::npos) << out;
  // (The shape parser refuses the number before any size is computed; the checked sizes above
  // cover whatever reaches the core another way.)
  EXPECT_NE(out.find("V4611686018427387904"), std::string::npos) << out;
}

}  // namespace
}  // namespace gander
