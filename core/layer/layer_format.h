// LayerFormat: everything about how a layer blob is encoded, behind one
// seam, so the pipeline (pipeline/layer_graph.cc) runs any format without
// branching on it. A format owns:
//  - the media type the manifest gives the blob;
//  - the compressor each worker thread uses for its chunks;
//  - the blob's framing: bytes before the first chunk (prologue), what it
//    observes of the uncompressed stream, bytes after the last chunk
//    (epilogue) — a BlobFraming object per blob;
//  - how much of the stream before a chunk that chunk's compression may
//    refer back to (history_size), and so whether a chunk's compressed
//    bytes depend only on that chunk (a chunk cache may reuse those).
//
// Formats are found by resolve_layer_format(), the one place where the
// codec options are validated: it looks the options up in a table
// (layer_format.cc) whose rows each name a format, its media type, the
// options it serves and the function that makes it from them.
//
// Adding a format (zstd, say) is one new file and one row:
//  core/layer/format_zstd.cc defines a LayerFormat subclass, constructed
//  with LayerFormat(row, CodecKind::zstd, level, CompressedShape::zstd_frame)
//  (so make_compressor() needs no code), begin_blob() → NoFraming and
//  history_size() 0, plus `serves_zstd(options)` (options.kind ==
//  CodecKind::zstd) and `make_zstd_format(options, row)`, which checks the
//  options (check_compressor) and makes the format; layer_format.cc gets
//  the declarations of those two functions and, first in the table (rows
//  are tried in order), the row {"zstd", <zstd media type>, serves_zstd,
//  make_zstd_format}. The graph, the image builder and the CLI's plumbing
//  stay as they are. (The backend itself is core/codec's business: a
//  CodecKind, its level bounds, a shape, and codec_zstd.cc.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/codec/codec.h"
#include "core/tar/tar_entry.h"
#include "core/util/result.h"

namespace ocipack {

// How a gzip layer is laid out: one member per chunk (pigz-style), or one
// member for the whole layer (each chunk a piece of one deflate stream), for
// readers that stop after the first member.
enum class GzipFormat { members, single };

// What the caller asked of layer compression (BuildOptions::layer.codec;
// the error field names are "codec.kind", "codec.level", "codec.format" and
// "codec.dictionary"). Plain data: resolve_layer_format() validates it.
struct CodecOptions {
  CodecKind kind = CodecKind::libdeflate;
  int level = 6;  // level_bounds(kind): libdeflate 0..12, isal 0..3
  GzipFormat format = GzipFormat::members;
  bool dictionary = false;  // single format: prime each piece with the previous 32 KiB
};

// One entry of a layer's tar stream as the producer emitted it: the entry,
// where its header blocks (PAX and ustar) start in the stream and how many
// bytes they take; its contents (entry.size bytes) follow them.
struct StreamEntry {
  TarEntry entry;
  uint64_t header_offset = 0;
  uint64_t header_size = 0;
  uint64_t payload_offset() const { return header_offset + header_size; }
};

// What a blob's framing sees of one chunk of the uncompressed stream, in
// stream order: its bytes and — only for formats with a PayloadCutter —
// the entries whose headers start in it and where its frames end (offsets
// into `bytes`, ascending, the last one bytes.size()).
struct StreamPiece {
  std::span<const std::byte> bytes;
  std::span<const StreamEntry> entries;
  std::span<const size_t> frame_ends;
};

// What the framing adds after the last chunk: bytes, and annotations for
// the layer's descriptor (zstd:chunked's TOC position and checksum).
struct BlobEpilogue {
  std::vector<std::byte> bytes;
  std::map<std::string, std::string> annotations;
};

// One blob's framing state, made per blob by LayerFormat::begin_blob(). The
// pipeline writes prologue() first; calls observe() with the uncompressed
// stream in order (from its diff_id stage, one thread at a time) and
// observe_written() with the compressed size of every frame in order (from
// its write stage, one thread at a time, possibly concurrently with
// observe(): the two must not share state); and, after both saw the last
// chunk, writes epilogue()'s bytes and gives its annotations to the
// layer's descriptor.
class BlobFraming {
 public:
  virtual ~BlobFraming() = default;
  virtual std::vector<std::byte> prologue() const = 0;
  virtual void observe(const StreamPiece& piece) = 0;
  virtual void observe_written(std::span<const size_t> /*compressed_frame_sizes*/) {}
  virtual Result<BlobEpilogue> epilogue(uint64_t uncompressed_size) = 0;
};

// The framing of formats whose chunks' outputs simply concatenate.
class NoFraming final : public BlobFraming {
 public:
  std::vector<std::byte> prologue() const override { return {}; }
  void observe(const StreamPiece&) override {}
  Result<BlobEpilogue> epilogue(uint64_t) override { return BlobEpilogue{}; }
};

// For formats that compress every run of tar metadata (padding, headers,
// trailer) and every file's contents as frames of their own: where, inside
// a file's contents, a frame ends as well (content-defined chunks). The
// producer makes one per layer, calls start_file() before each file's
// contents and scan() with the contents in order.
class PayloadCutter {
 public:
  virtual ~PayloadCutter() = default;
  virtual void start_file() = 0;
  // Appends to `cuts` each offset in `bytes` (1..bytes.size()) after which
  // a chunk of the file ends.
  virtual void scan(std::span<const std::byte> bytes, std::vector<size_t>& cuts) = 0;
};

struct LayerFormatRow;

// A resolved, valid layer format. Immutable and thread-safe: workers call
// make_compressor() concurrently.
class LayerFormat {
 public:
  virtual ~LayerFormat() = default;
  LayerFormat(const LayerFormat&) = delete;
  LayerFormat& operator=(const LayerFormat&) = delete;

