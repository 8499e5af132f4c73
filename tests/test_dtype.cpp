#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>

#include "core/dtype.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace gander {
namespace {

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(-2.5f)), -2.5f);
}

// The F16C instructions are the reference for half precision.
__attribute__((target("f16c"))) uint16_t hw_f32_to_f16(float f) {
  return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

TEST(DType, F16MatchesHardwareConversion) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "CPU lacks F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = f16_to_f32(uint16_t(h)), b = hw_f16_to_f32(uint16_t(h));
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a));
      continue;
    }
    ASSERT_EQ(f32_bits(a), f32_bits(b)) << "half bits " << h;
  }
  Rng rng(3);
  for (int i = 0; i < 200000; ++i) {
    const float f = f32_from_bits(uint32_t(rng.next_u64()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), hw_f32_to_f16(f)) << "float bits " << f32_bits(f);
  }
}

TEST(Tensor, ViewsShareStorage) {
  Tensor t = Tensor::zeros(DType::F32, {4, 3});
  Tensor r = t.rows(1, 2);
  r.data<float>()[0] = 5.0f;
  EXPECT_EQ(t.data<float>()[3], 5.0f);
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_THROW(t.rows(3, 2), Error);
  EXPECT_THROW(t.reshape({5}), Error);
  EXPECT_THROW(t.data<int32_t>(), Error);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % kAlignment, 0u);
}

TEST(Tensor, ConvertsBetweenDtypes) {
  Tensor t = Tensor::from_f32({1.0f, -2.0f, 0.5f, 3.140625f}, {2, 2});
  Tensor back = t.to(DType::BF16).to(DType::F16).to(DType::F32);
  EXPECT_EQ(back.to_f32_vector(), t.to_f32_vector());
}

// Empty tensors convert to nothing. memcpy got the null data() of an empty vector, undefined
// behaviour even for 0 bytes, which only the sanitizer build sees (fuzz_make_seeds failed there).
TEST(Tensor, EmptyTensorsConvert) {
  const Tensor e = Tensor::zeros(DType::F32, {0, 3});
  EXPECT_TRUE(e.to_f32_vector().empty());
  EXPECT_EQ(e.to(DType::BF16).shape(), (Shape{0, 3}));
  EXPECT_EQ(Tensor::from_f32({}, {0}).numel(), 0);
  EXPECT_THROW(Tensor::zeros(DType::I64, {0}).to_f32_vector(), Error);  // the dtype is still checked
}

}  // namespace
}  // namespace gander
