// The "zstd:chunked" layer format (containers/storage; docs/zstd-chunked.md):
// a zstd layer (media type …tar+zstd, decompressing to the ordinary tar)
// whose frames follow the tar's entries — each run of headers and padding
// a frame, each file's contents frames of their own, cut into
// content-defined chunks by containers/storage's rolling sum — followed by
// three skippable frames: the zstd-compressed TOC (every entry, each file's
// digest and compressed range, its chunks), the zstd-compressed tar-split
// (the non-content bytes of the tar, so a reader rebuilds the exact tar
// from the TOC's files) and the 64-byte footer. The layer's descriptor gets
// the annotations that locate and checksum the TOC and tar-split, under
// the current keys and the legacy ones podman 4.3 reads — unless an entry's
// name is not UTF-8 (toc_can_name): then no annotations, and readers pull
// the layer as plain zstd.
//
// The pipeline stays format-blind: the format's PayloadCutter makes the
// producer end frames at entry parts and chunk boundaries; the framing
// learns the entries and the stream in its observe() (diff_id stage: file,
// chunk and CRC-64 digests, tar-split segments) and the frames' compressed
// sizes in observe_written() (write stage), and turns frame positions into
// blob offsets in its epilogue. Frames are compressed in parallel like any
// chunk; the bytes do not depend on threads.
#include <algorithm>
#include <deque>

#include "core/layer/layer_format.h"
#include "core/layer/zstd_chunked_toc.h"
#include "core/util/sha256.h"

namespace ocipack {

namespace {
using namespace zstd_chunked;

class RollSumCutter final : public PayloadCutter {
 public:
  void start_file() override { m_sum = RollSum(); }
  void scan(std::span<const std::byte> bytes, std::vector<size_t>& cuts) override { m_sum.scan(bytes, cuts); }

 private:
  RollSum m_sum;
};

Digest digest_of(std::span<const std::byte> bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.finish();
}

// A chunk of a file's contents as the stream shows it (stream offsets).
struct StreamChunk {
  uint64_t stream_offset;
  uint64_t size;
  Digest digest;
};

// The file whose contents the stream is in.
struct OpenFile {
  size_t entry;  // index into the TOC entries
  uint64_t begin, end;  // stream range of the contents
  uint64_t chunk_begin;
  bool several_chunks;  // else its one chunk's digest is the file's (no second hash)
  Sha256 file_hash, chunk_hash;
  uint64_t crc = 0;
  std::vector<StreamChunk> chunks;
};

class ZstdChunkedFraming final : public BlobFraming {
 public:
  explicit ZstdChunkedFraming(CodecChoice codec) : m_codec(codec) {}
  std::vector<std::byte> prologue() const override { return {}; }
  void observe(const StreamPiece& piece) override;
  void observe_written(std::span<const size_t> sizes) override {
    m_compressed_sizes.insert(m_compressed_sizes.end(), sizes.begin(), sizes.end());
  }
  Result<BlobEpilogue> epilogue(uint64_t uncompressed_size) override;

 private:
  size_t take_contents(std::span<const std::byte> bytes);
  size_t take_metadata(std::span<const std::byte> bytes);
  void end_header(StreamEntry& entry);
  Status place_in_blob();
  Result<std::vector<std::byte>> compress(const std::string& text) const;

