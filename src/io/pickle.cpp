#include "io/pickle.h"

#include <map>
#include <memory>

#include "core/error.h"

namespace gander::io {

namespace {

struct Value;
using V = std::shared_ptr<Value>;

struct Value {
  enum Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor, Mark } kind = None;
  int64_t i = 0;
  std::string s, s2;  // Str; Global module + name; Storage key
  std::vector<V> items;
  std::vector<std::pair<V, V>> dict;
  DType dtype = DType::F32;  // Storage / Tensor
  PickledTensor tensor;
};

V make(Value::Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  return v;
}

const std::map<std::string, DType>& storage_types() {
  static const std::map<std::string, DType> m = {
      {"FloatStorage", DType::F32}, {"BFloat16Storage", DType::BF16}, {"HalfStorage", DType::F16},
      {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
      {"ByteStorage", DType::U8}};
  return m;
}

class Unpickler {
 public:
  Unpickler(std::string_view b, const std::string& src) : b_(b), src_(src) {}

  V run() {
    while (true) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                               // PROTO
        case 0x95: take(8); break;                            // FRAME (length only)
        case '}': push(make(Value::Dict)); break;             // EMPTY_DICT
        case ']': push(make(Value::List)); break;             // EMPTY_LIST
        case ')': push(make(Value::Tuple)); break;            // EMPTY_TUPLE
        case '(': push(make(Value::Mark)); break;             // MARK
        case 'N': push(make(Value::None)); break;             // NONE
        case 0x88: push_bool(true); break;                    // NEWTRUE
        case 0x89: push_bool(false); break;                   // NEWFALSE
        case 'K': push_int(int64_t(le(1))); break;            // BININT1
        case 'M': push_int(int64_t(le(2))); break;            // BININT2
        case 'J': push_int(int64_t(int32_t(uint32_t(le(4))))); break;  // BININT
        case 0x8a: push_long1(); break;                       // LONG1
        case 'G': push_float(); break;                        // BINFLOAT
        case 'X': push_str(le(4)); break;                     // BINUNICODE
        case 0x8c: push_str(le(1)); break;                    // SHORT_BINUNICODE
        case 'c': push_global(); break;                       // GLOBAL
        case 'q': memo_put(le(1)); break;                     // BINPUT
        case 'r': memo_put(le(4)); break;                     // LONG_BINPUT
        case 0x94: memo_put(memo_.size()); break;             // MEMOIZE
        case 'h': push(memo_get(le(1))); break;               // BINGET
        case 'j': push(memo_get(le(4))); break;               // LONG_BINGET
        case 't': push(tuple_from(pop_mark())); break;        // TUPLE
        case 0x85: tuple_n(1); break;                         // TUPLE1
        case 0x86: tuple_n(2); break;                         // TUPLE2
        case 0x87: tuple_n(3); break;                         // TUPLE3
        case 'Q': persistent_id(); break;                     // BINPERSID
        case 'R': reduce(); break;                            // REDUCE
        case 's': setitem(); break;                           // SETITEM
        case 'u': setitems(); break;                          // SETITEMS
        case 'a': append(); break;                            // APPEND
        case 'e': appends(); break;                           // APPENDS
        case '.': {                                           // STOP
          GANDER_CHECK(stack_.size() == 1, src_, ": pickle ends with ", stack_.size(), " values on the stack");
          return stack_.back();
        }
        default: fail(src_, ": unsupported pickle opcode 0x", hex(op), " at byte ", pos_ - 1);
      }
    }
  }

