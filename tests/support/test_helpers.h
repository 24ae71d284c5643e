// Helpers shared by the unit tests: a self-removing temporary directory,
// small file-tree builders, reproducible random bytes, and multi-member gzip (zlib) and multi-frame
// zstd (libzstd's one-shot API) decoders used to check layer blobs
// independently of the code that wrote them.
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ocipack::testing {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ocipack-test-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + m_path + "'").c_str()); }
  const std::string& path() const { return m_path; }
  std::string operator/(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

// `size` bytes from a fixed-seed generator: the same input on every run.
inline std::vector<std::byte> random_bytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> data(size);
  for (auto& b : data) b = static_cast<std::byte>(rng());
  return data;
}

inline void write_text(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Whether anything (a file, directory or dangling link) is at `path`.
inline bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// The names in `dir` (without "." and ".."), sorted; empty if it cannot be read.
inline std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

inline void make_dirs(const std::string& path) {
  std::system(("mkdir -p '" + path + "'").c_str());
}

// Writes a tar made by Python's tarfile (PAX format) to `out` from
// ';'-separated specs: "path=content" a file, "dir/" a directory,
// "link>target" a hard link. `mode` is tarfile's: "w" plain, "w:gz" gzip.
// Every mtime is 1700000000. Returns false if python3 failed.
inline bool write_python_tar(const std::string& out, const std::string& specs,
                             const std::string& mode = "w") {
  const std::string script =
      "import io,sys,tarfile\n"
      "t=tarfile.open(sys.argv[1],sys.argv[3],format=tarfile.PAX_FORMAT)\n"
      "for s in sys.argv[2].split(';'):\n"
      "  i=tarfile.TarInfo();i.mtime=1700000000\n"
      "  if '>' in s:\n"
      "    i.name,i.linkname=s.split('>');i.type=tarfile.LNKTYPE;t.addfile(i);continue\n"
      "  n,_,c=s.partition('=');i.name=n\n"
      "  if n.endswith('/'): i.type=tarfile.DIRTYPE;i.mode=0o755;t.addfile(i);continue\n"
      "  d=c.encode();i.size=len(d);i.mode=0o644;t.addfile(i,io.BytesIO(d))\n"
      "t.close()\n";
  write_text(out + ".py", script);
  return std::system(("python3 '" + out + ".py' '" + out + "' '" + specs + "' '" + mode + "'").c_str()) == 0;
}

// Hand-made tar pieces for framing tests, independent of ocipack's writer.
// raw_tar_header: one USTAR header block (type, size and link as given, mode
// 0644, mtime 1700000000) with a correct checksum; `tweak` may edit the
// block before the checksum is computed.
template <typename Tweak>
inline std::string raw_tar_header(const std::string& name, char type, uint64_t size, const std::string& link,
                                  Tweak tweak) {
  std::string h(512, '\0');
  h.replace(0, std::min<size_t>(name.size(), 100), name.substr(0, 100));
  std::snprintf(&h[100], 8, "%07o", 0644u);
  std::snprintf(&h[108], 8, "%07o", 0u);
  std::snprintf(&h[116], 8, "%07o", 0u);
  std::snprintf(&h[124], 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(&h[136], 12, "%011o", 1700000000u);
  h[156] = type;
  h.replace(157, std::min<size_t>(link.size(), 100), link.substr(0, 100));
  h.replace(257, 8, std::string("ustar\0" "00", 8));
  tweak(h);
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}
inline std::string raw_tar_header(const std::string& name, char type = '0', uint64_t size = 0,
                                  const std::string& link = "") {
  return raw_tar_header(name, type, size, link, [](std::string&) {});
}
// `data` padded with NULs to whole 512-byte blocks.
inline std::string raw_tar_data(const std::string& data) {
  return data + std::string((512 - data.size() % 512) % 512, '\0');
}
// A PAX extended header ('x') holding `records` (key, value), then its data.
inline std::string raw_pax_header(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string body;
  for (const auto& [key, value] : records) {
    const std::string text = " " + key + "=" + value + "\n";
    size_t length = text.size() + 1;
    while (std::to_string(length).size() + text.size() != length) ++length;
    body += std::to_string(length) + text;
  }
  return raw_tar_header("PaxHeader", 'x', body.size()) + raw_tar_data(body);
}
inline std::string raw_tar_end() { return std::string(1024, '\0'); }

struct GzipContents {
  std::string data;
  size_t members = 0;
};

// Decodes every member of a (possibly multi-member) gzip stream with zlib.
inline GzipContents decode_gzip(const std::string& compressed) {
  GzipContents out;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  char buf[65536];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.data.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      ++out.members;
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // next member
      continue;
    }
    if (rc != Z_OK) {
      inflateEnd(&zs);
      throw std::runtime_error("corrupt gzip stream");
    }
  }
  inflateEnd(&zs);
  return out;
}

inline std::string gunzip_all(const std::string& compressed) { return decode_gzip(compressed).data; }
inline size_t count_gzip_members(const std::string& compressed) { return decode_gzip(compressed).members; }

// Decodes a stream of zstd frames back to back, one frame at a time with
// libzstd's one-shot decoder (each frame must state its content size).
// Throws when the stream is not all whole frames.
inline GzipContents decode_zstd(const std::string& compressed) {
  GzipContents out;
  for (size_t at = 0; at < compressed.size(); ++out.members) {
    const size_t frame = ZSTD_findFrameCompressedSize(compressed.data() + at, compressed.size() - at);
    const unsigned long long size = ZSTD_getFrameContentSize(compressed.data() + at, compressed.size() - at);
    if (ZSTD_isError(frame) || size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR)
      throw std::runtime_error("not a zstd frame with a content size");
    std::string data(size, '\0');
    const size_t n = ZSTD_decompress(data.data(), data.size(), compressed.data() + at, frame);
    if (ZSTD_isError(n) || n != size) throw std::runtime_error("corrupt zstd frame");
    out.data += data;
    at += frame;
  }
  return out;
}
inline std::string unzstd_all(const std::string& compressed) { return decode_zstd(compressed).data; }
inline size_t count_zstd_frames(const std::string& compressed) { return decode_zstd(compressed).members; }

}  // namespace ocipack::testing
