// Hand-made hostile .pth files: deep nesting, cycles through the pickle memo, storage arithmetic
// that wrapped, duplicate archive entries. Each must give a gander::Error naming the file.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstring>

#include "io/pth.h"
#include "test_io_writers.h"
#include "testdata.h"

namespace gander::io {
namespace {

using test::error_of;
using test::Pickle;
using test::PickledTensorSpec;

const std::string kSource = "hostile.pth";

Checkpoint parse(const std::string& archive) {
  auto buf = std::make_shared<AlignedBuffer>(archive.size());
  std::memcpy(buf->mutable_data(), archive.data(), archive.size());
  return parse_pth(buf, kSource);
}

// The error parsing this archive gives; it must name the file.
std::string parse_error(const std::string& archive) {
  const std::string err = error_of([&] { parse(archive); });
  EXPECT_EQ(err.rfind(kSource + ": ", 0), 0u) << "error should start with the file name: '" << err << "'";
  return err;
}

std::string pickle_archive(const std::string& pickle) { return test::torch_archive(pickle, {}); }

std::string f32_bytes(const std::vector<float>& v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

TEST(IoPthHostile, HandMadeCheckpointLoads) {
  const std::string pickle = test::state_dict_pickle({{"w", "FloatStorage", "0", 6, 0, {2, 3}, {}},
                                                      {"b", "FloatStorage", "0", 6, 4, {2}, {}}});
  const Checkpoint ck = parse(test::torch_archive(pickle, {{"0", f32_bytes({1, 2, 3, 4, 5, 6})}}));
  ASSERT_EQ(ck.size(), 2u);
  EXPECT_EQ(ck.get("w").to_f32_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ck.get("b").to_f32_vector(), (std::vector<float>{5, 6}));
}

// 180,000 nested tuples (180 KB): the recursive destructor of shared-pointer values overflowed
// the stack. The whole pickle is parsed now (the error is about the entry, found after STOP).
TEST(IoPthHostile, DeepNestingIsParsedWithoutRecursion) {
  Pickle p;
  p.op('}').str("w").op(')');
  for (int i = 0; i < 180000; ++i) p.op('\x85');  // TUPLE1: wrap the top value in a tuple
  p.op('s').op('.');
  EXPECT_NE(parse_error(pickle_archive(p.bytes)).find("entry 'w' is not a tensor"), std::string::npos);
}

size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// A list appended to itself through the memo, holding a 64 KB string: with shared-pointer values
// the cycle kept both alive after the parse failed, 64 KB leaked per load.
TEST(IoPthHostile, CyclesThroughTheMemoDoNotLeak) {
  Pickle p;
  p.op(']').op('q').op('\0').str(std::string(64 << 10, 'x')).op('a');  // l = [s]; memo[0] = l
  p.op('h').op('\0').op('a').op('.');                                 // l.append(l)
  const std::string archive = pickle_archive(p.bytes);
  EXPECT_NE(parse_error(archive).find("not a dict"), std::string::npos);  // warm-up: first-use allocations
  const size_t before = heap_in_use();
  for (int i = 0; i < 50; ++i) parse_error(archive);
  const size_t after = heap_in_use();
  EXPECT_LT(after, before + (256 << 10)) << "heap grew by " << after - before << " bytes over 50 loads";
}

// Storage bounds in unsigned arithmetic: offset + numel wrapped in signed 64-bit (a tensor
// starting 4 bytes before its storage loaded), and storage_numel * 4 wrapped (2^62 + 3 floats
// "fit" in 12 bytes, so a tensor at element 2^62 of them loaded as the storage's first 3).
TEST(IoPthHostile, TensorsOutsideTheirStorageAreRefused) {
  const std::string storage = f32_bytes({1, 2, 3});
  auto error_for = [&](int64_t storage_numel, int64_t offset, std::vector<int64_t> shape) {
    const std::string pickle = test::state_dict_pickle({{"t", "FloatStorage", "0", storage_numel, offset, shape, {}}});
    return parse_error(test::torch_archive(pickle, {{"0", storage}}));
  };
  const int64_t k2p62 = int64_t(1) << 62;
  EXPECT_NE(error_for(3, INT64_MAX, {2}).find("its 2 elements from element 9223372036854775807 lie outside its "
                                              "storage of 3 elements"),
            std::string::npos);
  EXPECT_NE(error_for(k2p62 + 3, k2p62, {3}).find("holds 12 bytes, not 4611686018427387907 elements of f32"),
            std::string::npos);
  EXPECT_NE(error_for(3, 2, {2}).find("lie outside its storage"), std::string::npos);
  EXPECT_NE(error_for(3, 0, {k2p62, 4}).find("shape [4611686018427387904, 4] is too large"), std::string::npos);
  EXPECT_NO_THROW(parse(test::torch_archive(test::state_dict_pickle({{"t", "FloatStorage", "0", 3, 1, {2}, {}}}),
                                            {{"0", storage}})));
}

// Two archive entries of one name: the zip reader kept whichever came last.
TEST(IoPthHostile, DuplicateArchiveEntriesAreRefused) {
  const std::string pickle = test::state_dict_pickle({{"t", "FloatStorage", "0", 1, 0, {1}, {}}});
  const std::string archive =
      test::zip_archive({{"m/data.pkl", pickle}, {"m/data/0", f32_bytes({1})}, {"m/data/0", f32_bytes({2})}});
  EXPECT_NE(parse_error(archive).find("zip entry 'm/data/0' appears twice"), std::string::npos);
}

TEST(IoPthHostile, MalformedPicklesAreErrors) {
  struct Case {
    std::string pickle, expect;
  };
  const std::vector<Case> cases = {
      {Pickle().op('(').op('.').bytes, "0 values and 1 marks"},
      {Pickle().op('(').op('a').bytes, "stack underflow"},          // APPEND may not reach below a MARK
      {Pickle().op(']').op('(').op('u').bytes, "SETITEMS on a non-dict"},
      {Pickle().op('}').op('(').op('N').op('u').bytes, "odd number"},
      {Pickle().op('h').op('\x07').bytes, "memo index 7 was never stored"},
      {Pickle().op('q').op('\0').bytes, "stack underflow"},
      {Pickle().op(')').op('Q').bytes, "unsupported persistent id"},
      {Pickle().str("x").op('Q').bytes, "unsupported persistent id"},
      {Pickle().global("collections", "OrderedDict").str("x").op('R').bytes, "REDUCE on a non-callable"},
      {Pickle().global("torch", "FloatStorage").op(')').op('R').bytes, "cannot call a storage type"},
      {Pickle().global("os", "system").bytes, "refusing to load"},
      {Pickle().op('\x8a').op('\x09').bytes, "integer of 9 bytes"},
      {Pickle().op('X').op('\xff').bytes, "ends unexpectedly"},
  };
  for (const Case& c : cases) {
    const std::string err = parse_error(pickle_archive(c.pickle));
    EXPECT_NE(err.find(c.expect), std::string::npos) << "got '" << err << "'";
  }
}

// A shape tuple of 65 dimensions, and tensors whose shape or stride is not what was promised.
TEST(IoPthHostile, ShapesAreBounded) {
  std::vector<int64_t> many(65, 1);
  EXPECT_NE(parse_error(pickle_archive(test::state_dict_pickle({{"t", "FloatStorage", "0", 1, 0, many, {}}})))
                .find("shape has 65 dimensions"),
            std::string::npos);
  const std::string storage = f32_bytes({1, 2, 3, 4, 5, 6});
  const std::string transposed = test::state_dict_pickle({{"t", "FloatStorage", "0", 6, 0, {2, 3}, {1, 2}}});
  EXPECT_NE(parse_error(test::torch_archive(transposed, {{"0", storage}})).find("is not contiguous"),
            std::string::npos);
  // The strides of an empty tensor do not matter (torch gives [3, 0] the strides (1, 1)).
  const std::string empty = test::state_dict_pickle({{"t", "FloatStorage", "0", 0, 0, {3, 0}, {1, 1}}});
  EXPECT_EQ(parse(test::torch_archive(empty, {{"0", ""}})).get("t").shape(), (Shape{3, 0}));
}

}  // namespace
}  // namespace gander::io
