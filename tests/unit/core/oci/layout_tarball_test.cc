// Tests for core/layout_tarball.cc: the `--tar-output` form of a layout
// (what `oci-archive:` readers and `podman load` take). The tarball is read
// back with libarchive, an independent reader, to check the entry order
// (oci-layout, index.json, blobs/, blobs/sha256/, then blobs sorted), the
// normalised metadata (uid/gid 0, modes 0644/0755, the given mtime), that
// oci-layout and index.json come from memory (the index about to be
// committed, not the one on disk), that hidden temp files are left out, that
// the same layout gives the same bytes, and that an uncommitted staged
// tarball leaves nothing behind. A FIFO, socket, device, directory or
// symlink among the blobs is refused by name (never waited on or followed).
#include "core/oci/layout_tarball.h"

#include <fcntl.h>
#include <sys/file.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/oci/layout_store.h"
#include "core/util/sha256.h"
#include "hostile_files.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using ocipack::testing::list_dir;

using ocipack::testing::path_exists;

using ocipack::testing::make_dirs;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

struct ReadEntry {
  std::string path;
  unsigned filetype = 0;
  unsigned perm = 0;
  int64_t uid = -1, gid = -1, mtime = 0;
  std::string data;
};

std::vector<ReadEntry> read_tar(const std::string& bytes) {
  std::vector<ReadEntry> out;
  std::unique_ptr<archive, int (*)(archive*)> reader(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(reader.get());
  EXPECT_EQ(archive_read_open_memory(reader.get(), bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* ae = nullptr;
  for (;;) {
    int rc = archive_read_next_header(reader.get(), &ae);
    if (rc == ARCHIVE_EOF) break;
    EXPECT_EQ(rc, ARCHIVE_OK) << archive_error_string(reader.get());
    if (rc != ARCHIVE_OK) break;
    ReadEntry e;
    e.path = archive_entry_pathname(ae);
    e.filetype = archive_entry_filetype(ae);
    e.perm = archive_entry_perm(ae);
    e.uid = archive_entry_uid(ae);
    e.gid = archive_entry_gid(ae);
    e.mtime = archive_entry_mtime(ae);
    char buffer[65536];
    for (;;) {
      la_ssize_t n = archive_read_data(reader.get(), buffer, sizeof buffer);
      EXPECT_GE(n, 0);
      if (n <= 0) break;
      e.data.append(buffer, static_cast<size_t>(n));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// A layout with three blobs (one large) and a leftover temp file.
struct SampleLayout {
  TempDir tmp;
  std::string layout_dir = tmp / "layout";
  std::vector<std::pair<std::string, std::string>> blobs;  // hex, content, sorted by hex

  SampleLayout() {
    auto store = LayoutStore::open_or_create(layout_dir);
    EXPECT_TRUE(store.ok());
    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 255);
    for (const std::string& content : {std::string("{\"config\":1}"), std::string("manifest"), big}) {
      auto d = store->put_blob(content, k_media_type_config);
      EXPECT_TRUE(d.ok());
      blobs.emplace_back(d->digest.hex(), content);
    }
    std::sort(blobs.begin(), blobs.end());
    EXPECT_TRUE(store->write_index("{\"on disk\":true}").ok());
    write_text(layout_dir + "/blobs/sha256/.blob.tmp-abcdef", "interrupted run");
  }
};

TEST(LayoutTarball, EntriesOrderMetadataAndContent) {
  SampleLayout layout;
  const std::string output = layout.tmp / "image.tar";
  const std::string index_json = "{\"schemaVersion\":2,\"manifests\":[]}";
  {
    auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, index_json,
                                       1700000000);
    ASSERT_TRUE(staged.ok()) << staged.error().message;
    EXPECT_FALSE(path_exists(output));  // staged only
    ASSERT_TRUE(staged->commit(output).ok());
  }
  const std::string bytes = read_text(output);
  ASSERT_EQ(bytes.size() % 512, 0u);
  EXPECT_EQ(bytes.substr(bytes.size() - 1024), std::string(1024, '\0'));

  auto entries = read_tar(bytes);
  std::vector<std::string> expected_paths = {"oci-layout", "index.json", "blobs/", "blobs/sha256/"};
  for (const auto& [hex, content] : layout.blobs) expected_paths.push_back("blobs/sha256/" + hex);
  std::vector<std::string> paths;
  for (const auto& e : entries) paths.push_back(e.path);
  EXPECT_EQ(paths, expected_paths);  // the hidden temp file is not packed
  ASSERT_EQ(entries.size(), expected_paths.size());

  for (const auto& e : entries) {
    SCOPED_TRACE(e.path);
    EXPECT_EQ(e.uid, 0);
    EXPECT_EQ(e.gid, 0);
    EXPECT_EQ(e.mtime, 1700000000);
    const bool is_dir = e.path.back() == '/';
    EXPECT_EQ(e.filetype, static_cast<unsigned>(is_dir ? AE_IFDIR : AE_IFREG));
    EXPECT_EQ(e.perm, is_dir ? 0755u : 0644u);
  }
  EXPECT_EQ(entries[0].data, k_oci_layout_json);
  EXPECT_EQ(entries[1].data, index_json);  // from memory, not the index.json on disk
  for (size_t i = 0; i < layout.blobs.size(); ++i) {
    EXPECT_EQ(entries[4 + i].data, layout.blobs[i].second) << entries[4 + i].path;
    EXPECT_EQ(Sha256::of(entries[4 + i].data).hex(), layout.blobs[i].first);
  }
  EXPECT_EQ(list_dir(layout.tmp.path()), (std::vector<std::string>{"image.tar", "layout"}));
}

// With a top directory (build --tar-output-dir): that directory first, then
// the same entries with the same contents below it.
TEST(LayoutTarball, TopDirectoryComesFirstAndHoldsTheSameEntries) {
  SampleLayout layout;
  const std::string plain = layout.tmp / "image.tar", with_dir = layout.tmp / "image-dir.tar";
  for (const auto& [output, top] : {std::pair{plain, std::string()}, std::pair{with_dir, std::string("img-oci")}}) {
    auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, "{}", 1700000000, nullptr, top);
    ASSERT_TRUE(staged.ok()) << staged.error().message;
    ASSERT_TRUE(staged->commit(output).ok());
  }
  const auto flat = read_tar(read_text(plain));
  const auto nested = read_tar(read_text(with_dir));
  ASSERT_EQ(nested.size(), flat.size() + 1);
  EXPECT_EQ(nested[0].path, "img-oci/");
  EXPECT_EQ(nested[0].filetype, static_cast<unsigned>(AE_IFDIR));
  EXPECT_EQ(nested[0].perm, 0755u);
  EXPECT_EQ(nested[0].mtime, 1700000000);
  for (size_t i = 0; i < flat.size(); ++i) {
    EXPECT_EQ(nested[i + 1].path, "img-oci/" + flat[i].path);
    EXPECT_EQ(nested[i + 1].data, flat[i].data);
  }
}

TEST(LayoutTarball, SameLayoutGivesSameBytes) {
  SampleLayout layout;
  std::string first, second;
  for (std::string* out : {&first, &second}) {
    const std::string output = layout.tmp / "image.tar";
    auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, "{}", 0);
    ASSERT_TRUE(staged.ok()) << staged.error().message;
    ASSERT_TRUE(staged->commit(output).ok());
    *out = read_text(output);
  }
  EXPECT_EQ(first, second);
}

TEST(LayoutTarball, UncommittedStagedTarballLeavesNothingAndKeepsTheOldOne) {
  SampleLayout layout;
  const std::string output = layout.tmp / "image.tar";
  write_text(output, "previous tarball");
  {
    auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, "{}", 0);
    ASSERT_TRUE(staged.ok()) << staged.error().message;
    EXPECT_TRUE(path_exists(staged->path()));
  }
  EXPECT_EQ(read_text(output), "previous tarball");
  EXPECT_EQ(list_dir(layout.tmp.path()), (std::vector<std::string>{"image.tar", "layout"}));
}

TEST(LayoutTarball, NonRegularBlobsAreRefusedNotReadOrWaitedOn) {
  for (const auto& hostile : ocipack::testing::hostile_kinds()) {
    SCOPED_TRACE(hostile.name);
    SampleLayout layout;
    write_text(layout.tmp / "outside", "not part of the layout");
    const std::string blob = layout.layout_dir + "/blobs/sha256/" + std::string(64, 'f');
    ASSERT_TRUE(ocipack::testing::make_hostile(blob, hostile.kind, layout.tmp / "outside"));
    const std::string output = layout.tmp / "image.tar";
    auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, "{}", 0);
    ASSERT_FALSE(staged.ok());
    EXPECT_NE(staged.error().message.find(blob + " " + hostile.expected), std::string::npos)
        << staged.error().message;
    EXPECT_FALSE(path_exists(output));
  }
}

