// Writes valid seed inputs for the fuzz targets under <root>/<target>/ (all targets, or the one
// named), so fuzzing starts from files that reach deep into each parser without shipping binary
// fixtures in the repo: nested and memo-heavy pickles, headers of thousands of tensors, every
// .npy header form, real-shaped configs, state and KV-cache files of the fuzzed models.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "io/binidx.h"
#include "io/safetensors.h"
#include "test_io_writers.h"
#include "tokenize/utf8.h"

namespace {

using namespace gander;
using test::Pickle;
using test::PickledTensorSpec;

using test::write_file;

// Varied values: a ramp for the float types, a byte pattern for the integer ones.
Tensor ramp(DType dtype, const Shape& shape) {
  Tensor t = Tensor::zeros(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i % 17) * 0.25f - 1.0f;
  if (dtype == DType::F32 || dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F64) return t.to(dtype);
  Tensor ints = Tensor::zeros(dtype, shape);
  auto* bytes = static_cast<uint8_t*>(ints.mutable_raw());
  for (size_t i = 0; i < ints.nbytes(); ++i) bytes[i] = uint8_t(i * 37);
  return ints;
}

void safetensors_seeds(const std::string& dir) {
  const Tensor a = ramp(DType::F32, {2, 3});
  io::save_safetensors(dir + "/two.safetensors", {{"a", a}, {"b", a.to(DType::BF16)}}, {{"format", "pt"}});
  io::save_safetensors(dir + "/f16.safetensors", {{"x", a.reshape({6}).to(DType::F16)}});
  // Hundreds of tensors of every dtype and rank, empty ones among them, with metadata.
  io::NamedTensors many;
  const DType dtypes[] = {DType::F32, DType::BF16, DType::F16, DType::F64, DType::I64, DType::I32, DType::U8};
  for (int i = 0; i < 200; ++i) {
    const Shape shape = i % 50 == 0 ? Shape{0, 3} : i % 3 == 0 ? Shape{2} : i % 3 == 1 ? Shape{1, 2} : Shape{2, 1, 1};
    many.emplace_back("model.layers." + std::to_string(i / 10) + ".w" + std::to_string(i % 10),
                      ramp(dtypes[i % 7], shape));
  }
  io::save_safetensors(dir + "/many.safetensors", many, {{"format", "pt"}, {"note", "seed with 200 tensors"}});
}

std::string f32_bytes(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) test::put_le(out, f32_bits(float(i) * 0.5f), 4);
  return out;
}

