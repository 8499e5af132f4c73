#include "models/param_table.h"

#include <set>

#include "core/error.h"
#include "core/random_fill.h"
#include "models/fingerprint.h"
#include "ops/tiles.h"

namespace gander::models {

const char* naming_name(Naming n) {
  switch (n) {
    case Naming::RwkvLm: return "official (RWKV-LM)";
    case Naming::Fla: return "fla / Hugging Face";
    case Naming::Hf: return "Hugging Face";
  }
  return "?";
}

std::string layer_prefix(Naming n, int64_t layer) {
  return n == Naming::RwkvLm ? concat("blocks.", layer, ".") : concat("model.layers.", layer, ".");
}

ParamDecl ParamDecl::layer(ParamTable& table, int64_t l) {
  return {table, {layer_prefix(Naming::RwkvLm, l), layer_prefix(Naming::Fla, l), layer_prefix(Naming::Hf, l)}};
}

Param& ParamDecl::add(Tensor* slot, Shape shape, Kind kind, Init init, const Aliases& names) {
  Param p{{}, slot, std::move(shape), kind, init, init, {}};
  for (size_t n = 0; n < kNamings; ++n)
    if (!names[n].name.empty()) p.stored[n] = {prefixes_[n] + names[n].name, names[n].shape, names[n].transposed};
  p.name = p.stored[size_t(t_.native)].name;
  GANDER_CHECK(!p.name.empty(), "internal: a parameter without a name under the model's own naming");
  t_.params.push_back(std::move(p));
  return t_.params.back();
}

void ParamDecl::ignore(const Aliases& names) {
  for (size_t n = 0; n < kNamings; ++n)
    if (!names[n].name.empty()) t_.ignored[n].push_back(prefixes_[n] + names[n].name);
}

namespace {
Tensor transpose_2d(const Tensor& t) {
  const std::vector<float> v = t.to_f32_vector();
  const int64_t r = t.dim(0), c = t.dim(1);
  Tensor o = Tensor::empty(DType::F32, {c, r});
  float* po = o.data<float>();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) po[j * r + i] = v[size_t(i * c + j)];
  return o;
}
}  // namespace

Tensor from_stored(const Param& p, Naming naming, const Tensor& t, const std::string& where, const DType* convert,
                   const std::string& expected_from) {
  const Shape want = p.stored_shape(naming);
  // A vector may be stored as [C], [1, 1, C] or another shape of its elements with the same last
  // dimension (RWKV-LM and fla disagree, and fla has changed).
  const bool vector_like = p.kind == Kind::Vector && !p.as(naming).transposed && t.ndim() >= 1 &&
                           t.numel() == shape_numel(p.shape) && t.dim(-1) == p.shape.back();
  GANDER_CHECK(t.shape() == want || vector_like, where, ": expected shape ", shape_str(want), expected_from, ", got ",
               shape_str(t.shape()));
  GANDER_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16 || t.dtype() == DType::F16, where,
               ": unsupported dtype ", dtype_name(t.dtype()));
  if (p.as(naming).transposed) return transpose_2d(t);
  if (p.small()) return t.reshape(p.shape).to(DType::F32);
  return convert && *convert != t.dtype() ? t.to(*convert) : t;
}

Tensor to_stored(const Param& p, Naming naming, const DType* dtype) {
  const Tensor& t = *p.slot;
  Tensor out = p.as(naming).transposed ? transpose_2d(t) : t.reshape(p.stored_shape(naming));
  if (p.kind != Kind::Vector && dtype && *dtype != out.dtype()) out = out.to(*dtype);
  return out;
}

void load_params(const ParamTable& table, Naming naming, const io::Checkpoint& ck, const DType* convert,
                 const LoadHooks& hooks) {
  std::set<std::string> used;
  for (const Param& p : table.params) {
    if (hooks.alternative) {
      Tensor t = hooks.alternative(p, ck);
      if (t.defined()) {
        *p.slot = std::move(t);
        continue;
      }
    }
    const std::string& name = p.as(naming).name;
    GANDER_CHECK(!name.empty(), ck.source(), ": tensor '", p.name, "' has no name under the ", naming_name(naming),
                 " naming");
    const Tensor* t = ck.find(name);
    GANDER_CHECK(t, ck.source(), ": missing tensor '", name, "'");
    used.insert(name);
    *p.slot = from_stored(p, naming, *t, concat(ck.source(), ": tensor '", name, "'"), convert, hooks.expected_from);
  }
  const auto& ignored = table.ignored[size_t(naming)];
  for (const std::string& n : ck.names()) {
    if (used.count(n) || (hooks.known && hooks.known(n))) continue;
    if (std::find(ignored.begin(), ignored.end(), n) != ignored.end()) continue;
    fail(hooks.unknown ? hooks.unknown(n) : concat(ck.source(), ": unknown tensor '", n, "'"));
  }
}

