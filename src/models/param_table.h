// A model's parameters declared once: each entry names a tensor under every file naming it has
// (its aliases), says where the model holds it, what shape and kind it has and how it is
// initialised. Every walk over the weights (load, save, random init, fingerprint, byte count, dtype
// conversion, tiling; training's gradients, moments and freezing) goes through the table instead
// of listing tensors again. Blocks declare their own entries (models/blocks, models/mixers).
#pragma once
#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"

namespace gander::models {

// The file naming conventions a parameter may be stored under.
enum class Naming : uint8_t {
  RwkvLm,  // BlinkDL/RWKV-LM (.pth): blocks.{l}.att.*, blocks.{l}.ffn.*; LoRAs stored [in, out]
  Fla,     // flash-linear-attention / Hugging Face RWKV-7: model.layers.{l}.attn.*, Linear layout
  Hf,      // Hugging Face Qwen2: model.layers.{l}.self_attn.*, mlp.*; the RADLADS students extend it
};
inline constexpr size_t kNamings = 3;
const char* naming_name(Naming n);                  // for messages and `inspect`
std::string layer_prefix(Naming n, int64_t layer);  // "blocks.3.", "model.layers.3."

// How a tensor is initialised. Orthogonal is torch.nn.init.orthogonal_ (rows or columns
// orthonormal, whichever are fewer, times the gain); Values holds every element (the per-channel
// formulas of the official RWKV-7 init).
struct Init;
Init official_orthogonal(int64_t rows, int64_t cols, float scale);
struct Init {
  enum class Kind { Uniform, Normal, Constant, Orthogonal, Values } kind = Kind::Uniform;
  float a = 0, b = 0;  // Uniform: [a, b); Normal: std a (mean 0); Constant: a; Orthogonal: gain a
  std::shared_ptr<const std::vector<float>> values;  // Values: row-major, numel of the tensor
  static Init uniform(float lo, float hi) { return {Kind::Uniform, lo, hi, {}}; }
  static Init normal(float std) { return {Kind::Normal, std, 0, {}}; }
  static Init constant(float v) { return {Kind::Constant, v, 0, {}}; }
  static Init orthogonal(float gain) { return {Kind::Orthogonal, gain, 0, {}}; }
  static Init of_values(std::vector<float> v) {
    return {Kind::Values, 0, 0, std::make_shared<const std::vector<float>>(std::move(v))};
  }
};

// RWKV-LM's ortho(M, s) for a [rows, cols] matrix (Linear layout): orthogonal with gain
// s * sqrt(rows / cols) when rows > cols, else s.
inline Init official_orthogonal(int64_t rows, int64_t cols, float scale) {
  return Init::orthogonal(rows > cols ? scale * std::sqrt(float(rows) / float(cols)) : scale);
}

enum class Kind : uint8_t {
  Matrix,  // a weight matrix: kept in the file's dtype (or --dtype), moved into tiles by the model
  Table,   // an embedding table: the file's dtype, row-major (looked up by row)
  Lora,    // a low-rank matrix: loaded as f32, moved into tiles in the model's matrix dtype
  Vector,  // a small tensor (norm weights, biases, mixes), held in f32
};

// How one naming stores a parameter.
struct Stored {
  std::string name;         // the full name; empty: the naming has no such tensor
  Shape shape;              // empty: as held
  bool transposed = false;  // the file stores the transpose ([in, out]; RWKV-LM's LoRAs)
};

struct Param {
  std::string name;  // canonical: the name under the model's own naming (messages, fingerprints)
  Tensor* slot;      // where the model holds it
  Shape shape;       // as held (matrices in Linear layout [out, in])
  Kind kind;
  Init init;   // random models (benchmarks, tests): every element non-trivial, so every path is exercised
  Init fresh;  // a training run from scratch: the architecture's official init (defaults to `init`)
  std::array<Stored, kNamings> stored;
  const Stored& as(Naming n) const { return stored[size_t(n)]; }
  Shape stored_shape(Naming n) const { return as(n).shape.empty() ? shape : as(n).shape; }
  bool small() const { return kind == Kind::Lora || kind == Kind::Vector; }  // held in f32
};

struct ParamTable {
  Naming native = Naming::Hf;  // the naming of the canonical names
  std::vector<Param> params;
  // Per naming, names a file may hold that the model does not use (RWKV-7's layer-0 value-residual
  // LoRA, which official files carry): accepted and skipped on load, never written.
  std::array<std::vector<std::string>, kNamings> ignored;
};

// One parameter's aliases relative to a block's place in the model, in the order {RWKV-LM, fla,
// Hugging Face}; an entry without a name: that naming has no such tensor.
struct Alias {
  std::string name;  // empty: none
  Shape shape = {};
  bool transposed = false;
};
using Aliases = std::array<Alias, kNamings>;

// Declares the parameters of one block: names are given relative to the block's prefix under each
// naming ("blocks.3." / "model.layers.3." / "model.layers.3."; "" for the model's own tensors).
class ParamDecl {
 public:
  ParamDecl(ParamTable& table, std::array<std::string, kNamings> prefixes) : t_(table), prefixes_(std::move(prefixes)) {}
  static ParamDecl model(ParamTable& table) { return {table, {"", "", ""}}; }
  static ParamDecl layer(ParamTable& table, int64_t l);
  // Returns the entry, for blocks to set its `fresh` init where it differs from `init`.
  Param& add(Tensor* slot, Shape shape, Kind kind, Init init, const Aliases& names);
  void ignore(const Aliases& names);

