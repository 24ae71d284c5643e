// Implementation of TreeModel (see base_model.h). A layer is read in one pass
// into a list of its entries (metadata and data digest, no data kept), then
// applied in two steps — its whiteouts to the model as it was below the
// layer, then its entries in tar order — so a whiteout never removes an entry
// of its own layer, wherever it stands in the tar.
#include "core/layer/base_model.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/oci/layout_reader.h"
#include "core/tar/archive_handle.h"
#include "core/tar/hard_links.h"
#include "core/tar/tar_scan.h"
#include "core/tar/whiteout.h"
#include "core/util/file_io.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

constexpr size_t k_read_size = 1 << 20;

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

// "a/./b//c/" → {"a", "b", "c"}; "" → {}.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  for (auto part : tar_path_components(path))
    if (!part.empty() && part != ".") parts.emplace_back(part);
  return parts;
}

const char* kind_name(EntryType type) {
  switch (type) {
    case EntryType::symlink: return "a symlink";
    case EntryType::regular: return "a regular file";
    case EntryType::hard_link: return "a hard link";
    case EntryType::char_device:
    case EntryType::block_device: return "a device";
    case EntryType::fifo: return "a FIFO";
    case EntryType::directory: return "a directory";
  }
  return "not a directory";
}

// Feeds the rest of `blob` to `hash` (the bytes after the tar's end marker,
// which a hostile blob may make gigabytes long).
Status drain_into(BlobReader& blob, Sha256& hash, const std::string& where, const std::atomic<bool>* cancel) {
  std::vector<char> buffer(k_read_size);
  for (;;) {
    if (cancelled(cancel)) return interrupted_error();
    ssize_t n = blob.read(buffer.data(), buffer.size());
    if (n < 0) return input_error(where + ": cannot read: " + errno_text(errno));
    if (n == 0) return ok_status();
    hash.update(std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
}

// libarchive's read callback: reads the blob, hashes what it hands over and
// stops the stream when the build is cancelled.
struct StreamState {
  BlobReader* blob = nullptr;
  Sha256* hash = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  const ReadCounter* on_read = nullptr;  // told the bytes read so far
  uint64_t bytes_read = 0;
  std::vector<char> buffer = std::vector<char>(k_read_size);
  bool interrupted = false;

  static la_ssize_t read(archive* a, void* opaque, const void** data) {
    auto* self = static_cast<StreamState*>(opaque);
    if (cancelled(self->cancel)) {
      self->interrupted = true;
      archive_set_error(a, EINTR, "interrupted");
      return -1;
    }
    for (;;) {
      ssize_t n = self->blob->read(self->buffer.data(), self->buffer.size());
      if (n < 0) {
        archive_set_error(a, errno, "cannot read: %s", std::strerror(errno));
        return -1;
      }
      if (self->hash) self->hash->update(std::string_view(self->buffer.data(), static_cast<size_t>(n)));
      self->bytes_read += static_cast<uint64_t>(n);
      if (self->on_read && *self->on_read) (*self->on_read)(self->bytes_read);
      *data = self->buffer.data();
      return n;
    }
  }
};

}  // namespace

// One layer being applied: its entries as read, then the two steps.
struct TreeModel::Layer {
  struct Pending {
    uint64_t number = 0;             // 1-based position in the tar
    std::string path;                // normalised, no trailing '/'
    enum class Kind { entry, whiteout, opaque } kind = Kind::entry;
    WalkItem item;                   // Kind::entry
    std::optional<Digest> content;   // regular files
    std::string hard_link_target;    // normalised; for hard links
  };

  TreeModel& model;
  std::string where;
  std::vector<Pending> pending;
  std::vector<char> zeros;  // hash_data's buffer of zeros for holes

  std::string entry_name(const Pending& p) const {
    return where + ": entry " + std::to_string(p.number) + " " + in_quotes(p.path);
  }

  // Reads the tar's entries (and hashes their data) into `pending`.
  Status read(BlobReader& blob, const std::atomic<bool>* cancel, Sha256* blob_hash, const ReadCounter& on_read) {
    ArchiveReader reader(archive_read_new());
    if (!reader) return io_error(where + ": " + archive_start_error());
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_filter_zstd(reader.get());
    archive_read_support_format_tar(reader.get());
    archive_read_support_format_gnutar(reader.get());
    StreamState state;
    state.blob = &blob;
    state.hash = blob_hash;
    state.cancel = cancel;
    state.on_read = &on_read;
    if (archive_read_open(reader.get(), &state, nullptr, &StreamState::read, nullptr) != ARCHIVE_OK)
      return archive_failure(reader.get(), state, "");
    for (uint64_t number = 1;; ++number) {
      if (cancelled(cancel)) return interrupted_error();
      archive_entry* entry = nullptr;
      const int rc = archive_read_next_header(reader.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return archive_failure(reader.get(), state, " (after entry " + std::to_string(number - 1) + ")");
      const char* raw_path = archive_entry_pathname(entry);
      OCIPACK_TRY_ASSIGN(auto parsed, classify(number, raw_path ? raw_path : "", entry));
      if (!parsed) continue;  // the root itself
      Pending& p = *parsed;
      const la_int64_t size = archive_entry_size(entry);
      if (p.kind != Pending::Kind::entry && size > 0)
        return input_error(entry_name(p) + " is a whiteout with data (" + std::to_string(size) + " bytes)");
      if (p.kind == Pending::Kind::entry && p.item.entry.type == EntryType::regular) {
        OCIPACK_TRY_ASSIGN(p.content, hash_data(reader.get(), state, p));
      }
      pending.push_back(std::move(p));
    }
    if (blob_hash) OCIPACK_TRY(drain_into(blob, *blob_hash, where, cancel));
    return ok_status();
  }

  // Why libarchive stopped: the caller's cancel, or the layer (`context`
  // says where in it).
  Error archive_failure(archive* reader, const StreamState& state, const std::string& context) const {
    if (state.interrupted || cancelled(state.cancel)) return interrupted_error();
    return input_error(where + context + ": " + archive_message(reader));
  }

  // SHA-256 of the data of the regular file `p`, whose header was just read.
  // Data blocks may skip holes (sparse members): they are hashed as zeros.
  Result<Digest> hash_data(archive* reader, const StreamState& state, const Pending& p) {
    Sha256 hash;
    uint64_t at = 0;
    auto hash_zeros = [&](uint64_t count) {
      zeros.resize(std::min<uint64_t>(count, k_read_size));
      std::fill(zeros.begin(), zeros.end(), '\0');
      while (count > 0) {
        const size_t piece = static_cast<size_t>(std::min<uint64_t>(count, zeros.size()));
        hash.update(std::string_view(zeros.data(), piece));
        count -= piece;
      }
    };
    for (;;) {
      if (cancelled(state.cancel)) return interrupted_error();
      auto block = next_data_block(reader);
      if (!block) return archive_failure(reader, state, ": entry " + std::to_string(p.number) + " " + in_quotes(p.path));
      if (!*block) break;
      const auto [bytes, offset] = **block;
      if (offset < 0 || static_cast<uint64_t>(offset) < at ||
          static_cast<uint64_t>(offset) + bytes.size() > p.item.entry.size)
        return input_error(entry_name(p) + " has data outside its size");
      hash_zeros(static_cast<uint64_t>(offset) - at);
      hash.update(bytes);
      at = static_cast<uint64_t>(offset) + bytes.size();
    }
    hash_zeros(p.item.entry.size - at);
    return hash.finish();
  }

  // One tar entry as a pending change, nullopt for the root, or the error
  // that refuses the layer.
  Result<std::optional<Pending>> classify(uint64_t number, std::string_view raw, archive_entry* entry) {
    Pending p;
    p.number = number;
    const std::string named = where + ": entry " + std::to_string(number) + " " + in_quotes(raw);
    if (raw.empty()) return input_error(named + " has an empty path");
    if (raw.front() == '/') return input_error(named + " has an absolute path");
    if (has_dot_dot_component(raw)) return input_error(named + " has a '..' component");
    p.path = normalize_tar_path(raw);
    if (p.path.empty()) return std::optional<Pending>{};
    const auto parts = split_path(p.path);
    if (parts.size() > k_max_model_depth)
      return input_error(named + " is more than " + std::to_string(k_max_model_depth) + " directories deep");
    for (size_t i = 0; i + 1 < parts.size(); ++i)
      if (is_whiteout_name(parts[i]))
        return input_error(named + " lies below a whiteout name");
    const std::string_view name = parts.back();  // (parts is not empty: p.path is not)
    switch (classify_whiteout(name)) {
      case WhiteoutKind::none:
        break;
      case WhiteoutKind::opaque:
        p.kind = Pending::Kind::opaque;
        return std::optional<Pending>(std::move(p));
      case WhiteoutKind::whiteout:
        p.kind = Pending::Kind::whiteout;
        return std::optional<Pending>(std::move(p));
      case WhiteoutKind::names_itself:
      case WhiteoutKind::names_parent:
      case WhiteoutKind::reserved:
        return input_error(named + " is a malformed whiteout name");
    }

    TarEntry& e = p.item.entry;
    e.path = p.path;
    e.mode = static_cast<uint32_t>(archive_entry_perm(entry)) & 07777;
    const la_int64_t uid = archive_entry_uid(entry), gid = archive_entry_gid(entry);
    if (uid < 0 || gid < 0) return input_error(named + " has a negative uid or gid");
    e.uid = static_cast<uint64_t>(uid);
    e.gid = static_cast<uint64_t>(gid);
    e.mtime = static_cast<int64_t>(archive_entry_mtime(entry));
    const la_int64_t size = archive_entry_size(entry);
    if (const char* link = archive_entry_hardlink(entry)) {
      const std::string_view target = link;
      if (target.empty() || target.front() == '/' || has_dot_dot_component(target))
        return input_error(named + " is a hard link to " + in_quotes(target) + ", outside the layer");
      if (size > 0) return input_error(named + " is a hard link carrying data");
      e.type = EntryType::hard_link;
      p.hard_link_target = normalize_tar_path(target);
      if (p.hard_link_target.empty()) return input_error(named + " is a hard link to the root");
      return std::optional<Pending>(std::move(p));
    }
    if (!set_entry_kind(entry, e)) return input_error(named + " has a file type a layer cannot hold");
    if (e.type == EntryType::regular) e.size = size > 0 ? static_cast<uint64_t>(size) : 0;
    if (auto xattrs = set_entry_xattrs(entry, e); !xattrs) return std::move(xattrs).error().with_context(named + " ");
    return std::optional<Pending>(std::move(p));
  }

  // Step 1: whiteouts remove what the layers below left.
  void apply_whiteouts() {
    model.m_last_whiteouts.clear();
    for (const Pending& p : pending) {
      if (p.kind == Pending::Kind::entry) continue;
      model.m_last_whiteouts.push_back(p.path);
      const auto parts = split_path(p.path);
      ModelNode* dir = model.m_root.get();
      for (size_t i = 0; dir && i + 1 < parts.size(); ++i) {
        auto it = dir->children.find(std::string(parts[i]));
        dir = it != dir->children.end() && it->second->is_directory() ? it->second.get() : nullptr;
      }
      if (!dir) continue;  // nothing below there; step 2 refuses a non-directory
      if (p.kind == Pending::Kind::opaque)
        dir->children.clear();
      else
        dir->children.erase(std::string(parts.back().substr(4)));
    }
  }

  // Step 2: the entries in tar order; whiteouts are only checked to stand in
  // a directory.
  Status apply_entries() {
    for (Pending& p : pending) {
      if (p.kind != Pending::Kind::entry) {
        OCIPACK_TRY(model.parent_for(p.path, entry_name(p), false));
        continue;
      }
      OCIPACK_TRY(model.insert(std::move(p.item), std::move(p.content), p.hard_link_target, entry_name(p)));
    }
    return ok_status();
  }
};

TreeModel::TreeModel() : m_root(std::make_unique<ModelNode>()) {
  m_root->item.entry.type = EntryType::directory;
  m_root->item.entry.mode = 0755;
}
TreeModel::TreeModel(TreeModel&&) noexcept = default;
TreeModel& TreeModel::operator=(TreeModel&&) noexcept = default;
TreeModel::~TreeModel() = default;

Result<ModelNode*> TreeModel::parent_for(const std::string& path, const std::string& named, bool create) {
  const auto parts = split_path(path);
  ModelNode* dir = m_root.get();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto [it, inserted] = dir->children.try_emplace(std::string(parts[i]));
    if (inserted) {
      if (!create) {
        dir->children.erase(it);
        return static_cast<ModelNode*>(nullptr);
      }
      // An implied directory keeps no path: storing every prefix of one
      // deep entry costs the square of its length (a 400 KB path in a 2 KB
      // blob would take tens of GB), and no implied node is ever emitted.
      it->second = std::make_unique<ModelNode>();
      TarEntry& implied = it->second->item.entry;
      implied.type = EntryType::directory;
      implied.mode = 0755;
      it->second->implied = true;
    } else if (!it->second->is_directory()) {
      std::string prefix;
      for (size_t j = 0; j <= i; ++j) prefix += (j ? "/" : "") + parts[j];
      return input_error(named + " lies below " + in_quotes(prefix) + ", which is " +
                        kind_name(it->second->entry().type));
    }
    dir = it->second.get();
  }
  return dir;
}

Status TreeModel::insert(WalkItem item, std::optional<Digest> content, const std::string& hard_link_target,
                         const std::string& named) {
  m_groups.reset();
  const std::string own_path = item.entry.path;
  OCIPACK_TRY_ASSIGN(ModelNode* const parent, parent_for(own_path, named, true));
  const std::string name = split_path(own_path).back();
  auto node = std::make_unique<ModelNode>();
  if (item.entry.type == EntryType::hard_link) {
    const ModelNode* target = find(hard_link_target);
    if (!target) return input_error(named + " is a hard link to " + in_quotes(hard_link_target) + ", which is missing");
    if (target->is_directory())
      return input_error(named + " is a hard link to " + in_quotes(hard_link_target) + ", a directory");
    auto* shared = const_cast<ModelNode*>(target);
    if (shared->inode == 0) shared->inode = m_next_inode++;
    node->item = another_name_of(shared->item, own_path);
    node->content = shared->content;
    node->inode = shared->inode;
  } else {
    node->item = std::move(item);
    node->content = std::move(content);
    if (!node->is_directory()) node->inode = m_next_inode++;
  }
  auto& slot = parent->children[name];
  if (slot && slot->is_directory() && node->is_directory()) {
    // A directory over a directory: new metadata, the children stay.
    node->children = std::move(slot->children);
  }
  slot = std::move(node);
  return ok_status();
}

Status TreeModel::apply_layer(int fd, const std::string& where, const std::atomic<bool>* cancel,
                              Sha256* blob_hash, const ReadCounter& on_read) {
  BlobReader blob = BlobReader::borrowed(fd);
  return apply_layer(blob, where, cancel, blob_hash, on_read);
}

Status TreeModel::apply_layer(BlobReader& blob, const std::string& where, const std::atomic<bool>* cancel,
                              Sha256* blob_hash, const ReadCounter& on_read) {
  Layer layer{*this, where, {}, {}};
  OCIPACK_TRY(layer.read(blob, cancel, blob_hash, on_read));
  m_groups.reset();
  layer.apply_whiteouts();
  return layer.apply_entries();
}

Status TreeModel::apply_layer_blob(const LayoutSource& source, const Descriptor& layer, const std::string& where,
                                   const std::atomic<bool>* cancel, const ReadCounter& on_read) {
  OCIPACK_TRY_ASSIGN(auto blob, source.open_blob(layer, where + ": blob"));
  Sha256 hash;
  OCIPACK_TRY(apply_layer(blob, where, cancel, &hash, on_read));
  const Digest actual = hash.finish();
  const std::string name = source.is_tarball() ? source.where() + " member " + blob_relative_path(layer.digest)
                                               : blob_path(source.path(), layer.digest);
  if (actual != layer.digest)
    return corrupt_error(where + ": blob " + name +
                         " does not match its digest (its content hashes to " + actual.str() + ")");
  return ok_status();
}

Result<TreeModel> TreeModel::from_layers(const std::string& layout_dir, const std::vector<Descriptor>& layers,
                                         const std::atomic<bool>* cancel, const PhaseReport& report) {
  OCIPACK_TRY_ASSIGN(const auto source, open_layout_source(layout_dir));
  return from_layers(*source, layers, cancel, report);
}

Result<TreeModel> TreeModel::from_layers(const LayoutSource& source, const std::vector<Descriptor>& layers,
                                         const std::atomic<bool>* cancel, const PhaseReport& report) {
  TreeModel model;
  PhaseStatus status{"reading base", source.path(), PhaseUnit::bytes, 0, 0};
  for (const Descriptor& layer : layers) status.total += static_cast<uint64_t>(std::max<int64_t>(layer.size, 0));
  for (size_t i = 0; i < layers.size(); ++i) {
    const Descriptor& layer = layers[i];
    const std::string where = "base layer " + std::to_string(i + 1) + " (" + layer.digest.str() + ")";
    const uint64_t before = status.done;
    const ReadCounter on_read = [&](uint64_t bytes) {
      status.done = before + bytes;
      report_phase(report, status);
    };
    OCIPACK_TRY(model.apply_layer_blob(source, layer, where, cancel, report ? on_read : ReadCounter()));
    status.done = before + static_cast<uint64_t>(std::max<int64_t>(layer.size, 0));
  }
  return model;
}

Result<TreeModel> TreeModel::from_directory(const std::string& root, const WalkOptions& options,
                                            bool hash_contents, const std::atomic<bool>* cancel,
                                            std::vector<std::string>* warnings, const PhaseReport& report) {
  OCIPACK_TRY_ASSIGN(auto walker, RootfsWalker::open(root, options));
  TreeModel model;
  PhaseStatus status{hash_contents ? "hashing" : "walking", root, PhaseUnit::entries, 0, 0};
  for (;;) {
    if (cancelled(cancel)) return interrupted_error();
    report_phase(report, status);
    ++status.done;
    OCIPACK_TRY_ASSIGN(auto item, walker.next());
    if (!item) break;
    WalkItem& walked = *item;
    std::optional<Digest> content;
    std::string link_target;
    if (walked.entry.type == EntryType::hard_link) {
      link_target = walked.entry.link_target;
    } else if (hash_contents && walked.entry.type == EntryType::regular) {
      OCIPACK_TRY_ASSIGN(content, hash_item_data(walked, cancel));
    }
    // A model may hold every file of a tree: it keeps paths, not the walk's
    // directory descriptors (open_item_data reopens by path, at any length).
    walked.parent_dir.reset();
    const std::string named = walked.source_path;
    OCIPACK_TRY(model.insert(std::move(walked), std::move(content), link_target, named));
  }
  if (warnings) *warnings = walker.warnings();
  return model;
}

const ModelNode* TreeModel::find(std::string_view path) const {
  const ModelNode* node = m_root.get();
  for (auto part : split_path(path)) {
    auto it = node->children.find(part);
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

namespace {
template <typename Visit>
void visit_nodes(const ModelNode& node, Visit&& visit) {
  for (const auto& [name, child] : node.children) {
    visit(*child);
    visit_nodes(*child, visit);
  }
}
}  // namespace

std::vector<std::string> TreeModel::link_group(const ModelNode& node) const {
  if (node.is_directory()) return {};
  if (!m_groups) {
    m_groups.emplace();
    visit_nodes(*m_root, [&](const ModelNode& n) {
      if (!n.is_directory()) (*m_groups)[n.inode].push_back(n.entry().path);
    });
    for (auto& [inode, paths] : *m_groups) std::sort(paths.begin(), paths.end());
  }
  auto it = m_groups->find(node.inode);
  return it == m_groups->end() ? std::vector<std::string>{node.entry().path} : it->second;
}

size_t TreeModel::size() const {
  size_t count = 0;
  visit_nodes(*m_root, [&](const ModelNode&) { ++count; });
  return count;
}

Result<Digest> hash_item_data(const WalkItem& item, const std::atomic<bool>* cancel) {
  OCIPACK_TRY_ASSIGN(const auto fd, open_item_data(item));
  Sha256 hash;
  std::vector<char> buffer(k_read_size);
  for (;;) {
    if (cancelled(cancel)) return interrupted_error();
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return input_error("cannot read " + item.source_path + ": " + errno_text(errno));
    if (n == 0) break;
    hash.update(std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  return hash.finish();
}

}  // namespace ocipack
