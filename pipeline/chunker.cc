// Implementation of TarChunker (see chunker.h for the cut rules).
#include "pipeline/chunker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pipeline/stage_clock.h"
#include "core/tar/tar_writer.h"
#include "core/util/file_io.h"
namespace ocipack {

namespace {

constexpr uint64_t k_sequential_hint_bytes = 1 << 20;  // files above this get POSIX_FADV_SEQUENTIAL

uint64_t path_hash(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  // FNV's high bits mix poorly for paths that differ only at the end; the
  // murmur3 finaliser spreads every input bit over the whole word.
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  return hash;
}
}  // namespace

Result<uint64_t> tar_stream_size(EntrySource& source) {
  uint64_t total = k_tar_trailer_size;
  std::string header;
  for (;;) {
    OCIPACK_TRY_ASSIGN(const auto item, source.next());
    if (!item) return total;
    header.clear();
    OCIPACK_TRY(append_tar_header(item->entry, header));
    total += header.size() + item->entry.size + tar_padding(item->entry.size);
  }
}

TarChunker::TarChunker(std::unique_ptr<EntrySource> source, ChunkingOptions options,
                       std::unique_ptr<PayloadCutter> cutter)
    : m_source(std::move(source)), m_options(options), m_cutter(std::move(cutter)) {}

// Ends the chunk's current frame here (formats with a cutter; never an
// empty frame).
void TarChunker::end_frame(Chunk& chunk) const {
  if (!m_cutter) return;
  const size_t last = chunk.frame_ends.empty() ? 0 : chunk.frame_ends.back();
  if (chunk.size > last) chunk.frame_ends.push_back(chunk.size);
}

// Ends a frame wherever the cutter cuts the `n` contents bytes just read.
void TarChunker::cut_payload(Chunk& chunk, size_t n) {
  if (!m_cutter) return;
  m_cuts.clear();
  const size_t start = chunk.size - n;
  m_cutter->scan(std::span<const std::byte>(chunk.data.get() + start, n), m_cuts);
  for (size_t cut : m_cuts) {
    const size_t last = chunk.frame_ends.empty() ? 0 : chunk.frame_ends.back();
    if (start + cut > last) chunk.frame_ends.push_back(start + cut);
  }
}

bool TarChunker::cut_before_entry(size_t chunk_size, const std::string& path) const {
  if (chunk_size == 0) return false;
  if (chunk_size >= m_options.target_size) return true;
  return chunk_size >= m_options.target_size / 2 && (path_hash(path) >> 60) == 0;
}

Status TarChunker::start_entry(WalkItem& item) {
  ++m_counters.entries;
  m_spool_fd = -1;
  m_has_data = false;
  m_eof_seen = false;
  if (item.entry.type == EntryType::regular && item.entry.size > 0 && item.spool_fd >= 0) {
    m_file.reset();
    m_spool_fd = item.spool_fd;
    m_spool_offset = item.spool_offset;
    m_file_path = item.entry.path;
    m_file_size = item.entry.size;
    m_file_offset = 0;
    m_has_data = true;
    struct stat spool_st {};
    m_sparse = ::fstat(m_spool_fd, &spool_st) == 0 &&
               static_cast<uint64_t>(spool_st.st_blocks) * 512 < static_cast<uint64_t>(spool_st.st_size);
    m_hole_until = m_data_until = 0;
    ++m_counters.files_read;
  } else if (item.entry.type == EntryType::regular && item.st_size > 0) {
    // Open before the header is emitted, so an unreadable file fails before
    // any of its bytes are in the stream, and check the file is still the one
    // lstat saw (open_item_data: the same regular file; here: the same size).
    // A walk that opens while it walks has made that call already.
    struct stat st {};
    UniqueFd fd;
    if (item.opened) {
      if (item.opened->failure) return std::move(*item.opened->failure);
      fd = std::move(item.opened->fd);
      st = item.opened->st;
      item.opened.reset();
    } else {
      OCIPACK_TRY_ASSIGN(fd, open_item_data(item, &st));
    }
    if (static_cast<uint64_t>(st.st_size) != item.st_size)
      return input_error("file changed while being read: " + item.source_path);
    // Read-ahead already covers a small file; a system call per file is
    // not free on a tree of thousands (a warm cached rebuild feels it).
    if (item.st_size > k_sequential_hint_bytes) ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    m_file = std::move(fd);
    m_file_path = item.source_path;
    m_file_size = item.st_size;
    m_file_offset = 0;
    m_has_data = true;
    m_sparse = static_cast<uint64_t>(st.st_blocks) * 512 < item.st_size;
    m_hole_until = m_data_until = 0;
    ++m_counters.files_read;
  } else {
    m_file.reset();
    m_file_size = 0;
    m_file_offset = 0;
  }
  m_header.clear();
  m_header_pos = 0;
  OCIPACK_TRY(append_tar_header(item.entry, m_header));
  if (m_cutter) m_stream_entry = StreamEntry{item.entry, 0, m_header.size()};
  m_padding_left = tar_padding(item.entry.size);
  m_phase = Phase::header;
  return ok_status();
}

// Learns whether `at` (< end, the data's end in the source) lies in a hole or
// in data, and how far that extent reaches. A file system without
// SEEK_DATA/SEEK_HOLE answers "all data", so everything is read.
Status TarChunker::find_extent(int fd, uint64_t at, uint64_t end) {
  if (at < m_hole_until || at < m_data_until) return ok_status();
  const off_t data = ::lseek(fd, static_cast<off_t>(at), SEEK_DATA);
  if (data < 0 && errno == ENXIO) {
    // No data from `at` on: a trailing hole, or the file shrank under us.
    struct stat st {};
    if (m_spool_fd < 0 && (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < end))
      return input_error("file shrank while being read: " + m_file_path);
    m_hole_until = end;
    return ok_status();
  }
  if (data < 0) {
    m_data_until = end;
    return ok_status();
  }
  if (static_cast<uint64_t>(data) > at) {
    m_hole_until = std::min<uint64_t>(static_cast<uint64_t>(data), end);
    return ok_status();
  }
  const off_t hole = ::lseek(fd, static_cast<off_t>(at), SEEK_HOLE);
  m_data_until = hole < 0 ? end : std::min<uint64_t>(std::max<uint64_t>(static_cast<uint64_t>(hole), at + 1), end);
  return ok_status();
}

// read() of a plain file; the read that reaches the size lstat gave asks
// for one byte more, so that its shortness proves the end of the file and
// finish_file need not ask again (a system call per file saved). Returns
// span + 1 when the file has grown.
ssize_t TarChunker::read_plain(int fd, std::byte* dest, size_t span, uint64_t at) {
  if (at + span < m_file_size) return ::read(fd, dest, span);
  std::byte probe;
  iovec parts[2] = {{dest, span}, {&probe, 1}};
  const ssize_t n = ::readv(fd, parts, 2);
  if (n >= 0 && static_cast<size_t>(n) == span) m_eof_seen = true;
  return n;
}

Status TarChunker::read_data(Chunk& chunk, size_t want) {
  std::byte* dest = chunk.data.get() + chunk.size;
  const int fd = m_spool_fd >= 0 ? m_spool_fd : m_file.get();
  const uint64_t base = m_spool_fd >= 0 ? m_spool_offset : 0;
  size_t got = 0;
  while (got < want) {
    const uint64_t at = base + m_file_offset + got;  // offset in the source file
    size_t span = want - got;
    if (m_sparse) {
      OCIPACK_TRY(find_extent(fd, at, base + m_file_size));
      if (at < m_hole_until) {
        const auto zeros = static_cast<size_t>(std::min<uint64_t>(span, m_hole_until - at));
        std::memset(dest + got, 0, zeros);
        got += zeros;
        m_counters.hole_bytes += zeros;
        continue;
      }
      span = static_cast<size_t>(std::min<uint64_t>(span, m_data_until - at));
    }
    // A plain file is read sequentially; a spool or a sparse file by offset.
    ssize_t n = m_spool_fd >= 0 || m_sparse ? ::pread(fd, dest + got, span, static_cast<off_t>(at))
                                            : read_plain(fd, dest + got, span, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return input_error("cannot read " + m_file_path + ": " + errno_text(errno));
    }
    if (n == 0) return input_error("file shrank while being read: " + m_file_path);
    if (static_cast<size_t>(n) > span) return input_error("file grew while being read: " + m_file_path);
    got += static_cast<size_t>(n);
  }
  chunk.size += want;
  m_file_offset += want;
  return ok_status();
}

Result<bool> TarChunker::fill(Chunk& chunk) {
  chunk.size = 0;
  chunk.frame_ends.clear();
  chunk.entries.clear();
  while (m_phase != Phase::done) {
    OCIPACK_TRY_ASSIGN(const Step step, advance(chunk));
    if (step == Step::cut) break;
  }
  end_frame(chunk);
  return chunk.size > 0;
}

// One step of the phase the stream is in.
Result<TarChunker::Step> TarChunker::advance(Chunk& chunk) {
  switch (m_phase) {
    case Phase::need_entry: return next_entry(chunk);
    case Phase::header: return emit_header(chunk);
    case Phase::data: return emit_data(chunk);
    case Phase::padding:
    case Phase::trailer: return emit_zeros(chunk);
    case Phase::done: break;
  }
  return Step::more;
}

// Fetches the next entry (kept until a chunk has room for it) and starts
// it, unless the chunk is cut before it; at the end of the walk, moves on
// to the trailer.
Result<TarChunker::Step> TarChunker::next_entry(const Chunk& chunk) {
  auto timing = m_walk.time();
  if (!m_next_item) {
    OCIPACK_TRY_ASSIGN(auto item, m_source->next());
    if (!item) {
      m_phase = Phase::trailer;
      m_trailer_left = k_tar_trailer_size;
      return Step::more;
    }
    m_next_item = std::move(*item);
  }
  if (cut_before_entry(chunk.size, m_next_item->entry.path)) return Step::cut;
  OCIPACK_TRY(start_entry(*m_next_item));
  m_next_item.reset();
  return Step::more;
}

TarChunker::Step TarChunker::emit_header(Chunk& chunk) {
  const size_t room = m_options.capacity() - chunk.size;
  if (room == 0) return Step::cut;
  if (m_cutter && m_header_pos == 0) {
    m_stream_entry.header_offset = m_counters.tar_bytes;
    chunk.entries.push_back(std::move(m_stream_entry));
  }
  size_t n = std::min(room, m_header.size() - m_header_pos);
  std::memcpy(chunk.data.get() + chunk.size, m_header.data() + m_header_pos, n);
  chunk.size += n;
  m_header_pos += n;
  m_counters.tar_bytes += n;
  m_walk.add_bytes(n);
  if (m_header_pos == m_header.size()) {
    m_phase = m_has_data ? Phase::data : Phase::padding;
    if (m_has_data) {
      end_frame(chunk);  // the contents start a frame
      if (m_cutter) m_cutter->start_file();
    }
  }
  return Step::more;
}

Result<TarChunker::Step> TarChunker::emit_data(Chunk& chunk) {
  const uint64_t left = m_file_size - m_file_offset;
  if (left == 0) {
    end_frame(chunk);  // the contents end their frame
    OCIPACK_TRY(finish_file());
    return Step::more;
  }
  const size_t room = m_options.capacity() - chunk.size;
  if (room == 0) return Step::cut;
  // Cut at file-relative multiples of the target once past half a chunk.
  // (After such a cut the next chunk starts empty, so this cannot repeat.)
  const size_t target = m_options.target_size;
  if (m_file_offset > 0 && m_file_offset % target == 0 && chunk.size >= target / 2) return Step::cut;
  const uint64_t to_boundary = target - m_file_offset % target;
  const size_t n = static_cast<size_t>(std::min<uint64_t>({room, left, to_boundary}));
  {
    auto timing = m_read.time(n);
    OCIPACK_TRY(read_data(chunk, n));
  }
  cut_payload(chunk, n);
  m_counters.tar_bytes += n;
  m_counters.data_bytes += n;
  return Step::more;
}

// All of the file's data is in the stream: check that the file ended where
// lstat said, and move on to its padding. A spool is ours and cannot change.
Status TarChunker::finish_file() {
  if (m_spool_fd < 0) {
    // One more read at the size must see EOF. A sparse file may also have
    // shrunk into a hole that was emitted without reading, so its size is
    // checked too.
    std::byte probe;
    ssize_t n = 0;
    if (!m_eof_seen) {
      do n = ::pread(m_file.get(), &probe, 1, static_cast<off_t>(m_file_size));
      while (n < 0 && errno == EINTR);
    }
    if (n < 0) return input_error("cannot read " + m_file_path + ": " + errno_text(errno));
    if (n > 0) return input_error("file grew while being read: " + m_file_path);
    struct stat st {};
    if (m_sparse && (::fstat(m_file.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) != m_file_size))
      return input_error("file shrank while being read: " + m_file_path);
    m_file.reset();
  }
  m_spool_fd = -1;
  m_has_data = false;
  m_phase = Phase::padding;
  return ok_status();
}

// The zeros of an entry's padding or of the end-of-archive trailer.
TarChunker::Step TarChunker::emit_zeros(Chunk& chunk) {
  uint64_t& left = m_phase == Phase::padding ? m_padding_left : m_trailer_left;
  if (left == 0) {
    m_phase = m_phase == Phase::padding ? Phase::need_entry : Phase::done;
    return Step::more;
  }
  const size_t room = m_options.capacity() - chunk.size;
  if (room == 0) return Step::cut;
  size_t n = static_cast<size_t>(std::min<uint64_t>(room, left));
  std::memset(chunk.data.get() + chunk.size, 0, n);
  chunk.size += n;
  left -= n;
  m_counters.tar_bytes += n;
  m_walk.add_bytes(n);
  return Step::more;
}

}  // namespace ocipack
