#include "io/pickle.h"

#include <map>
#include <unordered_map>

#include "core/error.h"
#include "core/tensor.h"

namespace gander::io {

namespace {

// Values live in one arena (Unpickler::values_) and refer to each other by index: nothing owns
// anything, so a tree 100,000 levels deep is freed with the arena (a recursive destructor of
// shared pointers overflowed the stack) and a list appended to itself through the memo is no
// reference cycle that leaks. Container items are links in a second arena, so a value stays 24
// bytes whatever it holds.
using Ref = uint32_t;
constexpr uint32_t kEnd = UINT32_MAX;  // no link / no value

// The only globals a state dict needs; anything else is refused by name.
enum class Callable : uint8_t { RebuildTensorV2, RebuildParameter, OrderedDict, StorageType };

struct Value {
  enum Kind : uint8_t { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor } kind = None;
  DType dtype = DType::F32;              // Global (storage type), Storage
  Callable callable = Callable::OrderedDict;  // Global
  uint32_t a = kEnd, b = kEnd;  // Str, Storage key: offset and length in the pickle; Tuple, List, Dict: first and
                                // last link (Dict: key, value, key, value...); Tensor: index in tensors_
  int64_t i = 0;                // Bool, Int, Float (bits), Storage (elements), Tuple/List/Dict (links)
};

struct Link {
  Ref value;
  uint32_t next;
};

const std::map<std::string, DType>& storage_types() {
  static const std::map<std::string, DType> m = {
      {"FloatStorage", DType::F32}, {"BFloat16Storage", DType::BF16}, {"HalfStorage", DType::F16},
      {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
      {"ByteStorage", DType::U8}};
  return m;
}

// Memory charged per element pushed onto a growing vector: while it reallocates it holds the old
// block and the new one of twice the size, three times the elements.
template <typename T>
constexpr uint64_t kPushCost = 3 * sizeof(T);
constexpr uint64_t kMemoEntryCost = 64;  // an unordered_map node and its share of the buckets

class Unpickler {
 public:
  Unpickler(std::string_view b, const std::string& src, MemoryBudget& budget) : b_(b), src_(src), budget_(budget) {
    // Offsets into the pickle are kept in 32 bits; a state dict's pickle is a few MB at most.
    GANDER_CHECK(b.size() < kEnd, src_, ": data.pkl of ", b.size(), " bytes is too large");
  }

  Ref run() {
    while (true) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                               // PROTO
        case 0x95: take(8); break;                            // FRAME (length only)
        case '}': push(make(Value::Dict)); break;             // EMPTY_DICT
        case ']': push(make(Value::List)); break;             // EMPTY_LIST
        case ')': push(make(Value::Tuple)); break;            // EMPTY_TUPLE
        case '(': mark(); break;                              // MARK
        case 'N': push(make(Value::None)); break;             // NONE
        case 0x88: push(make(Value::Bool, 1)); break;         // NEWTRUE
        case 0x89: push(make(Value::Bool, 0)); break;         // NEWFALSE
        case 'K': push(make(Value::Int, int64_t(le(1)))); break;                      // BININT1
        case 'M': push(make(Value::Int, int64_t(le(2)))); break;                      // BININT2
        case 'J': push(make(Value::Int, int64_t(int32_t(uint32_t(le(4)))))); break;   // BININT
        case 0x8a: push_long1(); break;                       // LONG1
        case 'G': push_float(); break;                        // BINFLOAT
        case 'X': push_str(le(4)); break;                     // BINUNICODE
        case 0x8c: push_str(le(1)); break;                    // SHORT_BINUNICODE
        case 'c': push_global(); break;                       // GLOBAL
        case 'q': memo_put(uint32_t(le(1))); break;           // BINPUT
        case 'r': memo_put(uint32_t(le(4))); break;           // LONG_BINPUT
        case 0x94: memo_put(uint32_t(memo_.size())); break;   // MEMOIZE
        case 'h': push(memo_get(uint32_t(le(1)))); break;     // BINGET
        case 'j': push(memo_get(uint32_t(le(4)))); break;     // LONG_BINGET
        case 't': push(tuple_from(pop_mark())); break;        // TUPLE
        case 0x85: tuple_n(1); break;                         // TUPLE1
        case 0x86: tuple_n(2); break;                         // TUPLE2
        case 0x87: tuple_n(3); break;                         // TUPLE3
        case 'Q': persistent_id(); break;                     // BINPERSID
        case 'R': reduce(); break;                            // REDUCE
        case 's': setitem(); break;                           // SETITEM
        case 'u': add_items(pop_mark(), Value::Dict); break;  // SETITEMS
        case 'a': append(); break;                            // APPEND
        case 'e': add_items(pop_mark(), Value::List); break;  // APPENDS
        case '.': {                                           // STOP
          GANDER_CHECK(marks_.empty() && stack_.size() == 1, src_, ": pickle ends with ", stack_.size(),
                       " values and ", marks_.size(), " marks on the stack");
          return stack_.back();
        }
        default: fail(src_, ": unsupported pickle opcode 0x", hex(op), " at byte ", pos_ - 1);
      }
    }
  }

