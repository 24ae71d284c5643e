// Implementation of TarScanner (see tar_scan.h).
#include "core/tar/tar_scan.h"

#include <algorithm>
#include <cstring>

#include "core/util/text.h"

namespace ocipack {

namespace {

const char* entry_type_name(char type) {
  switch (type) {
    case '1': return "hard link";
    case '2': return "symlink";
    case '3': return "character device";
    case '4': return "block device";
    case '5': return "directory";
    case '6': return "FIFO";
    default: return "file";
  }
}

std::optional<uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// Old-GNU sparse headers: the "isextended" byte of the header and of each
// extension block (which holds 21 more sparse map entries).
constexpr size_t k_gnu_header_isextended = 482;
constexpr size_t k_gnu_extension_isextended = 504;

}  // namespace

std::optional<uint64_t> parse_tar_number(const char* field, size_t size) {
  const auto first = static_cast<unsigned char>(field[0]);
  if (first & 0x80) {
    if (first != 0x80) return std::nullopt;  // 0xff: negative
    uint64_t value = 0;
    for (size_t i = 1; i < size; ++i) {
      if (value >> 56) return std::nullopt;
      value = value << 8 | static_cast<unsigned char>(field[i]);
    }
    return value;
  }
  size_t i = 0;
  while (i < size && field[i] == ' ') ++i;
  uint64_t value = 0;
  for (; i < size && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value >> 60) return std::nullopt;
    value = value << 3 | static_cast<uint64_t>(field[i] - '0');
  }
  for (; i < size; ++i)
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  return value;
}

std::string_view tar_string(const char* field, size_t size) {
  return std::string_view(field, ::strnlen(field, size));
}

std::vector<std::string_view> tar_path_components(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  for (;;) {
    const size_t slash = path.find('/', pos);
    parts.push_back(path.substr(pos, slash == std::string_view::npos ? path.npos : slash - pos));
    if (slash == std::string_view::npos) return parts;
    pos = slash + 1;
  }
}

