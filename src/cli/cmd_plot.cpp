// gander plot METRICS.jsonl... -o FILE.png|FILE.svg: the curves of one or more training runs
// (train loss thin, validation loss bold, in one colour per run; the learning rate below), against
// tokens, drawn with PLplot's cairo driver (pngcairo / svgcairo). A run is named by the folder
// its metrics.jsonl sits in.
#include <plstream.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/curves.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace gander::cli {
namespace {

struct Curves {
  std::string name;
  std::vector<double> step_tokens, loss, lr, valid_tokens, valid_loss;
};

Curves read_metrics(const std::string& path) {
  namespace fs = std::filesystem;
  std::ifstream in(path);
  GANDER_CHECK(in.good() && !fs::is_directory(path), path, ": cannot read metrics (a metrics.jsonl of gander train)");
  Curves c;
  const fs::path p(path);
  c.name = p.has_parent_path() && p.filename() == "metrics.jsonl" ? p.parent_path().filename().string() : p.stem().string();
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      fail(path, ":", n, ": not a JSON object");
    }
    GANDER_CHECK(j.is_object() && j.contains("tokens") && j["tokens"].is_number(), path, ":", n,
                 ": a line without 'tokens' (not gander train's metrics)");
    const double t = j["tokens"].get<double>();
    if (j.contains("loss") && j["loss"].is_number()) {
      c.step_tokens.push_back(t);
      c.loss.push_back(j["loss"].get<double>());
      c.lr.push_back(j.contains("lr") && j["lr"].is_number() ? j["lr"].get<double>() : 0.0);
    }
    if (j.contains("valid_loss") && j["valid_loss"].is_number()) {
      c.valid_tokens.push_back(t);
      c.valid_loss.push_back(j["valid_loss"].get<double>());
    }
  }
  GANDER_CHECK(!c.loss.empty() || !c.valid_loss.empty(), path, ": no loss in it");
  return c;
}

// A run's colour (cmap0 entries 2...; 0 is the background, 1 the axes).
constexpr int kPalette[][3] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44}, {148, 103, 189},
                               {255, 127, 14}, {140, 86, 75},  {227, 119, 194}, {23, 190, 207}};
constexpr int kColours = sizeof(kPalette) / sizeof(kPalette[0]);

void range(const std::vector<double>& v, double& lo, double& hi) {
  for (double x : v)
    if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
}

