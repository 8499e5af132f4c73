// A model's parameters declared once: each entry names a tensor, says where it lives, what shape
// and kind it has, how it is initialised and how its canonical file stores it. Every walk over the
// weights (load, save, random init, fingerprint, byte count, dtype conversion; training's
// gradients, moments and freezing) goes through the table instead of listing tensors again.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"

namespace gander::models {

struct Init {
  enum class Kind { Uniform, Normal, Constant } kind = Kind::Uniform;
  float a = 0, b = 0;  // Uniform: [a, b); Normal: std a (mean 0); Constant: a
  static Init uniform(float lo, float hi) { return {Kind::Uniform, lo, hi}; }
  static Init normal(float std) { return {Kind::Normal, std, 0}; }
  static Init constant(float v) { return {Kind::Constant, v, 0}; }
};

struct Param {
  std::string name;  // the canonical name (RWKV-7: official RWKV-LM; Qwen2: Hugging Face)
  Tensor* slot;      // where the model holds it
  Shape shape;       // as held (matrices in Linear layout [out, in])
  bool matrix;       // a large matrix: kept in the file's dtype (or --dtype), tiled by the model;
                     // otherwise a small tensor held in f32
  Init init;
  Shape file_shape;         // as the canonical file stores it (same element count); empty: `shape`
  bool transposed = false;  // the canonical file stores the transpose ([in, out]; RWKV-LM's LoRAs)
  const Shape& stored_shape() const { return file_shape.empty() ? shape : file_shape; }
};

using ParamTable = std::vector<Param>;

// The held tensor from a stored one in the canonical layout: shape checked (an error naming
// `where`), transposed if the table says so, small tensors as f32, matrices in `convert` if given.
Tensor from_stored(const Param& p, const Tensor& stored, const std::string& where, const DType* convert);
// The canonical stored form of a held tensor (inverse of from_stored, matrices in `dtype` if given).
Tensor to_stored(const Param& p, const DType* dtype);
// Fills every slot from its Init (matrices in matrix_dtype, the rest f32), in table order.
void init_params(const ParamTable& table, DType matrix_dtype, uint64_t seed);
// Visits every defined slot in table order.
void for_each_param(const ParamTable& table, const std::function<void(const Param&)>& fn);
uint64_t fingerprint_of(const ParamTable& table);
int64_t bytes_of(const ParamTable& table);
// The table's tensors as a file stores them: `layout` gives each parameter's stored form (its
// file_shape, transposition), `name` its name there; matrices in `dtype` if given.
io::NamedTensors stored_tensors(const ParamTable& table, const std::function<Param(const Param&)>& layout,
                                const std::function<std::string(const std::string&)>& name, const DType* dtype);
// Converts every matrix to dtype (small tensors stay f32).
void convert_matrices(const ParamTable& table, DType dtype);

}  // namespace gander::models
