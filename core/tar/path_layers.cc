// Implementation of path-set layers (see path_layers.h): one walk of the
// rootfs into a vector of items, then per layer a mark of what it claims,
// what it emits (claimed and not yet covered, plus parents) and what that
// covers for the layers after it.
#include "core/tar/path_layers.h"

#include <functional>
#include <map>
#include <unordered_map>

#include "core/tar/rootfs_walk.h"
#include "core/util/path.h"

namespace ocipack {

bool walk_order_less(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned ca = a[i] == '/' ? 0u : static_cast<unsigned char>(a[i]) + 1u;
    const unsigned cb = b[i] == '/' ? 0u : static_cast<unsigned char>(b[i]) + 1u;
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

namespace {

struct WalkOrder {
  bool operator()(const std::string& a, const std::string& b) const { return walk_order_less(a, b); }
};

// The path an item is known by: its entry path without the directory's '/'.
std::string key_of(const WalkItem& item) { return trim_trailing_slashes(item.entry.path); }

std::string parent_key(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

// The rootfs, walked once: every item in walk order, each a full item (a
// later name of a hard-linked file is turned back into the file under that
// name: which name carries the data is decided per layer).
struct Tree {
  std::vector<WalkItem> items;
  std::vector<std::string> keys;
  std::unordered_map<std::string, size_t> index;

  const WalkItem* find(const std::string& key) const {
    auto it = index.find(key);
    return it == index.end() ? nullptr : &items[it->second];
  }
};

// Adds the walk of `source` to `out` (a callback per full item, in walk
// order), with link entries turned back into files.
template <typename Add>
Status walk_full_items(EntrySource& source, Add&& add, const std::function<const WalkItem*(const std::string&)>& first) {
  for (;;) {
    OCIPACK_TRY_ASSIGN(auto next, source.next());
    if (!next) return ok_status();
    WalkItem item = std::move(*next);
    item.parent_dir.reset();  // no descriptor per stored item: data is opened by path
    if (item.entry.type == EntryType::hard_link) {
      const WalkItem* file = first(item.entry.link_target);
      if (!file) return input_error("hard link " + item.source_path + ": its first name was not walked");
      item = another_name_of(*file, item.entry.path);
    }
    add(std::move(item));
  }
}

Result<Tree> walk_tree(const std::string& rootfs, const WalkOptions& options, std::vector<std::string>& warnings) {
  Tree tree;
  OCIPACK_TRY_ASSIGN(auto walker, RootfsWalker::open(rootfs, options));
  OCIPACK_TRY(walk_full_items(
      walker,
      [&](WalkItem item) {
        tree.keys.push_back(key_of(item));
        tree.index.emplace(tree.keys.back(), tree.items.size());
        tree.items.push_back(std::move(item));
      },
      [&](const std::string& key) { return tree.find(key); }));
  warnings.insert(warnings.end(), walker.warnings().begin(), walker.warnings().end());
  return tree;
}

// Marks `index` and its parents in `emit`.
void mark_with_parents(const Tree& tree, size_t index, std::vector<char>& emit) {
  for (;;) {
    if (emit[index]) return;
    emit[index] = 1;
    const std::string parent = parent_key(tree.keys[index]);
    if (parent.empty()) return;
    auto it = tree.index.find(parent);
    if (it == tree.index.end()) return;
    index = it->second;
  }
}

// The claimed items not yet covered, with their parents; covers them.
std::vector<WalkItem> emit_claimed(const Tree& tree, const std::vector<char>& claimed, std::vector<char>& covered) {
  std::vector<char> emit(tree.items.size(), 0);
  for (size_t i = 0; i < tree.items.size(); ++i)
    if (claimed[i] && !covered[i]) mark_with_parents(tree, i, emit);
  std::vector<WalkItem> items;
  for (size_t i = 0; i < tree.items.size(); ++i) {
    if (!emit[i]) continue;
    items.push_back(tree.items[i]);
    covered[i] = 1;
  }
  return items;
}

std::vector<WalkItem> claim_layer(const Tree& tree, const PathLayerSpec& spec, std::vector<char>& covered,
                                  std::vector<std::string>& warnings) {
  std::vector<char> claimed(tree.items.size(), 0);
  for (const auto& group : spec.claims) {
    bool found = false;
    for (const auto& path : group.paths) {
      auto it = tree.index.find(path);
      if (it == tree.index.end()) continue;
      found = true;
      const size_t at = it->second;
      claimed[at] = 1;
      const bool directory = tree.items[at].entry.type == EntryType::directory;
      if (!directory && !group.warn_if_not_directory.empty()) warnings.push_back(group.warn_if_not_directory);
      if (!group.recursive || !directory) continue;
      const std::string prefix = path + "/";
      for (size_t j = at + 1; j < tree.items.size() && tree.keys[j].compare(0, prefix.size(), prefix) == 0; ++j)
        claimed[j] = 1;
    }
    if (!found && !group.warn_if_none.empty()) warnings.push_back(group.warn_if_none);
  }
  return emit_claimed(tree, claimed, covered);
}

WalkItem invented_directory(const std::string& key, int64_t created) {
  WalkItem item;
  item.entry.type = EntryType::directory;
  item.entry.path = key + "/";
  item.entry.mode = 0755;
  item.entry.mtime = created;
  item.source_path = key;
  return item;
}

Result<std::vector<WalkItem>> host_layer(const Tree& tree, const PathLayerSpec& spec, const WalkOptions& options,
                                         int64_t created, std::vector<char>& covered,
                                         std::vector<std::string>& warnings) {
  WalkOptions as_root = options;
  as_root.owner_root = true;
  std::map<std::string, WalkItem, WalkOrder> entries;
  auto add = [&](WalkItem item) {
    std::string key = key_of(item);
    entries.insert_or_assign(std::move(key), std::move(item));
  };
  for (const auto& copy : spec.host) {
    // A later copy to the same place replaces what an earlier one put there.
    for (auto it = entries.begin(); it != entries.end();) {
      if (it->first == copy.destination || it->first.rfind(copy.destination + "/", 0) == 0) it = entries.erase(it);
      else ++it;
    }
    OCIPACK_TRY_ASSIGN(auto described, describe_path(copy.source, copy.destination, as_root));
    if (!described.skip_reason.empty()) {
      warnings.push_back(described.skip_reason);
      continue;
    }
    described.item.parent_dir.reset();
    const bool directory = described.item.entry.type == EntryType::directory;
    add(std::move(described.item));
    if (directory) {
      OCIPACK_TRY_ASSIGN(auto walker, RootfsWalker::open(copy.source, as_root));
      const std::string prefix = copy.destination + "/";
      OCIPACK_TRY(walk_full_items(
          walker,
          [&](WalkItem item) {
            item.entry.path = prefix + item.entry.path;
            add(std::move(item));
          },
          [&](const std::string& target) -> const WalkItem* {
            auto it = entries.find(prefix + target);
            return it == entries.end() ? nullptr : &it->second;
          }));
      warnings.insert(warnings.end(), walker.warnings().begin(), walker.warnings().end());
    }
    // Parents: the rootfs's directory where it has one, else invented.
    for (std::string parent = parent_key(copy.destination); !parent.empty(); parent = parent_key(parent)) {
      if (entries.count(parent)) continue;
      const WalkItem* in_rootfs = tree.find(parent);
      if (in_rootfs && in_rootfs->entry.type == EntryType::directory) entries.emplace(parent, *in_rootfs);
      else entries.emplace(parent, invented_directory(parent, created));
    }
  }
  std::vector<WalkItem> items;
  for (auto& [key, item] : entries) {
    // The host content replaces these paths: no later layer brings the
    // rootfs's version back.
    if (auto it = tree.index.find(key); it != tree.index.end()) covered[it->second] = 1;
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

Result<PlannedLayers> plan_path_layers(const PathLayersPlan& plan, const WalkOptions& options, int64_t created) {
  PlannedLayers planned;
  OCIPACK_TRY_ASSIGN(const Tree tree, walk_tree(plan.rootfs, options, planned.warnings));
  std::vector<char> covered(tree.items.size(), 0);
  for (const auto& spec : plan.layers) {
    std::vector<WalkItem> items;
    if (!spec.host.empty()) {
      OCIPACK_TRY_ASSIGN(items, host_layer(tree, spec, options, created, covered, planned.warnings));
    } else {
      items = claim_layer(tree, spec, covered, planned.warnings);
    }
    if (items.empty()) {
      if (!spec.empty_warning.empty()) planned.warnings.push_back(spec.empty_warning);
      continue;
    }
    planned.layers.push_back({spec.name, std::move(items)});
  }
  if (plan.remainder) {
    std::vector<char> rest(tree.items.size(), 1);
    auto items = emit_claimed(tree, rest, covered);
    if (!items.empty()) planned.layers.push_back({plan.remainder_name, std::move(items)});
  }
  return planned;
}

Result<std::optional<WalkItem>> ItemListSource::next() {
  if (m_next == m_items.size()) return std::optional<WalkItem>{};
  WalkItem item = std::move(m_items[m_next++]);
  if (item.entry.type != EntryType::directory && (item.st_dev != 0 || item.st_ino != 0))
    m_links.add(FileId{static_cast<uint64_t>(item.st_dev), static_cast<uint64_t>(item.st_ino)}, item);
  return std::optional<WalkItem>(std::move(item));
}

}  // namespace ocipack
