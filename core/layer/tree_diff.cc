// Implementation of DeltaSource (see tree_diff.h): a recursive merge of the
// two models' sorted children, then one pass that turns later names of one
// new-side inode into hard links to the first name emitted.
#include "core/layer/tree_diff.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/tar/hard_links.h"
#include "core/tar/whiteout.h"

namespace ocipack {

namespace {

bool same_metadata(const TarEntry& a, const TarEntry& b) {
  return a.type == b.type && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.mtime == b.mtime && a.size == b.size && a.link_target == b.link_target &&
         a.dev_major == b.dev_major && a.dev_minor == b.dev_minor && a.xattrs == b.xattrs;
}

// An old-side entry as the new side's walk options would describe it (a
// base layer stores whatever its builder chose).
TarEntry normalised(TarEntry entry, const WalkOptions& options) {
  if (options.clamp_mtime && entry.mtime > *options.clamp_mtime) entry.mtime = *options.clamp_mtime;
  if (options.owner_root) entry.uid = entry.gid = 0;
  return entry;
}

// An item to emit and the new-side inode it belongs to (0: none).
struct Emitted {
  WalkItem item;
  uint64_t inode = 0;
};

}  // namespace

struct DeltaSource::State {
  const TreeModel& old_tree;
  const TreeModel& new_tree;
  const WalkOptions& options;
  const std::atomic<bool>* cancel;
  DeltaCounters& counters;
  const PhaseReport& report;
  PhaseStatus status;  // "comparing": the new tree's entries compared so far

  void emit(const ModelNode& node, std::vector<Emitted>& out) {
    ++counters.added_or_changed;
    out.push_back({node.item, node.is_directory() ? 0 : node.inode});
  }

  void emit_subtree(const ModelNode& node, std::vector<Emitted>& out) {
    emit(node, out);
    for (const auto& [name, child] : node.children) emit_subtree(*child, out);
  }

  static Emitted whiteout(const std::string& dir_rel, const std::string& name, int64_t mtime) {
    Emitted w;
    w.item.entry.path = dir_rel + name;
    w.item.entry.type = EntryType::regular;
    w.item.entry.mode = 0;
    w.item.entry.mtime = mtime;
    return w;
  }

  // Whether the old names of an old inode that the new tree still has are
  // the names of a new inode, by (old inode, new inode): each pair is
  // compared once, not once per name (one file with 20 000 hard links took
  // 75 s).
  std::map<std::pair<uint64_t, uint64_t>, bool> same_groups;

  bool same_group(const ModelNode& old_node, const ModelNode& new_node) {
    auto [it, inserted] = same_groups.try_emplace({old_node.inode, new_node.inode}, false);
    if (inserted) {
      ++counters.link_group_comparisons;
      std::vector<std::string> surviving;
      for (auto& path : old_tree.link_group(old_node))
        if (new_tree.find(path)) surviving.push_back(std::move(path));
      it->second = surviving == new_tree.link_group(new_node);
    }
    return it->second;
  }

  // Two non-directories of the same type: unchanged?
  Result<bool> same_file(const ModelNode& old_node, const ModelNode& new_node) {
    if (!same_metadata(normalised(old_node.entry(), options), new_node.entry())) return false;
    if (!same_group(old_node, new_node)) return false;
    if (new_node.entry().type != EntryType::regular) return true;
    if (!old_node.content) return false;
    if (new_node.content) return *new_node.content == *old_node.content;
    OCIPACK_TRY_ASSIGN(const Digest digest, hash_item_data(new_node.item, cancel));
    return digest == *old_node.content;
  }