 private:
  ParamTable& t_;
  std::array<std::string, kNamings> prefixes_;
};

// The held tensor from a stored one under `naming`: shape checked (an error naming `where`; a
// vector may come in any shape with its element count and last dimension, e.g. [1, 1, C] for
// [C]), transposed if the naming stores it so, small tensors as f32, matrices in `convert` if given.
// `expected_from` follows the expected shape in errors (" from config.json").
Tensor from_stored(const Param& p, Naming naming, const Tensor& stored, const std::string& where, const DType* convert,
                   const std::string& expected_from = "");
// The stored form under `naming` of a held (row-major) tensor, matrices in `dtype` if given.
Tensor to_stored(const Param& p, Naming naming, const DType* dtype);

struct LoadHooks {
  // A parameter the file stores some other way (older fla's fused token-shift mixes): the held
  // tensor, or an undefined one to look the parameter up by name.
  std::function<Tensor(const Param&, const io::Checkpoint&)> alternative;
  // Names besides the table's that the file may hold (consumed by `alternative`, or ignorable).
  std::function<bool(const std::string&)> known;
  // The message for a tensor the model does not have (default: "unknown tensor '...'").
  std::function<std::string(const std::string&)> unknown;
  std::string expected_from;  // where the expected shapes come from, for errors: " from <config.json>"
};
// Fills every slot from the checkpoint under `naming`; every tensor of the file must be understood.
void load_params(const ParamTable& table, Naming naming, const io::Checkpoint& ck, const DType* convert,
                 const LoadHooks& hooks = {});
// Fills every slot from its Init (`init`, or `fresh` for a training run from scratch; matrices in
// matrix_dtype, the rest f32), in table order; each tensor draws from its own seed (seed, index).
enum class InitSet { Random, Fresh };
void init_params(const ParamTable& table, DType matrix_dtype, uint64_t seed, InitSet set = InitSet::Random);
// Visits every defined slot in table order.
void for_each_param(const ParamTable& table, const std::function<void(const Param&)>& fn);
uint64_t fingerprint_of(const ParamTable& table);
int64_t bytes_of(const ParamTable& table);
int64_t count_of(const ParamTable& table);  // elements
// The table's tensors as `naming` stores them, matrices in `dtype` if given. Throws if the naming
// has no name for one of them.
io::NamedTensors stored_tensors(const ParamTable& table, Naming naming, const DType* dtype);
// Replaces every parameter by an f32, row-major copy that the model owns (training's master
// weights: a loaded checkpoint's tensors are views of the read-only mapped file).
void make_master_weights(const ParamTable& table);
// Converts every matrix to dtype (small tensors stay f32).
void convert_matrices(const ParamTable& table, DType dtype);
// Moves matrices into tiles (ops/tiles.h) where the CPU supports them: Matrix entries as they are,
// LoRAs in matrix_dtype when that is bf16 or f32. Tables stay row-major.
void tile_params(const ParamTable& table, DType matrix_dtype);

}  // namespace gander::models
