// Tests for core/oci/layout_gc.cc: gc removes exactly the unreachable blobs —
// reachability through nested and multi-platform indexes and through entries
// of unknown media type included — and never hidden files, foreign names or
// directories; it removes the temp files of killed builds (blob, index.json,
// oci-layout and spool temp files) but nothing else hidden; it refuses,
// deleting nothing, when a reachable blob is missing or corrupted or an
// index.json entry cannot be read. Hostile layouts: a symlinked blobs/ or
// blobs/sha256 is refused (a decoy layout behind it stays byte-identical),
// blob entries are never followed, a non-regular index.json or oci-layout is
// named. A gc started while a build holds the lock waits for it and then
// honours the index the build committed.
#include "core/oci/layout_gc.h"

#include "core/oci/layout_lock.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/util/sha256.h"
#include "fake_layout.h"
#include "hostile_files.h"
#include "test_helpers.h"
#include "core/util/file_io.h"
#include "expect_error.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;
using ocipack::testing::path_exists;

using ocipack::testing::make_dirs;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

using ocipack::testing::FakeImage;
using ocipack::testing::FakeLayout;


// --- gc

TEST(LayoutGc, RemovesExactlyTheUnreachableBlobs) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto kept = layout.image({"shared layer", "kept layer"});
  auto nested = layout.image({"nested layer"});
  auto replaced = layout.image({"shared layer", "old layer"});
  auto unknown = layout.image({"artifact layer"});
  layout.tag(replaced.manifest, "v1");
  layout.tag(kept.manifest, "v1");  // replaces: the old manifest, config and layer become garbage
  layout.tag(layout.index_blob({nested.manifest}), "nested");
  // An entry of unknown media type is still followed if it is a manifest.
  Descriptor unknown_entry = unknown.manifest;
  unknown_entry.media_type = "application/x-custom";
  layout.tag(unknown_entry, "custom");
  auto stray = layout.blob("a blob nobody references", "x");

  // Things gc must never touch.
  // A killed build's temp blob (builds write temp blobs only under the lock
  // gc holds, so one that exists now is stale) and another hidden file.
  write_text(layout.blobs() + "/.blob.tmp-abc123", "left by a killed build");
  write_text(layout.blobs() + "/.hidden-other", "not ours");
  write_text(layout.blobs() + "/README", "not a digest name");
  write_text(layout.blobs() + "/" + std::string(64, 'A'), "uppercase is not a digest name");
  make_dirs(layout.blobs() + "/" + std::string(64, 'd'));
  make_dirs(layout.dir() + "/blobs/sha512");
  write_text(layout.dir() + "/blobs/sha512/" + std::string(128, 'e'), "other algorithm");

  std::vector<std::string> expected = {replaced.manifest.digest.hex(), replaced.config.digest.hex(),
                                       replaced.layers[1].digest.hex(), stray.digest.hex()};
  std::sort(expected.begin(), expected.end());
  uint64_t expected_bytes = 0;
  for (const auto& d : {replaced.manifest, replaced.config, replaced.layers[1], stray})
    expected_bytes += static_cast<uint64_t>(d.size);

  auto result = collect_garbage(layout.dir());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->removed, expected);
  EXPECT_EQ(result->removed_blobs, 4u);
  EXPECT_EQ(result->removed_temp_files, 1u);
  EXPECT_EQ(result->freed_bytes, expected_bytes + std::string("left by a killed build").size());
  for (const auto& hex : expected) EXPECT_FALSE(path_exists(layout.blobs() + "/" + hex)) << hex;
  for (const auto* image : {&kept, &nested, &unknown}) {
    EXPECT_TRUE(path_exists(layout.path_of(image->manifest)));
    EXPECT_TRUE(path_exists(layout.path_of(image->config)));
    for (const auto& l : image->layers) EXPECT_TRUE(path_exists(layout.path_of(l)));
  }
  EXPECT_FALSE(path_exists(layout.blobs() + "/.blob.tmp-abc123"));
  EXPECT_TRUE(path_exists(layout.blobs() + "/.hidden-other"));
  EXPECT_TRUE(path_exists(layout.blobs() + "/README"));
  EXPECT_TRUE(path_exists(layout.blobs() + "/" + std::string(64, 'A')));
  EXPECT_TRUE(path_exists(layout.blobs() + "/" + std::string(64, 'd')));
  EXPECT_TRUE(path_exists(layout.dir() + "/blobs/sha512/" + std::string(128, 'e')));

  // Every tag still loads; a second run finds nothing to do.
  for (const char* tag : {"v1", "nested", "custom"}) EXPECT_TRUE(load_image(layout.dir(), tag).ok()) << tag;
  auto again = collect_garbage(layout.dir());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->removed_blobs, 0u);
  EXPECT_EQ(again->freed_bytes, 0u);
}

