// gander forward: logits of every position for a list of ids, as .npy (the inspection tool used
// to check gander against reference implementations).
#include <cstdio>

#include "cli/commands.h"
#include "cli/io_util.h"
#include "cli/model_args.h"
#include "io/npy.h"

namespace gander::cli {

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
    // An inspection tool: exact f32 products unless bf16 is asked for explicitly.
    if (margs->precision == "auto") margs->precision = "f32";
    auto model = margs->load();
    const std::vector<int32_t> ids = read_id_array(read_all(*ids_path), *ids_path == "-" ? "standard input" : *ids_path);
    GANDER_CHECK(!ids.empty(), *ids_path, ": the id list is empty");
    if (!state_in->empty()) model->load_state(*state_in);
    Tensor logits;
    model->feed(ids, logits, /*all_logits=*/true);
    io::save_npy(*out, logits);
    if (!state_out->empty()) model->save_state(*state_out);
    std::fprintf(stderr, "wrote logits %s to %s\n", shape_str(logits.shape()).c_str(), out->c_str());
  });
}

}  // namespace gander::cli
