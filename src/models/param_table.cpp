#include "models/param_table.h"

#include "core/error.h"
#include "core/random_fill.h"
#include "models/fingerprint.h"

namespace gander::models {

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

Tensor from_stored(const Param& p, const Tensor& t, const std::string& where, const DType* convert) {
  const Shape& want = p.stored_shape();
  GANDER_CHECK(t.shape() == want, where, ": expected shape ", shape_str(want), ", got ", shape_str(t.shape()));
  GANDER_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16 || t.dtype() == DType::F16, where,
               ": unsupported dtype ", dtype_name(t.dtype()));
  if (p.transposed) return transpose_2d(t);
  if (!p.matrix) return t.reshape(p.shape).to(DType::F32);
  return convert && *convert != t.dtype() ? t.to(*convert) : t;
}

Tensor to_stored(const Param& p, const DType* dtype) {
  const Tensor& t = *p.slot;
  Tensor out = p.transposed ? transpose_2d(t) : t.reshape(p.stored_shape());
  if (p.matrix && dtype && *dtype != out.dtype()) out = out.to(*dtype);
  return out;
}

void init_params(const ParamTable& table, DType matrix_dtype, uint64_t seed) {
  Rng rng(seed);
  for (const Param& p : table) {
    const DType dt = p.matrix ? matrix_dtype : DType::F32;
    if (p.init.kind == Init::Kind::Normal) {
      *p.slot = random_normal(p.shape, p.init.a, dt, rng.next_u64());
      continue;
    }
    Tensor t = Tensor::empty(DType::F32, p.shape);
    float* v = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
      v[i] = p.init.kind == Init::Kind::Constant ? p.init.a : rng.uniform(p.init.a, p.init.b);
    *p.slot = dt == DType::F32 ? t : t.to(dt);
  }
}

void for_each_param(const ParamTable& table, const std::function<void(const Param&)>& fn) {
  for (const Param& p : table)
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

io::NamedTensors stored_tensors(const ParamTable& table, const std::function<Param(const Param&)>& layout,
                                const std::function<std::string(const std::string&)>& name, const DType* dtype) {
  io::NamedTensors out;
  for_each_param(table, [&](const Param& p) { out.emplace_back(name(p.name), to_stored(layout(p), dtype)); });
  return out;
}

void convert_matrices(const ParamTable& table, DType dtype) {
  for_each_param(table, [dtype](const Param& p) {
    if (p.matrix && p.slot->dtype() != dtype) *p.slot = p.slot->to(dtype);
  });
}

}  // namespace gander::models
