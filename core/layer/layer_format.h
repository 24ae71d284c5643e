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
// The formats: gzip members and gzip single (format_gzip_*.cc), zstd
// (format_zstd.cc: one zstd frame per chunk) and none (format_none.cc: the
// tar stream as it is). Adding a format is one new file and one row:
//  core/layer/format_<name>.cc defines a LayerFormat subclass, constructed
//  with LayerFormat(row, kind, level, shape) (so make_compressor() needs no
//  code; or LayerFormat(row) for a blob that stores the chunks as they are),
//  its begin_blob() and history_size(), plus `serves_<name>(options)` and
//  `make_<name>_format(options, row)`, which checks the options
//  (check_compressor, check_no_gzip_options) and makes the format;
//  layer_format.cc gets the declarations of those two functions and the
//  row {"<name>", <media type>, serves_<name>, make_<name>_format} in the
//  table (rows are tried in order). The graph, the image builder and the
//  CLI's plumbing stay as they are. (The backend itself is core/codec's
//  business: a CodecKind, its level bounds, a shape, and codec_<name>.cc.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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

// What a layer blob is, as the user names it: gzip (the default, the one
// format every OCI reader must read), zstd (one frame per chunk),
// zstd:chunked (zstd with a table of contents, containers/storage) or none
// (the plain tar).
enum class LayerCompression { gzip, zstd, zstd_chunked, none };

// "gzip", "zstd", "zstd:chunked", "none": the names podman and buildah use.
const char* layer_compression_name(LayerCompression compression);

// The codec a compression uses unless the options name one: libdeflate for
// gzip, zstd for zstd and zstd:chunked, none for none (nothing is compressed).
std::optional<CodecKind> default_codec_kind(LayerCompression compression);

// The chunk size a compression works best with by default, in bytes: 1 MiB
// for gzip (a member per chunk costs little: deflate's window is 32 KiB) and
// zstd:chunked (it cuts at file boundaries itself); 8 MiB for zstd, whose
// frames lose every match across a chunk boundary — at the pinned 8 MiB
// window, frames of 8 MiB come out no larger than one `zstd -3` stream of
// the whole tar (1 MiB frames: 8 % larger on a Debian minbase).
size_t default_chunk_size(LayerCompression compression);

// What the caller asked of layer compression (BuildOptions::layer.codec;
// the error field names are "codec.compression", "codec.kind",
// "codec.level", "codec.format" and "codec.dictionary"). Plain data:
// resolve_layer_format() validates it. An empty kind or level means "the
// compression's own": default_codec_kind(compression) at its default level
// (level_bounds); a kind given must suit the compression (codec.kind isal
// or libdeflate choose the gzip engine, and refuse zstd).
struct CodecOptions {
  std::optional<CodecKind> kind;  // empty: default_codec_kind(compression)
  std::optional<int> level;       // empty: level_bounds(kind).default_level
  GzipFormat format = GzipFormat::members;
  bool dictionary = false;  // single format: prime each piece with the previous 32 KiB
  LayerCompression compression = LayerCompression::gzip;
};

// The codec and level the options come to (the kind given or the
// compression's own, the level given or that kind's default), for a
// compression that has a codec (not none).
struct CodecChoice {
  CodecKind kind;
  int level;
};
CodecChoice codec_choice(const CodecOptions& options);

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

  // "gzip members", "gzip single", "zstd", "none": for messages and statistics.
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
  // What a chunk cache keys a chunk's compressed bytes by, besides the
  // chunk: the format, the codec and its version, the level, the shape and
  // the version of ocipack's pinned codec parameters — everything that
  // affects the bytes. Empty when caching makes no sense: a stored format
  // (nothing to save) or chunks that are not self-contained.
  std::string cache_identity() const;
  // "libdeflate level 6", "zstd level 3", "stored": what compresses the
  // chunks, for the build summary.
  std::string codec_text() const;

 protected:
  // `row` gives the name and media type; chunks are compressed by `kind`
  // at `level` in `shape` (checked by the format's make function).
  LayerFormat(const LayerFormatRow& row, CodecKind kind, int level, CompressedShape shape);
  // A format whose chunks are stored as they are (make_store_compressor).
  explicit LayerFormat(const LayerFormatRow& row);

 private:
  struct CompressorSettings {
    CodecKind kind;
    int level;
    CompressedShape shape;
  };
  std::string m_name;
  std::string m_media_type;
  std::optional<CompressorSettings> m_compressor;  // empty: stored
};

// Validates `options` and returns the format that serves them. Usage errors
// name the fields they are about (Error::fields): "codec.level 42: expected
// 0-12 for libdeflate", "codec.format single needs codec.kind isal (...)",
// "codec.dictionary only applies to codec.format single", "codec.kind isal
// does not apply to codec.compression zstd (...)".
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

// For the make functions of formats that are not gzip: refuses the
// gzip-only options (codec.format single, codec.dictionary) and a
// codec.kind other than the compression's own, each naming the field and
// codec.compression. `level_applies` false (none) refuses codec.level too.
Status check_no_gzip_options(const CodecOptions& options, bool level_applies);

}  // namespace ocipack
