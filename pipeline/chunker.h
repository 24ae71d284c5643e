// TarChunker: turns the rootfs walk into the layer's tar stream and cuts it
// into chunks. File data is read() straight into the chunk buffer (no extra
// copy). Where a chunk ends depends only on the stream's content and the
// target size — never on threads or timing — and boundaries re-synchronise
// after a local change to the rootfs:
//   1. before an entry, cut if the chunk has reached the target size, or if it
//      is past half the target and the entry's path hashes to a cut point
//      (1 in 16 paths);
//   2. inside a file's data, cut at file-relative offsets that are multiples
//      of the target (once the chunk is past half the target);
//   3. cut when the buffer (2 × target) is full.
// For a layer format with a PayloadCutter (frames that follow the tar's
// entries), the chunker also records in each chunk where its frames end —
// before and after every file's contents, and where the cutter cuts them
// (content-defined chunks) — and the entries whose headers start in it.
// The class is single-threaded; the pipeline calls fill() from its one
// producer stage.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/layer/layer_format.h"
#include "core/tar/rootfs_walk.h"
#include "core/util/unique_fd.h"
#include "core/util/result.h"
#include "pipeline/chunk.h"
#include "pipeline/stage_clock.h"

namespace ocipack {

struct ChunkingOptions {
  static constexpr size_t k_min_target = 64 * 1024;
  static constexpr size_t k_max_target = 64 * 1024 * 1024;
  size_t target_size = 1024 * 1024;
  size_t capacity() const { return 2 * target_size; }
};

struct ChunkerCounters {
  uint64_t entries = 0;
  uint64_t files_read = 0;
  uint64_t tar_bytes = 0;
  uint64_t data_bytes = 0;        // file data, read() or from holes
  uint64_t hole_bytes = 0;        // of which zeros from holes of sparse files, not read
};

// The exact size of the tar stream `source` describes (headers, data,
// padding, trailer), without reading file data: the progress bar's total.
Result<uint64_t> tar_stream_size(EntrySource& source);

class TarChunker {
 public:
  // `cutter` (may be null) comes from the layer format.
  TarChunker(std::unique_ptr<EntrySource> source, ChunkingOptions options,
             std::unique_ptr<PayloadCutter> cutter = nullptr);

  // Fills chunk.data (capacity ≥ options.capacity()) with the next bytes of
  // the stream and sets chunk.size. Returns false, with chunk.size == 0, once
  // the whole stream (including the two zero blocks) has been handed out.
  // Errors name the path (unreadable file, file changed while read, …).
  Result<bool> fill(Chunk& chunk);

  const std::vector<std::string>& warnings() const { return m_source->warnings(); }
  const ChunkerCounters& counters() const { return m_counters; }
  // Time and bytes of the walk (next entry: walk, lstat, xattrs, header,
  // open; bytes: headers, padding and trailer) and of read() of file data.
  StageStats walk_stats() const { return m_walk.stats(); }
  StageStats read_stats() const { return m_read.stats(); }

 private:
  enum class Phase { need_entry, header, data, padding, trailer, done };
  // What a phase step leaves the chunk: room for more, or cut here.
  enum class Step { more, cut };
  Result<Step> advance(Chunk& chunk);
  Result<Step> next_entry(const Chunk& chunk);
  Step emit_header(Chunk& chunk);
  Result<Step> emit_data(Chunk& chunk);
  Status finish_file();
  Step emit_zeros(Chunk& chunk);
  Status start_entry(WalkItem& item);
  Status read_data(Chunk& chunk, size_t want);
  ssize_t read_plain(int fd, std::byte* dest, size_t span, uint64_t at);
  Status find_extent(int fd, uint64_t at, uint64_t end);
  bool cut_before_entry(size_t chunk_size, const std::string& path) const;
  void end_frame(Chunk& chunk) const;
  void cut_payload(Chunk& chunk, size_t n);

  std::unique_ptr<EntrySource> m_source;
  ChunkingOptions m_options;
  Phase m_phase = Phase::need_entry;

  std::optional<WalkItem> m_next_item;  // fetched, waiting for a fresh chunk
  std::string m_header;                  // header bytes of the current entry
  size_t m_header_pos = 0;
  UniqueFd m_file;                       // data source of the current entry
  int m_spool_fd = -1;                   // …or a spool file (not owned)
  uint64_t m_spool_offset = 0;
  bool m_has_data = false;
  std::string m_file_path;
  uint64_t m_file_size = 0;
  uint64_t m_file_offset = 0;
  // Sparse data source (fewer blocks than bytes): holes are found with
  // SEEK_DATA/SEEK_HOLE and emitted as zeros without reading them. The
  // extent known so far, as absolute offsets in the source file.
  bool m_sparse = false;
  bool m_eof_seen = false;  // the last read of a plain file already hit its end
  uint64_t m_hole_until = 0;
  uint64_t m_data_until = 0;
  uint64_t m_padding_left = 0;
  uint64_t m_trailer_left = 0;
  std::unique_ptr<PayloadCutter> m_cutter;  // null: frames are whole chunks
  StreamEntry m_stream_entry;               // the current entry, for m_cutter's formats
  std::vector<size_t> m_cuts;
  ChunkerCounters m_counters;
  StageTimer m_walk;
  StageTimer m_read;
};

}  // namespace ocipack