  // The state dict under root, as tensors named by their keys.
  std::vector<PickledTensor> state_dict(Ref root) {
    GANDER_CHECK(at(root).kind == Value::Dict, src_, ": the checkpoint's top-level object is not a dict");
    // Training checkpoints sometimes wrap the weights as {"state_dict": {...}} or {"model": {...}}.
    if (at(root).i == 2 && at(links_[at(root).b].value).kind == Value::Dict) root = links_[at(root).b].value;
    std::vector<PickledTensor> out;
    budget_.charge(uint64_t(at(root).i / 2) * sizeof(PickledTensor), "the state dict");
    out.reserve(size_t(at(root).i / 2));
    for (uint32_t l = at(root).a; l != kEnd; l = links_[links_[l].next].next) {
      const Value& k = at(links_[l].value);
      const Value& v = at(links_[links_[l].next].value);
      GANDER_CHECK(k.kind == Value::Str, src_, ": a state-dict key is not a string");
      GANDER_CHECK(v.kind == Value::Tensor, src_, ": entry ", quote_name(str(k)), " is not a tensor");
      const PickledTensor& t = tensors_[v.a];
      budget_.charge(tensor_cost(t) + k.b, "the state dict");
      out.push_back(t);
      out.back().name = std::string(str(k));
    }
    return out;
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

  const Value& at(Ref r) const { return values_[r]; }
  std::string_view str(const Value& v) const { return b_.substr(v.a, v.b); }
  Ref make(Value::Kind k, int64_t i = 0) {
    budget_.charge(kPushCost<Value>, "the pickle's values");
    GANDER_CHECK(values_.size() < kEnd, src_, ": too many pickle values");
    values_.push_back(Value{k});
    values_.back().i = i;
    return Ref(values_.size() - 1);
  }
  // Appends an item to a container (a tuple while it is built, a list, or half of a dict pair).
  void link(Ref container, Ref item) {
    budget_.charge(kPushCost<Link>, "the pickle's containers");
    links_.push_back(Link{item, kEnd});
    const uint32_t l = uint32_t(links_.size() - 1);
    Value& c = values_[container];
    if (c.a == kEnd) c.a = l;
    else links_[c.b].next = l;
    c.b = l;
    ++c.i;
  }
  // The first n items of a small container (a tuple of arguments or of dimensions).
  std::vector<Ref> items(Ref container, size_t n) const {
    std::vector<Ref> out;
    for (uint32_t l = at(container).a; l != kEnd && out.size() < n; l = links_[l].next) out.push_back(links_[l].value);
    return out;
  }

  // The stack, with MARK positions kept aside (as CPython does): values below the last mark are
  // out of reach until the mark is consumed.
  size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Ref v) {
    budget_.charge(kPushCost<Ref>, "the pickle stack");
    stack_.push_back(v);
  }
  void mark() {
    budget_.charge(kPushCost<size_t>, "the pickle stack");
    marks_.push_back(stack_.size());
  }
  Ref& top() {
    GANDER_CHECK(stack_.size() > fence(), src_, ": pickle stack underflow at byte ", pos_);
    return stack_.back();
  }
  Ref pop() {
    const Ref v = top();
    stack_.pop_back();
    return v;
  }
  // Consumes the last mark; the values above it stay on the stack from the returned position.
  size_t pop_mark() {
    GANDER_CHECK(!marks_.empty(), src_, ": pickle MARK missing at byte ", pos_);
    const size_t from = marks_.back();
    marks_.pop_back();
    return from;
  }
  Ref tuple_from(size_t from) {
    const Ref t = make(Value::Tuple);
    for (size_t k = from; k < stack_.size(); ++k) link(t, stack_[k]);
    stack_.resize(from);
    return t;
  }
  void tuple_n(size_t n) {
    GANDER_CHECK(stack_.size() - fence() >= n, src_, ": pickle stack underflow at byte ", pos_);
    push(tuple_from(stack_.size() - n));
  }

