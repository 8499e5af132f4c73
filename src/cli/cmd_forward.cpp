// gander forward: logits of every position for a list of ids, as .npy (the inspection tool used
// to check gander against reference implementations). The logits are written as they are made,
// a slice of positions at a time, so a long sequence needs no [T, V] array in memory.
#include <cstdio>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/model_args.h"
#include "io/atomic_file.h"
#include "io/npy_writer.h"

namespace gander::cli {

namespace {
// Positions per slice: a multiple of the model's prefill chunk (256 or 512 by default, or
// --chunk), so the products see the same rows as one long call would.
int64_t slice_for(int64_t chunk) {
  const int64_t c = chunk > 0 ? chunk : 512;
  return c * ((511 + c) / c);
}
}  // namespace

void register_forward(CLI::App& app) {
  auto* cmd = app.add_subcommand("forward", "Write the logits [T, V] of a token sequence as float32 .npy");
  auto margs = std::make_shared<ModelArgs>();
  auto ids_path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto state_in = std::make_shared<std::string>();
  auto state_out = std::make_shared<std::string>();
  margs->add_to(cmd);
  cmd->add_option("--ids", *ids_path, "JSON array of token ids (- for standard input)")->required();
  cmd->add_option("--logits-out", *out, "Output .npy file")->required();
  cmd->add_option("--state-in", *state_in, "Start from a saved state");
  cmd->add_option("--state-out", *state_out, "Save the state after the last token");
  cmd->callback([=] {
    io::check_writable(*out, "--logits-out");
    if (!state_out->empty()) io::check_writable(*state_out, "--state-out");
    const std::string source = *ids_path == "-" ? "standard input" : *ids_path;
    const std::vector<int32_t> ids = read_id_array(read_input_file(*ids_path, "token ids"), source);
    GANDER_CHECK(!ids.empty(), source, ": the id list is empty");
    // An inspection tool: exact f32 products unless bf16 is asked for explicitly.
    if (margs->precision == "auto") margs->precision = "f32";
    auto model = margs->load();
    if (!state_in->empty()) model->load_state(*state_in);
    GANDER_CHECK(int64_t(ids.size()) <= model->context_room(), source, ": ", ids.size(),
                 " ids do not fit the model's context (room for ", model->context_room(), ")");
    io::NpyWriter npy(*out, DType::F32, {int64_t(ids.size()), model->vocab()});
    const int64_t slice = slice_for(margs->chunk);
    Tensor logits;
    for (size_t at = 0; at < ids.size(); at += size_t(slice)) {
      const size_t n = std::min(ids.size() - at, size_t(slice));
      model->feed(std::span<const int32_t>(ids).subspan(at, n), logits, /*all_logits=*/true);
      npy.append(logits);
    }
    npy.commit();
    if (!state_out->empty()) model->save_state(*state_out);
    std::fprintf(stderr, "wrote logits [%zu, %lld] to %s\n", ids.size(), (long long)model->vocab(), out->c_str());
  });
}

}  // namespace gander::cli