void pth_seeds(const std::string& dir) {
  // torch.save's layout: a bf16 matrix and an f32 vector.
  const std::string two = test::state_dict_pickle(
      {{"w", "BFloat16Storage", "0", 6, 0, {2, 3}, {}}, {"b", "FloatStorage", "1", 3, 0, {3}, {}}});
  write_file(dir + "/two.pth", test::torch_archive(two, {{"0", std::string(12, '\x01')}, {"1", f32_bytes(3)}}));
  // A hundred views into shared storages, at offsets, of every storage type.
  std::vector<PickledTensorSpec> views;
  const char* types[] = {"FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "ByteStorage",
                         "DoubleStorage"};
  for (int i = 0; i < 120; ++i)
    views.push_back({"blocks." + std::to_string(i) + ".x", types[i % 7], std::to_string(i % 7), 64, i % 32,
                     i % 2 ? std::vector<int64_t>{4, 8} : std::vector<int64_t>{1, 1, 16}, {}});
  std::vector<std::pair<std::string, std::string>> storages;
  const int sizes[] = {4, 2, 2, 8, 4, 1, 8};
  for (int k = 0; k < 7; ++k) storages.emplace_back(std::to_string(k), std::string(64 * size_t(sizes[k]), '\x02'));
  write_file(dir + "/views.pth", test::torch_archive(test::state_dict_pickle(views), storages));
  // {"state_dict": {...}} as training checkpoints wrap it, with a Parameter, memoized globals
  // (BINPUT/BINGET, MEMOIZE, LONG_BINPUT/LONG_BINGET) and a FRAME.
  Pickle p;
  p.op('\x95');
  test::put_le(p.bytes, 0, 8);
  p.op('}').op('(').str("state_dict").op('}').op('(');
  p.str("weight").global("torch._utils", "_rebuild_parameter").op('\x94');
  p.global("torch._utils", "_rebuild_tensor_v2").op('r');
  test::put_le(p.bytes, 70000, 4);
  p.op('(').op('(').str("storage").global("torch", "FloatStorage").op('q').op('\x05').str("0").str("cpu");
  p.integer(6).op('t').op('Q').integer(0).ints({2, 3}).ints({3, 1}).op('\x89').op('N').op('t').op('R');
  p.op('\x88').op(')').op('\x87').op('R');  // _rebuild_parameter(tensor, True, ())
  p.str("bias").op('j');
  test::put_le(p.bytes, 70000, 4);
  p.op('(').op('(').str("storage").op('h').op('\x05').str("0").str("cpu").integer(6).op('t').op('Q');
  p.integer(3).ints({3}).ints({1}).op('\x89').op('N').op('t').op('R');
  p.op('u').op('u').op('.');
  write_file(dir + "/wrapped.pth", test::torch_archive(p.bytes, {{"0", f32_bytes(6)}}));
  // Deep nesting and a list that holds itself, beside a valid tensor.
  Pickle deep;
  deep.op('}').op('(').str("deep").op(')');
  for (int i = 0; i < 20000; ++i) deep.op('\x85');
  deep.str("cycle").op(']').op('q').op('\x01').op('h').op('\x01').op('a');
  deep.op('u').op('.');
  write_file(dir + "/deep.pth", test::torch_archive(deep.bytes, {}));
}

