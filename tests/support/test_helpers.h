// Helpers shared by the unit tests: a self-removing temporary directory,
// small file-tree builders, and a multi-member gzip decoder (zlib) used to
// check layer blobs independently of the code that wrote them.
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

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

inline void write_text(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
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

}  // namespace ocipack::testing