  void push_long1() {
    const uint64_t n = le(1);
    GANDER_CHECK(n <= 8, src_, ": integer of ", n, " bytes is too large");
    auto s = take(n);
    uint64_t u = 0;
    for (int i = int(n) - 1; i >= 0; --i) u = (u << 8) | uint8_t(s[size_t(i)]);
    if (n > 0 && n < 8 && (uint8_t(s[n - 1]) & 0x80)) u |= ~uint64_t(0) << (8 * n);  // sign-extend
    push(make(Value::Int, int64_t(u)));
  }
  void push_float() {
    uint64_t u = 0;
    auto s = take(8);
    for (int i = 0; i < 8; ++i) u = (u << 8) | uint8_t(s[size_t(i)]);  // big-endian
    push(make(Value::Float, int64_t(u)));
  }
  void push_str(uint64_t n) {
    const size_t at = pos_;
    take(n);  // the string stays in the pickle: the value records where
    const Ref v = make(Value::Str);
    values_[v].a = uint32_t(at);
    values_[v].b = uint32_t(n);
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
    const std::string module = line(), name = line();
    const std::string full = module + "." + name;
    const Ref v = make(Value::Global);
    Value& g = values_[v];
    if (full == "torch._utils._rebuild_tensor_v2") g.callable = Callable::RebuildTensorV2;
    else if (full == "torch._utils._rebuild_parameter") g.callable = Callable::RebuildParameter;
    else if (full == "collections.OrderedDict") g.callable = Callable::OrderedDict;
    else if (module == "torch" && storage_types().count(name)) {
      g.callable = Callable::StorageType;
      g.dtype = storage_types().at(name);
    } else {
      fail(src_, ": pickle refers to ", quote_name(full), ", which a tensor checkpoint does not need; refusing to load");
    }
    push(v);
  }
  void memo_put(uint32_t idx) {
    const Ref v = top();
    // A map, not a vector indexed by idx: LONG_BINPUT 0x01000000 in a 200-byte file took 270 MB.
    if (!memo_.count(idx)) budget_.charge(kMemoEntryCost, "the pickle memo");
    memo_[idx] = v;
  }
  Ref memo_get(uint32_t idx) {
    auto it = memo_.find(idx);
    GANDER_CHECK(it != memo_.end(), src_, ": memo index ", idx, " was never stored");
    return it->second;
  }

