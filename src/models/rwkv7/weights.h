// RWKV-7 weights, declared once. Large matrices keep the checkpoint's storage (memory-mapped,
// f32/bf16/f16) in PyTorch Linear layout [out, in]; vectors and LoRA matrices are small and are
// held as f32, LoRA matrices transposed into Linear layout so one op (ops::linear) serves all.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "io/checkpoint.h"
#include "models/param_table.h"
#include "models/rwkv7/config.h"

namespace gander::rwkv7 {

struct LayerWeights {
  Tensor ln1_w, ln1_b, ln2_w, ln2_b;                     // [C] f32
  Tensor x_r, x_w, x_k, x_v, x_a, x_g;                   // [C] f32 token-shift mixes
  Tensor w0, a0, v0;                                     // [C] f32 (v0 unused in layer 0)
  Tensor w1, w2, a1, a2, v1, v2, g1, g2;                 // f32, Linear layout: *1 [D, C], *2 [C, D] (see Model)
  Tensor k_k, k_a;                                       // [C] f32
  Tensor r_k;                                            // [C] f32 (H x 64 flattened)
  Tensor receptance, key, value, output;                 // [C, C] storage dtype
  Tensor ln_x_w, ln_x_b;                                 // [C] f32
  Tensor ffn_x_k;                                        // [C] f32
  Tensor ffn_key, ffn_value;                             // [F, C], [C, F] storage dtype
};

struct Weights {
  Config config;
  Tensor emb;                     // [V, C] storage dtype (ln0 is applied at lookup)
  Tensor ln0_w, ln0_b;            // [C] f32
  std::vector<LayerWeights> layers;
  Tensor ln_out_w, ln_out_b;      // [C] f32
  Tensor head;                    // [V, C] storage dtype
  std::string source, format;     // for messages: file and its format
  std::string naming;             // "official (RWKV-LM)" or "fla / Hugging Face"
  DType matrix_dtype = DType::F32;

  // Every parameter, declared once (official names, shapes, kinds, init, how RWKV-LM files store
  // them); the table points into this struct. Load, save, random init, fingerprint and byte
  // count all walk it.
  models::ParamTable params();
  // Visits every tensor under its official name (LoRA matrices in their held [out, in] layout,
  // vectors flattened), e.g. for the fingerprint and the byte count.
  void for_each(const std::function<void(const std::string&, const Tensor&)>& fn) const;
  // A stable 64-bit identity of these weights (shapes plus sampled bytes), recorded in state files.
  uint64_t fingerprint() const;
  int64_t bytes() const;
};

// The fla / Hugging Face name of an official RWKV-LM tensor name, and how fla stores a parameter
// (Linear-layout LoRAs, [C] vectors but for the [1, 1, C] mixes and the [H, 64] r_k).
std::string fla_name(const std::string& official);
models::Param fla_layout(models::Param p);

// Reads official RWKV-LM names (.pth or safetensors) or fla/HF names; sizes come from shapes, and
// every tensor's shape is checked, with errors naming the tensor, the expected and the actual shape.
// matrix_dtype: keep the checkpoint's storage (nullopt-like: pass the file dtype) or convert.
Weights load_weights(const io::Checkpoint& ck, const DType* convert_matrices = nullptr);
// Random weights of a given shape (official-style init scales), for benchmarks and tests.
Weights random_weights(const Config& config, DType matrix_dtype, uint64_t seed);

}  // namespace gander::rwkv7
