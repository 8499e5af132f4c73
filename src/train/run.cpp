#include "train/run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.h"
#include "core/timer.h"
#include "data/token_shard.h"
#include "data/windows.h"
#include "eval/perplexity.h"
#include "io/atomic_file.h"
#include "io/read_file.h"
#include "models/registry.h"
#include "train/run_checkpoint.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace gander::train {

namespace fs = std::filesystem;

namespace {

// The tokenizer of a run: data.tokenizer, else the one a model folder carries (or none: the
// shards are then checked against the model's vocabulary alone).
std::string tokenizer_of(const RunConfig& c) {
  if (!c.tokenizer.empty()) return c.tokenizer;
  std::error_code ec;
  if (!c.from.empty() && fs::is_directory(c.from, ec))
    for (const char* name : {"tokenizer.json", "rwkv_vocab_v20230424.txt"})
      if (fs::exists(fs::path(c.from) / name, ec)) return (fs::path(c.from) / name).string();
  return "";
}

// metrics.jsonl, appended a line at a time; flushed to disk before each checkpoint so that the
// file holds at least every step the checkpoint has.
class MetricsFile {
 public:
  explicit MetricsFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    GANDER_CHECK(fd_ >= 0, path, ": cannot write metrics: ", std::strerror(errno));
  }
  ~MetricsFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  void write(const nlohmann::json& j) {
    const std::string line = j.dump() + "\n";
    GANDER_CHECK(::write(fd_, line.data(), line.size()) == ssize_t(line.size()), path_,
                 ": cannot write metrics: ", std::strerror(errno));
  }
  void sync() { GANDER_CHECK(::fsync(fd_) == 0, path_, ": cannot write metrics: ", std::strerror(errno)); }

 private:
  std::string path_;
  int fd_ = -1;
};

// On resume: the lines of steps the checkpoint has, none after (those steps run again).
void truncate_metrics(const std::string& path, int64_t step) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      break;  // a line cut by the crash: it and anything after it belong to lost steps
    }
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int64_t>() > step) break;
    kept += line + "\n";
  }
  io::write_file(path, kept);
}

}  // namespace

