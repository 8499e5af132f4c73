// RADLADS recipes (radlads/recipe.h): the paper's defaults, the shared sections and a step's
// own keys, the chain of steps (the first builds the student from the teacher, each later one
// starts from the one before), --set, and bad recipes named by file, line and key.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/read_file.h"
#include "radlads/recipe.h"

namespace gander {
namespace {

std::string err(const std::string& yaml, const std::vector<std::string>& set = {}) {
  try {
    radlads::parse_recipe(yaml, "r.yaml", set);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr const char* kMinimal = "teacher: T\nout: O\ndata:\n  train: shards\n  valid: v\n";

TEST(RadladsRecipe, DefaultsAreThePapersSevenBillionRecipe) {
  const radlads::Recipe r = radlads::parse_recipe(kMinimal, "r.yaml");
  ASSERT_EQ(r.steps.size(), 3u);  // step2a is off unless asked for
  const train::RunConfig &s1 = r.steps[0].run, &s2 = r.steps[1].run, &s3 = r.steps[2].run;
  EXPECT_EQ(r.steps[0].name, "step1");
  EXPECT_EQ(s1.objective, "align");
  EXPECT_EQ(s1.from, "T");
  EXPECT_EQ(s1.convert, "rad_rwkv7");
  EXPECT_EQ(s1.teacher, "T");
  EXPECT_EQ(s1.out, "O/step1");
  EXPECT_EQ(s1.tokens, 100000000);
  EXPECT_EQ(s1.seq, 512);
  EXPECT_EQ(s1.batch, 32);
  EXPECT_EQ(s1.schedule, "quarter_cosine");
  EXPECT_DOUBLE_EQ(s1.lr, 1e-3);
  EXPECT_DOUBLE_EQ(s1.lr_final, 1e-5);
  EXPECT_EQ(s1.train, std::vector<std::string>{"*.self_attn.*"});
  for (const auto* s : {&s1, &s2, &s3}) {
    EXPECT_DOUBLE_EQ(s->beta2, 0.95);
    EXPECT_DOUBLE_EQ(s->weight_decay, 0.0);
    EXPECT_EQ(s->warmup_steps, 50);
    EXPECT_DOUBLE_EQ(s->grad_clip, 1.0);
    EXPECT_EQ(s->data_train, "shards");
  }
  EXPECT_EQ(s2.objective, "distill");
  EXPECT_EQ(s2.from, "O/step1/final");
  EXPECT_TRUE(s2.convert.empty());
  EXPECT_EQ(s2.tokens, 500000000);
  EXPECT_EQ(s2.batch, 96);
  EXPECT_DOUBLE_EQ(s2.lr, 1e-5);
  EXPECT_TRUE(s2.train.empty());
  EXPECT_EQ(s3.objective, "lm");
  EXPECT_TRUE(s3.teacher.empty());
  EXPECT_EQ(s3.from, "O/step2/final");
  EXPECT_EQ(s3.seq, 16384);
}

TEST(RadladsRecipe, SharedSectionsSetEveryStepAndAStepItsOwn) {
  const radlads::Recipe r = radlads::parse_recipe(std::string(kMinimal) +
                                                      "optimizer:\n  beta2: 0.99\n"
                                                      "step2:\n  steps: 7\n  lr: 3e-4\n  gate: 1.5\n"
                                                      "step2a:\n  skip: false\n  seq: 256\n",
                                                  "r.yaml", {"step3.lr=2e-5", "seed=5", "student=rad_rwkv7:G", "data.seq=128"});
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].run.seq, 128);  // a shared key over every step's default
  EXPECT_EQ(r.steps[0].run.data_train, "shards");
  EXPECT_DOUBLE_EQ(r.steps[0].run.beta2, 0.99);
  EXPECT_EQ(r.steps[0].run.convert, "rad_rwkv7:G");
  EXPECT_EQ(r.steps[0].run.seed, 5u);
  EXPECT_EQ(r.steps[1].run.steps, 7);  // steps replaces the default token budget
  EXPECT_EQ(r.steps[1].run.tokens, 0);
  EXPECT_DOUBLE_EQ(r.steps[1].run.lr, 3e-4);
  EXPECT_DOUBLE_EQ(r.steps[1].gate, 1.5);
  const train::RunConfig& s2a = r.steps[2].run;
  EXPECT_EQ(r.steps[2].name, "step2a");
  EXPECT_EQ(s2a.from, "O/step2/final");
  EXPECT_EQ(s2a.objective, "distill");
  EXPECT_EQ(s2a.seq, 256);  // a step's own over the shared
  EXPECT_DOUBLE_EQ(s2a.mixer_lr, 1e-4);  // the paper's s-cos-s for the mixers
  EXPECT_DOUBLE_EQ(s2a.decay_start, 0.833);
  EXPECT_DOUBLE_EQ(r.steps[3].run.lr, 2e-5);
  EXPECT_EQ(r.steps[3].run.from, "O/step2a/final");
}

TEST(RadladsRecipe, WithoutStepOneTheDistillationBuildsTheStudent) {
  const radlads::Recipe r = radlads::parse_recipe(std::string(kMinimal) + "step1:\n  skip: true\n", "r.yaml");
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[0].name, "step2");
  EXPECT_EQ(r.steps[0].run.from, "T");
  EXPECT_EQ(r.steps[0].run.convert, "rad_rwkv7");
  EXPECT_EQ(r.steps[0].run.teacher, "T");
}

TEST(RadladsRecipe, BadRecipesAreNamedByFileLineAndKey) {
  std::string e = err(std::string(kMinimal) + "step1:\n  lr_mixer: 1e-4\n");
  EXPECT_NE(e.find("r.yaml:7: key 'step1.lr_mixer': unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("mixer_lr"), std::string::npos) << e;  // the keys a step holds
  e = err(std::string(kMinimal) + "optimizer:\n  betta2: 0.9\n");
  EXPECT_NE(e.find("r.yaml:7: key 'optimizer.betta2': unknown key"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "stepp2:\n  lr: 1\n");
  EXPECT_NE(e.find("key 'stepp2': unknown key"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "step2:\n  lr: -1\n");
  EXPECT_NE(e.find("key 'step2.lr'"), std::string::npos) << e;
  EXPECT_NE(e.find("outside"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "step2:\n  tokens: 100\n  steps: 3\n");
  EXPECT_NE(e.find("r.yaml (step2): give exactly one of run.steps and run.tokens"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "step3:\n  gate: 0.5\n");
  EXPECT_NE(e.find("a ratio of at least 1"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "step2a:\n  skip: false\n  decay_start: 0.9\n  decay_end: 0.5\n");
  EXPECT_NE(e.find("decay_start 0.9 must be below"), std::string::npos) << e;
  e = err("out: O\ndata:\n  train: s\n");
  EXPECT_NE(e.find("teacher is required"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "student: rad_rwkv5\n");
  EXPECT_NE(e.find("rad_rwkv7[:G][,A<n>] and rad_rwkv6[:A<n>]"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "step1: {skip: true}\nstep2: {skip: true}\nstep3: {skip: true}\n");
  EXPECT_NE(e.find("every step is skipped"), std::string::npos) << e;
  e = err(kMinimal, {"step2.lr"});
  EXPECT_NE(e.find("expected key=value"), std::string::npos) << e;
  e = err(std::string(kMinimal) + "data: [1]\n");
  EXPECT_NE(e.find("expected a section"), std::string::npos) << e;
}

TEST(RadladsRecipe, EveryKeyIsDocumentedInRadladsMd) {
  const std::string doc = io::read_file(std::string(GANDER_SOURCE_DIR) + "/docs/radlads.md", 1 << 20, "doc");
  for (const radlads::RecipeKey& k : radlads::recipe_keys())
    EXPECT_NE(doc.find(k.name + " "), std::string::npos) << k.name << " is not in docs/radlads.md";
  for (const radlads::StepKeyDoc& k : radlads::recipe_step_keys())
    EXPECT_NE(doc.find("\n" + k.name + " "), std::string::npos) << k.name << " is not in docs/radlads.md";
}

// The recipes the repository ships parse (the 7B one cannot run here; its keys still must be right).
TEST(RadladsRecipe, TheShippedRecipesParse) {
  for (const auto& f : std::filesystem::directory_iterator(std::string(GANDER_SOURCE_DIR) + "/recipes")) {
    const radlads::Recipe r = radlads::load_recipe(f.path().string(), {});
    EXPECT_GE(r.steps.size(), 3u) << f.path();
  }
  const radlads::Recipe r = radlads::load_recipe(std::string(GANDER_SOURCE_DIR) + "/recipes/qwen2.5-7b-rad-rwkv7.yaml", {});
  EXPECT_EQ(r.steps[2].run.seq, 16384);
  EXPECT_EQ(r.steps[0].run.precision, "bf16");
  EXPECT_DOUBLE_EQ(r.steps[1].gate, 1.5);
}

}  // namespace
}  // namespace gander