 private:
  static std::string hex(uint8_t v) {
    const char* d = "0123456789abcdef";
    return {d[v >> 4], d[v & 15]};
  }
  uint8_t u8() {
    GANDER_CHECK(pos_ < b_.size(), src_, ": pickle data ends unexpectedly (no STOP)");
    return uint8_t(b_[pos_++]);
  }
  std::string_view take(uint64_t n) {
    GANDER_CHECK(n <= b_.size() - pos_, src_, ": pickle data ends unexpectedly (", n, " bytes wanted at ", pos_, ")");
    auto v = b_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  uint64_t le(int n) {
    auto s = take(uint64_t(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(s[size_t(i)]);
    return v;
  }
  void push(V v) {
    GANDER_CHECK(stack_.size() < kMaxStack, src_, ": pickle stack too deep");
    stack_.push_back(std::move(v));
  }
  V pop() {
    GANDER_CHECK(!stack_.empty(), src_, ": pickle stack underflow at byte ", pos_);
    V v = stack_.back();
    stack_.pop_back();
    GANDER_CHECK(v->kind != Value::Mark, src_, ": unexpected MARK at byte ", pos_);
    return v;
  }
  std::vector<V> pop_mark() {
    std::vector<V> out;
    while (true) {
      GANDER_CHECK(!stack_.empty(), src_, ": pickle MARK missing at byte ", pos_);
      V v = stack_.back();
      stack_.pop_back();
      if (v->kind == Value::Mark) break;
      out.push_back(std::move(v));
    }
    return {out.rbegin(), out.rend()};
  }
  void push_bool(bool b) {
    V v = make(Value::Bool);
    v->i = b;
    push(v);
  }
  void push_int(int64_t i) {
    V v = make(Value::Int);
    v->i = i;
    push(v);
  }
  void push_long1() {
    const uint64_t n = le(1);
    GANDER_CHECK(n <= 8, src_, ": integer of ", n, " bytes is too large");
    auto s = take(n);
    uint64_t u = 0;
    for (int i = int(n) - 1; i >= 0; --i) u = (u << 8) | uint8_t(s[size_t(i)]);
    if (n > 0 && n < 8 && (uint8_t(s[n - 1]) & 0x80)) u |= ~uint64_t(0) << (8 * n);  // sign-extend
    push_int(int64_t(u));
  }
  void push_float() {
    uint64_t u = 0;
    auto s = take(8);
    for (int i = 0; i < 8; ++i) u = (u << 8) | uint8_t(s[size_t(i)]);  // big-endian
    V v = make(Value::Float);
    v->i = int64_t(u);
    push(v);
  }
  void push_str(uint64_t n) {
    V v = make(Value::Str);
    v->s = std::string(take(n));
    push(v);
  }
  std::string line() {
    std::string out;
    for (char c; (c = char(u8())) != '\n';) {
      out += c;
      GANDER_CHECK(out.size() < 256, src_, ": GLOBAL name too long");
    }
    return out;
  }
  void push_global() {
    V v = make(Value::Global);
    v->s = line();
    v->s2 = line();
    const std::string full = v->s + "." + v->s2;
    const bool ok = full == "torch._utils._rebuild_tensor_v2" || full == "torch._utils._rebuild_parameter" ||
                    full == "collections.OrderedDict" ||
                    (v->s == "torch" && storage_types().count(v->s2));
    GANDER_CHECK(ok, src_, ": pickle refers to '", full, "', which a tensor checkpoint does not need; refusing to load");
    push(v);
  }
  void memo_put(uint64_t idx) {
    GANDER_CHECK(!stack_.empty(), src_, ": memo put on an empty stack");
    GANDER_CHECK(idx <= kMaxMemo, src_, ": memo index ", idx, " too large");
    if (idx >= memo_.size()) memo_.resize(idx + 1);
    memo_[idx] = stack_.back();
  }
  V memo_get(uint64_t idx) {
    GANDER_CHECK(idx < memo_.size() && memo_[idx], src_, ": memo index ", idx, " was never stored");
    return memo_[idx];
  }
  V tuple_from(std::vector<V> items) {
    V t = make(Value::Tuple);
    t->items = std::move(items);
    return t;
  }
  void tuple_n(int n) {
    std::vector<V> items(static_cast<size_t>(n));
    for (int i = n - 1; i >= 0; --i) items[size_t(i)] = pop();
    push(tuple_from(std::move(items)));
  }
  void persistent_id() {
    V pid = pop();
    GANDER_CHECK(pid->kind == Value::Tuple && pid->items.size() == 5 && pid->items[0]->kind == Value::Str &&
                     pid->items[0]->s == "storage" && pid->items[1]->kind == Value::Global &&
                     pid->items[2]->kind == Value::Str && pid->items[4]->kind == Value::Int,
                 src_, ": unsupported persistent id (expected a torch storage reference)");
    auto it = storage_types().find(pid->items[1]->s2);
    GANDER_CHECK(pid->items[1]->s == "torch" && it != storage_types().end(), src_, ": unknown storage type");
    V st = make(Value::Storage);
    st->dtype = it->second;
    st->s = pid->items[2]->s;
    st->i = pid->items[4]->i;
    GANDER_CHECK(st->i >= 0, src_, ": negative storage size");
    push(st);
  }
  static std::vector<int64_t> int_tuple(const V& v, const std::string& src, const char* what) {
    GANDER_CHECK(v->kind == Value::Tuple, src, ": tensor ", what, " is not a tuple");
    std::vector<int64_t> out;
    for (auto& x : v->items) {
      GANDER_CHECK(x->kind == Value::Int && x->i >= 0, src, ": tensor ", what, " holds a non-integer or negative entry");
      out.push_back(x->i);
    }
    return out;
  }
  void reduce() {
    V args = pop(), fn = pop();
    GANDER_CHECK(fn->kind == Value::Global && args->kind == Value::Tuple, src_, ": REDUCE on a non-callable");
    const std::string full = fn->s + "." + fn->s2;
    if (full == "collections.OrderedDict") {
      GANDER_CHECK(args->items.empty(), src_, ": OrderedDict with arguments is not supported");
      push(make(Value::Dict));
    } else if (full == "torch._utils._rebuild_tensor_v2") {
      GANDER_CHECK(args->items.size() >= 4 && args->items[0]->kind == Value::Storage && args->items[1]->kind == Value::Int,
                   src_, ": malformed tensor record");
      V t = make(Value::Tensor);
      const V& st = args->items[0];
      t->tensor.dtype = st->dtype;
      t->tensor.storage_key = st->s;
      t->tensor.storage_numel = st->i;
      t->tensor.offset = args->items[1]->i;
      GANDER_CHECK(t->tensor.offset >= 0, src_, ": negative storage offset");
      t->tensor.shape = int_tuple(args->items[2], src_, "shape");
      t->tensor.stride = int_tuple(args->items[3], src_, "stride");
      GANDER_CHECK(t->tensor.shape.size() == t->tensor.stride.size(), src_, ": tensor shape and stride differ in length");
      push(t);
    } else if (full == "torch._utils._rebuild_parameter") {
      GANDER_CHECK(!args->items.empty() && args->items[0]->kind == Value::Tensor, src_, ": malformed parameter record");
      push(args->items[0]);
    } else {
      fail(src_, ": cannot call '", full, "' from a pickle");
    }
  }
  void setitem() {
    V val = pop(), key = pop();
    V d = pop();
    GANDER_CHECK(d->kind == Value::Dict, src_, ": SETITEM on a non-dict");
    d->dict.emplace_back(key, val);
    push(d);
  }
  void setitems() {
    std::vector<V> kv = pop_mark();
    GANDER_CHECK(kv.size() % 2 == 0, src_, ": SETITEMS with an odd number of values");
    V d = pop();
    GANDER_CHECK(d->kind == Value::Dict, src_, ": SETITEMS on a non-dict");
    for (size_t i = 0; i < kv.size(); i += 2) d->dict.emplace_back(kv[i], kv[i + 1]);
    push(d);
  }
  void append() {
    V val = pop();
    V l = pop();
    GANDER_CHECK(l->kind == Value::List, src_, ": APPEND on a non-list");
    l->items.push_back(val);
    push(l);
  }
  void appends() {
    std::vector<V> vals = pop_mark();
    V l = pop();
    GANDER_CHECK(l->kind == Value::List, src_, ": APPENDS on a non-list");
    for (auto& v : vals) l->items.push_back(v);
    push(l);
  }

  static constexpr size_t kMaxStack = 1 << 20, kMaxMemo = 1 << 24;
  std::string_view b_;
  const std::string& src_;
  size_t pos_ = 0;
  std::vector<V> stack_;
  std::vector<V> memo_;
};

}  // namespace

std::vector<PickledTensor> unpickle_state_dict(std::string_view bytes, const std::string& source) {
  V root = Unpickler(bytes, source).run();
  GANDER_CHECK(root->kind == Value::Dict, source, ": the checkpoint's top-level object is not a dict");
  // Training checkpoints sometimes wrap the weights as {"state_dict": {...}} or {"model": {...}}.
  if (root->dict.size() == 1 && root->dict[0].second->kind == Value::Dict) root = root->dict[0].second;
  std::vector<PickledTensor> out;
  for (auto& [k, v] : root->dict) {
    GANDER_CHECK(k->kind == Value::Str, source, ": a state-dict key is not a string");
    GANDER_CHECK(v->kind == Value::Tensor, source, ": entry '", k->s, "' is not a tensor");
    PickledTensor t = v->tensor;
    t.name = k->s;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace gander::io