TEST(LayoutGc, EmptyIndexRemovesEveryBlob) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"a", "b"});
  auto result = collect_garbage(layout.dir() + "/");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->removed_blobs, 4u);  // 2 layers, config, manifest

  FakeLayout no_blobs(tmp / "fresh", true);
  ASSERT_EQ(std::system(("rm -rf '" + no_blobs.dir() + "/blobs'").c_str()), 0);
  auto fresh = collect_garbage(no_blobs.dir());
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->removed_blobs, 0u);
}

TEST(LayoutGc, RefusesWhenAReferencedBlobIsMissing) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer one", "layer two"});
  layout.tag(image.manifest, "v1");
  auto stray = layout.blob("garbage", "x");
  ::unlink(layout.path_of(image.layers[1]).c_str());
  expect_error(collect_garbage(layout.dir()),
               {layout.dir(), image.layers[1].digest.str(), "manifest " + image.manifest.digest.str(), "missing",
                "refusing"});
  EXPECT_TRUE(path_exists(layout.path_of(stray)));  // nothing deleted

  // A missing manifest (referenced by index.json itself) too.
  layout.blob("layer two", k_media_type_layer_gzip);
  ::unlink(layout.path_of(image.manifest).c_str());
  expect_error(collect_garbage(layout.dir()), {image.manifest.digest.str(), "index.json", "missing"});
  EXPECT_TRUE(path_exists(layout.path_of(stray)));
}

TEST(LayoutGc, RefusesWhenAManifestIsCorrupted) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer"});
  layout.tag(image.manifest, "v1");
  auto stray = layout.blob("garbage", "x");
  std::string manifest = read_text(layout.path_of(image.manifest));
  manifest.back() = ' ';
  write_text(layout.path_of(image.manifest), manifest);
  expect_error(collect_garbage(layout.dir()), {image.manifest.digest.str(), "corrupted", "refusing"});
  EXPECT_TRUE(path_exists(layout.path_of(stray)));
  EXPECT_TRUE(path_exists(layout.path_of(image.config)));
}

TEST(LayoutGc, RefusesWhatIsNotALayout) {
  TempDir tmp;
  make_dirs(tmp / "plain");
  write_text(tmp / "plain/keep", "x");
  expect_error(collect_garbage(tmp / "plain"), {tmp / "plain", "no oci-layout"});
  std::string listing;  // nothing is left in a stranger's directory
  FILE* ls = ::popen(("ls -A '" + (tmp / "plain") + "'").c_str(), "r");
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, ls)) listing.append(buf, n);
  ::pclose(ls);
  EXPECT_EQ(listing, "keep\n");
  FakeLayout layout(tmp / "layout", true);
  write_text(layout.dir() + "/index.json", R"({"manifests":[{"digest":"sha256:1","size":1}]})");
  expect_error(collect_garbage(layout.dir()), {"index.json", "manifests[0].digest"});
}

TEST(LayoutGc, KeepsEveryImageOfAMultiPlatformIndex) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto amd = layout.image({"amd"});
  auto arm = layout.image({"arm"});
  amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
  arm.manifest.platform = Platform{"arm64", "linux", "", {}, "v8"};
  const Descriptor inner = layout.blob(*encode_index(ImageIndex{{arm.manifest}, {}}), k_media_type_index);
  const Descriptor outer = layout.blob(*encode_index(ImageIndex{{amd.manifest, inner}, {}}), k_media_type_index);
  layout.tag(outer, "multi");
  auto stray = layout.image({"stray"});
  auto result = collect_garbage(layout.dir());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->removed_blobs, 3u);  // the stray image's manifest, config and layer
  for (const auto& image : {amd, arm})
    for (const auto& d : std::vector<Descriptor>{image.manifest, image.config, image.layers[0]})
      EXPECT_TRUE(path_exists(layout.path_of(d))) << d.digest.str();
  EXPECT_TRUE(path_exists(layout.path_of(inner)));
  EXPECT_TRUE(path_exists(layout.path_of(outer)));
  EXPECT_FALSE(path_exists(layout.path_of(stray.manifest)));
}