void draw(const std::vector<Curves>& runs, const std::string& out, const std::string& device) {
  plstream pls;
  pls.sdev(device.c_str());
  pls.sfnam(out.c_str());
  pls.setopt("geometry", "1200x900");
  pls.scol0(0, 255, 255, 255);
  pls.scol0(1, 0, 0, 0);
  for (int i = 0; i < kColours; ++i) pls.scol0(2 + i, kPalette[i][0], kPalette[i][1], kPalette[i][2]);
  pls.init();
  pls.adv(0);
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0, l0 = x0, l1 = -x0;
  for (const Curves& c : runs) {
    range(c.step_tokens, x0, x1);
    range(c.valid_tokens, x0, x1);
    range(c.loss, y0, y1);
    range(c.valid_loss, y0, y1);
    range(c.lr, l0, l1);
  }
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  if (!(l1 > l0)) l1 = l0 + (l0 > 0 ? l0 : 1);
  const double ypad = 0.04 * (y1 - y0);
  // Loss against tokens.
  pls.col0(1);
  pls.schr(0, 0.9);
  pls.vpor(0.09, 0.97, 0.40, 0.94);
  pls.wind(x0, x1, y0 - ypad, y1 + ypad);
  pls.box("bcnstg", 0, 0, "bcnstvg", 0, 0);
  pls.lab("", "loss (nats per token)", "training (thin) and validation (bold) loss");
  std::vector<std::string> labels;
  std::vector<PLINT> opts, colours, styles;
  std::vector<PLFLT> widths;
  for (size_t r = 0; r < runs.size(); ++r) {
    const Curves& c = runs[r];
    const int col = 2 + int(r % kColours);
    pls.col0(col);
    if (c.loss.size() > 1) {
      pls.width(1.0);
      pls.line(PLINT(c.loss.size()), c.step_tokens.data(), c.loss.data());
      labels.push_back(c.name + " train");
      opts.push_back(PL_LEGEND_LINE), colours.push_back(col), styles.push_back(1), widths.push_back(1.0);
    }
    if (!c.valid_loss.empty()) {
      pls.width(3.0);
      if (c.valid_loss.size() > 1) pls.line(PLINT(c.valid_loss.size()), c.valid_tokens.data(), c.valid_loss.data());
      pls.poin(PLINT(c.valid_loss.size()), c.valid_tokens.data(), c.valid_loss.data(), 17);
      labels.push_back(c.name + " validation");
      opts.push_back(PL_LEGEND_LINE), colours.push_back(col), styles.push_back(1), widths.push_back(3.0);
    }
  }
  pls.width(1.0);
  std::vector<const char*> text;
  for (const std::string& s : labels) text.push_back(s.c_str());
  const std::vector<PLINT> text_colours(labels.size(), 1);
  PLFLT lw = 0, lh = 0;
  pls.legend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE,
             0.02, 0.02, 0.08, 0, 1, 1, 0, 0, PLINT(labels.size()), opts.data(), 1.0, 0.8, 2.0, 0.0,
             text_colours.data(), text.data(), nullptr, nullptr, nullptr, nullptr, colours.data(), styles.data(),
             widths.data(), nullptr, nullptr, nullptr, nullptr);
  // Learning rate against tokens.
  pls.col0(1);
  pls.vpor(0.09, 0.97, 0.08, 0.30);
  pls.wind(x0, x1, std::min(0.0, l0), l1 * 1.05);
  pls.box("bcnstg", 0, 0, "bcnstvg", 0, 3);
  pls.lab("tokens", "learning rate", "");
  for (size_t r = 0; r < runs.size(); ++r) {
    if (runs[r].lr.size() < 2) continue;
    pls.col0(2 + int(r % kColours));
    pls.line(PLINT(runs[r].lr.size()), runs[r].step_tokens.data(), runs[r].lr.data());
  }
}

}  // namespace

void draw_curves(const std::vector<std::string>& files, const std::string& out) {
  const std::string ext = std::filesystem::path(out).extension().string();
  GANDER_CHECK(ext == ".png" || ext == ".svg", out, ": the picture must be a .png or an .svg");
  std::vector<Curves> runs;
  for (const std::string& f : files) runs.push_back(read_metrics(f));
  io::check_writable(out, "picture");
  // PLplot writes the file itself: it goes to a temporary beside the target, renamed when whole.
  const std::string tmp = out + ".tmp-plot" + ext;
  draw(runs, tmp, ext == ".png" ? "pngcairo" : "svgcairo");
  std::error_code ec;
  GANDER_CHECK(std::filesystem::exists(tmp, ec) && std::filesystem::file_size(tmp, ec) > 0, out,
               ": the plotting library wrote nothing (is PLplot's cairo driver, plplot-driver-cairo, installed?)");
  std::filesystem::rename(tmp, out, ec);
  GANDER_CHECK(!ec, out, ": ", ec.message());
}

void register_plot(CLI::App& app) {
  auto* cmd = app.add_subcommand("plot", "Draw training curves (loss, validation loss, learning rate against tokens) "
                                         "from gander train's metrics.jsonl files");
  auto files = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("metrics", *files, "metrics.jsonl files (several runs are overlaid with a legend)")->required();
  cmd->add_option("-o,--out", *out, "The picture: FILE.png or FILE.svg")->required();
  cmd->callback([files, out] {
    draw_curves(*files, *out);
    std::printf("wrote %s (%zu run%s)\n", out->c_str(), files->size(), files->size() == 1 ? "" : "s");
  });
}

}  // namespace gander::cli
