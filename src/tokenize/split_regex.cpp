#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenize/split_regex.h"

#include <pcre2.h>

#include <algorithm>

#include "core/error.h"

namespace gander {

namespace {
// The match limit of one search: a floor for short texts plus a budget per byte still ahead, so
// that a search that legitimately backtracks over all of a long text succeeds while exponential
// backtracking stops after a bounded amount of work.
constexpr uint64_t kMatchLimitFloor = 10'000'000;
constexpr uint64_t kMatchStepsPerByte = 64;
constexpr uint32_t kHeapLimitKiB = 256 * 1024;   // the interpreter's backtracking frames (no JIT)
constexpr size_t kJitStackBytes = size_t(8) << 20;
constexpr size_t kMaxPatternBytes = 64 * 1024;  // real pre-tokenizer patterns are ~100 bytes

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}

size_t utf8_length(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4; }

}  // namespace

struct SplitRegex::Code {
  pcre2_code* re = nullptr;
  ~Code() { pcre2_code_free(re); }
};

SplitRegex::SplitRegex(const std::string& pattern, std::string where)
    : code_(std::make_unique<Code>()), where_(std::move(where)) {
  GANDER_CHECK(pattern.size() <= kMaxPatternBytes, where_, " is ", pattern.size(), " bytes long, more than the limit of ",
               kMaxPatternBytes);
  int err = 0;
  PCRE2_SIZE offset = 0;
  // NEVER_BACKSLASH_C: \C matches one byte of a character, so a piece could end inside a character.
  code_->re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C, &err, &offset, nullptr);
  GANDER_CHECK(code_->re, where_, " does not compile: ", pcre2_message(err), " (at offset ", offset, ")");
  pcre2_jit_compile(code_->re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
}

SplitRegex::~SplitRegex() = default;

struct SplitRegex::Scratch::Impl {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  ~Impl() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

SplitRegex::Scratch::Scratch(const SplitRegex& regex) : impl_(std::make_unique<Impl>()) {
  impl_->data = pcre2_match_data_create_from_pattern(regex.code_->re, nullptr);
  impl_->context = pcre2_match_context_create(nullptr);
  impl_->jit_stack = pcre2_jit_stack_create(32 * 1024, kJitStackBytes, nullptr);
  GANDER_CHECK(impl_->data && impl_->context && impl_->jit_stack, "tokenize: out of memory for regex matching");
  pcre2_jit_stack_assign(impl_->context, nullptr, impl_->jit_stack);
  pcre2_set_heap_limit(impl_->context, kHeapLimitKiB);
}

SplitRegex::Scratch::~Scratch() = default;

void SplitRegex::split(std::string_view text, Scratch& scratch, const std::function<void(size_t, size_t)>& piece) const {
  const size_t n = text.size();
  if (n == 0) return;
  Scratch::Impl& m = *scratch.impl_;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());

  size_t prev = 0;                  // end of the last piece given out
  size_t search = 0;                // where the next search starts
  size_t last_match_end = SIZE_MAX;  // none yet
  while (search <= n) {
    pcre2_set_match_limit(m.context, uint32_t(std::min<uint64_t>(UINT32_MAX, kMatchLimitFloor + kMatchStepsPerByte * (n - search))));
    // The caller passes valid UTF-8 and every offset here is a character boundary; PCRE2 would
    // otherwise re-check the whole subject on every call.
    const int rc = pcre2_match(code_->re, subject, n, search, PCRE2_NO_UTF_CHECK, m.data, m.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    GANDER_CHECK(rc >= 0, where_, " failed at byte ", search, " of the text: ", pcre2_message(rc),
                 " (the pattern backtracks too much for this input)");
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(m.data);
    const size_t begin = ov[0], end = ov[1];
    // Matches start at or after the search and end after they start, so the loop always advances;
    // checked rather than trusted, since the pattern comes from the file (\K moves a match's start).
    GANDER_CHECK(begin >= search && begin <= end && end <= n, where_, " reported the match [", begin, ", ", end,
                 ") at byte ", search, ", which is not a piece of the text (\\K?)");
    if (begin == end && end == last_match_end) {  // the same empty match again: step over one character
      if (search == n) break;
      search += utf8_length(static_cast<unsigned char>(text[search]));
      continue;
    }
    search = last_match_end = end;
    if (begin > prev) piece(prev, begin);
    if (end > begin) piece(begin, end);
    prev = end;
  }
  if (prev < n) piece(prev, n);
}

}  // namespace gander
