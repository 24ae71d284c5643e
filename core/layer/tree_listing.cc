// list_tree, largest_files and compare_trees (see tree_listing.h): walks of
// the models' sorted children; results are sorted by full path afterwards,
// since "a.b" sorts before "a/b" as text but after it in a walk.
#include "core/layer/tree_listing.h"

#include <algorithm>

namespace ocipack {

namespace {

std::string child_path(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

void collect(const ModelNode& dir, const std::string& dir_path, std::vector<ListedPath>& out) {
  for (const auto& [name, child] : dir.children) {
    const std::string path = child_path(dir_path, name);
    out.push_back({path, child.get()});
    collect(*child, path, out);
  }
}

bool by_path(const ListedPath& a, const ListedPath& b) { return a.path < b.path; }

// Every path of the subtree at `node` (itself included) as `kind`.
void whole_subtree(const ModelNode& node, const std::string& path, ChangeKind kind, std::vector<TreeChange>& out) {
  out.push_back({kind, path, {}});
  std::vector<ListedPath> below;
  collect(node, path, below);
  for (const auto& listed : below) out.push_back({kind, listed.path, {}});
}

void compare_dirs(const ModelNode& before, const ModelNode& after, const std::string& dir_path,
                  std::vector<TreeChange>& out) {
  auto old_it = before.children.begin();
  auto new_it = after.children.begin();
  while (old_it != before.children.end() || new_it != after.children.end()) {
    const bool take_old = new_it == after.children.end() ||
                          (old_it != before.children.end() && old_it->first < new_it->first);
    const bool take_new = old_it == before.children.end() ||
                          (new_it != after.children.end() && new_it->first < old_it->first);
    if (take_old) {
      whole_subtree(*old_it->second, child_path(dir_path, old_it->first), ChangeKind::removed, out);
      ++old_it;
      continue;
    }
    if (take_new) {
      whole_subtree(*new_it->second, child_path(dir_path, new_it->first), ChangeKind::added, out);
      ++new_it;
      continue;
    }
    const std::string path = child_path(dir_path, old_it->first);
    const ModelNode& old_node = *old_it->second;
    const ModelNode& new_node = *new_it->second;
    auto what = node_differences(old_node, new_node);
    if (!what.empty()) out.push_back({ChangeKind::changed, path, std::move(what)});
    if (old_node.is_directory() && new_node.is_directory()) {
      compare_dirs(old_node, new_node, path, out);
    } else {
      std::vector<ListedPath> below;  // a directory replaced by a file, or the reverse
      collect(old_node, path, below);
      for (const auto& listed : below) out.push_back({ChangeKind::removed, listed.path, {}});
      below.clear();
      collect(new_node, path, below);
      for (const auto& listed : below) out.push_back({ChangeKind::added, listed.path, {}});
    }
    ++old_it;
    ++new_it;
  }
}

}  // namespace

std::vector<ListedPath> list_tree(const TreeModel& model) {
  std::vector<ListedPath> out;
  collect(model.root(), "", out);
  std::sort(out.begin(), out.end(), by_path);
  return out;
}

std::vector<ListedPath> largest_files(const std::vector<ListedPath>& listed, size_t count) {
  std::vector<ListedPath> files;
  for (const auto& entry : listed)
    if (entry.node->entry().type == EntryType::regular) files.push_back(entry);
  std::sort(files.begin(), files.end(), [](const ListedPath& a, const ListedPath& b) {
    if (a.node->entry().size != b.node->entry().size) return a.node->entry().size > b.node->entry().size;
    return a.path < b.path;
  });
  if (files.size() > count) files.resize(count);
  return files;
}

std::vector<std::string> node_differences(const ModelNode& before, const ModelNode& after) {
  const TarEntry& a = before.entry();
  const TarEntry& b = after.entry();
  std::vector<std::string> what;
  if (a.type != b.type) what.push_back("type");
  if (a.mode != b.mode) what.push_back("mode");
  if (a.uid != b.uid || a.gid != b.gid) what.push_back("owner");
  if (a.size != b.size) what.push_back("size");
  if (a.type == b.type && a.type == EntryType::regular && before.content != after.content)
    what.push_back("content");
  if (a.link_target != b.link_target) what.push_back("target");
  if (a.dev_major != b.dev_major || a.dev_minor != b.dev_minor) what.push_back("device");
  if (a.xattrs != b.xattrs) what.push_back("xattrs");
  return what;
}

std::vector<TreeChange> compare_trees(const TreeModel& before, const TreeModel& after) {
  std::vector<TreeChange> out;
  compare_dirs(before.root(), after.root(), "", out);
  std::stable_sort(out.begin(), out.end(),
                   [](const TreeChange& x, const TreeChange& y) { return x.path < y.path; });
  return out;
}

}  // namespace ocipack