void npy_seeds(const std::string& dir) {
  auto dict = [](const char* descr, const char* shape) {
    return std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  write_file(dir + "/f4.npy", test::npy_bytes(dict("<f4", "(2, 3)"), f32_bytes(6)));
  write_file(dir + "/f8_scalar.npy", test::npy_bytes(dict("<f8", "()"), std::string(8, '\x3f')));
  write_file(dir + "/i4.npy", test::npy_bytes(dict("<i4", "(5,)"), std::string(20, '\x07')));
  write_file(dir + "/i8_empty.npy", test::npy_bytes(dict("<i8", "(0, 4)"), ""));
  write_file(dir + "/py2.npy", test::npy_bytes("{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (1L, 2L)}",
                                          std::string(16, '\x01')));
  // Format 2.0 (4-byte header length), as numpy writes for headers over 64 KiB.
  std::string v2 = "\x93NUMPY\x02";
  v2 += '\0';
  std::string header = dict("<f4", "(1, 1, 1, 2)");
  header.append(64 - (12 + header.size() + 1) % 64, ' ');
  header += '\n';
  test::put_le(v2, header.size(), 4);
  write_file(dir + "/v2.npy", v2 + header + f32_bytes(2));
}

void config_seeds(const std::string& dir) {
  nlohmann::json c = {{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"},
                      {"hidden_size", 896},           {"intermediate_size", 4864},
                      {"num_hidden_layers", 24},      {"num_attention_heads", 14},
                      {"num_key_value_heads", 2},     {"vocab_size", 151936},
                      {"max_position_embeddings", 32768}, {"rms_norm_eps", 1e-6},
                      {"rope_theta", 1000000.0},      {"tie_word_embeddings", true},
                      {"torch_dtype", "bfloat16"},    {"use_sliding_window", false},
                      {"rope_scaling", nullptr}};
  write_file(dir + "/qwen2.json", c.dump(2));
  c.erase("rope_theta");
  c["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 10000.0}};
  c["head_dim"] = 64;
  write_file(dir + "/rope_parameters.json", c.dump());
  c.erase("rope_parameters");
  c["rope_scaling"] = {{"type", "default"}};
  c["tie_word_embeddings"] = false;
  write_file(dir + "/rope_scaling.json", c.dump());
}

void rwkv_state_seeds(const std::string& dir) {
  const fuzz::FuzzModel& m = fuzz::rwkv7_model();
  models::SequenceState s(m.layout);
  for (size_t i = 0; i < s.layout().entries().size(); ++i) s.at(i).copy_from(ramp(DType::F32, s.at(i).shape()));
  save_sequence_state(dir + "/state.safetensors", s, m.owner);
  save_sequence_state(dir + "/zeros.safetensors", models::SequenceState(m.layout), m.owner);
}

void qwen2_kv_seeds(const std::string& dir) {
  const fuzz::FuzzModel& m = fuzz::qwen2_model();
  models::SequenceState kv(m.layout);
  save_sequence_state(dir + "/empty.safetensors", kv, m.owner);
  kv.reserve(3);
  for (size_t i = 0; i < kv.layout().entries().size(); ++i) {
    Shape shape = kv.layout().entries()[i].shape;
    shape.insert(shape.begin(), 3);
    kv.at(i).rows(0, 3).copy_from(ramp(DType::F32, shape));
  }
  kv.set_length(3);
  save_sequence_state(dir + "/three.safetensors", kv, m.owner);
}

// A small byte-level BPE tokenizer.json in the shape of Qwen2's (the real one is copied into the
// corpus by run_fuzz.sh when the shared test data is there).
void tokenizer_seeds(const std::string& dir) {
  nlohmann::json vocab = nlohmann::json::object();
  uint32_t extra = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    std::string s;
    append_utf8(s, printable ? b : extra++);
    vocab[s] = b;
  }
  const char* merged[] = {"ab", "ĠĠ", "he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"};
  const std::pair<const char*, const char*> merges[] = {{"a", "b"},   {"Ġ", "Ġ"},  {"h", "e"},    {"l", "l"},
                                                         {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"},
                                                         {"Ġw", "or"}, {"l", "d"},   {"Ġwor", "ld"}};
  nlohmann::json merge_list = nlohmann::json::array();
  for (size_t i = 0; i < std::size(merged); ++i) {
    vocab[merged[i]] = 256 + int(i);
    merge_list.push_back(std::string(merges[i].first) + " " + merges[i].second);
  }
  const int n = 256 + int(std::size(merged));
  nlohmann::json added = nlohmann::json::array();
  for (const char* t : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"})
    added.push_back({{"id", n + int(added.size())}, {"content", t}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  const char* pattern =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  nlohmann::json tok = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"vocab", vocab},
        {"merges", merge_list}}}};
  write_file(dir + "/tiny.json", tok.dump(2));
  // Newer files write each merge as a pair.
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [l, r] : merges) pairs.push_back({l, r});
  tok["model"]["merges"] = pairs;
  write_file(dir + "/pairs.json", tok.dump());
}

void vocab_seeds(const std::string& dir) {
  std::string vocab;
  for (int i = 0; i < 256; ++i) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", i);
    vocab += std::to_string(i + 1) + " b'" + hex + "' 1\n";
  }
  vocab += "257 'ab' 2\n258 'abc' 3\n259 '\\u4f60' 3\n260 'x y' 3\n";
  write_file(dir + "/seed1.txt", vocab);
}

