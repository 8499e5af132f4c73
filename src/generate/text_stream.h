// Turns a stream of token bytes into printable text: never emits half a UTF-8 character, and
// holds back any tail that could still become one of the stop strings. Once a stop string
// appears, the text before it is released and the stream reports that it stopped.
#pragma once
#include <string>
#include <vector>

namespace gander {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_strings = {});
  // Adds bytes; returns the text that is now safe to print.
  std::string push(const std::string& bytes);
  // Releases whatever is held back (at the end of generation).
  std::string flush();
  bool stopped() const { return stopped_; }
  const std::string& stop_string() const { return matched_; }  // the stop string that appeared
  const std::string& text() const { return all_; }  // everything emitted so far

 private:
  std::vector<std::string> stops_;
  std::string pending_, all_, matched_;
  bool stopped_ = false;
};

// Length of the longest prefix of s that ends on a UTF-8 character boundary (an incomplete
// multi-byte sequence at the end is excluded; invalid bytes count as complete).
size_t utf8_complete_prefix(const std::string& s);

}  // namespace gander