  CodecChoice m_codec;
  // diff_id stage (observe)
  uint64_t m_position = 0;             // stream offset of the next byte
  std::vector<uint64_t> m_frame_ends;  // stream offsets, every frame of the blob
  size_t m_next_frame = 0;             // first frame end after m_position
  std::deque<StreamEntry> m_upcoming;  // entries whose headers are not complete yet
  std::optional<OpenFile> m_file;
  std::vector<std::byte> m_segment;    // tar bytes since the last contents or header end
  std::vector<TocEntry> m_entries;
  bool m_all_named = true;             // every entry's names fit the TOC (toc_can_name)
  std::vector<std::vector<StreamChunk>> m_chunks;  // per entry
  TarSplitWriter m_split;
  // write stage (observe_written)
  std::vector<size_t> m_compressed_sizes;
};

void ZstdChunkedFraming::observe(const StreamPiece& piece) {
  for (size_t end : piece.frame_ends) m_frame_ends.push_back(m_position + end);
  m_upcoming.insert(m_upcoming.end(), piece.entries.begin(), piece.entries.end());
  std::span<const std::byte> bytes = piece.bytes;
  while (!bytes.empty()) {
    const size_t n = m_file ? take_contents(bytes) : take_metadata(bytes);
    bytes = bytes.subspan(n);
  }
}

// Contents bytes up to the next frame end: file digest, chunk digest, CRC.
size_t ZstdChunkedFraming::take_contents(std::span<const std::byte> bytes) {
  OpenFile& f = *m_file;
  while (m_next_frame < m_frame_ends.size() && m_frame_ends[m_next_frame] <= m_position) ++m_next_frame;
  uint64_t stop = f.end;
  if (m_next_frame < m_frame_ends.size()) stop = std::min(stop, m_frame_ends[m_next_frame]);
  const auto n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), stop - m_position));
  const auto part = bytes.first(n);
  f.file_hash.update(part);
  if (f.several_chunks) f.chunk_hash.update(part);
  f.crc = crc64_iso(f.crc, part);
  m_position += n;
  TocEntry& toc = m_entries[f.entry];
  if (m_position == f.end) toc.digest = f.file_hash.finish();
  if (m_position == stop) {
    f.chunks.push_back({f.chunk_begin, m_position - f.chunk_begin, f.several_chunks ? f.chunk_hash.finish() : *toc.digest});
    f.chunk_begin = m_position;
  }
  if (m_position == f.end) {
    m_split.file(toc.entry.path, toc.entry.size, f.crc);
    m_chunks[f.entry] = std::move(f.chunks);
    m_file.reset();
  }
  return n;
}

// Headers, padding and trailer: kept for the tar-split up to the end of
// the next entry's header.
size_t ZstdChunkedFraming::take_metadata(std::span<const std::byte> bytes) {
  uint64_t stop = UINT64_MAX;
  if (!m_upcoming.empty()) stop = m_upcoming.front().payload_offset();
  const auto n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), stop - m_position));
  m_segment.insert(m_segment.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  m_position += n;
  if (m_position == stop) {
    end_header(m_upcoming.front());
    m_upcoming.pop_front();
  }
  return n;
}

// An entry's header is complete: its tar-split segment, its TOC entry, and
// its contents next (or its tar-split file line now, without contents).
void ZstdChunkedFraming::end_header(StreamEntry& entry) {
  m_split.segment(m_segment);
  m_segment.clear();
  m_all_named &= toc_can_name(entry.entry);
  m_entries.push_back({std::move(entry.entry), std::nullopt, 0, 0, {}});
  m_chunks.emplace_back();
  const TarEntry& tar = m_entries.back().entry;
  if (tar.size == 0) {
    m_split.file(tar.path, 0, std::nullopt);
    return;
  }
  m_file.emplace();
  m_file->entry = m_entries.size() - 1;
  m_file->begin = m_file->chunk_begin = m_position;
  m_file->end = m_position + tar.size;
  // One chunk if the first frame end after the start is the file's end (the
  // frame ends of the chunk being observed are known; past it, assume more).
  const auto first_end = std::upper_bound(m_frame_ends.begin(), m_frame_ends.end(), m_position);
  m_file->several_chunks = first_end == m_frame_ends.end() || *first_end != m_file->end;
}

