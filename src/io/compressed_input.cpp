#include "io/compressed_input.h"

#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "io/read_file.h"

namespace gander::io {

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::None: return "plain";
    case Compression::Gzip: return "gzip";
    case Compression::Zstd: return "zstd";
  }
  return "?";
}

struct CompressedInput::Codec {
  z_stream z{};
  bool z_open = false;
  ZSTD_DStream* zstd = nullptr;
  ~Codec() {
    if (z_open) inflateEnd(&z);
    if (zstd) ZSTD_freeDStream(zstd);
  }
};

CompressedInput::CompressedInput(const std::string& path) : path_(path), codec_(std::make_unique<Codec>()) {
  check_regular_file(path, "input");
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) fail(path, ": cannot open: ", std::strerror(errno));
  fill_raw();
  const auto* b = reinterpret_cast<const unsigned char*>(raw_.data());
  if (raw_.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
    kind_ = Compression::Gzip;
    // 15 + 16: a gzip wrapper (not raw deflate or zlib), concatenated members allowed below.
    GANDER_CHECK(inflateInit2(&codec_->z, 15 + 16) == Z_OK, path, ": cannot start the gzip decoder");
    codec_->z_open = true;
  } else if (raw_.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
    kind_ = Compression::Zstd;
    codec_->zstd = ZSTD_createDStream();
    GANDER_CHECK(codec_->zstd && !ZSTD_isError(ZSTD_initDStream(codec_->zstd)), path, ": cannot start the zstd decoder");
  }
}

CompressedInput::~CompressedInput() {
  if (file_) std::fclose(file_);
}

size_t CompressedInput::fill_raw() {
  if (raw_at_ > 0) raw_.erase(0, raw_at_), raw_at_ = 0;
  if (raw_eof_) return 0;
  const size_t at = raw_.size(), chunk = size_t(1) << 20;
  raw_.resize(at + chunk);
  const size_t got = std::fread(raw_.data() + at, 1, chunk, file_);
  raw_.resize(at + got);
  if (got < chunk) {
    if (std::ferror(file_)) fail(path_, ": read error: ", std::strerror(errno));
    raw_eof_ = true;
  }
  raw_read_ += got;
  return got;
}

size_t CompressedInput::read(char* out, size_t n) {
  if (n == 0) return 0;
  for (;;) {
    if (raw_at_ == raw_.size() && !raw_eof_) fill_raw();
    const size_t avail = raw_.size() - raw_at_;
    if (kind_ == Compression::None) {
      if (avail == 0) return 0;
      const size_t k = std::min(n, avail);
      std::memcpy(out, raw_.data() + raw_at_, k);
      raw_at_ += k;
      return k;
    }
    if (kind_ == Compression::Gzip) {
      z_stream& z = codec_->z;
      if (stream_done_) {
        if (avail == 0) return 0;
        GANDER_CHECK(inflateReset(&z) == Z_OK, path_, ": gzip decoder reset failed");  // another member follows
        stream_done_ = false;
      }
      z.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_at_);
      z.avail_in = uInt(avail);
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = uInt(std::min<size_t>(n, 1u << 30));
      const int rc = inflate(&z, Z_NO_FLUSH);
      raw_at_ += avail - z.avail_in;
      const size_t produced = size_t(reinterpret_cast<char*>(z.next_out) - out);
      if (rc == Z_STREAM_END) stream_done_ = true;
      else if (rc == Z_BUF_ERROR && avail == 0 && raw_eof_) fail(path_, ": the gzip stream is truncated");
      else if (rc != Z_OK && rc != Z_BUF_ERROR) fail(path_, ": corrupt gzip data (", z.msg ? z.msg : "inflate failed", ")");
      if (produced) return produced;
      continue;
    }
    // zstd: frames back to back; ZSTD_decompressStream returns 0 at the end of each. With the
    // input used up it may still hold output of the last frame, so it is asked once more.
    if (avail == 0 && stream_done_) return 0;
    ZSTD_inBuffer in{raw_.data() + raw_at_, avail, 0};
    ZSTD_outBuffer o{out, n, 0};
    const size_t rc = ZSTD_decompressStream(codec_->zstd, &o, &in);
    if (ZSTD_isError(rc)) fail(path_, ": corrupt zstd data (", ZSTD_getErrorName(rc), ")");
    raw_at_ += in.pos;
    stream_done_ = rc == 0;
    if (o.pos) return o.pos;
    GANDER_CHECK(avail > 0, path_, ": the zstd stream is truncated");
  }
}

bool CompressedInput::next_line(std::string& line) {
  line.clear();
  for (;;) {
    const size_t nl = pending_.find('\n', pending_at_);
    if (nl != std::string::npos) {
      line.append(pending_, pending_at_, nl - pending_at_);
      pending_at_ = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    line.append(pending_, pending_at_, std::string::npos);
    pending_.resize(size_t(1) << 20);
    pending_at_ = 0;
    const size_t got = read(pending_.data(), pending_.size());
    pending_.resize(got);
    if (got == 0) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return !line.empty();
    }
  }
}

std::string CompressedInput::read_all(uint64_t max_bytes) {
  std::string out(pending_, pending_at_);
  pending_.clear(), pending_at_ = 0;
  std::string chunk(size_t(1) << 20, '\0');
  while (size_t got = read(chunk.data(), chunk.size())) {
    GANDER_CHECK(out.size() + got <= max_bytes, path_, ": more than ", max_bytes, " bytes after decompression");
    out.append(chunk, 0, got);
  }
  return out;
}

}  // namespace gander::io