TEST(LayoutGc, RemovesTheTempFilesOfKilledBuildsOnly) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  layout.tag(layout.image({"a"}).manifest, "v1");
  for (const std::string name : {".index.json.tmp-a1b2c3", ".oci-layout.tmp-a1b2c3", ".ocipack-spool-a1b2c3"})
    write_text(layout.dir() + "/" + name, "temp");
  write_text(layout.blobs() + "/.blob.tmp-a1b2c3", "temp");
  // Hidden files that no build makes are left alone.
  for (const std::string name : {".index.json.tmp-short", ".notes", ".blob.tmp-a1b2c3"})
    write_text(layout.dir() + "/" + name, "mine");
  write_text(layout.blobs() + "/.index.json.tmp-a1b2c3", "mine");
  auto result = collect_garbage(layout.dir());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->removed_temp_files, 4u);
  EXPECT_FALSE(path_exists(layout.dir() + "/.ocipack-spool-a1b2c3"));
  EXPECT_FALSE(path_exists(layout.blobs() + "/.blob.tmp-a1b2c3"));
  EXPECT_TRUE(path_exists(layout.dir() + "/.index.json.tmp-short"));
  EXPECT_TRUE(path_exists(layout.dir() + "/.notes"));
  EXPECT_TRUE(path_exists(layout.dir() + "/.blob.tmp-a1b2c3"));
  EXPECT_TRUE(path_exists(layout.blobs() + "/.index.json.tmp-a1b2c3"));
}

// --- hostile layouts

// Every file below `dir` with its content (symlinks as "-> target").
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  FILE* find = ::popen(("cd '" + dir + "' && find . | sort").c_str(), "r");
  char line[4096];
  while (std::fgets(line, sizeof line, find)) {
    std::string path = line;
    path.pop_back();
    const std::string full = dir + "/" + path;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode))
      out[path] = read_text(full);
    else if (S_ISLNK(st.st_mode))
      out[path] = "-> symlink";
    else
      out[path] = "mode " + std::to_string(st.st_mode);
  }
  ::pclose(find);
  return out;
}

TEST(LayoutGc, RefusesWhenAnIndexEntryCannotBeRead) {
  // gc cannot know what an unreadable entry reaches: it deletes nothing.
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  layout.tag(layout.image({"a"}).manifest, "good");
  std::string index = read_text(layout.dir() + "/index.json");
  index.insert(index.rfind("]}"), R"(,{"digest":"sha512:)" + std::string(128, 'b') +
                                      R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"s512"}})");
  write_text(layout.dir() + "/index.json", index);
  auto stray = layout.blob("garbage", "x");
  expect_error(collect_garbage(layout.dir()), {"manifests[1].digest", "refusing to collect garbage"});
  EXPECT_TRUE(path_exists(layout.path_of(stray)));
}

TEST(LayoutGc, NeverDeletesThroughASymlinkedBlobsDirectory) {
  for (const char* link : {"blobs", "blobs/sha256"}) {
    SCOPED_TRACE(link);
    TempDir tmp;
    // The decoy: a layout whose blobs layout B's index.json does not reach.
    FakeLayout decoy(tmp / "A", true);
    auto decoy_image = decoy.image({"decoy layer"});
    decoy.tag(decoy_image.manifest, "v1");
    FakeLayout layout(tmp / "B", true);
    ASSERT_EQ(std::system(("rm -rf '" + layout.dir() + "/" + link + "'").c_str()), 0);
    ASSERT_EQ(::symlink((decoy.dir() + "/" + link).c_str(), (layout.dir() + "/" + link).c_str()), 0);
    const auto before = snapshot(decoy.dir());
    expect_error(collect_garbage(layout.dir()),
                 {layout.dir() + "/" + link + " is a symbolic link", "refusing to collect garbage"});
    EXPECT_EQ(snapshot(decoy.dir()), before);
    EXPECT_TRUE(load_image(decoy.dir(), "v1").ok());
  }
}