// Stream offsets of frames → blob offsets: each file's range and chunks.
Status ZstdChunkedFraming::place_in_blob() {
  if (m_compressed_sizes.size() != m_frame_ends.size() || m_file || !m_upcoming.empty())
    return io_error("zstd:chunked: the frames written do not match the stream's (" +
                    std::to_string(m_compressed_sizes.size()) + " != " + std::to_string(m_frame_ends.size()) + ")");
  std::vector<uint64_t> blob_start(m_frame_ends.size() + 1, 0);  // frame i starts at blob_start[i]
  for (size_t i = 0; i < m_compressed_sizes.size(); ++i) blob_start[i + 1] = blob_start[i] + m_compressed_sizes[i];
  auto frame_at = [&](uint64_t stream_offset) {  // the frame starting at stream_offset
    const auto it = std::lower_bound(m_frame_ends.begin(), m_frame_ends.end(), stream_offset);
    return static_cast<size_t>(it - m_frame_ends.begin()) + (it != m_frame_ends.end() && *it == stream_offset ? 1 : 0);
  };
  for (size_t i = 0; i < m_entries.size(); ++i) {
    const auto& chunks = m_chunks[i];
    if (chunks.empty()) continue;
    TocEntry& toc = m_entries[i];
    toc.offset = blob_start[frame_at(chunks.front().stream_offset)];
    toc.end_offset = blob_start[frame_at(chunks.back().stream_offset + chunks.back().size)];
    for (const StreamChunk& c : chunks)
      toc.chunks.push_back({blob_start[frame_at(c.stream_offset)], c.stream_offset - chunks.front().stream_offset,
                            c.size, c.digest});
  }
  return ok_status();
}

Result<std::vector<std::byte>> ZstdChunkedFraming::compress(const std::string& text) const {
  OCIPACK_TRY_ASSIGN(auto compressor, make_compressor(m_codec.kind, m_codec.level, CompressedShape::zstd_frame));
  std::vector<std::byte> out(compressor->bound(text.size()));
  OCIPACK_TRY_ASSIGN(const size_t size,
                     compressor->compress(std::as_bytes(std::span(text.data(), text.size())), {}, out));
  out.resize(size);
  return out;
}

Result<BlobEpilogue> ZstdChunkedFraming::epilogue(uint64_t) {
  if (!m_segment.empty()) m_split.segment(m_segment);  // the last padding and the trailer
  m_segment.clear();
  OCIPACK_TRY(place_in_blob());
  OCIPACK_TRY_ASSIGN(const auto split, compress(m_split.text()));
  const std::string toc_text = toc_json(m_entries, digest_of(split));
  OCIPACK_TRY_ASSIGN(const auto toc, compress(toc_text));
  uint64_t data_end = 0;
  for (size_t size : m_compressed_sizes) data_end += size;
  ChunkedTail tail = chunked_tail(data_end, toc, toc_text.size(), split, m_split.text().size());
  BlobEpilogue out;
  out.bytes = std::move(tail.bytes);
  if (m_all_named) out.annotations = chunked_annotations(tail.sections, digest_of(toc));
  return out;
}

class ZstdChunkedFormat final : public LayerFormat {
 public:
  ZstdChunkedFormat(const CodecChoice& codec, const LayerFormatRow& row)
      : LayerFormat(row, codec.kind, codec.level, CompressedShape::zstd_frame), m_codec(codec) {}

  std::unique_ptr<BlobFraming> begin_blob() const override { return std::make_unique<ZstdChunkedFraming>(m_codec); }
  std::unique_ptr<PayloadCutter> make_payload_cutter() const override { return std::make_unique<RollSumCutter>(); }
  size_t history_size() const override { return 0; }

 private:
  CodecChoice m_codec;
};
}  // namespace

bool serves_zstd_chunked(const CodecOptions& options) {
  return options.compression == LayerCompression::zstd_chunked;
}

Result<std::unique_ptr<const LayerFormat>> make_zstd_chunked_format(const CodecOptions& options,
                                                                    const LayerFormatRow& row) {
  OCIPACK_TRY(check_no_gzip_options(options, true));
  const CodecChoice codec = codec_choice(options);
  OCIPACK_TRY(check_compressor(codec.kind, codec.level, CompressedShape::zstd_frame));
  return std::unique_ptr<const LayerFormat>(std::make_unique<ZstdChunkedFormat>(codec, row));
}

}  // namespace ocipack
