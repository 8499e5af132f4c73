#include "generate/text_stream.h"

#include <algorithm>

namespace gander {

size_t utf8_complete_prefix(const std::string& s) {
  // Look at most 3 bytes back for a lead byte whose sequence is not yet complete.
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 1;
    if ((c & 0xe0) == 0xc0) need = 2;
    else if ((c & 0xf0) == 0xe0) need = 3;
    else if ((c & 0xf8) == 0xf0) need = 4;
    return need > back ? n - back : n;
  }
  return n;
}

TextStream::TextStream(std::vector<std::string> stop_strings) : stops_(std::move(stop_strings)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

std::string TextStream::push(const std::string& bytes) {
  if (stopped_) return {};
  pending_ += bytes;
  for (const std::string& stop : stops_) {
    const size_t at = pending_.find(stop);
    if (at != std::string::npos) {
      std::string out = pending_.substr(0, at);
      pending_.clear();
      stopped_ = true;
      matched_ = stop;
      all_ += out;
      return out;
    }
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const std::string& stop : stops_)
    for (size_t len = std::min(stop.size() - 1, pending_.size()); len > hold; --len)
      if (pending_.compare(pending_.size() - len, len, stop, 0, len) == 0) {
        hold = len;
        break;
      }
  size_t emit = pending_.size() - hold;
  emit = utf8_complete_prefix(pending_.substr(0, emit));
  std::string out = pending_.substr(0, emit);
  pending_.erase(0, emit);
  all_ += out;
  return out;
}

std::string TextStream::flush() {
  std::string out;
  out.swap(pending_);
  if (stopped_) out.clear();
  all_ += out;
  return out;
}

}  // namespace gander