RunResult run_training(const RunConfig& c, bool resume, Communicator& comm, const RunHooks& hooks) {
  const bool lead = comm.rank() == 0;
  auto note = [&](const std::string& s) {
    if (lead && hooks.note) hooks.note(s);
  };
  // The output folder: a new run never writes over an old one; --resume needs a checkpoint.
  const std::string metrics_path = (fs::path(c.out) / "metrics.jsonl").string();
  const std::string latest = latest_run_checkpoint(c.out);
  std::error_code ec;
  if (resume)
    GANDER_CHECK(!latest.empty(), c.out, ": --resume, but there is no checkpoint in ", c.out, "/checkpoints");
  else
    GANDER_CHECK(latest.empty() && !fs::exists(metrics_path, ec), c.out,
                 ": holds a run already (checkpoints/, metrics.jsonl); --resume continues it, or give another run.out");
  GANDER_CHECK(c.batch % comm.size() == 0, "data.batch ", c.batch, " does not split over ", comm.size(), " processes");
  const int64_t local = c.batch / comm.size();
  const int64_t micro = c.micro_batch > 0 ? std::min(c.micro_batch, local) : local;
  GANDER_CHECK(local % micro == 0, "data.micro_batch ", micro, " does not divide the ", local,
               " sequences of each process");

  // Tokenizer, model, shards.
  const std::string tok_path = tokenizer_of(c);
  const std::unique_ptr<Tokenizer> tok = tok_path.empty() ? nullptr : load_tokenizer(tok_path);
  const models::Architecture* arch = nullptr;
  std::unique_ptr<models::Decoder> model;
  if (!c.shape.empty()) {
    const size_t colon = c.shape.find(':');
    GANDER_CHECK(colon != std::string::npos, "model.shape '", c.shape, "': expected <architecture>:<shape>, e.g. ",
                 models::architecture_named("rwkv7").random_example);
    arch = &models::architecture_named(c.shape.substr(0, colon));
    model = models::trainable_random_model(c.shape, c.seed, models::InitSet::Fresh);
  } else {
    models::TrainableModel m = models::trainable_model(c.from);
    arch = m.architecture;
    model = std::move(m.decoder);
  }
  // RADLADS: a student converted from model.from (its teacher), and the teacher of align / distill.
  std::unique_ptr<models::Decoder> teacher;
  std::string student_config;
  if (!c.convert.empty()) {
    const size_t colon = c.convert.find(':');
    const models::Architecture& student = models::architecture_named(c.convert.substr(0, colon));
    GANDER_CHECK(student.student_of, "model.convert '", c.convert, "': ", student.name,
                 " is not converted from a teacher (", arch->name, " is what model.from holds)");
    models::make_master_weights(model->params());
    models::ConvertedStudent s =
        student.student_of(*model, colon == std::string::npos ? "" : c.convert.substr(colon + 1), c.seed);
    teacher = std::move(model);
    model = std::move(s.decoder);
    student_config = std::move(s.config_json);
    arch = &student;
  }
  if (c.objective != "lm") {
    if (!c.teacher.empty()) {
      teacher = models::trainable_model(c.teacher).decoder;
      models::make_master_weights(teacher->params());
    }
    teacher->allow_training_forward();
  } else {
    teacher.reset();
  }
  GANDER_CHECK(!c.state_tuning || arch->save_time_state, "model.state_tuning: ", arch->name,
               " models have no initial state to tune");
  if (tok)
    GANDER_CHECK(tok->vocab_size() <= model->vocab(), tok_path, ": the tokenizer has ", tok->vocab_size(),
                 " tokens, more than the model's vocabulary of ", model->vocab());
  data::TokenShard train(c.data_train, tok.get(), model->vocab());
  std::optional<data::TokenShard> valid;
  if (!c.data_valid.empty()) valid.emplace(c.data_valid, tok.get(), model->vocab());
  const data::WindowSampler sampler(train.tokens(), c.seq, valid ? 0 : c.valid_tokens, c.seed);
  GANDER_CHECK(sampler.windows_per_epoch() > 0, c.data_train, ": ", sampler.train_tokens(),
               " training tokens hold too few windows of ", c.seq + 1, " tokens for the walk (data.seq too long?)");
  std::vector<int32_t> valid_ids;
  {
    const int64_t have = valid ? valid->tokens() : train.tokens() - sampler.train_tokens();
    const int64_t take = std::min(have, c.eval_tokens + 1);
    valid_ids.resize(size_t(std::max<int64_t>(take, 0)));
    if (take > 1) (valid ? *valid : train).read(valid ? 0 : sampler.train_tokens(), valid_ids);
    if (take < 2) valid_ids.clear();
  }
  if (valid_ids.empty()) note("no validation data (give data.valid or data.valid_tokens): the run reports no validation loss");
  const std::vector<int64_t> byte_lengths = tok ? eval::token_byte_lengths(*tok, model->vocab()) : std::vector<int64_t>{};

  // Trainer and the run's identity.
  TrainerConfig tc;
  tc.adam = {c.lr, c.beta1, c.beta2, c.eps};
  tc.grad_clip = c.grad_clip;
  tc.loss.l2wrap = float(c.l2wrap);
  tc.loss.precision = c.precision == "bf16" ? ops::Precision::BF16 : ops::Precision::F32;
  tc.train = c.train;
  tc.freeze = c.freeze;
  tc.state_tuning = c.state_tuning;
  tc.comm = &comm;
  if (c.objective == "align")
    tc.objective = [&](const models::Decoder& d, const models::TrainBatch& b, models::Gradients& g) {
      return d.align_step(*teacher, b, g, tc.loss);
    };
  else if (c.objective == "distill")
    tc.objective = [&](const models::Decoder& d, const models::TrainBatch& b, models::Gradients& g) {
      return d.distill_step(*teacher, b, g, tc.loss);
    };
  const std::vector<std::string> mixers = c.mixer_lr < 0 ? std::vector<std::string>{} : c.mixer_params;
  Trainer trainer(*model, tc, rwkv7_groups(c.weight_decay, c.lr_scale_w0, mixers));
  if (c.mixer_lr >= 0) {
    int64_t mixer = 0;
    for (const AdamWTarget& t : trainer.optimizer().targets()) mixer += t.group.mixer;
    std::string globs;
    for (const std::string& g : c.mixer_params) globs += (globs.empty() ? "" : ", ") + g;
    GANDER_CHECK(mixer > 0, "optimizer.mixer_lr: no trained parameter matches optimizer.mixer_params (", globs,
                 "); names look like '", model->params().params.front().name, "'");
  }
  model->allow_training_forward();
  RunState st{0, 0, 0, arch->name, model->info().shape, c.trajectory_fingerprint()};
  if (resume) {
    st = load_run_checkpoint(latest, st, trainer.optimizer());
    note(concat("resumed from ", latest, " (step ", st.step, ", ", st.tokens, " tokens)"));
    if (lead) truncate_metrics(metrics_path, st.step);
  } else if (lead) {
    io::make_output_folder(c.out, "run.out");
  }
  comm.barrier();
  const int64_t total = c.total_steps();
  GANDER_CHECK(st.step <= total, latest, ": the checkpoint is at step ", st.step, ", past this run's ", total,
               " steps (raise run.steps or run.tokens to go on)");
  const Schedule schedule{c.schedule,     c.lr, c.lr_final,      c.warmup_from,
                          c.warmup_steps, total, c.decay_start, c.decay_end};
  const Schedule mixer_schedule{c.schedule,     c.mixer_lr, c.mixer_lr_final, c.warmup_from,
                                c.warmup_steps, total,      c.decay_start,    c.decay_end};
  std::optional<MetricsFile> metrics;
  if (lead) metrics.emplace(metrics_path);
  note(concat(arch->name, " ", model->info().shape, ": ", trainer.trained_parameters(), " trained values",
              c.state_tuning ? " (the initial state)" : "", "; ", total, " steps of ", c.batch, " x ", c.seq,
              " tokens from ", c.data_train, " (", train.tokens(), " tokens, ", sampler.windows_per_epoch(),
              " windows per epoch)", comm.size() > 1 ? concat("; ", comm.name()) : std::string()));

  RunResult result;
  eval::PerplexityOptions po;
  po.ctx = c.seq;
  po.batch = std::max<int64_t>(1, std::min<int64_t>(micro, 8));
  po.run.precision = tc.loss.precision;
  auto score = [&](const models::Decoder& d) {
    const std::shared_ptr<const models::Decoder> view(&d, [](const models::Decoder*) {});
    return eval::perplexity(view, valid_ids, po, byte_lengths.empty() ? nullptr : &byte_lengths);
  };
  if (teacher && lead && !valid_ids.empty() && st.step == 0) {  // the bar the student is measured against
    const eval::PerplexityResult r = score(*teacher);
    metrics->write({{"step", 0}, {"tokens", 0}, {"teacher_valid_loss", r.mean_nll()},
                    {"teacher_valid_perplexity", r.perplexity()}, {"teacher_valid_bits_per_byte", r.bits_per_byte()}});
    note(concat("teacher ", teacher->info().source, ": validation perplexity ", r.perplexity()));
  }
  auto evaluate = [&]() {
    EvalReport e;
    e.step = st.step;
    e.tokens = st.tokens;
    if (!lead || valid_ids.empty()) return e;
    if (c.state_tuning) po.initial = &trainer.initial_state();
    const eval::PerplexityResult r = score(*model);
    e.scored = r.tokens;
    e.loss = r.mean_nll();
    e.perplexity = r.perplexity();
    e.bits_per_byte = r.bits_per_byte();
    metrics->write({{"step", e.step}, {"tokens", e.tokens}, {"valid_loss", e.loss}, {"valid_perplexity", e.perplexity},
                    {"valid_bits_per_byte", e.bits_per_byte}, {"valid_tokens", e.scored}});
    if (hooks.eval) hooks.eval(e);
    return e;
  };
  auto checkpoint = [&]() {
    if (lead) {
      metrics->sync();
      const std::string p = save_run_checkpoint(c.out, st, trainer.optimizer(), c.keep);
      note(concat("checkpoint ", p));
    }
    comm.barrier();
  };
  if (st.step == 0 && !resume) result.last_eval = evaluate();  // the curve starts at the init

  // The steps. Sample i of the walk is read by process i / local % size; each process runs its
  // part in micro-batches of `micro` sequences.
  std::vector<int32_t> window(static_cast<size_t>(c.seq + 1));
  const int64_t n_micro = local / micro;
  std::vector<std::vector<int32_t>> ids(static_cast<size_t>(n_micro)), targets(static_cast<size_t>(n_micro));
  std::vector<models::TrainBatch> batches(static_cast<size_t>(n_micro));
  const double start_seconds = st.seconds;
  const int64_t start_step = st.step;
  const double t_start = now_seconds();
  for (int64_t s = st.step; s < total; ++s) {
    const double t0 = now_seconds();
    for (int64_t m = 0; m < n_micro; ++m) {
      ids[size_t(m)].resize(size_t(micro * c.seq));
      targets[size_t(m)].resize(size_t(micro * c.seq));
      for (int64_t j = 0; j < micro; ++j) {
        const int64_t sample = s * c.batch + comm.rank() * local + m * micro + j;
        train.read(sampler.train_offset(sample), window);
        std::copy(window.begin(), window.end() - 1, ids[size_t(m)].begin() + j * c.seq);
        std::copy(window.begin() + 1, window.end(), targets[size_t(m)].begin() + j * c.seq);
      }
      batches[size_t(m)] = {ids[size_t(m)], targets[size_t(m)], micro, c.seq};
    }
    const double lr = schedule.at(s);
    trainer.set_lr(lr);
    if (c.mixer_lr >= 0) trainer.set_mixer_lr(mixer_schedule.at(s));
    const StepResult r = trainer.step(batches);
    const double dt = now_seconds() - t0;
    st.step = s + 1;
    st.tokens += c.batch * c.seq;
    st.seconds = start_seconds + (now_seconds() - t_start);
    StepReport rep{st.step, total, st.tokens, r.loss, lr, r.grad_norm, double(c.batch * c.seq) / dt, st.seconds, 0};
    rep.eta_seconds = (now_seconds() - t_start) / double(st.step - start_step) * double(total - st.step);
    if (lead) {
      metrics->write({{"step", rep.step}, {"tokens", rep.tokens}, {"loss", rep.loss}, {"lr", rep.lr},
                      {"grad_norm", rep.grad_norm}, {"tokens_per_s", rep.tokens_per_s}, {"seconds", rep.seconds}});
      if (hooks.step) hooks.step(rep);
    }
    const bool last = st.step == total;
    if (last || (c.eval_every > 0 && st.step % c.eval_every == 0)) result.last_eval = evaluate();
    if (last || (c.checkpoint_every > 0 && st.step % c.checkpoint_every == 0)) checkpoint();
  }
  if (st.step == start_step && resume) result.last_eval = evaluate();  // nothing left to run

  // The result: a model every command loads, or the state --time-state reads.
  if (lead) {
    if (c.state_tuning) {
      result.output = (fs::path(c.out) / "time_state.safetensors").string();
      arch->save_time_state(*model, trainer.initial_state(), result.output);
    } else {
      result.output = (fs::path(c.out) / "final").string();
      arch->save_trained(*model, {result.output, c.from, c.shape.empty() ? "" : c.shape.substr(c.shape.find(':') + 1),
                                  tok_path, student_config});
    }
    note(concat("wrote ", result.output));
  }
  comm.barrier();
  result.steps = st.step;
  result.tokens = st.tokens;
  result.seconds = st.seconds;
  return result;
}

}  // namespace gander::train
