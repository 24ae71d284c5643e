// libFuzzer target for verify's zstd:chunked check (core/image/
// chunked_layer_check.cc). The TOC and tar-split of a real layer are
// zstd-compressed, so mutating a blob's bytes would mostly test the zstd
// decoder (fuzz_base_model does that); this target takes them as plain text
// and builds the blob around them the way the producer does, so mutations
// reach the JSON, the entry list, the offsets, digests and chunk lists:
//   input = u32 LE P, u32 LE S, P bytes of file frames, S bytes of tar-split
//           JSON lines, the rest TOC JSON;
//   blob  = frames + skippable(zstd(TOC)) + skippable(zstd(tar-split))
//           + skippable(footer), annotations as the producer writes them.
// The check must only ever add problem lines: crashes, hangs, leaks, huge
// allocations and sanitizer reports are the failures. It runs against an
// empty tar listing and a one-entry one, so both sides of the listing
// comparison are reached. OCIPACK_FUZZ_PRINT=1 prints the problems (to see
// what a reproducer or a seed does). Seeds: tests/fuzz/corpus/chunked_layer,
// made from real ocipack layers by tests/fuzz/make_chunked_seed.py.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/codec/codec.h"
#include "core/image/chunked_layer_check.h"
#include "core/layer/zstd_chunked_toc.h"
#include "core/util/sha256.h"

namespace {
namespace zc = ocipack::zstd_chunked;

// As the producer compresses them (level 3, its pinned parameters), so the
// seeds' tarSplitDigest holds. One compressor for all runs: its output never
// depends on what it compressed before, and making one per run is most of a
// run's time.
std::vector<std::byte> compressed(std::span<const std::byte> text) {
  static const auto compressor = [] {
    auto made = ocipack::make_compressor(ocipack::CodecKind::zstd, 3, ocipack::CompressedShape::zstd_frame);
    if (!made.ok()) std::abort();
    return std::move(*made);
  }();
  std::vector<std::byte> out(compressor->bound(text.size()));
  auto size = compressor->compress(text, {}, out);
  if (!size.ok()) std::abort();
  out.resize(*size);
  return out;
}

uint32_t u32_at(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const auto input = std::as_bytes(std::span(data + 8, size - 8));
  const size_t frames_size = std::min<size_t>(u32_at(data), input.size());
  const size_t split_size = std::min<size_t>(u32_at(data + 4), input.size() - frames_size);
  const auto frames = input.first(frames_size);
  const auto split_text = input.subspan(frames_size, split_size);
  const auto toc_text = input.subspan(frames_size + split_size);

  const auto toc = compressed(toc_text);
  const auto split = compressed(split_text);
  const zc::ChunkedTail tail = zc::chunked_tail(frames.size(), toc, toc_text.size(), split, split_text.size());
  std::vector<std::byte> blob(frames.begin(), frames.end());
  blob.insert(blob.end(), tail.bytes.begin(), tail.bytes.end());
  ocipack::Sha256 toc_hash;
  toc_hash.update(toc);
  const auto annotations = zc::chunked_annotations(tail.sections, toc_hash.finish());

  int fd = ::memfd_create("ocipack-fuzz-chunked", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, blob.data(), blob.size()) == static_cast<ssize_t>(blob.size())) {
    const std::vector<ocipack::TarListing> listings[] = {{}, {{"etc/hostname", '0', 5, ""}}};
    for (const auto& tar : listings) {
      std::vector<std::string> problems;
      ocipack::check_chunked_layer(fd, blob.size(), annotations, tar, "fuzz layer", problems);
      if (std::getenv("OCIPACK_FUZZ_PRINT") != nullptr)
        for (const auto& problem : problems) std::fprintf(stderr, "%s\n", problem.c_str());
    }
  }
  ::close(fd);
  return 0;
}
