// TarInputSource: a rootfs given as a tar archive — plain, gzip, bzip2, xz or
// zstd compressed (Yocto's rootfs.tar.bz2 directly), or "-" for stdin — read
// with libarchive and re-emitted through ocipack's own tar writer with the
// same normalisation as a directory: entries sorted like the directory walk
// (bytewise per directory, parents first), hard links regrouped so the first
// name in that order carries the data (core/tar/hard_links.h), xattrs
// sorted, mtimes in whole seconds and clamped. So the same tree as a directory or as a tar gives the
// same diff_id and blob digest.
//
// The archive is read once, up front: entry metadata stays in memory (it
// grows with the number of entries, not their size) and file data is spooled
// into an unlinked temporary file (holes of sparse files stay holes), from
// which the chunker reads with pread(). `cancel` is polled per entry and per
// data block, and while waiting for stdin (poll(2), so a slow or idle pipe
// or a terminal does not hold a Ctrl-C); `report` hears the compressed bytes
// read so far of the file's size (unknown for a stream) as phase "spooling".
//
// Hostile or broken input is refused with an error naming the entry: absolute
// paths, ".." components, duplicate paths, hard links to missing or later
// entries, `.wh.` names (consumers would read them as whiteouts), truncated
// or corrupt archives, a NUL byte in a path or link target (libarchive would
// silently cut the name there), and archives whose framing libarchive and a
// reader that follows Go's archive/tar (tar_scan.h) read differently — the
// tar-smuggling trick of hiding entries from one reader. A leading "./" is
// normal and removed; the root entry itself is skipped. Directories the
// archive does not list are not invented. Refusals are input errors; failing
// to write the spool file (a full disk) is an io error.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/phase_report.h"
#include "core/util/unique_fd.h"
#include "core/util/result.h"
#include "core/tar/entry_source.h"

namespace ocipack {

class TarInputSource final : public EntrySource {
 public:
  // `path` is a tar file, a pipe or device (see is_tar_input) or "-"
  // (stdin); the spool file is created (and
  // immediately unlinked) in `spool_dir`.
  static Result<std::unique_ptr<TarInputSource>> open(const std::string& path, const WalkOptions& options,
                                                      const std::string& spool_dir,
                                                      const std::atomic<bool>* cancel = nullptr,
                                                      const PhaseReport& report = {});

  Result<std::optional<WalkItem>> next() override;
  const std::vector<std::string>& warnings() const override { return m_warnings; }

 private:
  TarInputSource() = default;
  std::vector<WalkItem> m_items;
  size_t m_next = 0;
  UniqueFd m_spool;
  std::vector<std::string> m_warnings;
};

// The name of a spool file for the moment it is linked, where O_TMPFILE is
// not supported: this prefix and six more characters, in the spool directory
// (a layout's cleanup recognises it by this prefix).
inline constexpr std::string_view k_spool_name_prefix = ".ocipack-spool-";

// Whether ROOTFS names a tar input rather than a directory: "-", a regular
// file, or a stream — a named pipe, a process substitution (bash's
// <(cat rootfs.tar) is /dev/fd/N, a pipe) or a character device — which is
// read once, front to back, as stdin is. Symlinks are followed (the user
// names the input).
bool is_tar_input(const std::string& rootfs);

}  // namespace ocipack
