// Implementation of tags/inspect/gc and LayoutLock (see layout_ops.h). gc is
// mark-and-sweep over the content-addressed blob store: mark every blob the
// current index.json reaches, list blobs/sha256, and delete the rest — but
// only if index.json is byte-for-byte what the marking started from. The
// lock keeps cooperating writers out; the re-read catches the others.
#include "core/oci/layout_ops.h"
#include "core/oci/layout_store.h"
#include "core/util/text.h"
#include "core/util/file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

namespace ocipack {

namespace {

std::string layout_name(const std::string& layout_dir) {
  std::string dir = layout_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// --- text output helpers

std::string human_size(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* k_units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  value /= 1024;
  while (value >= 1024 && unit + 1 < std::size(k_units)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, k_units[unit]);
  return buf;
}

std::string size_text(uint64_t bytes) {
  std::string text = human_size(bytes);
  if (bytes >= 1024) text += " (" + std::to_string(bytes) + " bytes)";
  return text;
}

// Argument vectors as JSON arrays: unambiguous about spaces and quoting.
std::string json_array(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void line(std::string& out, std::string_view label, std::string_view value) {
  out += label;
  out += ':';
  out.append(label.size() < 13 ? 13 - label.size() : 1, ' ');
  out += value;
  out += '\n';
}

uint64_t total_size(const LoadedImage& image) {
  uint64_t total = static_cast<uint64_t>(image.manifest.size) +
                   static_cast<uint64_t>(image.manifest_doc.config.size);
  for (const auto& layer : image.manifest_doc.layers) total += static_cast<uint64_t>(layer.size);
  return total;
}

std::string_view trim_json_space(std::string_view text) {
  constexpr std::string_view k_space = " \t\r\n";
  const size_t begin = text.find_first_not_of(k_space);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(k_space);
  return text.substr(begin, end - begin + 1);
}

// --- gc marking

// Marks every blob reachable from index.json. Documents (indexes, manifests)
// are read and verified against their digests; leaves (configs, layers) only
// have to exist.
class Marker {
 public:
  // `blobs_fd`: blobs/sha256 opened O_NOFOLLOW (-1 when the layout has none).
  Marker(std::string dir, int blobs_fd)
      : m_dir(std::move(dir)), m_where("layout '" + m_dir + "'"), m_blobs_fd(blobs_fd) {}

  Status mark_index_entries(const std::vector<Descriptor>& entries, const std::string& referrer, int depth) {
    constexpr int k_max_nesting = 16;
    if (depth > k_max_nesting) return make_error(m_where + ": image indexes are nested too deeply (" + referrer + ")");
    for (const auto& entry : entries) OCIPACK_TRY(mark_document(entry, referrer, depth));
    return ok_status();
  }

  const std::set<std::string>& reachable() const { return m_reachable; }

 private:
  Status require_blob(const Descriptor& d, const std::string& referrer) {
    m_reachable.insert(d.digest.hex());
    struct stat st {};
    const std::string path = blob_path(m_dir, d.digest);
    if (m_blobs_fd >= 0 && ::fstatat(m_blobs_fd, d.digest.hex().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(st.st_mode)) return ok_status();
      return make_error(m_where + ": blob " + d.digest.str() + " referenced by " + referrer +
                        " is not a regular file; refusing to collect garbage in a broken layout");
    }
    if (m_blobs_fd < 0 || errno == ENOENT)
      return make_error(m_where + ": blob " + d.digest.str() + " referenced by " + referrer +
                        " is missing; refusing to collect garbage in a broken layout");
    return make_error(m_where + ": cannot access " + path + ": " + errno_text(errno));
  }

  // An entry of an index: an image manifest, a nested index, or something
  // else (kept, and followed if it looks like an index or manifest).
  Status mark_document(const Descriptor& d, const std::string& referrer, int depth) {
    OCIPACK_TRY(require_blob(d, referrer));
    if (!m_expanded.insert(d.digest.hex()).second) return ok_status();
    const bool declared_index = is_index_media_type(d.media_type);
    const bool declared_manifest = is_manifest_media_type(d.media_type);
    if (!declared_index && !declared_manifest && d.size > k_max_document_size) return ok_status();

    const std::string what = "referenced by " + referrer;
    auto text = read_blob(m_dir, d, what);
    if (!text) return make_error(text.error().message + "; refusing to collect garbage");
    DocumentKind kind = declared_index      ? DocumentKind::index
                        : declared_manifest ? DocumentKind::manifest
                                            : sniff_document_kind(*text);
    const std::string name = m_where + ": " + d.digest.str() + " (" + what + ")";
    if (kind == DocumentKind::index) {
      auto entries = parse_index(*text, name);
      if (!entries) return make_error(entries.error().message + "; refusing to collect garbage");
      return mark_index_entries(*entries, "image index " + d.digest.str(), depth + 1);
    }
    if (kind == DocumentKind::manifest) {
      auto manifest = parse_manifest_document_checked(*text, name);
      if (!manifest) return manifest.error();
      const std::string by = "manifest " + d.digest.str();
      OCIPACK_TRY(require_blob(manifest->config, by));
      for (const auto& layer : manifest->layers) OCIPACK_TRY(require_blob(layer, by));
    }
    return ok_status();
  }

  static Result<Manifest> parse_manifest_document_checked(std::string_view text, const std::string& name) {
    auto manifest = parse_manifest(text);
    if (!manifest) return make_error(name + ": " + manifest.error().message + "; refusing to collect garbage");
    return manifest;
  }

  std::string m_dir;
  std::string m_where;
  int m_blobs_fd;
  std::set<std::string> m_reachable;  // hex names
  std::set<std::string> m_expanded;   // documents already read
};

struct Candidate {
  std::string name;
  uint64_t size = 0;
};

// Unreachable blob files of blobs/sha256 (regular files and symlinks named by
// a digest — a symlink is removed, never followed), sorted by name.
Result<std::vector<Candidate>> list_unreachable(int blobs_fd, const std::string& blobs_dir,
                                                const std::set<std::string>& reachable) {
  std::vector<Candidate> out;
  auto names = list_directory_at(blobs_fd, blobs_dir);  // sorted; read errors are errors
  if (!names) return names.error();
  for (const auto& name : *names) {
    if (name[0] == '.' || !Digest::is_hex(name) || reachable.count(name)) continue;
    struct stat st {};
    if (::fstatat(blobs_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    out.push_back({name, static_cast<uint64_t>(st.st_size)});
  }
  return out;
}

// Removes the regular files named `prefix`* of the directory `dir_fd`.
void remove_temp_files(int dir_fd, const std::string& dir, const std::string& prefix, GcResult& result) {
  auto names = list_directory_at(dir_fd, dir);
  if (!names) return;
  for (const auto& name : *names) {
    if (name.rfind(prefix, 0) != 0) continue;
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        ::unlinkat(dir_fd, name.c_str(), 0) == 0) {
      ++result.removed_temp_files;
      result.freed_bytes += static_cast<uint64_t>(st.st_size);
    }
  }
}

}  // namespace

Result<std::vector<TagInfo>> list_tags(const std::string& layout_dir) {
  auto entries = read_index_entries(layout_dir);
  if (!entries) return entries.error();
  std::map<std::string, size_t> uses;
  for (const auto& entry : *entries)
    if (entry.tag) ++uses[*entry.tag];
  std::vector<TagInfo> tags;
  for (auto& entry : *entries) {
    TagInfo info;
    info.tag = entry.tag.value_or("");
    info.digest_text = entry.digest_text;
    if (!entry.descriptor) {
      info.readable = false;
      info.note = entry.problem;
    } else {
      info.manifest = std::move(*entry.descriptor);
      const std::string& type = info.manifest.media_type;
      if (!is_manifest_media_type(type) && !is_index_media_type(type))
        info.note = "mediaType " + in_quotes(type) + " is neither an image manifest nor an image index";
    }
    if (entry.tag && uses[*entry.tag] > 1) {
      const std::string ambiguous =
          "tag " + in_quotes(*entry.tag) + " is ambiguous (" + std::to_string(uses[*entry.tag]) + " entries carry it)";
      info.note = info.note.empty() ? ambiguous : ambiguous + "; " + info.note;
    }
    tags.push_back(std::move(info));
  }
  return tags;
}

Result<std::string> inspect_text(const std::string& layout_dir, const std::string& tag) {
  auto loaded = load_image(layout_dir, tag);
  if (!loaded) return loaded.error();
  const LoadedImage& image = *loaded;
  const ImageConfig& c = image.config;
  const ContainerConfig& cc = c.config;

  std::string out;
  line(out, "Tag", printable(tag));
  line(out, "Manifest", image.manifest.digest.str() + " (" +
                            size_text(static_cast<uint64_t>(image.manifest.size)) + ")");
  line(out, "Config", image.manifest_doc.config.digest.str() + " (" +
                          size_text(static_cast<uint64_t>(image.manifest_doc.config.size)) + ")");
  if (!c.created.empty()) line(out, "Created", printable(c.created));
  if (!c.author.empty()) line(out, "Author", printable(c.author));
  std::string platform = c.os + "/" + c.architecture;
  if (!c.variant.empty()) platform += "/" + c.variant;
  line(out, "Platform", printable(platform));
  if (!cc.user.empty()) line(out, "User", printable(cc.user));
  if (!cc.entrypoint.empty()) line(out, "Entrypoint", json_array(cc.entrypoint));
  if (!cc.cmd.empty()) line(out, "Cmd", json_array(cc.cmd));
  if (!cc.working_dir.empty()) line(out, "WorkingDir", printable(cc.working_dir));
  if (!cc.stop_signal.empty()) line(out, "StopSignal", printable(cc.stop_signal));
  if (!cc.exposed_ports.empty()) {
    std::string ports;
    for (const auto& port : cc.exposed_ports) ports += (ports.empty() ? "" : " ") + printable(port);
    line(out, "ExposedPorts", ports);
  }
  if (!cc.env.empty()) {
    out += "Env:\n";
    for (const auto& entry : cc.env) out += "  " + printable(entry) + "\n";
  }
  if (!cc.labels.empty()) {
    out += "Labels:\n";
    for (const auto& [key, value] : cc.labels) out += "  " + printable(key) + "=" + printable(value) + "\n";
  }

  const auto& layers = image.manifest_doc.layers;
  line(out, "Layers", std::to_string(layers.size()));
  for (size_t i = 0; i < layers.size(); ++i) {
    out += "  " + layers[i].digest.str() + "  " + size_text(static_cast<uint64_t>(layers[i].size)) + "\n";
    out += "    diff_id " + c.diff_ids[i].str() + "\n";  // load_image checked the counts match
  }
  line(out, "Total size", size_text(total_size(image)));
  if (!c.history.empty()) {
    out += "History:\n";
    for (const auto& h : c.history) {
      out += "  " + (h.created.empty() ? std::string("-") : printable(h.created)) + "  " +
             (h.created_by.empty() ? std::string("-") : printable(h.created_by));
      if (!h.author.empty()) out += "  author: " + printable(h.author);
      if (!h.comment.empty()) out += "  comment: " + printable(h.comment);
      if (h.empty_layer) out += "  (empty layer)";
      out += "\n";
    }
  }
  return out;
}

Result<std::string> inspect_json(const std::string& layout_dir, const std::string& tag) {
  auto loaded = load_image(layout_dir, tag);
  if (!loaded) return loaded.error();
  const LoadedImage& image = *loaded;
  using Json = nlohmann::ordered_json;
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };

  Json manifest;
  manifest["digest"] = image.manifest.digest.str();
  manifest["size"] = image.manifest.size;
  Json layers = Json::array();
  const auto& layer_descriptors = image.manifest_doc.layers;
  for (size_t i = 0; i < layer_descriptors.size(); ++i) {
    Json layer;
    layer["digest"] = layer_descriptors[i].digest.str();
    layer["size"] = layer_descriptors[i].size;
    layer["mediaType"] = layer_descriptors[i].media_type;
    layer["diff_id"] = image.config.diff_ids[i].str();
    layers.push_back(std::move(layer));
  }
  // The config goes in verbatim (simdjson validated it while parsing), so a
  // consumer sees exactly the document the digest covers, unknown fields included.
  std::string out = "{\"tag\":" + dump(Json(tag)) + ",\"manifest\":" + dump(manifest) + ",\"config\":";
  out += trim_json_space(image.config_json);
  out += ",\"layers\":" + dump(layers) + ",\"size\":" + std::to_string(total_size(image)) + "}";
  return out;
}

namespace {
// index.json; for an unfinished layout (a first build killed before its
// commit, see check_unfinished_layout) an index without images, so gc prunes
// what that build left.
Result<std::string> read_index_for_gc(const std::string& dir) {
  struct stat st {};
  if (::lstat((dir + "/index.json").c_str(), &st) != 0 && errno == ENOENT && check_unfinished_layout(dir))
    return std::string("{\"schemaVersion\":2,\"manifests\":[]}");
  return read_index_text(dir);
}
}  // namespace

Result<GcResult> collect_garbage(const std::string& layout_dir) {
  const std::string dir = layout_name(layout_dir);
  const std::string where = "layout '" + dir + "'";
  // Check the layout before creating a lock file in it.
  auto first_index = read_index_for_gc(dir);
  if (!first_index) return first_index.error();
  auto lock = LayoutLock::acquire(dir);
  if (!lock) return lock.error();

  // Everything below is relative to these two descriptors: a blobs/ or
  // blobs/sha256 swapped for a symlink later is not followed.
  const std::string blobs_dir = dir + "/blobs/sha256";
  // The layout directory itself is followed: the user named it.
  UniqueFd layout_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!layout_fd.valid()) return make_error("cannot open " + where + ": " + errno_text(errno));
  auto blobs_fd = open_directory_beneath(dir, "blobs/sha256");
  if (!blobs_fd) return make_error(where + ": " + blobs_fd.error().message + "; refusing to collect garbage");
  const int blobs = *blobs_fd ? (*blobs_fd)->get() : -1;
  constexpr int k_max_attempts = 10;
  for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
    auto index_text = read_index_for_gc(dir);
    if (!index_text) return index_text.error();
    auto entries = parse_index(*index_text, where + ": index.json");
    if (!entries) return make_error(entries.error().message + "; refusing to collect garbage");
    Marker marker(dir, blobs);
    OCIPACK_TRY(marker.mark_index_entries(*entries, "index.json", 0));
    std::vector<Candidate> candidates;
    if (blobs >= 0) {
      auto listed = list_unreachable(blobs, blobs_dir, marker.reachable());
      if (!listed) return listed.error();
      candidates = std::move(*listed);
    }

    // A writer that does not take the lock may have committed a new
    // index.json meanwhile; its blobs must not be deleted.
    auto index_again = read_index_for_gc(dir);
    if (!index_again) return index_again.error();
    if (*index_again != *index_text) continue;

    GcResult result;
    if (blobs >= 0) remove_temp_files(blobs, blobs_dir, ".blob.tmp-", result);
    remove_temp_files(layout_fd.get(), dir, ".index.json.tmp-", result);
    remove_temp_files(layout_fd.get(), dir, ".oci-layout.tmp-", result);
    for (const auto& candidate : candidates) {
      if (::unlinkat(blobs, candidate.name.c_str(), 0) != 0) {
        if (errno == ENOENT) continue;  // removed by someone else
        return make_error(where + ": cannot remove unreferenced blob " + blobs_dir + "/" + candidate.name + ": " +
                          errno_text(errno));
      }
      ++result.removed_blobs;
      result.freed_bytes += candidate.size;
      result.removed.push_back(candidate.name);
    }
    if (result.removed_blobs > 0 && ::fsync(blobs) != 0)
      return make_error("cannot fsync " + blobs_dir + ": " + errno_text(errno));
    return result;
  }
  return make_error(where + ": index.json kept changing while collecting garbage; try again");
}

// --- LayoutLock

Result<LayoutLock> LayoutLock::lock(const std::string& layout_dir, bool wait) {
  // The lock is a flock(2) on the layout directory itself: no lock file, so
  // a layout stays byte-for-byte what the OCI spec describes.
  std::string path = layout_name(layout_dir);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return make_error("cannot open layout directory " + path + " to lock it: " + errno_text(errno));
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK)
      return make_error("layout '" + path + "' is locked by another process (a build or gc)");
    return make_error("cannot lock " + path + ": " + errno_text(errno));
  }
  return LayoutLock(std::move(fd), std::move(path));
}

Result<LayoutLock> LayoutLock::acquire(const std::string& layout_dir) { return lock(layout_dir, true); }

Result<LayoutLock> LayoutLock::try_acquire(const std::string& layout_dir) { return lock(layout_dir, false); }

Result<bool> LayoutLock::names_locked_directory() const {
  struct stat locked {}, named {};
  if (::fstat(m_fd.get(), &locked) != 0) return make_error("cannot stat " + m_path + ": " + errno_text(errno));
  if (::stat(m_path.c_str(), &named) != 0) {
    if (errno == ENOENT) return false;
    return make_error("cannot access " + m_path + ": " + errno_text(errno));
  }
  return locked.st_dev == named.st_dev && locked.st_ino == named.st_ino;
}

LayoutLock& LayoutLock::operator=(LayoutLock&& other) noexcept {
  if (this != &other) {
    unlock();
    m_fd = std::move(other.m_fd);
    m_path = std::move(other.m_path);
  }
  return *this;
}

void LayoutLock::unlock() {
  // Unlock explicitly: a forked child may share the open file description,
  // and closing our descriptor alone would then not release the lock.
  if (m_fd.valid()) ::flock(m_fd.get(), LOCK_UN);
  m_fd.reset();
}

}  // namespace ocipack