std::string normalize_tar_path(std::string_view path) {
  std::string out;
  for (const auto part : tar_path_components(path)) {
    if (part.empty() || part == ".") continue;
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

bool has_dot_dot_component(std::string_view path) {
  const auto parts = tar_path_components(path);
  return std::find(parts.begin(), parts.end(), "..") != parts.end();
}

std::optional<std::string_view> non_directory_ancestor(
    std::string_view normalized_path, const std::function<std::optional<bool>(std::string_view)>& is_directory) {
  for (size_t slash = normalized_path.find('/'); slash != std::string_view::npos;
       slash = normalized_path.find('/', slash + 1)) {
    const std::string_view ancestor = normalized_path.substr(0, slash);
    if (auto directory = is_directory(ancestor); directory && !*directory) return ancestor;
  }
  return std::nullopt;
}

TarScanner::TarScanner(EntryHandler on_entry, ProblemHandler on_problem)
    : m_on_entry(std::move(on_entry)), m_on_problem(std::move(on_problem)) {}

void TarScanner::feed(std::string_view data) {
  while (!data.empty()) {
    size_t used = data.size();
    switch (m_state) {
      case State::end:
      case State::stopped:
        break;
      case State::data:
        used = static_cast<size_t>(std::min<uint64_t>(m_skip, data.size()));
        m_skip -= used;
        if (m_skip == 0) m_state = State::header;
        break;
      case State::meta:
        used = static_cast<size_t>(std::min<uint64_t>(m_meta_remaining, data.size()));
        m_meta.append(data.substr(0, used));
        m_meta_remaining -= used;
        m_offset += used;
        if (m_meta_remaining == 0) end_meta();
        data.remove_prefix(used);
        continue;
      case State::header:
      case State::sparse_extension:
        used = std::min(k_tar_block - m_block_fill, data.size());
        std::memcpy(m_block.data() + m_block_fill, data.data(), used);
        m_block_fill += used;
        if (m_block_fill == k_tar_block) {
          m_block_fill = 0;
          m_offset += used;
          data.remove_prefix(used);
          if (m_state == State::header)
            on_header_block();
          else
            on_sparse_extension_block();
          continue;
        }
        break;
    }
    m_offset += used;
    data.remove_prefix(used);
  }
}

void TarScanner::finish() {
  switch (m_state) {
    case State::end:
    case State::stopped:
      break;
    case State::header:
      if (m_block_fill > 0)
        problem("tar stream ends inside a header (offset " + std::to_string(m_offset - m_block_fill) + ")");
      else if (m_pending_meta)
        problem("tar stream ends after an extended header that no entry follows");
      else
        problem("tar stream has no end-of-archive marker (two zero blocks)");
      break;
    case State::sparse_extension:
      problem("tar stream ends inside the sparse map of " + m_last_entry);
      break;
    case State::meta:
      problem("tar stream ends inside an extended header (offset " + std::to_string(m_offset) + ")");
      break;
    case State::data:
      problem("tar stream ends inside the data of " + m_last_entry);
      break;
  }
  if (m_state != State::stopped) m_state = State::end;
}

void TarScanner::stop(const std::string& text) {
  problem(text + "; the rest of the stream cannot be read");
  m_state = State::stopped;
}

void TarScanner::on_header_block() {
  const uint64_t offset = m_offset - k_tar_block;
  const char* block = m_block.data();
  const std::string at = " at offset " + std::to_string(offset);
  if (std::all_of(m_block.begin(), m_block.end(), [](char c) { return c == 0; })) {
    if (m_zero_block_seen) {
      if (m_pending_meta) problem("extended header before offset " + std::to_string(offset) + " has no entry");
      m_state = State::end;
    }
    m_zero_block_seen = true;
    return;
  }
  if (m_zero_block_seen) {
    problem("a single zero block before offset " + std::to_string(offset) +
            " is followed by more headers (readers stop or fail there)");
    m_zero_block_seen = false;
  }

  // Checksum: the header's bytes with the checksum field read as spaces;
  // some old writers summed signed chars, which readers still accept.
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < k_tar_block; ++i) {
    const char c = i >= 148 && i < 156 ? ' ' : block[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  const auto stored = parse_tar_number(block + 148, 8);
  if (!stored || (*stored != unsigned_sum && static_cast<int64_t>(*stored) != signed_sum))
    return stop("header" + at + " has a bad checksum (not a tar stream, or corrupted)");
  auto size = parse_tar_number(block + 124, 12);
  if (!size) return stop("header" + at + " has an invalid size field");
  const char type = block[156];

  if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
    if (*size > k_max_tar_meta_size) {
      problem("extended header" + at + " is " + std::to_string(*size) + " bytes (readers refuse more than " +
              std::to_string(k_max_tar_meta_size) + ")");
      return skip(*size);
    }
    m_meta_type = type;
    m_meta_offset = offset;
    m_meta.clear();
    m_meta_remaining = *size;
    m_meta_padding = tar_padding(*size);
    m_state = State::meta;
    if (*size == 0) end_meta();
    return;
  }
  emit_entry(block, offset, type, *size);
}

void TarScanner::emit_entry(const char* block, uint64_t offset, char type, uint64_t size) {
  // A real entry; extended headers before it override its fields.
  ScannedEntry entry;
  entry.number = ++m_entries;
  entry.offset = offset;
  if (m_pax_path) {
    entry.path = *m_pax_path;
  } else if (m_gnu_long_name) {
    entry.path = *m_gnu_long_name;
  } else {
    entry.path = tar_string(block, 100);
    const std::string_view prefix = tar_string(block + 345, 155);
    if (std::memcmp(block + 257, "ustar\0", 6) == 0 && !prefix.empty())
      entry.path = std::string(prefix) + "/" + entry.path;
  }
  entry.link = m_pax_linkpath ? *m_pax_linkpath
               : m_gnu_long_link ? *m_gnu_long_link
                                 : std::string(tar_string(block + 157, 100));
  if (m_pax_size) size = *m_pax_size;
  m_pax_path.reset();
  m_pax_linkpath.reset();
  m_pax_size.reset();
  m_gnu_long_name.reset();
  m_gnu_long_link.reset();
  m_pending_meta = false;

  // Go reads the old regular type '\0' with a trailing '/' as a directory.
  entry.type = type;
  if (type == '\0') entry.type = !entry.path.empty() && entry.path.back() == '/' ? '5' : '0';
  m_last_entry = "entry " + std::to_string(entry.number) + " " + in_quotes(entry.path);

  const bool header_only = entry.type >= '1' && entry.type <= '6';
  const uint64_t stated_size = size;
  if (header_only) size = 0;
  entry.size = size;
  m_on_entry(entry);
  if (header_only && stated_size != 0)
    problem(m_last_entry + " is a " + entry_type_name(entry.type) + " with size " + std::to_string(stated_size) +
            " (readers disagree on whether data follows; Go's archive/tar reads none)");

  if (type == 'S' && block[k_gnu_header_isextended] != 0) {
    m_sparse_data_size = size;
    m_state = State::sparse_extension;
    return;
  }
  skip(size);
}

void TarScanner::on_sparse_extension_block() {
  if (m_block[k_gnu_extension_isextended] == 0) skip(m_sparse_data_size);
}

void TarScanner::skip(uint64_t size) {
  m_skip = size + tar_padding(size);
  m_state = m_skip > 0 ? State::data : State::header;
}

void TarScanner::end_meta() {
  const std::string at = " at offset " + std::to_string(m_meta_offset);
  if (m_meta_type == 'x') {
    parse_pax(at);
  } else if (m_meta_type == 'L' || m_meta_type == 'K') {
    std::string name(tar_string(m_meta.data(), m_meta.size()));
    (m_meta_type == 'L' ? m_gnu_long_name : m_gnu_long_link) = std::move(name);
    m_pending_meta = true;
  }  // 'g' (global PAX header): nothing in it changes the framing or the paths
  if (m_state == State::stopped) return;
  m_skip = m_meta_padding;
  m_state = m_skip > 0 ? State::data : State::header;
}

// PAX records: "<length> <key>=<value>\n", the length counting the whole record.
void TarScanner::parse_pax(const std::string& at) {
  m_pending_meta = true;
  std::string_view text = m_meta;
  size_t record = 0;
  std::optional<std::string> sparse_name;
  while (!text.empty()) {
    ++record;
    const size_t space = text.find(' ');
    uint64_t length = 0;
    bool valid = space != std::string_view::npos && space > 0 && space <= 19;
    for (size_t i = 0; valid && i < space; ++i) {
      if (text[i] < '0' || text[i] > '9') valid = false;
      length = length * 10 + static_cast<uint64_t>(text[i] - '0');
    }
    valid = valid && length > space + 1 && length <= text.size() && text[length - 1] == '\n';
    const std::string_view body = valid ? text.substr(space + 1, length - space - 2) : std::string_view();
    const size_t equals = body.find('=');
    if (!valid || equals == std::string_view::npos || equals == 0) {
      problem("PAX header" + at + " is malformed (record " + std::to_string(record) + ")");
      break;
    }
    const std::string_view key = body.substr(0, equals);
    const std::string_view value = body.substr(equals + 1);
    // An empty value removes the field: the USTAR header's value applies.
    if (key == "path") {
      m_pax_path = value.empty() ? std::nullopt : std::optional<std::string>(value);
    } else if (key == "linkpath") {
      m_pax_linkpath = value.empty() ? std::nullopt : std::optional<std::string>(value);
    } else if (key == "GNU.sparse.name") {
      sparse_name = std::string(value);
    } else if (key == "size") {
      auto size = parse_decimal(value);
      if (!value.empty() && !size) return stop("PAX header" + at + " has an invalid size " + in_quotes(value));
      m_pax_size = size;
    }
    text.remove_prefix(length);
  }
  // GNU tar's sparse formats 0.1 and 1.0 keep the real name here.
  if (sparse_name && !sparse_name->empty()) m_pax_path = std::move(sparse_name);
}

}  // namespace ocipack
