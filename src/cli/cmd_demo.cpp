// gander demo: the RADLADS conversion end to end on a fresh machine, with nothing downloaded.
// Short stories from a procedural grammar (data/story_grammar) are the corpus; a tokenizer is
// made for them (tokenize/piece_bpe); a small Qwen2 teacher is trained on them from scratch; a
// recipe converts it into a RAD-RWKV7 student (steps 1-3); both are scored on held-out stories
// and continue the same prompts side by side. Every stage is what a user would run by hand:
// the demo writes the training config and the recipe into its folder (teacher.yaml,
// recipe.yaml) and runs them through `gander train`'s and `gander convert`'s own code, so
// `gander convert gander-demo/recipe.yaml --resume` or any `gander generate gander-demo/...`
// works on what it leaves.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/convert_recipe.h"
#include "cli/model_args.h"
#include "cli/run_progress.h"
#include "core/error.h"
#include "core/threads.h"
#include "core/timer.h"
#include "data/shard_builder.h"
#include "data/story_grammar.h"
#include "generate/generator.h"
#include "io/atomic_file.h"
#include "radlads/recipe.h"
#include "tokenize/piece_bpe.h"
#include "tokenize/tokenizer.h"
#include "train/run.h"

namespace gander::cli {

namespace {
namespace fs = std::filesystem;

// The sizes of a demo run; --scale multiplies the stories and every token budget.
struct DemoPlan {
  int64_t train_stories = 24000, valid_stories = 600;
  std::string teacher_shape = "qwen2:L4,D128,H4,KV2,I384";
  int64_t teacher_tokens = 1'500'000, teacher_seq = 512, teacher_batch = 8;
  int64_t step1_tokens = 300'000, step2_tokens = 600'000, step3_tokens = 300'000;
  int64_t student_seq = 512, student_batch = 4;  // step 3: twice the context, half the sequences

  DemoPlan scaled(double s) const {
    DemoPlan p = *this;
    const auto at_least = [s](int64_t v, int64_t lo) { return std::max(lo, int64_t(std::llround(double(v) * s))); };
    p.train_stories = at_least(train_stories, 200);
    p.valid_stories = at_least(valid_stories, 40);
    p.teacher_tokens = at_least(teacher_tokens, teacher_seq * teacher_batch * 4);
    for (int64_t* t : {&p.step1_tokens, &p.step2_tokens, &p.step3_tokens}) *t = at_least(*t, student_seq * student_batch * 2);
    return p;
  }
};

// The demo's folder: made fresh, or a previous demo's (it says so with a marker file) replaced.
void prepare_folder(const std::string& dir) {
  std::error_code ec;
  const fs::path marker = fs::path(dir) / ".gander-demo";
  if (fs::exists(dir, ec)) {
    GANDER_CHECK(fs::is_directory(dir, ec), dir, ": exists and is not a folder; choose another with --out");
    const bool empty = fs::directory_iterator(dir, ec) == fs::directory_iterator();
    GANDER_CHECK(empty || fs::exists(marker, ec), dir,
                 ": exists and was not made by gander demo; choose another folder with --out");
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) fs::remove_all(e.path());
  }
  io::make_output_folder(dir, "demo folder");
  io::write_file(marker.string(), "made by gander demo; the next demo run replaces this folder\n");
}

std::string stories_jsonl(uint64_t first, int64_t count) {
  std::string out;
  for (int64_t i = 0; i < count; ++i) out += nlohmann::json({{"text", data::grammar_story(first + uint64_t(i))}}).dump() + "\n";
  return out;
}

// Prints `text` after `label`, wrapped at `width` columns under the label's indent.
void print_wrapped(const std::string& label, std::string text, size_t width = 96) {
  if (!text.empty() && text[0] == ' ') text.erase(0, 1);
  std::string line = label;
  const std::string indent(label.size(), ' ');
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i + 1);
    if (j == std::string::npos) j = text.size();
    const std::string word = text.substr(i, j - i);
    if (line.size() + word.size() > width && line.size() > indent.size()) {
      std::printf("%s\n", line.c_str());
      line = indent + (word[0] == ' ' ? word.substr(1) : word);
    } else {
      line += word;
    }
    i = j;
  }
  std::printf("%s\n", line.c_str());
}