void init_params(const ParamTable& table, DType matrix_dtype, uint64_t seed, InitSet set) {
  Rng rng(seed);  // uniform draws come from it in table order; Normal and Orthogonal take a seed from it
  for (const Param& p : table.params) {
    const DType dt = p.small() ? DType::F32 : matrix_dtype;
    const Init& init = set == InitSet::Fresh ? p.fresh : p.init;
    Tensor t;
    switch (init.kind) {
      case Init::Kind::Normal: *p.slot = random_normal(p.shape, init.a, dt, rng.next_u64()); continue;
      case Init::Kind::Orthogonal: t = random_orthogonal(p.shape, init.a, rng.next_u64()); break;
      case Init::Kind::Values:
        GANDER_CHECK(int64_t(init.values->size()) == shape_numel(p.shape), "internal: ", init.values->size(),
                     " init values for '", p.name, "'");
        t = Tensor::empty(DType::F32, p.shape);
        std::copy(init.values->begin(), init.values->end(), t.data<float>());
        break;
      case Init::Kind::Constant:
      case Init::Kind::Uniform: {
        t = Tensor::empty(DType::F32, p.shape);
        float* v = t.data<float>();
        for (int64_t i = 0; i < t.numel(); ++i)
          v[i] = init.kind == Init::Kind::Constant ? init.a : rng.uniform(init.a, init.b);
        break;
      }
    }
    *p.slot = dt == DType::F32 ? t : t.to(dt);
  }
}

void for_each_param(const ParamTable& table, const std::function<void(const Param&)>& fn) {
  for (const Param& p : table.params)
    if (p.slot->defined()) fn(p);
}

uint64_t fingerprint_of(const ParamTable& table) {
  Fingerprint f;
  for_each_param(table, [&f](const Param& p) { f.add(p.name, *p.slot); });
  return f.value();
}

int64_t bytes_of(const ParamTable& table) {
  int64_t n = 0;
  for_each_param(table, [&n](const Param& p) { n += int64_t(p.slot->nbytes()); });
  return n;
}

int64_t count_of(const ParamTable& table) {
  int64_t n = 0;
  for_each_param(table, [&n](const Param& p) { n += p.slot->numel(); });
  return n;
}

io::NamedTensors stored_tensors(const ParamTable& table, Naming naming, const DType* dtype) {
  io::NamedTensors out;
  for_each_param(table, [&](const Param& p) {
    GANDER_CHECK(!p.as(naming).name.empty(), "tensor '", p.name, "' has no name under the ", naming_name(naming),
                 " naming");
    out.emplace_back(p.as(naming).name, to_stored(p, naming, dtype));
  });
  return out;
}

void make_master_weights(const ParamTable& table) {
  for (const Param& p : table.params) {
    if (!p.slot->defined()) continue;
    GANDER_CHECK(p.slot->layout() == Layout::RowMajor, "parameter '", p.name,
                 "' is already in tiles (a finished model cannot be trained)");
    Tensor t = Tensor::empty(DType::F32, p.slot->shape());
    t.copy_from(*p.slot);
    *p.slot = std::move(t);
  }
}

void convert_matrices(const ParamTable& table, DType dtype) {
  for_each_param(table, [dtype](const Param& p) {
    if (!p.small() && p.slot->dtype() != dtype) *p.slot = p.slot->to(dtype);
  });
}

void tile_params(const ParamTable& table, DType matrix_dtype) {
  if (!ops::tiles_supported()) return;
  const bool lora_tiles = matrix_dtype == DType::BF16 || matrix_dtype == DType::F32;
  for_each_param(table, [&](const Param& p) {
    if (p.kind == Kind::Matrix) ops::tile_if_supported(*p.slot);
    // The LoRA matrices, widened to f32 at load, go back to bf16 in a bf16 model: exact for a
    // bf16 checkpoint, and what --dtype bf16 asks for otherwise; they then stream half the bytes
    // and run on the bf16 units in prefill.
    if (p.kind == Kind::Lora && lora_tiles && p.slot->numel() > 0)
      *p.slot = ops::tile_matrix(matrix_dtype == DType::BF16 ? p.slot->to(DType::BF16) : *p.slot);
  });
}

}  // namespace gander::models
