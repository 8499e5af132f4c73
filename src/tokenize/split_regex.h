// The Split pre-tokenizer with behavior "Isolated", as Hugging Face tokenizers runs it: every regex
// match and every stretch of text between two matches is a piece, empty pieces are dropped, so
// every input byte lands in exactly one piece. Empty matches follow Oniguruma's find-all (HF's
// regex engine): an empty match is a cut point, and one found where the previous match ended is
// skipped by one character.
//
// PCRE2 (JIT when available) runs with match, heap and JIT-stack limits, so a pattern that
// backtracks catastrophically fails with an error that names the file and field it came from
// instead of running for hours. The limits grow with the text: legitimate patterns backtrack once
// over a long run of one class (`\s*[\r\n]+` over a megabyte of spaces), which must still succeed.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gander {

class SplitRegex {
 public:
  // `where` names the pattern's origin in errors ("tok.json: field 'pre_tokenizer...Regex'").
  SplitRegex(const std::string& pattern, std::string where);
  ~SplitRegex();
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // What matching needs besides the pattern (PCRE2 match data and context, the JIT stack): one per
  // thread, reused across split() calls, since making one maps a JIT stack.
  class Scratch {
   public:
    explicit Scratch(const SplitRegex& regex);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class SplitRegex;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  // Calls piece(begin, end) for each piece of `text` (valid UTF-8), left to right. The regex is
  // shared; the scratch belongs to the calling thread.
  void split(std::string_view text, Scratch& scratch, const std::function<void(size_t begin, size_t end)>& piece) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
  std::string where_;
};

}  // namespace gander