TEST(LayoutTarball, MissingBlobsDirectoryIsAnErrorNamingIt) {
  TempDir tmp;
  make_dirs(tmp / "layout");
  auto staged = stage_layout_tarball(tmp / "layout", tmp / "image.tar", k_oci_layout_json, "{}", 0);
  ASSERT_FALSE(staged.ok());
  EXPECT_NE(staged.error().message.find(tmp / "layout/blobs/sha256"), std::string::npos)
      << staged.error().message;
  EXPECT_FALSE(path_exists(tmp / "image.tar"));
}

TEST(LayoutTarball, MissingOutputDirectoryIsAnErrorNamingIt) {
  SampleLayout layout;
  const std::string output = layout.tmp / "no/such/dir/image.tar";
  auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, "{}", 0);
  ASSERT_FALSE(staged.ok());
  EXPECT_NE(staged.error().message.find(layout.tmp / "no/such/dir"), std::string::npos)
      << staged.error().message;
}


TEST(LayoutTarball, StaleTempFilesOfKilledBuildsAreRemovedButNotOnesBeingStaged) {
  SampleLayout layout;
  const std::string output = layout.tmp / "image.tar";
  // Leftovers of killed builds (TempFile's names for image.tar), one that
  // another build is staging (locked), and look-alikes that are not ours.
  const std::string stale1 = layout.tmp / ".image.tar.tmp-AbC123";
  const std::string stale2 = layout.tmp / ".image.tar.tmp-zzzzzz";
  const std::string busy = layout.tmp / ".image.tar.tmp-busy00";
  write_text(stale1, "killed");
  write_text(stale2, "killed too");
  write_text(busy, "being staged");
  write_text(layout.tmp / ".image.tar.tmp-toolong1", "not a TempFile name");
  write_text(layout.tmp / ".other.tar.tmp-AbC123", "another output's");
  make_dirs(layout.tmp / ".image.tar.tmp-adir00");
  ASSERT_EQ(::symlink("image.tar", (layout.tmp / ".image.tar.tmp-slink0").c_str()), 0);
  UniqueFd holder(::open(busy.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(::flock(holder.get(), LOCK_EX), 0);

  auto staged = stage_layout_tarball(layout.layout_dir, output, k_oci_layout_json, "{}", 0);
  ASSERT_TRUE(staged.ok()) << staged.error().message;
  // While staged, its own temp file is locked: another build's cleanup keeps it.
  EXPECT_EQ(remove_stale_tarball_temps(output), 0u);
  EXPECT_TRUE(path_exists(staged->path()));
  ASSERT_TRUE(staged->commit(output).ok());
  EXPECT_FALSE(path_exists(stale1));
  EXPECT_FALSE(path_exists(stale2));
  EXPECT_EQ(read_text(busy), "being staged");
  EXPECT_EQ(list_dir(layout.tmp.path()),
            (std::vector<std::string>{".image.tar.tmp-adir00", ".image.tar.tmp-busy00", ".image.tar.tmp-slink0",
                                      ".image.tar.tmp-toolong1", ".other.tar.tmp-AbC123", "image.tar", "layout"}));
  // Once its holder is gone, the next build removes it too.
  holder.reset();
  EXPECT_EQ(remove_stale_tarball_temps(output), 1u);
  EXPECT_FALSE(path_exists(busy));
}

}  // namespace
}  // namespace ocipack