struct Continuation {
  std::string text;
  double tokens_per_s = 0;
};

Continuation continue_story(const std::string& model, const std::string& prompt, uint64_t seed, int threads) {
  ModelArgs args;
  args.path = model;
  args.threads = std::to_string(threads);
  const std::unique_ptr<Runner> runner = args.load();
  const std::unique_ptr<Tokenizer> tok = load_tokenizer((fs::path(model) / "tokenizer.json").string());
  SamplingParams p = SamplingParams::hf_defaults();
  p.temperature = 0.7f;
  p.top_p = 0.9f;
  p.top_k = 0;
  p.seed = seed;
  Sampler sampler(p, runner->vocab());
  sampler.restrict_to(tok->vocab_size());  // the head's rows past the tokenizer pad the vocabulary
  GenerateOptions opt;
  opt.max_tokens = 160;
  opt.stop_tokens = tok->end_of_text();
  const std::vector<int32_t> ids = tok->encode(prompt);
  Tensor logits;
  const GenerateStats s = generate([&](std::span<const int32_t> x, Tensor& l) { runner->feed(x, l); }, *tok, ids,
                                   logits, sampler, opt, [](const std::string&) {});
  return {s.text, s.decode_tps()};
}

std::string yaml_quote(const std::string& s) { return nlohmann::json(s).dump(); }  // JSON strings are YAML

}  // namespace

