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
#include "models/qwen2/model.h"
#include "models/rwkv7/model.h"
#include "models/shape_spec.h"
#include "testdata.h"
#include "../fuzz/fuzz_common.h"

namespace gander {
namespace {

using test::error_of;

// A KV-cache file of 3 positions as the model writes it, with one field or tensor changed by `edit`.
std::string cache_file(const std::string& name, const models::Decoder& m,
                       const std::function<void(std::map<std::string, std::string>&, io::NamedTensors&)>& edit) {
  models::SequenceState kv = m.new_state();
  kv.reserve(3);
  for (size_t i = 0; i < kv.layout().entries().size(); ++i) kv.at(i).fill_zero();
  kv.set_length(3);
  const std::string path = test::temp_path(name);
  save_sequence_state(path, kv, m.state_owner());
  const io::Checkpoint ck = io::load_checkpoint(path);
  std::map<std::string, std::string> meta = ck.metadata();
  io::NamedTensors ts;
  for (const auto& n : ck.names()) ts.emplace_back(n, ck.get(n).clone());
  edit(meta, ts);
  io::save_safetensors(path, ts, meta);
  return path;
}

TEST(KvCacheFile, RefusesAnotherModelAVersionAStrayTensorAndABadLength) {
  const auto m = qwen2::random(qwen2::Config::parse_shape("L2,D64,H4,KV2,I96,V300"), DType::F32, 1);
  const auto load = [&](const std::string& path, uint64_t fingerprint) {
    StateOwner owner = m->state_owner();
    owner.fingerprint = fingerprint;
    return load_sequence_state(path, m->state_layout(), owner);
  };
  const uint64_t fp = m->fingerprint();
  const auto same = [](auto&, auto&) {};
  EXPECT_EQ(load(cache_file("kv_ok.safetensors", *m, same), fp).length(), 3);
  EXPECT_NE(error_of([&] { load(cache_file("kv_fp.safetensors", *m, same), 0x999); })
                .find("another model of the same shape"),
            std::string::npos);
  const std::string v1 = cache_file("kv_v1.safetensors", *m, [](auto& meta, auto&) { meta["version"] = "1"; });
  EXPECT_NE(error_of([&] { load(v1, fp); }).find("version 1 is not supported"), std::string::npos);
  const std::string extra = cache_file("kv_extra.safetensors", *m, [](auto&, io::NamedTensors& ts) {
    ts.emplace_back("layers.9.k", Tensor::zeros(DType::F32, {1}));
  });
  EXPECT_NE(error_of([&] { load(extra, fp); }).find("unexpected tensor 'layers.9.k'"), std::string::npos);
  for (const char* length : {"-5", "9223372036854775807", "3x", "", "1e3", "40000"}) {
    const std::string bad = cache_file("kv_len.safetensors", *m, [&](auto& meta, auto&) { meta["length"] = length; });
    EXPECT_NE(error_of([&] { load(bad, fp); }).find(bad + ": metadata 'length' must be"), std::string::npos) << length;
  }
  // A length the tensors do not have: refused before any memory is sized by it.
  const std::string longer = cache_file("kv_longer.safetensors", *m, [&](auto& meta, auto&) { meta["length"] = "30000"; });
  EXPECT_NE(error_of([&] { load(longer, fp); }).find("expected shape [30000, 2, 16]"), std::string::npos);
  const std::string f16 = cache_file("kv_f16.safetensors", *m, [](auto&, io::NamedTensors& ts) {
    ts[0].second = ts[0].second.to(DType::F16);
  });
  EXPECT_NE(error_of([&] { load(f16, fp); }).find("expected f32"), std::string::npos);
}

TEST(KvCacheFile, RandomModelsOfOneShapeHaveDifferentFingerprints) {
  const qwen2::Config c = qwen2::Config::parse_shape("L1,D64,H4,KV2,I96,V300");
  const auto a = qwen2::random(c, DType::F32, 1), b = qwen2::random(c, DType::F32, 2);
  EXPECT_NE(a->fingerprint(), b->fingerprint());
  EXPECT_EQ(a->fingerprint(), qwen2::random(c, DType::F32, 1)->fingerprint());
}

TEST(Rwkv7StateFile, RefusesTensorsOfAnotherType) {
  const auto m = rwkv7::random(rwkv7::Config::parse_shape("L1,D64,V100"), DType::F32, 1);
  const std::string path = test::temp_path("state_f16.safetensors");
  save_sequence_state(path, m->new_state(), m->state_owner());
  const io::Checkpoint ck = io::load_checkpoint(path);
  io::NamedTensors ts;
  for (const auto& n : ck.names()) ts.emplace_back(n, n.ends_with(".wkv") ? ck.get(n).to(DType::F16) : ck.get(n).clone());
  io::save_safetensors(path, ts, ck.metadata());
  EXPECT_NE(error_of([&] { load_sequence_state(path, m->state_layout(), m->state_owner()); }).find("expected f32"),
            std::string::npos);
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

namespace gander {
namespace {

// State and KV-cache files record the weight fingerprint, so a change in the order or the bytes
// the fingerprint walks would make every saved state refuse to load. These are the values of the
// releases before the parameter table; the .pth and safetensors copies of a model agree.
TEST(WeightFingerprint, IsTheValueEarlierReleasesWroteIntoStateFiles) {
  GANDER_REQUIRE_TESTDATA("rwkv7/small/model_f32.safetensors");
  GANDER_REQUIRE_TESTDATA("qwen2/qwen2-small/config.json");
  EXPECT_EQ(rwkv7::load(io::load_checkpoint(test::testdata("rwkv7/tiny/model_f32.pth")))->fingerprint(),
            0x6d7607197e9a2615u);
  EXPECT_EQ(rwkv7::load(io::load_checkpoint(test::testdata("rwkv7/tiny/model_f32.safetensors")))->fingerprint(),
            0x6d7607197e9a2615u);
  EXPECT_EQ(rwkv7::load(io::load_checkpoint(test::testdata("rwkv7/small/model_f32.safetensors")))->fingerprint(),
            0x34f270ba8f859852u);
  EXPECT_EQ(qwen2::load_folder(test::testdata("qwen2/qwen2-tiny"))->fingerprint(), 0x3a4fa31cd534406cu);
  EXPECT_EQ(qwen2::load_folder(test::testdata("qwen2/qwen2-small"))->fingerprint(), 0x550a10bfc0f0414fu);
}

// The fuzz targets write the state layouts of two small models out by hand (their build has no
// kernels); they must stay what the blocks declare, or the fuzzers would test another format.
TEST(FuzzModels, HaveTheStateLayoutsAndFileKindsOfTheRealModels) {
  const auto rwkv = rwkv7::random(rwkv7::Config::parse_shape("L2,D64,V256"), DType::F32, 1);
  EXPECT_TRUE(*rwkv->state_layout() == *fuzz::rwkv7_model().layout);
  EXPECT_STREQ(rwkv->state_owner().kind.format, fuzz::rwkv7_model().owner.kind.format);
  EXPECT_EQ(rwkv->state_owner().kind.version, fuzz::rwkv7_model().owner.kind.version);
  EXPECT_EQ(rwkv->state_owner().model_shape, fuzz::rwkv7_model().owner.model_shape);
  const auto qwen = qwen2::random(qwen2::Config::parse_shape("L2,D64,H2,KV1,I96,V300"), DType::F32, 1);
  EXPECT_TRUE(*qwen->state_layout() == *fuzz::qwen2_model().layout);
  EXPECT_STREQ(qwen->state_owner().kind.format, fuzz::qwen2_model().owner.kind.format);
  EXPECT_EQ(qwen->state_owner().kind.version, fuzz::qwen2_model().owner.kind.version);
  EXPECT_EQ(qwen->state_owner().model_shape, fuzz::qwen2_model().owner.model_shape);
}

}  // namespace
}  // namespace gander