  // The changes below a directory present on both sides; `dir_mtime` dates
  // the whiteouts.
  Status diff_dir(const ModelNode& old_dir, const ModelNode& new_dir, const std::string& rel,
                  int64_t dir_mtime, std::vector<Emitted>& out) {
    if (cancel && cancel->load()) return interrupted_error();
    std::vector<Emitted> children;
    std::vector<Emitted> removed;  // whiteouts, kept apart to allow the opaque form
    size_t old_kept = 0;
    std::set<std::string> all;
    for (const auto& [name, node] : old_dir.children) all.insert(name);
    for (const auto& [name, node] : new_dir.children) all.insert(name);
    for (const auto& name : all) {
      auto old_it = old_dir.children.find(name);
      auto new_it = new_dir.children.find(name);
      const ModelNode* old_node = old_it == old_dir.children.end() ? nullptr : old_it->second.get();
      const ModelNode* new_node = new_it == new_dir.children.end() ? nullptr : new_it->second.get();
      if (!new_node) {
        removed.push_back(whiteout(rel, whiteout_for(name), dir_mtime));
      } else if (!old_node) {
        emit_subtree(*new_node, children);
      } else {
        ++old_kept;
        OCIPACK_TRY(diff_present(*old_node, *new_node, rel, name, dir_mtime, children));
      }
    }

    if (!removed.empty() && old_kept == 0 && removed.size() == old_dir.children.size() &&
        !children.empty()) {
      // Everything old is gone and new content arrived: one opaque marker.
      out.push_back(whiteout(rel, std::string(k_opaque_whiteout), dir_mtime));
      ++counters.opaque_dirs;
    } else {
      counters.whiteouts += removed.size();
      for (auto& w : removed) out.push_back(std::move(w));
    }
    // Whiteouts first, then the new entries: a reader applying the layer in
    // order removes before it adds. Keep names sorted within each group.
    std::move(children.begin(), children.end(), std::back_inserter(out));
    return ok_status();
  }

  // The changes for `name` of the directory `rel`, present on both sides.
  Status diff_present(const ModelNode& old_node, const ModelNode& new_node, const std::string& rel,
                      const std::string& name, int64_t dir_mtime, std::vector<Emitted>& children) {
    ++status.done;
    report_phase(report, status);
    if (old_node.is_directory() && new_node.is_directory()) {
      std::vector<Emitted> below;
      OCIPACK_TRY(diff_dir(old_node, new_node, new_node.entry().path, new_node.entry().mtime, below));
      if (!below.empty() || !same_metadata(normalised(old_node.entry(), options), new_node.entry())) {
        emit(new_node, children);
        std::move(below.begin(), below.end(), std::back_inserter(children));
      }
      return ok_status();
    }
    if (old_node.entry().type != new_node.entry().type) {
      // A directory replaced by something else is whited out explicitly;
      // other type changes are replaced by extracting the new entry.
      if (old_node.is_directory()) {
        children.push_back(whiteout(rel, whiteout_for(name), dir_mtime));
        ++counters.whiteouts;
      }
      emit_subtree(new_node, children);
      return ok_status();
    }
    OCIPACK_TRY_ASSIGN(const bool same, same_file(old_node, new_node));
    if (!same) emit(new_node, children);
    return ok_status();
  }
};

Result<std::unique_ptr<DeltaSource>> DeltaSource::compute(const TreeModel& old_tree,
                                                          const std::string& new_root,
                                                          const WalkOptions& options,
                                                          const std::atomic<bool>* cancel,
                                                          const PhaseReport& report) {
  std::unique_ptr<DeltaSource> source(new DeltaSource());
  OCIPACK_TRY_ASSIGN(const TreeModel new_tree,
                     TreeModel::from_directory(new_root, options, false, cancel, &source->m_warnings, report));
  struct stat st {};
  if (::stat(new_root.c_str(), &st) != 0) return input_error("cannot stat " + new_root);
  int64_t root_mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
  if (options.clamp_mtime && root_mtime > *options.clamp_mtime) root_mtime = *options.clamp_mtime;

  State state{old_tree, new_tree, options, cancel, source->m_counters, report,
              {"comparing", new_root, PhaseUnit::entries, 0, new_tree.size()}, {}};
  std::vector<Emitted> emitted;
  OCIPACK_TRY(state.diff_dir(old_tree.root(), new_tree.root(), "", root_mtime, emitted));

  // Later names of an inode become links to the first name in the layer.
  HardLinkGroups hard_links;
  source->m_items.reserve(emitted.size());
  for (auto& [item, inode] : emitted) {
    if (inode != 0) hard_links.add(FileId{0, inode}, item);
    source->m_items.push_back(std::move(item));
  }
  return source;
}

Result<std::unique_ptr<DeltaSource>> DeltaSource::compute(const std::string& old_root,
                                                          const std::string& new_root,
                                                          const WalkOptions& options,
                                                          const std::atomic<bool>* cancel,
                                                          const PhaseReport& report) {
  OCIPACK_TRY_ASSIGN(const TreeModel old_tree,
                     TreeModel::from_directory(old_root, options, true, cancel, nullptr, report));
  return compute(old_tree, new_root, options, cancel, report);
}

Result<std::optional<WalkItem>> DeltaSource::next() {
  if (m_next == m_items.size()) return std::optional<WalkItem>{};
  return std::optional<WalkItem>(std::move(m_items[m_next++]));
}

}  // namespace ocipack
