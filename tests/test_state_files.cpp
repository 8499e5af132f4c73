// State and KV-cache files refuse anything that is not exactly what this model wrote; config.json
// values that would give NaN logits are refused; a signal never leaves a temporary behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/signals.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "models/qwen2/kv_cache.h"
#include "models/qwen2/model.h"
#include "models/rwkv7/state.h"
#include "models/shape_spec.h"
#include "testdata.h"

namespace gander {
namespace {

using test::error_of;

// A KV-cache file as save_cache writes it, with one field or tensor changed by `edit`.
std::string cache_file(const std::string& name, const qwen2::Config& c, uint64_t fingerprint,
                       const std::function<void(std::map<std::string, std::string>&, io::NamedTensors&)>& edit) {
  qwen2::KvCache kv = qwen2::KvCache::empty(c);
  kv.reserve(c, 3);
  for (auto& t : kv.k) t.fill_zero();
  for (auto& t : kv.v) t.fill_zero();
  kv.length = 3;
  const std::string path = test::temp_path(name);
  qwen2::save_cache(path, kv, c, fingerprint);
  const io::Checkpoint ck = io::load_checkpoint(path);
  std::map<std::string, std::string> meta = ck.metadata();
  io::NamedTensors ts;
  for (const auto& n : ck.names()) ts.emplace_back(n, ck.get(n).clone());
  edit(meta, ts);
  io::save_safetensors(path, ts, meta);
  return path;
}

TEST(KvCacheFile, RefusesAnotherModelAVersionAStrayTensorAndABadLength) {
  const qwen2::Config c = qwen2::Config::parse_shape("L2,D64,H4,KV2,I96,V300");
  const uint64_t fp = 0x1234;
  const auto same = [](auto&, auto&) {};
  EXPECT_EQ(qwen2::load_cache(cache_file("kv_ok.safetensors", c, fp, same), c, fp).length, 3);
  EXPECT_NE(error_of([&] { qwen2::load_cache(cache_file("kv_fp.safetensors", c, fp, same), c, 0x999); })
                .find("another model of the same shape"),
            std::string::npos);
  const std::string v1 = cache_file("kv_v1.safetensors", c, fp, [](auto& m, auto&) { m["version"] = "1"; });
  EXPECT_NE(error_of([&] { qwen2::load_cache(v1, c, fp); }).find("version 1 is not supported"), std::string::npos);
  const std::string extra = cache_file("kv_extra.safetensors", c, fp, [](auto&, io::NamedTensors& ts) {
    ts.emplace_back("layers.9.k", Tensor::zeros(DType::F32, {1}));
  });
  EXPECT_NE(error_of([&] { qwen2::load_cache(extra, c, fp); }).find("unexpected tensor 'layers.9.k'"), std::string::npos);
  for (const char* length : {"-5", "9223372036854775807", "3x", "", "1e3", "40000"}) {
    const std::string bad = cache_file("kv_len.safetensors", c, fp, [&](auto& m, auto&) { m["length"] = length; });
    EXPECT_NE(error_of([&] { qwen2::load_cache(bad, c, fp); }).find(bad + ": metadata 'length' must be"),
              std::string::npos)
        << length;
  }
  const std::string f16 = cache_file("kv_f16.safetensors", c, fp, [](auto&, io::NamedTensors& ts) {
    ts[0].second = ts[0].second.to(DType::F16);
  });
  EXPECT_NE(error_of([&] { qwen2::load_cache(f16, c, fp); }).find("expected f32"), std::string::npos);
}

TEST(KvCacheFile, RandomModelsOfOneShapeHaveDifferentFingerprints) {
  const qwen2::Config c = qwen2::Config::parse_shape("L1,D64,H4,KV2,I96,V300");
  const qwen2::Model a(qwen2::random_weights(c, DType::F32, 1)), b(qwen2::random_weights(c, DType::F32, 2));
  EXPECT_NE(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint(), qwen2::Model(qwen2::random_weights(c, DType::F32, 1)).fingerprint());
}

TEST(Rwkv7StateFile, RefusesTensorsOfAnotherType) {
  const rwkv7::Config c = rwkv7::Config::parse_shape("L1,D64,V100");
  const std::string path = test::temp_path("state_f16.safetensors");
  rwkv7::save_state(path, rwkv7::State::zeros(c), c, 7);
  const io::Checkpoint ck = io::load_checkpoint(path);
  io::NamedTensors ts;
  for (const auto& n : ck.names()) ts.emplace_back(n, n.ends_with(".wkv") ? ck.get(n).to(DType::F16) : ck.get(n).clone());
  io::save_safetensors(path, ts, ck.metadata());
  EXPECT_NE(error_of([&] { rwkv7::load_state(path, c, 7); }).find("expected f32"), std::string::npos);
}

TEST(ShapeSpec, NumbersAreWholeAndBounded) {
  EXPECT_EQ(parse_shape_items("L12,D768,T").size(), 3u);
  for (const char* bad : {"L1,D64,V1e9", "L1,D64,V4611686018427387904", "L1,D64,V-3", "L1,,D64", "12"})
    EXPECT_THROW(parse_shape_items(bad), Error) << bad;
}

TEST(Qwen2Config, RefusesValuesThatGiveNaNLogits) {
  const std::string path = test::temp_path("nan_config.json");
  nlohmann::json j = {{"model_type", "qwen2"}, {"num_hidden_layers", 1}, {"hidden_size", 8}, {"intermediate_size", 16},
                      {"num_attention_heads", 2}, {"vocab_size", 10}};
  for (auto [key, value] : {std::pair{"rms_norm_eps", -1.0}, {"rms_norm_eps", 0.0}, {"rope_theta", 1e-300}, {"rope_theta", 1e300}}) {
    nlohmann::json bad = j;
    bad[key] = value;
    std::ofstream(path) << bad.dump();
    EXPECT_NE(error_of([&] { qwen2::Config::from_json(io::JsonConfig::load(path)); }).find(std::string("field '") + key),
              std::string::npos)
        << key << " = " << value;
  }
  nlohmann::json huge = j;
  huge["num_hidden_layers"] = 18446744073709551615ull;
  std::ofstream(path) << huge.dump();
  EXPECT_NE(error_of([&] { qwen2::Config::from_json(io::JsonConfig::load(path)); }).find("out of range"), std::string::npos);
  std::string deep(200000, '[');
  std::ofstream(path) << R"({"model_type": "qwen2", "num_hidden_layers": )" << deep;  // not valid JSON, must not crash
  EXPECT_THROW(io::JsonConfig::load(path), Error);
}

TEST(Qwen2Weights, ATiedModelWhoseOwnHeadDiffersIsRefused) {
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-tiny/model.safetensors");
  namespace fs = std::filesystem;
  const fs::path src = test::testdata("qwen2/qwen2-tiny"), dir = test::temp_path("tied_head");
  fs::create_directories(dir);
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(src / "config.json"));
  cfg["tie_word_embeddings"] = true;  // and the folder has its own, different lm_head.weight
  std::ofstream(dir / "config.json") << cfg.dump();
  const io::Checkpoint ck = io::load_checkpoint(src.string());
  io::NamedTensors ts;
  for (const auto& n : ck.names())
    if (n != "lm_head.weight") ts.emplace_back(n, ck.get(n));
  Tensor head = ck.get("model.embed_tokens.weight").to(DType::F32);
  head.data<float>()[5] += 1.0f;
  ts.emplace_back("lm_head.weight", head.to(ck.get("model.embed_tokens.weight").dtype()));
  io::save_safetensors((dir / "model.safetensors").string(), ts);
  EXPECT_NE(error_of([&] { qwen2::load_folder(dir.string()); }).find("'lm_head.weight' differs"), std::string::npos);
}

TEST(Signals, ATerminatingSignalRemovesTheTemporaryOfAWriteInProgress) {
  const std::string dir = test::temp_path("signal_write");
  std::filesystem::create_directories(dir);
  const std::string target = dir + "/out.bin";
  const pid_t pid = fork();
  if (pid == 0) {
    signals::install_handlers();
    io::AtomicFile f(target);
    f.write("partial", 7);
    ::raise(SIGTERM);  // killed mid-write
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "the process still dies by the signal";
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a temporary was left behind";
}

TEST(Signals, AnArmedInterruptOnlySetsTheFlag) {
  signals::install_handlers();
  {
    const signals::ArmInterrupt arm;
    ::raise(SIGINT);
    EXPECT_TRUE(signals::interrupt_flag().exchange(false));
  }
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGHUP, SIG_DFL);
  ::signal(SIGQUIT, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
}

}  // namespace
}  // namespace gander
