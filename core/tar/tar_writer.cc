// USTAR/PAX header encoding; see tar_writer.h for the normalisation rules.
// Field layout (POSIX.1-2001 ustar): name[100] mode[8] uid[8] gid[8] size[12]
// mtime[12] chksum[8] typeflag[1] linkname[100] magic[6] version[2]
// uname[32] gname[32] devmajor[8] devminor[8] prefix[155] pad[12].
#include "core/tar/tar_writer.h"

#include <array>
#include <cstring>

namespace ocipack {

namespace {
constexpr size_t k_name_size = 100;
constexpr size_t k_prefix_size = 155;
constexpr uint64_t k_max_octal7 = 07777777;         // mode/uid/gid/dev fields
constexpr uint64_t k_max_octal11 = 077777777777ULL; // size/mtime fields

struct HeaderOffsets {
  static constexpr size_t name = 0, mode = 100, uid = 108, gid = 116, size = 124, mtime = 136,
                          chksum = 148, typeflag = 156, linkname = 157, magic = 257,
                          version = 263, devmajor = 329, devminor = 337, prefix = 345;
};

using Block = std::array<char, k_tar_block>;

// Writes `value` as zero-padded octal filling width-1 digits plus a NUL.
void put_octal(Block& block, size_t offset, size_t width, uint64_t value) {
  size_t digits = width - 1;
  for (size_t i = digits; i-- > 0;) {
    block[offset + i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  block[offset + digits] = '\0';
}

void put_string(Block& block, size_t offset, std::string_view text) {
  if (!text.empty()) std::memcpy(block.data() + offset, text.data(), text.size());  // an empty view may be null
}

// Splits `path` into USTAR prefix and name at a '/', as Go's archive/tar does:
// the last slash within the first 156 bytes, both parts non-empty and fitting.
bool split_ustar_path(std::string_view path, std::string_view& prefix, std::string_view& name) {
  if (path.size() <= k_name_size) {
    prefix = {};
    name = path;
    return true;
  }
  size_t length = path.size();
  if (length > k_prefix_size + 1) {
    length = k_prefix_size + 1;
  } else if (path[length - 1] == '/') {
    --length;
  }
  size_t slash = path.substr(0, length).rfind('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  size_t name_len = path.size() - slash - 1;
  if (name_len == 0 || name_len > k_name_size || slash > k_prefix_size) return false;
  prefix = path.substr(0, slash);
  name = path.substr(slash + 1);
  return true;
}

void finish_checksum(Block& block) {
  std::memset(block.data() + HeaderOffsets::chksum, ' ', 8);
  uint32_t sum = 0;
  for (char c : block) sum += static_cast<unsigned char>(c);
  // Six octal digits, NUL, space — the form GNU tar and Go write.
  for (size_t i = 6; i-- > 0;) {
    block[HeaderOffsets::chksum + i] = static_cast<char>('0' + (sum & 7));
    sum >>= 3;
  }
  block[HeaderOffsets::chksum + 6] = '\0';
  block[HeaderOffsets::chksum + 7] = ' ';
}

Block make_block(std::string_view prefix, std::string_view name, uint32_t mode, uint64_t uid,
                 uint64_t gid, uint64_t size, uint64_t mtime, char typeflag,
                 std::string_view linkname, uint32_t dev_major, uint32_t dev_minor) {
  Block block{};
  put_string(block, HeaderOffsets::name, name);
  put_octal(block, HeaderOffsets::mode, 8, mode);
  put_octal(block, HeaderOffsets::uid, 8, uid);
  put_octal(block, HeaderOffsets::gid, 8, gid);
  put_octal(block, HeaderOffsets::size, 12, size);
  put_octal(block, HeaderOffsets::mtime, 12, mtime);
  block[HeaderOffsets::typeflag] = typeflag;
  put_string(block, HeaderOffsets::linkname, linkname);
  put_string(block, HeaderOffsets::magic, std::string_view("ustar\0", 6));
  put_string(block, HeaderOffsets::version, "00");
  put_octal(block, HeaderOffsets::devmajor, 8, dev_major);
  put_octal(block, HeaderOffsets::devminor, 8, dev_minor);
  put_string(block, HeaderOffsets::prefix, prefix);
  finish_checksum(block);
  return block;
}

void append_block(std::string& out, const Block& block) { out.append(block.data(), block.size()); }
}  // namespace

std::string pax_record(std::string_view key, std::string_view value) {
  // The length prefix counts itself: grow until the digit count is stable.
  size_t base = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t length = base + 1;
  while (std::to_string(length).size() + base != length) length = std::to_string(length).size() + base;
  std::string record = std::to_string(length);
  record += ' ';
  record += key;
  record += '=';
  record += value;
  record += '\n';
  return record;
}

Status append_tar_header(const TarEntry& entry, std::string& out) {
  std::string pax;
  std::string_view prefix, name;
  const bool path_fits = split_ustar_path(entry.path, prefix, name);
  if (!path_fits) {
    pax += pax_record("path", entry.path);
    // The USTAR name then carries a truncated form for old readers.
    prefix = {};
    name = std::string_view(entry.path).substr(0, k_name_size);
  }
  std::string_view linkname = entry.link_target;
  if (linkname.size() > k_name_size) {
    pax += pax_record("linkpath", entry.link_target);
    linkname = linkname.substr(0, k_name_size);
  }
  uint64_t size = entry.size;
  if (size > k_max_octal11) {
    pax += pax_record("size", std::to_string(size));
    size = 0;
  }
  uint64_t uid = entry.uid, gid = entry.gid;
  if (uid > k_max_octal7) {
    pax += pax_record("uid", std::to_string(uid));
    uid = 0;
  }
  if (gid > k_max_octal7) {
    pax += pax_record("gid", std::to_string(gid));
    gid = 0;
  }
  uint64_t mtime = 0;
  if (entry.mtime < 0 || static_cast<uint64_t>(entry.mtime) > k_max_octal11) {
    pax += pax_record("mtime", std::to_string(entry.mtime));
  } else {
    mtime = static_cast<uint64_t>(entry.mtime);
  }
  for (const auto& [key, value] : entry.xattrs) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos)
      return input_error("cannot store xattr '" + key + "' of " + entry.path +
                         " in a tar header (name must be non-empty without '=')");
    pax += pax_record("SCHILY.xattr." + key, value);
  }
  if (entry.dev_major > k_max_octal7 || entry.dev_minor > k_max_octal7)
    return input_error("device number of " + entry.path + " does not fit a tar header");

  if (!pax.empty()) {
    // Deterministic PAX header name: no PID, derived from the entry's name.
    std::string base = entry.path;
    while (!base.empty() && base.back() == '/') base.pop_back();
    auto slash = base.rfind('/');
    if (slash != std::string::npos) base = base.substr(slash + 1);
    std::string pax_name = "PaxHeaders/" + base.substr(0, k_name_size - 11);
    append_block(out, make_block({}, pax_name, 0644, 0, 0, pax.size(), mtime, 'x', {}, 0, 0));
    out += pax;
    out.append(tar_padding(pax.size()), '\0');
  }
  append_block(out, make_block(prefix, name, entry.mode & 07777, uid, gid, size, mtime,
                               static_cast<char>(entry.type), linkname, entry.dev_major,
                               entry.dev_minor));
  return ok_status();
}

}  // namespace ocipack