// A binidx pair packed as fuzz_shard reads it (mode byte 0, .idx length, .idx, .bin), and text
// streams in each compression (mode byte 1).
void shard_seeds(const std::string& dir) {
  const std::string prefix = dir + "/tmp_shard";
  {
    gander::io::BinidxWriter w(prefix, gander::io::TokenWidth::U16);
    const std::vector<int32_t> a = {1, 2, 3, 0}, b = {7, 0};
    w.add_document(a);
    w.add_document(b);
    w.commit();
  }
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string idx = slurp(prefix + ".idx"), bin = slurp(prefix + ".bin");
  std::filesystem::remove(prefix + ".idx");
  std::filesystem::remove(prefix + ".bin");
  const uint32_t n = uint32_t(idx.size());
  write_file(dir + "/u16", std::string(1, '\0') + std::string(reinterpret_cast<const char*>(&n), 4) + idx + bin);
  const std::string text = "first line\r\nsecond line\n{\"text\": \"json\"}\n";
  write_file(dir + "/plain", "\x01" + text);
  const std::string gz = test::gzip_bytes(text);
  write_file(dir + "/gzip", "\x01" + gz);
  const std::string zs = test::zstd_bytes(text);
  write_file(dir + "/zstd", "\x01" + zs + zs);
}

// Training runs (first byte even) as docs/training.md writes them, with --set overrides after a
// NUL; the recipes under recipes/ (first byte odd) are copied in by run_fuzz.sh.
void yaml_seeds(const std::string& dir) {
  const std::string scratch = R"(run:
  out: runs/rwkv7-l4
  tokens: 20000000
  seed: 7
model:
  shape: rwkv7:L4,D256,V65536
data:
  train: shards/corpus
  valid: shards/valid
  seq: 512
  batch: 8
optimizer:
  schedule: cosine
  lr: 6e-4
  lr_final: 6e-5
  weight_decay: 0.001
  warmup_steps: 50
  l2wrap: 1e-4
eval:
  every: 100
  tokens: 65536
checkpoint:
  every: 200
  keep: 3
)";
  write_file(dir + "/scratch.yaml", std::string(1, '\0') + scratch);
  write_file(dir + "/overrides.yaml", std::string(1, '\0') + scratch + std::string(1, '\0') +
                                          "optimizer.lr=1e-3" + std::string(1, '\0') + "data.seq=1024");
  const std::string distill = R"(run: {out: step2, steps: 300}
model:
  from: step1/final
  teacher: teacher/
  objective: distill
  train: ["model.layers.*.self_attn.*", "lm_head.*"]
data: {train: train, valid_tokens: 4096, seq: 256, batch: 4}
optimizer: {lr: 1e-4, mixer_lr: 1e-3, mixer_lr_final: 1e-5, decay_start: 0.8, decay_end: 0.9, beta2: 0.95}
)";
  write_file(dir + "/distill.yaml", std::string(1, '\2') + distill);
  const std::string recipe = R"(teacher: teacher
student: rad_rwkv7:G,A1
out: conv
data: {train: train, valid: valid}
step1: {tokens: 1000, seq: 64, batch: 2, gate: 2}
step2a: {skip: false, seq: 128}
step3: {skip: true}
report: {ctx: 64, tokens: 0}
)";
  write_file(dir + "/recipe.yaml", std::string(1, '\1') + recipe + std::string(1, '\0') + "step2.lr=3e-4");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "corpus";
  const std::string only = argc > 2 ? argv[2] : "";
  const std::map<std::string, std::function<void(const std::string&)>> makers = {
      {"safetensors", safetensors_seeds}, {"pth", pth_seeds},
      {"npy", npy_seeds},                 {"config", config_seeds},
      {"rwkv_state", rwkv_state_seeds},   {"qwen2_kv", qwen2_kv_seeds},
      {"tokenizer", tokenizer_seeds},     {"vocab", vocab_seeds},
      {"shard", shard_seeds},             {"yaml", yaml_seeds},
      {"canary_library", [](const std::string& d) { write_file(d + "/overflow", "LL"); }},
      {"canary_recovering", [](const std::string& d) { write_file(d + "/overflow", "RR"); }}};
  if (!only.empty() && !makers.count(only)) {
    std::fprintf(stderr, "fuzz_make_seeds: no seeds for '%s'\n", only.c_str());
    return 2;
  }
  try {
    for (const auto& [name, make] : makers) {
      if (!only.empty() && name != only) continue;
      std::filesystem::create_directories(root + "/" + name);
      make(root + "/" + name);
    }
  } catch (const gander::Error& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