TEST(LayoutGc, BlobEntriesAreNeverFollowed) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"a"});
  layout.tag(image.manifest, "v1");
  make_dirs(tmp / "outside");
  write_text(tmp / "outside/victim", "keep me");
  make_dirs(tmp / "outside/dir");
  write_text(tmp / "outside/dir/inner", "keep me too");
  // Unreachable entries named by a digest: a symlink to a file, a symlink to
  // a directory (removed as links), a directory (left alone).
  const std::string link_to_file = layout.blobs() + "/" + std::string(64, '1');
  const std::string link_to_dir = layout.blobs() + "/" + std::string(64, '2');
  const std::string directory = layout.blobs() + "/" + std::string(64, '3');
  ASSERT_EQ(::symlink((tmp / "outside/victim").c_str(), link_to_file.c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "outside/dir").c_str(), link_to_dir.c_str()), 0);
  make_dirs(directory);
  write_text(directory + "/x", "inside a directory blob");
  auto result = collect_garbage(layout.dir());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->removed_blobs, 2u);
  EXPECT_FALSE(path_exists(link_to_file));
  EXPECT_FALSE(path_exists(link_to_dir));
  EXPECT_TRUE(path_exists(directory + "/x"));
  EXPECT_EQ(read_text(tmp / "outside/victim"), "keep me");
  EXPECT_EQ(read_text(tmp / "outside/dir/inner"), "keep me too");
  // A reachable blob that is a symlink (to a matching copy) is refused, not followed.
  write_text(tmp / "outside/config", read_text(layout.path_of(image.config)));
  ASSERT_EQ(::unlink(layout.path_of(image.config).c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "outside/config").c_str(), layout.path_of(image.config).c_str()), 0);
  auto stray = layout.blob("garbage", "x");
  expect_error(collect_garbage(layout.dir()), {image.config.digest.str(), "not a regular file", "refusing"});
  EXPECT_TRUE(path_exists(layout.path_of(stray)));
}

TEST(LayoutGc, NonRegularLayoutFilesAreRefused) {
  for (const char* file : {"index.json", "oci-layout"}) {
    for (const auto& hostile : ocipack::testing::hostile_kinds()) {
      SCOPED_TRACE(std::string(file) + " " + hostile.name);
      TempDir tmp;
      FakeLayout layout(tmp / "layout", true);
      auto image = layout.image({"a"});
      layout.tag(image.manifest, "v1");
      auto stray = layout.blob("garbage", "x");
      ASSERT_TRUE(ocipack::testing::make_hostile_in_place(layout.dir() + "/" + file, hostile.kind, tmp.path()));
      const std::string culprit = layout.dir() + "/" + file + " " + hostile.expected;
      expect_error(collect_garbage(layout.dir()), {culprit});
      EXPECT_TRUE(path_exists(layout.path_of(stray)));
    }
  }
}

// --- locking

TEST(LayoutGc, WaitsForABuildAndHonoursItsIndex) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto old_image = layout.image({"old"});
  layout.tag(old_image.manifest, "v1");
  auto stray = layout.blob("garbage", "x");

  // "A build" holds the lock and has written blobs that index.json does not reference yet.
  auto build_lock = LayoutLock::acquire(layout.dir());
  ASSERT_TRUE(build_lock.ok());
  auto new_image = layout.image({"new"});

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto result = collect_garbage(layout.dir());
    ::_exit(result.ok() ? static_cast<int>(result->removed_blobs) : 100);
  }
  // The child must still be waiting for the lock; meanwhile the build commits its tag.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, WNOHANG), 0) << "gc did not wait for the lock";
  EXPECT_TRUE(path_exists(layout.path_of(new_image.manifest)));
  layout.tag(new_image.manifest, "v2");
  { LayoutLock released = std::move(*build_lock); }

  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);  // only the stray blob
  EXPECT_FALSE(path_exists(layout.path_of(stray)));
  EXPECT_TRUE(load_image(layout.dir(), "v1").ok());
  EXPECT_TRUE(load_image(layout.dir(), "v2").ok());
}


// A first build killed before its index.json: gc prunes what it left (its
// blobs are unreachable, its temp files belong to no running build) and the
// directory stays a layout the next build accepts. Foreign files still make

TEST(LayoutGc, UnfinishedLayoutOfAKilledFirstBuildIsPruned) {
  TempDir tmp;
  const std::string dir = tmp / "half";
  testing::make_dirs(dir + "/blobs/sha256");
  testing::write_text(dir + "/blobs/sha256/" + std::string(64, 'c'), "a committed layer blob");
  testing::write_text(dir + "/blobs/sha256/.blob.tmp-Ab12Cd", "a layer being written");
  testing::write_text(dir + "/.oci-layout.tmp-x1y2z3", "oci-layout being written");
  auto result = collect_garbage(dir);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->removed_blobs, 1u);
  EXPECT_EQ(result->removed_temp_files, 2u);
  EXPECT_TRUE(list_directory(dir + "/blobs/sha256")->empty());
  EXPECT_TRUE(check_unfinished_layout(dir).ok());

  testing::write_text(dir + "/blobs/sha256/" + std::string(64, 'd'), "blob");
  testing::write_text(dir + "/notes.txt", "mine");
  expect_error(collect_garbage(dir), {dir, "not an OCI image layout"});
  EXPECT_TRUE(path_exists(dir + "/blobs/sha256/" + std::string(64, 'd')));
  EXPECT_EQ(testing::read_text(dir + "/notes.txt"), "mine");
}


}  // namespace
}  // namespace ocipack