  void persistent_id() {
    const Ref pid = pop();
    GANDER_CHECK(at(pid).kind == Value::Tuple && at(pid).i == 5, src_,
                 ": unsupported persistent id (expected a torch storage reference)");
    const std::vector<Ref> it = items(pid, 5);
    GANDER_CHECK(at(it[0]).kind == Value::Str &&
                     str(at(it[0])) == "storage" && at(it[1]).kind == Value::Global &&
                     at(it[2]).kind == Value::Str && at(it[4]).kind == Value::Int,
                 src_, ": unsupported persistent id (expected a torch storage reference)");
    GANDER_CHECK(at(it[1]).callable == Callable::StorageType, src_, ": unknown storage type");
    GANDER_CHECK(at(it[4]).i >= 0, src_, ": negative storage size ", at(it[4]).i);
    const Ref st = make(Value::Storage, at(it[4]).i);
    values_[st].dtype = at(it[1]).dtype;
    values_[st].a = at(it[2]).a;
    values_[st].b = at(it[2]).b;
    push(st);
  }
  std::vector<int64_t> int_tuple(Ref v, const char* what) const {
    GANDER_CHECK(at(v).kind == Value::Tuple, src_, ": tensor ", what, " is not a tuple");
    GANDER_CHECK(size_t(at(v).i) <= kMaxDims, src_, ": tensor ", what, " has ", at(v).i, " dimensions, more than ",
                 kMaxDims);
    std::vector<int64_t> out;
    for (Ref x : items(v, kMaxDims)) {
      GANDER_CHECK(at(x).kind == Value::Int && at(x).i >= 0, src_, ": tensor ", what,
                   " holds a non-integer or negative entry");
      out.push_back(at(x).i);
    }
    return out;
  }
  static uint64_t tensor_cost(const PickledTensor& t) {
    return 3 * sizeof(PickledTensor) + t.name.size() + t.storage_key.size() + 32 * t.shape.size() + 128;
  }
  void reduce() {
    const Ref args = pop(), fn = pop();
    GANDER_CHECK(at(fn).kind == Value::Global && at(args).kind == Value::Tuple, src_, ": REDUCE on a non-callable");
    const std::vector<Ref> a = items(args, 4);
    switch (at(fn).callable) {
      case Callable::OrderedDict:
        GANDER_CHECK(a.empty(), src_, ": OrderedDict with arguments is not supported");
        push(make(Value::Dict));
        return;
      case Callable::RebuildTensorV2: {
        GANDER_CHECK(a.size() == 4 && at(a[0]).kind == Value::Storage && at(a[1]).kind == Value::Int, src_,
                     ": malformed tensor record");
        const Value& st = at(a[0]);
        PickledTensor t;
        t.dtype = st.dtype;
        t.storage_key = std::string(str(st));
        t.storage_numel = uint64_t(st.i);
        GANDER_CHECK(at(a[1]).i >= 0, src_, ": negative storage offset ", at(a[1]).i);
        t.offset = uint64_t(at(a[1]).i);
        t.shape = int_tuple(a[2], "shape");
        t.stride = int_tuple(a[3], "stride");
        GANDER_CHECK(t.shape.size() == t.stride.size(), src_, ": tensor shape and stride differ in length");
        budget_.charge(tensor_cost(t), "the pickle's tensors");
        tensors_.push_back(std::move(t));
        const Ref v = make(Value::Tensor);
        values_[v].a = uint32_t(tensors_.size() - 1);
        push(v);
        return;
      }
      case Callable::RebuildParameter:
        GANDER_CHECK(!a.empty() && at(a[0]).kind == Value::Tensor, src_, ": malformed parameter record");
        push(a[0]);
        return;
      case Callable::StorageType: break;
    }
    fail(src_, ": cannot call a storage type from a pickle");
  }
  void setitem() {
    const Ref val = pop(), key = pop();
    const Ref d = top();
    GANDER_CHECK(at(d).kind == Value::Dict, src_, ": SETITEM on a non-dict");
    link(d, key);
    link(d, val);
  }
  void append() {
    const Ref val = pop();
    const Ref l = top();
    GANDER_CHECK(at(l).kind == Value::List, src_, ": APPEND on a non-list");
    link(l, val);
  }
  // SETITEMS / APPENDS: the values above the mark go into the container just below it.
  void add_items(size_t from, Value::Kind kind) {
    const char* op = kind == Value::Dict ? "SETITEMS" : "APPENDS";
    GANDER_CHECK(from > fence(), src_, ": ", op, " without a container at byte ", pos_);
    const Ref c = stack_[from - 1];
    GANDER_CHECK(at(c).kind == kind, src_, ": ", op, " on a ", kind == Value::Dict ? "non-dict" : "non-list");
    GANDER_CHECK(kind != Value::Dict || (stack_.size() - from) % 2 == 0, src_, ": SETITEMS with an odd number of values");
    for (size_t k = from; k < stack_.size(); ++k) link(c, stack_[k]);
    stack_.resize(from);
  }

  std::string_view b_;
  const std::string& src_;
  MemoryBudget& budget_;
  size_t pos_ = 0;
  std::vector<Value> values_;
  std::vector<Link> links_;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Ref> memo_;
  std::vector<PickledTensor> tensors_;
};

}  // namespace

std::vector<PickledTensor> unpickle_state_dict(std::string_view bytes, const std::string& source,
                                               MemoryBudget& budget) {
  Unpickler u(bytes, source, budget);
  return u.state_dict(u.run());
}

}  // namespace gander::io
