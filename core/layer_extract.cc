// Implementation of extract_layers (see layer_extract.h). Whiteouts follow
// the OCI layer spec: `.wh.NAME` removes NAME from the layers below, and
// `.wh..wh..opq` empties its directory of what the layers below put there.
#include "core/layer_extract.h"
#include "core/archive_handle.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <memory>
#include <set>

#include "core/tar_scan.h"
#include "core/tree_diff.h"

namespace ocipack {


namespace {

// A layer path made safe: relative, no "." or ".." components, no trailing '/'.
Result<std::string> clean_path(std::string_view raw, const std::string& where) {
  if (has_dot_dot_component(raw)) return make_error(where + ": entry '" + std::string(raw) + "' leaves the root");
  return normalize_tar_path(raw);
}

void remove_tree(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

Status apply_layer(const std::string& blob, const std::string& where, const std::string& target,
                   std::set<std::string>& opaque_done) {
  ArchiveReader reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), blob.c_str(), 1 << 20) != ARCHIVE_OK)
    return make_error(where + ": " + archive_message(reader.get()));
  ArchiveWriter writer(archive_write_disk_new());
  archive_write_disk_set_options(
      writer.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                        ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_UNLINK |
                        ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  // (Entry paths are made absolute by us, under `target`, after clean_path has
  // removed "..", "." and leading '/'; SECURE_SYMLINKS refuses symlinked parents.)
  archive_write_disk_set_standard_lookup(writer.get());
  opaque_done.clear();

  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(reader.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return make_error(where + ": " + archive_message(reader.get()));
    auto path = clean_path(archive_entry_pathname(entry), where);
    if (!path) return path.error();
    if (path->empty()) continue;  // the root itself
    const std::filesystem::path full = std::filesystem::path(target) / *path;
    const std::string name = full.filename().string();
    if (name == k_opaque_whiteout) {
      // Empty the directory of what lower layers put there (only once per
      // layer: entries of this layer may already have landed in it).
      if (opaque_done.insert(*path).second) {
        std::error_code ec;
        for (const auto& child : std::filesystem::directory_iterator(full.parent_path(), ec))
          remove_tree(child.path());
      }
      continue;
    }
    if (name.rfind(k_whiteout_prefix, 0) == 0) {
      remove_tree(full.parent_path() / name.substr(std::string_view(k_whiteout_prefix).size()));
      continue;
    }
    archive_entry_set_pathname(entry, full.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      auto link_path = clean_path(link, where);
      if (!link_path) return link_path.error();
      archive_entry_set_hardlink(entry, (std::filesystem::path(target) / *link_path).c_str());
    }
    rc = archive_write_header(writer.get(), entry);
    if (rc < ARCHIVE_WARN)
      return make_error(where + ": cannot extract '" + *path + "': " + archive_message(writer.get()));
    if (archive_entry_size(entry) > 0) {
      for (;;) {
        const void* buffer = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        rc = archive_read_data_block(reader.get(), &buffer, &size, &offset);
        if (rc == ARCHIVE_EOF) break;
        if (rc < ARCHIVE_WARN) return make_error(where + ": " + archive_message(reader.get()));
        if (archive_write_data_block(writer.get(), buffer, size, offset) < ARCHIVE_WARN)
          return make_error(where + ": cannot write '" + *path + "': " + archive_message(writer.get()));
      }
    }
    if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN)
      return make_error(where + ": cannot extract '" + *path + "': " + archive_message(writer.get()));
  }
  if (archive_write_close(writer.get()) < ARCHIVE_WARN)
    return make_error(where + ": " + archive_message(writer.get()));
  return ok_status();
}
}  // namespace

Status extract_layers(const std::string& layout_dir, const std::vector<Descriptor>& layers,
                      const std::string& target) {
  std::set<std::string> opaque_done;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string blob = layout_dir + "/blobs/sha256/" + layers[i].digest.hex();
    const std::string where = "base layer " + std::to_string(i + 1) + " (" + layers[i].digest.str() + ")";
    OCIPACK_TRY(apply_layer(blob, where, target, opaque_done));
  }
  return ok_status();
}

}  // namespace ocipack