  // "gzip members", "gzip single": for messages and statistics.
  const std::string& name() const { return m_name; }
  // The manifest's mediaType for the blob.
  const std::string& media_type() const { return m_media_type; }

  // A compressor for one worker thread (not thread-safe itself): by
  // default the codec, level and shape the format was made with.
  virtual Result<std::unique_ptr<Compressor>> make_compressor() const;
  // The framing state of one blob.
  virtual std::unique_ptr<BlobFraming> begin_blob() const = 0;
  // For a format whose frames follow the tar's entries (see PayloadCutter):
  // the cutter of one layer's stream; nullptr (the default): frames are
  // the pipeline's chunks.
  virtual std::unique_ptr<PayloadCutter> make_payload_cutter() const { return nullptr; }
  // How many bytes of the stream before a chunk are passed to its
  // compression as the dictionary (0: none; at most k_deflate_window).
  virtual size_t history_size() const = 0;
  // Whether a chunk's compressed bytes depend only on that chunk's bytes
  // (and the options): not when they may refer back into the stream before.
  bool chunk_output_is_self_contained() const { return history_size() == 0; }

 protected:
  // `row` gives the name and media type; chunks are compressed by `kind`
  // at `level` in `shape` (checked by the format's make function).
  LayerFormat(const LayerFormatRow& row, CodecKind kind, int level, CompressedShape shape);

 private:
  std::string m_name;
  std::string m_media_type;
  CodecKind m_kind;
  int m_level;
  CompressedShape m_shape;
};

// Validates `options` and returns the format that serves them. Usage errors
// name the fields they are about (Error::fields): "codec.level 42: expected
// 0-12 for libdeflate", "codec.format single needs codec.kind isal (...)",
// "codec.dictionary only applies to codec.format single".
Result<std::unique_ptr<const LayerFormat>> resolve_layer_format(const CodecOptions& options);

// For format implementations: one row of the format table (layer_format.cc).
// Rows are tried in order; the first whose `serves` accepts the options
// makes the format, checking the options it depends on.
struct LayerFormatRow {
  const char* name;        // "gzip members"
  const char* media_type;  // the blob's mediaType
  bool (*serves)(const CodecOptions& options);
  Result<std::unique_ptr<const LayerFormat>> (*make)(const CodecOptions& options, const LayerFormatRow& row);
};

}  // namespace ocipack
