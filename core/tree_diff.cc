// Implementation of DeltaSource (see tree_diff.h): a recursive merge of the
// two trees' sorted directory listings.
#include "core/tree_diff.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "core/fd.h"

namespace ocipack {

namespace {

Result<bool> same_content(const std::string& a, const std::string& b) {
  UniqueFd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fa.valid()) return make_error("cannot read " + a + ": " + errno_text(errno));
  UniqueFd fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fb.valid()) return make_error("cannot read " + b + ": " + errno_text(errno));
  std::vector<char> ba(1 << 20), bb(1 << 20);
  for (;;) {
    ssize_t na = ::read(fa.get(), ba.data(), ba.size());
    if (na < 0) return make_error("cannot read " + a + ": " + errno_text(errno));
    size_t got = 0;
    while (got < static_cast<size_t>(na)) {
      ssize_t nb = ::read(fb.get(), bb.data() + got, static_cast<size_t>(na) - got);
      if (nb < 0) return make_error("cannot read " + b + ": " + errno_text(errno));
      if (nb == 0) return false;
      got += static_cast<size_t>(nb);
    }
    if (std::memcmp(ba.data(), bb.data(), got) != 0) return false;
    if (na == 0) {
      char probe;
      return ::read(fb.get(), &probe, 1) == 0;
    }
  }
}

bool same_metadata(const TarEntry& a, const TarEntry& b) {
  return a.type == b.type && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.mtime == b.mtime && a.size == b.size && a.link_target == b.link_target &&
         a.dev_major == b.dev_major && a.dev_minor == b.dev_minor && a.xattrs == b.xattrs;
}


}  // namespace

struct DeltaSource::State {
  const WalkOptions& options;
  std::vector<std::string>& warnings;
  DeltaCounters& counters;
  std::map<std::pair<dev_t, ino_t>, std::string> first_link_path;