void register_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo", "RADLADS end to end, no downloads: train a small Qwen2 teacher on generated stories, convert it into a "
              "RAD-RWKV7 student (steps 1-3), compare them");
  struct Opts {
    std::string out = "gander-demo", threads;
    double scale = 1.0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-o,--out", o->out, "The demo's folder (a previous demo's folder is replaced)")->capture_default_str();
  cmd->add_option("--scale", o->scale, "Multiply the stories and every token budget (0.1: a quick look, worse numbers)")
      ->check(CLI::Range(0.001, 100.0))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "End with one JSON line: teacher_perplexity, student_perplexity, ratio, seconds, ...");
  add_threads_option(cmd, o->threads, std::to_string(hardware_threads()));
  cmd->callback([o] {
    std::signal(SIGXFSZ, SIG_IGN);
    const ThreadSetting ts = ThreadSetting::parse(o->threads);
    set_num_threads(ts.count);
    const double t0 = now_seconds();
    const DemoPlan plan = DemoPlan{}.scaled(o->scale);
    const std::string dir = o->out;
    const auto in = [&](const std::string& name) { return (fs::path(dir) / name).string(); };
    std::printf("gander demo: RADLADS on %s, nothing downloaded. A small Qwen2 teacher learns generated stories,\n"
                "then becomes a RAD-RWKV7 student (linear attention, constant memory per token). Folder: %s/\n\n",
                ThreadSetting{ts.count, false}.describe().c_str(), dir.c_str());
    std::fflush(stdout);
    prepare_folder(dir);

    // 1. The stories, and a tokenizer that holds every piece of them as one token.
    std::printf("[1/5] Data: %lld training stories and %lld held-out ones from a procedural grammar, and a tokenizer\n",
                (long long)plan.train_stories, (long long)plan.valid_stories);
    io::make_output_folder(in("data"));
    io::make_output_folder(in("tokenizer"));
    const uint64_t valid_first = uint64_t(1) << 40;  // held-out stories: numbers training never reaches
    io::write_file(in("data/train.jsonl"), stories_jsonl(0, plan.train_stories));
    io::write_file(in("data/valid.jsonl"), stories_jsonl(valid_first, plan.valid_stories));
    std::vector<std::string> sample;
    for (uint64_t i = 0; i < 4000; ++i) sample.push_back(data::grammar_story(i));
    io::write_file(in("tokenizer/tokenizer.json"), piece_bpe_tokenizer_json(sample));
    const std::unique_ptr<Tokenizer> tok = load_tokenizer(in("tokenizer/tokenizer.json"));
    const int32_t eot = tok->end_of_text().at(0);
    io::write_file(in("tokenizer/generation_config.json"),
                   nlohmann::json({{"eos_token_id", eot}, {"do_sample", true}, {"temperature", 0.7}, {"top_p", 0.9}})
                           .dump(2) +
                       "\n");
    int64_t corpus_tokens = 0;
    for (const char* part : {"train", "valid"}) {
      data::BuildOptions b;
      b.inputs = {in(concat("data/", part, ".jsonl"))};
      b.prefix = in(concat("data/", part));
      const data::BuildProgress r = data::build_shard(*tok, b);
      if (std::string(part) == "train") corpus_tokens = r.tokens;
      std::printf("      %s: %lld tokens (%s)\n", part, (long long)r.tokens, b.prefix.c_str());
    }
    std::printf("      tokenizer: %lld tokens, every word of the grammar one token (%s)\n\n",
                (long long)tok->vocab_size(), in("tokenizer/tokenizer.json").c_str());

    // 2. The teacher, trained from scratch (Qwen2's init) as `gander train teacher.yaml` would.
    const int64_t vocab = (tok->vocab_size() + 63) / 64 * 64;
    const std::string shape = concat(plan.teacher_shape, ",V", vocab);
    io::write_file(in("teacher.yaml"),
                   concat("# The demo's teacher: a small Qwen2 trained from scratch on the stories.\n",
                          "run:\n  out: ", yaml_quote(in("teacher")), "\n  seed: 1\n  tokens: ", plan.teacher_tokens,
                          "\nmodel:\n  shape: ", shape, "\ndata:\n  train: ", yaml_quote(in("data/train")),
                          "\n  valid: ", yaml_quote(in("data/valid")), "\n  tokenizer: ", yaml_quote(in("tokenizer")),
                          "\n  seq: ", plan.teacher_seq, "\n  batch: ", plan.teacher_batch,
                          "\noptimizer:\n  schedule: cosine\n  lr: 3.0e-3\n  lr_final: 1.0e-4\n  warmup_steps: 20\n"
                          "  beta2: 0.95\neval:\n  every: 50\n  tokens: 16384\ncheckpoint:\n  every: 0\n  keep: 1\n"));
    std::printf("[2/5] The teacher: Qwen2 %s, %lld tokens (%.1f passes over the stories; %s)\n", shape.c_str(),
                (long long)plan.teacher_tokens, double(plan.teacher_tokens) / double(corpus_tokens),
                in("teacher.yaml").c_str());
    std::fflush(stdout);
    const train::RunConfig teacher_run = train::load_run_config(in("teacher.yaml"), {});
    std::unique_ptr<train::Communicator> comm = train::make_communicator();
    train::RunResult teacher;
    {
      RunProgress progress;
      teacher = train::run_training(teacher_run, false, *comm, progress.hooks());
      progress.finish();
    }
    std::printf("      trained in %s: validation perplexity %.3f\n\n", duration(teacher.seconds).c_str(),
                teacher.last_eval.perplexity);

    // 3. The conversion, as `gander convert recipe.yaml` runs it.
    io::write_file(
        in("recipe.yaml"),
        concat("# The demo's RADLADS conversion (gander convert --keys lists every key).\n",
               "teacher: ", yaml_quote(teacher.output), "\nstudent: rad_rwkv7\nout: ", yaml_quote(in("conversion")),
               "\nseed: 1\ndata:\n  train: ", yaml_quote(in("data/train")), "\n  valid: ", yaml_quote(in("data/valid")),
               "\n  seq: ", plan.student_seq, "\n  batch: ", plan.student_batch,
               "\noptimizer:\n  warmup_steps: 10\neval:\n  every: 50\n  tokens: 16384\ncheckpoint:\n  every: 0\n  keep: 1\n",
               "report:\n  ctx: 512\n  tokens: 0\n", "step1:\n  tokens: ", plan.step1_tokens, "\n  lr: 3.0e-3\n  lr_final: 1.0e-4\n",
               "step2:\n  tokens: ", plan.step2_tokens, "\n  schedule: cosine\n  lr: 1.0e-3\n  lr_final: 1.0e-4\n",
               "step3:\n  tokens: ", plan.step3_tokens, "\n  seq: ", 2 * plan.student_seq, "\n  batch: ", plan.student_batch / 2, "\n  schedule: cosine\n  lr: 3.0e-4\n  lr_final: 3.0e-5\n"));
    std::printf("[3/5] The conversion into RAD-RWKV7: steps 1 (align each layer's mixer to the teacher's attention),\n"
                "      2 (distil the logits) and 3 (fine-tune), %s\n",
                in("recipe.yaml").c_str());
    std::fflush(stdout);
    const radlads::Recipe recipe = radlads::load_recipe(in("recipe.yaml"), {});
    const radlads::ConversionReport report = run_recipe(recipe, false);
    const std::string student = report.steps.back().model;

    // 4. Side by side.
    std::printf("\n[4/5] Both continue the same prompts (same seed; temperature 0.7, top-p 0.9):\n");
    nlohmann::json samples = nlohmann::json::array();
    double teacher_tps = 0, student_tps = 0;
    const char* prompts[] = {"Once upon a time, there was a brave fox named Leo.",
                             "There once was a shy owl called Mia. Mia lived near the beach with her grandpa."};
    for (size_t i = 0; i < std::size(prompts); ++i) {
      const Continuation a = continue_story(teacher.output, prompts[i], 7 + i, ts.count);
      const Continuation b = continue_story(student, prompts[i], 7 + i, ts.count);
      teacher_tps = a.tokens_per_s, student_tps = b.tokens_per_s;
      std::printf("\n");
      print_wrapped("  prompt:  ", prompts[i]);
      print_wrapped("  teacher: ", a.text);
      print_wrapped("  student: ", b.text);
      samples.push_back({{"prompt", prompts[i]}, {"teacher", a.text}, {"student", b.text}});
    }

    // 5. The numbers.
    const double seconds = now_seconds() - t0;
    const radlads::StepOutcome& last = report.steps.back();
    std::printf("\n[5/5] On %lld held-out tokens (windows of %lld): teacher perplexity %.3f, student %.3f, ratio %.3fx.\n",
                (long long)report.scored_tokens, (long long)recipe.report_ctx, report.teacher_perplexity,
                last.student_perplexity, last.ratio);
    std::printf("      Decode here: teacher %.0f tokens/s, student %.0f tokens/s (short contexts: the student's\n"
                "      advantage grows with the context, bench/RESULTS.md).\n",
                teacher_tps, student_tps);
    std::printf("      Loss curves: %s. Models: %s (teacher), %s (student).\n      %s in all.\n",
                in("conversion/curves.png").c_str(), teacher.output.c_str(), student.c_str(), duration(seconds).c_str());
    std::printf("      Next: gander generate %s --prompt \"Once upon a time,\"; gander chat, perplexity, bench on it.\n",
                student.c_str());
    if (o->json) {
      nlohmann::json steps = nlohmann::json::array();
      for (const radlads::StepOutcome& s : report.steps)
        steps.push_back({{"name", s.name}, {"tokens", s.tokens}, {"seconds", s.seconds}, {"student_perplexity", s.student_perplexity},
                         {"ratio", s.ratio}});
      const nlohmann::json j = {{"teacher_perplexity", report.teacher_perplexity},
                                {"student_perplexity", last.student_perplexity},
                                {"ratio", last.ratio},
                                {"scored_tokens", report.scored_tokens},
                                {"teacher_tokens", teacher.tokens},
                                {"teacher_seconds", teacher.seconds},
                                {"steps", steps},
                                {"teacher_decode_tokens_per_s", teacher_tps},
                                {"student_decode_tokens_per_s", student_tps},
                                {"samples", samples},
                                {"teacher", teacher.output},
                                {"student", student},
                                {"seconds", seconds}};
      // A barely trained model (a small --scale) may write bytes that are not UTF-8.
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
  });
}

}  // namespace gander::cli
