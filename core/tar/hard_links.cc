// Implementation of the hard-link rule (see hard_links.h).
#include "core/tar/hard_links.h"

namespace ocipack {

void make_link_to(WalkItem& item, const std::string& first_path) {
  TarEntry& entry = item.entry;
  entry.type = EntryType::hard_link;
  entry.link_target = first_path;
  entry.size = 0;
  entry.dev_major = entry.dev_minor = 0;
  entry.xattrs.clear();
  item.st_size = 0;
  item.spool_fd = -1;
}

WalkItem another_name_of(const WalkItem& file, const std::string& path) {
  WalkItem name = file;
  name.entry.path = path;
  return name;
}

bool HardLinkGroups::add(const FileId& id, WalkItem& item) {
  auto [it, inserted] = m_first_path.try_emplace(id, item.entry.path);
  if (inserted) return false;
  make_link_to(item, it->second);
  return true;
}

}  // namespace ocipack