  // A path on one side, or nothing (missing or skipped).
  Result<std::optional<DescribedPath>> describe(const std::string& host, const std::string& rel,
                                                bool record_skip) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) {
      if (errno == ENOENT) return std::optional<DescribedPath>{};
      return make_error("cannot stat " + host + ": " + errno_text(errno));
    }
    auto described = describe_path(host, rel, options);
    if (!described) return described.error();
    if (!described->skip_reason.empty()) {
      if (record_skip) warnings.push_back(described->skip_reason);
      return std::optional<DescribedPath>{};
    }
    return std::optional<DescribedPath>(std::move(*described));
  }

  // Emits a new-side entry, turning later names of one inode into hard links.
  void emit(DescribedPath described, std::vector<WalkItem>& out) {
    WalkItem& item = described.item;
    if (item.entry.type != EntryType::directory && described.nlink > 1) {
      auto [it, inserted] =
          first_link_path.try_emplace({described.dev, described.ino}, item.entry.path);
      if (!inserted) {
        item.entry.type = EntryType::hard_link;
        item.entry.link_target = it->second;
        item.entry.size = 0;
        item.st_size = 0;
        item.entry.xattrs.clear();
        item.entry.dev_major = item.entry.dev_minor = 0;
      }
    }
    ++counters.added_or_changed;
    out.push_back(std::move(item));
  }

  WalkItem whiteout(const std::string& dir_rel, const std::string& name, int64_t mtime) {
    WalkItem item;
    item.entry.path = dir_rel + name;
    item.entry.type = EntryType::regular;
    item.entry.mode = 0;
    item.entry.mtime = mtime;
    return item;
  }

  // Everything below a new-side directory (which itself is already emitted).
  Status add_subtree(const std::string& host_dir, const std::string& rel_dir, std::vector<WalkItem>& out) {
    auto names = list_directory(host_dir);
    if (!names) return names.error();
    for (const auto& name : *names) {
      OCIPACK_TRY(check_not_whiteout_name(host_dir + "/" + name));
      auto d = describe(host_dir + "/" + name, rel_dir + name, true);
      if (!d) return d.error();
      if (!d->has_value()) continue;
      const bool is_dir = (*d)->item.entry.type == EntryType::directory;
      std::string child_rel = (*d)->item.entry.path;
      emit(std::move(**d), out);
      if (is_dir) OCIPACK_TRY(add_subtree(host_dir + "/" + name, child_rel, out));
    }
    return ok_status();
  }

  // The changes below a directory present on both sides; `dir_mtime` dates
  // the whiteouts.
  Status diff_dir(const std::string& old_dir, const std::string& new_dir, const std::string& rel,
                  int64_t dir_mtime, std::vector<WalkItem>& out) {
    auto old_names = list_directory(old_dir);
    if (!old_names) return old_names.error();
    auto new_names = list_directory(new_dir);
    if (!new_names) return new_names.error();

    std::vector<WalkItem> children;
    std::vector<WalkItem> removed;  // whiteouts, kept apart to allow the opaque form
    size_t old_kept = 0;
    size_t old_count = 0;
    std::set<std::string> all(old_names->begin(), old_names->end());
    all.insert(new_names->begin(), new_names->end());
    for (const auto& name : all) {
      const std::string old_host = old_dir + "/" + name;
      const std::string new_host = new_dir + "/" + name;
      auto old_d = describe(old_host, rel + name, false);
      if (!old_d) return old_d.error();
      auto new_d = describe(new_host, rel + name, true);
      if (!new_d) return new_d.error();
      if (new_d->has_value()) OCIPACK_TRY(check_not_whiteout_name(new_host));
      if (old_d->has_value()) ++old_count;
      if (!new_d->has_value()) {
        if (old_d->has_value()) removed.push_back(whiteout(rel, k_whiteout_prefix + name, dir_mtime));
        continue;
      }
      if (old_d->has_value()) ++old_kept;
      const TarEntry new_entry = (*new_d)->item.entry;
      const bool new_is_dir = new_entry.type == EntryType::directory;
      if (!old_d->has_value()) {
        emit(std::move(**new_d), children);
        if (new_is_dir) OCIPACK_TRY(add_subtree(new_host, new_entry.path, children));
        continue;
      }
      const TarEntry& old_entry = (*old_d)->item.entry;
      const bool old_is_dir = old_entry.type == EntryType::directory;
      if (old_is_dir && new_is_dir) {
        std::vector<WalkItem> below;
        OCIPACK_TRY(diff_dir(old_host, new_host, new_entry.path, new_entry.mtime, below));
        if (!below.empty() || !same_metadata(old_entry, new_entry)) {
          emit(std::move(**new_d), children);
          std::move(below.begin(), below.end(), std::back_inserter(children));
        }
        continue;
      }
      if (old_is_dir != new_is_dir || old_entry.type != new_entry.type) {
        // A directory replaced by something else is whited out explicitly;
        // other type changes are replaced by extracting the new entry.
        if (old_is_dir) {
          children.push_back(whiteout(rel, k_whiteout_prefix + name, dir_mtime));
          ++counters.whiteouts;
        }
        emit(std::move(**new_d), children);
        if (new_is_dir) OCIPACK_TRY(add_subtree(new_host, new_entry.path, children));
        continue;
      }
      bool same = same_metadata(old_entry, new_entry);
      if (same && new_entry.type == EntryType::regular && new_entry.size > 0) {
        auto equal = same_content(old_host, new_host);
        if (!equal) return equal.error();
        same = *equal;
      }
      if (!same) emit(std::move(**new_d), children);
    }

    if (!removed.empty() && old_kept == 0 && old_count > 0 && !new_names->empty() &&
        removed.size() == old_count && !children.empty()) {
      // Everything old is gone and new content arrived: one opaque marker.
      out.push_back(whiteout(rel, k_opaque_whiteout, dir_mtime));
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
};

Result<std::unique_ptr<DeltaSource>> DeltaSource::compute(const std::string& old_root,
                                                          const std::string& new_root,
                                                          const WalkOptions& options) {
  for (const auto* root : {&old_root, &new_root}) {
    struct stat st {};
    if (::stat(root->c_str(), &st) != 0)
      return make_error("'" + *root + "' does not exist");
    if (!S_ISDIR(st.st_mode)) return make_error("'" + *root + "' is not a directory");
  }
  std::unique_ptr<DeltaSource> source(new DeltaSource());
  State state{options, source->m_warnings, source->m_counters, {}};
  struct stat st {};
  ::stat(new_root.c_str(), &st);
  OCIPACK_TRY(state.diff_dir(old_root, new_root, "", static_cast<int64_t>(st.st_mtim.tv_sec),
                             source->m_items));
  return source;
}

Result<std::optional<WalkItem>> DeltaSource::next() {
  if (m_next == m_items.size()) return std::optional<WalkItem>{};
  return std::optional<WalkItem>(std::move(m_items[m_next++]));
}

}  // namespace ocipack
