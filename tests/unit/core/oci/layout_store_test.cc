// Tests for core/layout_store.cc: the on-disk OCI layout and its write
// discipline. open_or_create must refuse outputs it could damage (a regular
// file, a non-empty directory that is not a layout) with a message naming the
// path, must refuse an unusable oci-layout or index.json, must read an
// existing index.json, and must not touch the file system until the first
// blob or directory is needed. Blobs land at
// blobs/sha256/<hex> with exactly their content (idempotently); write_index
// writes oci-layout and index.json; no hidden temp files survive; and
// discard_changes removes only the blobs and directories this store added
// (nothing once keep_changes was called), restoring the layout as it was.
#include "core/oci/layout_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/sha256.h"
#include "hostile_files.h"
#include "test_helpers.h"
#include "core/util/file_io.h"

namespace ocipack {
namespace {

using ocipack::testing::path_exists;

using ocipack::testing::make_dirs;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Every path below `root`, relative, sorted ("blobs/", "blobs/sha256/", …).
std::vector<std::string> tree(const std::string& root) {
  std::vector<std::string> out;
  std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& dir,
                                                                         const std::string& rel) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (dirent* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name == "." || name == "..") continue;
      std::string path = dir + "/" + name;
      if (is_dir(path)) {
        out.push_back(rel + name + "/");
        walk(path, rel + name + "/");
      } else {
        out.push_back(rel + name);
      }
    }
    ::closedir(d);
  };
  walk(root, "");
  std::sort(out.begin(), out.end());
  return out;
}

bool has_hidden_file(const std::string& root) {
  for (const auto& path : tree(root)) {
    auto slash = path.find_last_of('/', path.size() - 2);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (!base.empty() && base[0] == '.') return true;
  }
  return false;
}

LayoutStore open_ok(const std::string& dir) {
  auto store = LayoutStore::open_or_create(dir);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return std::move(store).value();
}

TEST(LayoutStore, MissingDirectoryIsCreatedLockedAndRemovedOnDiscard) {
  // The directory must exist to be locked before it is inspected, so open
  // creates it (and its parents); a failed build removes them again.
  TempDir tmp;
  const std::string out = tmp / "a/b/out";
  auto store = LayoutStore::open_or_create(out);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(store->dir(), out);
  EXPECT_FALSE(store->existing_index().has_value());
  EXPECT_EQ(tree(tmp.path()), (std::vector<std::string>{"a/", "a/b/", "a/b/out/"}));
  EXPECT_FALSE(LayoutLock::try_acquire(out).ok()) << "the store holds the layout lock";
  ASSERT_TRUE(store->ensure_directories().ok());
  EXPECT_TRUE(is_dir(out + "/blobs/sha256"));
  EXPECT_EQ(tree(tmp.path()), (std::vector<std::string>{"a/", "a/b/", "a/b/out/", "a/b/out/blobs/",
                                                         "a/b/out/blobs/sha256/"}));
  // Idempotent.
  ASSERT_TRUE(store->ensure_directories().ok());
  store->discard_changes();
  EXPECT_TRUE(tree(tmp.path()).empty());
}

TEST(LayoutStore, RefusedOutputLeavesNoCreatedDirectories) {
  // mkdir fails part-way (a name too long) or a parent is a file: nothing
  // of what was created may stay behind.
  TempDir tmp;
  write_text(tmp / "file", "x");
  EXPECT_FALSE(LayoutStore::open_or_create(tmp / ("new/" + std::string(300, 'n') + "/out")).ok());
  EXPECT_FALSE(LayoutStore::open_or_create(tmp / "file/out").ok());
  EXPECT_EQ(tree(tmp.path()), std::vector<std::string>{"file"});
  EXPECT_EQ(read_text(tmp / "file"), "x");
}

TEST(LayoutStore, PathsAreDerivedFromTheDirectory) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out/");  // trailing slash dropped
  EXPECT_EQ(store.dir(), tmp / "out");
  EXPECT_EQ(store.blobs_dir(), tmp / "out/blobs/sha256");
  Digest digest = Sha256::of("abc");
  EXPECT_EQ(store.blob_path(digest), tmp / "out/blobs/sha256/" + digest.hex());
}

TEST(LayoutStore, EmptyPathIsAnError) {
  EXPECT_FALSE(LayoutStore::open_or_create("").ok());
}

TEST(LayoutStore, RegularFileIsRefusedNamingIt) {
  TempDir tmp;
  write_text(tmp / "file", "not a directory");
  auto store = LayoutStore::open_or_create(tmp / "file");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(tmp / "file"), std::string::npos) << store.error().message;
  EXPECT_EQ(read_text(tmp / "file"), "not a directory");
}

TEST(LayoutStore, NonEmptyNonLayoutDirectoryIsRefused) {
  TempDir tmp;
  make_dirs(tmp / "home");
  write_text(tmp / "home/notes.txt", "precious");
  auto store = LayoutStore::open_or_create(tmp / "home");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(tmp / "home"), std::string::npos) << store.error().message;
  EXPECT_EQ(tree(tmp / "home"), std::vector<std::string>{"notes.txt"});
}

TEST(LayoutStore, EmptyDirectoryIsAccepted) {
  TempDir tmp;
  make_dirs(tmp / "out");
  LayoutStore store = open_ok(tmp / "out");
  EXPECT_FALSE(store.existing_index().has_value());
  EXPECT_TRUE(tree(tmp / "out").empty());
}

TEST(LayoutStore, ExistingLayoutIndexIsRead) {
  TempDir tmp;
  make_dirs(tmp / "out/blobs/sha256");
  write_text(tmp / "out/oci-layout", k_oci_layout_json);
  write_text(tmp / "out/index.json", "{\"schemaVersion\":2,\"manifests\":[]}");
  LayoutStore store = open_ok(tmp / "out");
  ASSERT_TRUE(store.existing_index().has_value());
  EXPECT_EQ(*store.existing_index(), "{\"schemaVersion\":2,\"manifests\":[]}");
}

TEST(LayoutStore, OciLayoutContentIsExposed) {
  TempDir tmp;
  LayoutStore fresh = open_ok(tmp / "new");
  EXPECT_EQ(fresh.oci_layout(), k_oci_layout_json);
  make_dirs(tmp / "out");
  const std::string layout_text = "{\"imageLayoutVersion\": \"1.0.0\"}\n";
  write_text(tmp / "out/oci-layout", layout_text);
  LayoutStore existing = open_ok(tmp / "out");
  EXPECT_EQ(existing.oci_layout(), layout_text);
}

TEST(LayoutStore, UnusableOciLayoutIsRefusedBeforeWriting) {
  for (const char* text : {"", "not json", "[]", "{}", "{\"imageLayoutVersion\":1}",
                           "{\"imageLayoutVersion\":\"2.0.0\"}"}) {
    TempDir tmp;
    make_dirs(tmp / "out");
    write_text(tmp / "out/oci-layout", text);
    auto store = LayoutStore::open_or_create(tmp / "out");
    ASSERT_FALSE(store.ok()) << "accepted oci-layout '" << text << "'";
    EXPECT_NE(store.error().message.find(tmp / "out"), std::string::npos) << store.error().message;
    EXPECT_EQ(tree(tmp / "out"), std::vector<std::string>{"oci-layout"});
  }
}

TEST(LayoutStore, UnusableIndexIsRefusedBeforeWriting) {
  for (const char* text : {"", "{", "[]", "{\"manifests\":{}}"}) {
    TempDir tmp;
    make_dirs(tmp / "out");
    write_text(tmp / "out/oci-layout", k_oci_layout_json);
    write_text(tmp / "out/index.json", text);
    auto store = LayoutStore::open_or_create(tmp / "out");
    ASSERT_FALSE(store.ok()) << "accepted index.json '" << text << "'";
    EXPECT_NE(store.error().message.find(tmp / "out"), std::string::npos) << store.error().message;
    EXPECT_NE(store.error().message.find("index.json"), std::string::npos) << store.error().message;
    EXPECT_EQ(read_text(tmp / "out/index.json"), text);
  }
}

TEST(LayoutStore, HostileIndexOrOciLayoutIsRefusedBeforeWriting) {
  for (const char* file : {"index.json", "oci-layout"}) {
    for (const auto& hostile : ocipack::testing::hostile_kinds()) {
      if (hostile.kind == ocipack::testing::Hostile::directory) continue;  // IndexThatIsADirectoryIsRefused
      SCOPED_TRACE(std::string(file) + " " + hostile.name);
      TempDir tmp;
      make_dirs(tmp / "out");
      write_text(tmp / "out/oci-layout", k_oci_layout_json);
      write_text(tmp / "out/index.json", R"({"schemaVersion":2,"manifests":[]})");
      ASSERT_TRUE(ocipack::testing::make_hostile_in_place(tmp / "out" + "/" + file, hostile.kind, tmp.path()));
      const auto before = tree(tmp / "out");
      auto store = LayoutStore::open_or_create(tmp / "out");
      ASSERT_FALSE(store.ok());
      EXPECT_NE(store.error().message.find(tmp / "out" + "/" + file + " " + hostile.expected), std::string::npos)
          << store.error().message;
      EXPECT_EQ(tree(tmp / "out"), before);
    }
  }
  // Too deep or too large: refused, naming index.json, before anything is written.
  for (const std::string& text : {"{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}",
                                  "{\"x\":\"" + std::string(static_cast<size_t>(k_max_document_size), 'x') + "\"}"}) {
    TempDir tmp;
    make_dirs(tmp / "out");
    write_text(tmp / "out/oci-layout", k_oci_layout_json);
    write_text(tmp / "out/index.json", text);
    auto store = LayoutStore::open_or_create(tmp / "out");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("index.json"), std::string::npos) << store.error().message;
    EXPECT_EQ(tree(tmp / "out"), (std::vector<std::string>{"index.json", "oci-layout"}));
  }
}

TEST(LayoutStore, LayoutWithoutIndexHasNoExistingIndex) {
  TempDir tmp;
  make_dirs(tmp / "out");
  write_text(tmp / "out/oci-layout", k_oci_layout_json);
  LayoutStore store = open_ok(tmp / "out");
  EXPECT_FALSE(store.existing_index().has_value());
}

TEST(LayoutStore, IndexThatIsADirectoryIsRefused) {
  TempDir tmp;
  make_dirs(tmp / "out/index.json");
  write_text(tmp / "out/oci-layout", k_oci_layout_json);
  auto store = LayoutStore::open_or_create(tmp / "out");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("index.json"), std::string::npos) << store.error().message;
}

TEST(LayoutStore, PutBlobWritesContentUnderItsDigest) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  const std::string data = "{\"config\":true}";
  auto descriptor = store.put_blob(data, k_media_type_config);
  ASSERT_TRUE(descriptor.ok()) << descriptor.error().message;
  EXPECT_EQ(descriptor->media_type, k_media_type_config);
  EXPECT_EQ(descriptor->digest, Sha256::of(data));
  EXPECT_EQ(descriptor->size, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(descriptor->annotations.empty());
  const std::string path = tmp / "out/blobs/sha256/" + Sha256::of(data).hex();
  EXPECT_EQ(read_text(path), data);
  EXPECT_EQ(tree(tmp / "out"), (std::vector<std::string>{"blobs/", "blobs/sha256/",
                                                          "blobs/sha256/" + Sha256::of(data).hex()}));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(LayoutStore, PutBlobIsIdempotent) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  auto first = store.put_blob("same bytes", k_media_type_manifest);
  auto second = store.put_blob("same bytes", k_media_type_manifest);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->digest, second->digest);
  EXPECT_EQ(first->size, second->size);
  EXPECT_EQ(read_text(store.blob_path(first->digest)), "same bytes");
  EXPECT_EQ(tree(store.blobs_dir()).size(), 1u);
  EXPECT_FALSE(has_hidden_file(tmp.path()));
}

TEST(LayoutStore, PutBlobRepairsATruncatedBlob) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  ASSERT_TRUE(store.ensure_directories().ok());
  const std::string data = "full content";
  write_text(store.blob_path(Sha256::of(data)), "full");  // e.g. left by a crash
  auto descriptor = store.put_blob(data, k_media_type_config);
  ASSERT_TRUE(descriptor.ok()) << descriptor.error().message;
  EXPECT_EQ(read_text(store.blob_path(descriptor->digest)), data);
}

TEST(LayoutStore, EmptyBlob) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  auto descriptor = store.put_blob("", k_media_type_config);
  ASSERT_TRUE(descriptor.ok()) << descriptor.error().message;
  EXPECT_EQ(descriptor->size, 0);
  EXPECT_EQ(descriptor->digest.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_TRUE(path_exists(store.blob_path(descriptor->digest)));
  EXPECT_EQ(read_text(store.blob_path(descriptor->digest)), "");
}

TEST(LayoutStore, StreamedBlobIsCommittedUnderItsDigest) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  auto temp = store.begin_blob();
  ASSERT_TRUE(temp.ok()) << temp.error().message;
  EXPECT_EQ(temp->path().rfind(store.blobs_dir() + "/.", 0), 0u) << temp->path();
  const std::string data(100000, 'z');
  ASSERT_TRUE(write_all(temp->fd(), data, temp->path()).ok());
  const Digest digest = Sha256::of(data);
  ASSERT_TRUE(store.commit_blob(*temp, digest).ok());
  EXPECT_EQ(read_text(store.blob_path(digest)), data);
  EXPECT_FALSE(has_hidden_file(tmp.path()));
}

TEST(LayoutStore, AbandonedStreamedBlobLeavesNoTempFile) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  {
    auto temp = store.begin_blob();
    ASSERT_TRUE(temp.ok()) << temp.error().message;
    ASSERT_TRUE(write_all(temp->fd(), "partial", temp->path()).ok());
  }
  EXPECT_TRUE(tree(store.blobs_dir()).empty());
}

TEST(LayoutStore, WriteIndexWritesLayoutFileAndIndex) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  ASSERT_TRUE(store.write_index("{\"schemaVersion\":2}").ok());
  EXPECT_EQ(read_text(tmp / "out/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
  EXPECT_EQ(read_text(tmp / "out/index.json"), "{\"schemaVersion\":2}");
  EXPECT_EQ(tree(tmp / "out"),
            (std::vector<std::string>{"blobs/", "blobs/sha256/", "index.json", "oci-layout"}));
  // Replacing the index.
  ASSERT_TRUE(store.write_index("{\"schemaVersion\":2,\"manifests\":[]}").ok());
  EXPECT_EQ(read_text(tmp / "out/index.json"), "{\"schemaVersion\":2,\"manifests\":[]}");
  EXPECT_FALSE(has_hidden_file(tmp.path()));
  // A store opened afterwards (once this one, and its lock, is gone) sees the index.
  { LayoutStore released = std::move(store); }
  LayoutStore reopened = open_ok(tmp / "out");
  ASSERT_TRUE(reopened.existing_index().has_value());
  EXPECT_EQ(*reopened.existing_index(), "{\"schemaVersion\":2,\"manifests\":[]}");
}

TEST(LayoutStore, ExistingOciLayoutFileIsLeftAlone) {
  TempDir tmp;
  make_dirs(tmp / "out/blobs/sha256");
  const std::string layout_text = "{\"imageLayoutVersion\": \"1.0.0\"}\n";
  write_text(tmp / "out/oci-layout", layout_text);
  write_text(tmp / "out/index.json", "{}");
  LayoutStore store = open_ok(tmp / "out");
  ASSERT_TRUE(store.write_index("{\"schemaVersion\":2}").ok());
  EXPECT_EQ(read_text(tmp / "out/oci-layout"), layout_text);
  EXPECT_EQ(read_text(tmp / "out/index.json"), "{\"schemaVersion\":2}");
}

TEST(LayoutStore, FullBuildSequenceLeavesOnlyLayoutFiles) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  auto config = store.put_blob("config", k_media_type_config);
  auto manifest = store.put_blob("manifest", k_media_type_manifest);
  ASSERT_TRUE(config.ok() && manifest.ok());
  ASSERT_TRUE(store.write_index("index").ok());
  std::vector<std::string> expected = {"blobs/", "blobs/sha256/",
                                       "blobs/sha256/" + config->digest.hex(),
                                       "blobs/sha256/" + manifest->digest.hex(), "index.json",
                                       "oci-layout"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(tree(tmp / "out"), expected);
}

TEST(LayoutStore, DiscardRemovesCreatedDirectoriesAndParents) {
  TempDir tmp;
  make_dirs(tmp / "keep");
  LayoutStore store = open_ok(tmp / "keep/new/out");
  ASSERT_TRUE(store.ensure_directories().ok());
  EXPECT_TRUE(is_dir(tmp / "keep/new/out/blobs/sha256"));
  store.discard_changes();
  EXPECT_FALSE(path_exists(tmp / "keep/new"));
  EXPECT_TRUE(is_dir(tmp / "keep"));
}

TEST(LayoutStore, DiscardRemovesAddedBlobsOfAFirstBuild) {
  TempDir tmp;
  make_dirs(tmp / "keep");
  LayoutStore store = open_ok(tmp / "keep/out");
  auto blob = store.put_blob("data", k_media_type_config);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto temp = store.begin_blob();
  ASSERT_TRUE(temp.ok());
  ASSERT_TRUE(write_all(temp->fd(), "layer", temp->path()).ok());
  ASSERT_TRUE(store.commit_blob(*temp, Sha256::of("layer")).ok());
  store.discard_changes();
  EXPECT_FALSE(path_exists(tmp / "keep/out"));
  EXPECT_TRUE(is_dir(tmp / "keep"));
}

TEST(LayoutStore, DiscardKeepsAPreexistingEmptyOutputDirectory) {
  TempDir tmp;
  make_dirs(tmp / "out");
  LayoutStore store = open_ok(tmp / "out");
  ASSERT_TRUE(store.put_blob("data", k_media_type_config).ok());
  store.discard_changes();
  EXPECT_TRUE(is_dir(tmp / "out"));
  EXPECT_TRUE(tree(tmp / "out").empty());
}

TEST(LayoutStore, DiscardRestoresAnExistingLayout) {
  // Blobs and directories that were there before the store opened stay;
  // only what this build added goes.
  TempDir tmp;
  make_dirs(tmp / "out/blobs/sha256");
  write_text(tmp / "out/oci-layout", k_oci_layout_json);
  write_text(tmp / "out/index.json", "{\"schemaVersion\":2,\"manifests\":[]}");
  const Digest old_digest = Sha256::of("old blob");
  write_text(tmp / "out/blobs/sha256/" + old_digest.hex(), "old blob");
  const auto before = tree(tmp / "out");

  LayoutStore store = open_ok(tmp / "out");
  ASSERT_TRUE(store.put_blob("old blob", k_media_type_config).ok());  // already present
  ASSERT_TRUE(store.put_blob("new blob", k_media_type_config).ok());
  EXPECT_TRUE(path_exists(store.blob_path(Sha256::of("new blob"))));
  store.discard_changes();
  EXPECT_EQ(tree(tmp / "out"), before);
  EXPECT_EQ(read_text(tmp / "out/blobs/sha256/" + old_digest.hex()), "old blob");
}

TEST(LayoutStore, KeepChangesMakesDiscardANoOp) {
  TempDir tmp;
  LayoutStore store = open_ok(tmp / "out");
  auto blob = store.put_blob("data", k_media_type_config);
  ASSERT_TRUE(blob.ok());
  ASSERT_TRUE(store.write_index("{}").ok());
  store.keep_changes();
  store.discard_changes();
  EXPECT_EQ(read_text(store.blob_path(blob->digest)), "data");
  EXPECT_EQ(read_text(tmp / "out/index.json"), "{}");
}

TEST(LayoutStore, BlobsPathThatIsAFileIsRefusedAtOpen) {
  TempDir tmp;
  make_dirs(tmp / "out");
  write_text(tmp / "out/oci-layout", k_oci_layout_json);
  write_text(tmp / "out/blobs", "not a directory");
  auto store = LayoutStore::open_or_create(tmp / "out");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(tmp / "out/blobs"), std::string::npos) << store.error().message;
  EXPECT_EQ(read_text(tmp / "out/blobs"), "not a directory");
}


// What a first build killed at each point leaves: all accepted by the next build.
TEST(LayoutStore, UnfinishedLayoutsOfKilledFirstBuildsAreAccepted) {
  const std::string hex(64, 'a');
  const std::vector<std::vector<std::string>> leftovers = {
      {"blobs/"},
      {"blobs/", "blobs/sha256/"},
      {"blobs/", "blobs/sha256/", "blobs/sha256/.blob.tmp-Ab12Cd"},
      {"blobs/", "blobs/sha256/", "blobs/sha256/" + hex, "blobs/sha256/.blob.tmp-Ab12Cd"},
      {"blobs/", "blobs/sha256/", "blobs/sha256/" + hex, ".oci-layout.tmp-x1y2z3"},
      {"blobs/", "blobs/sha256/", "blobs/sha256/" + hex, "oci-layout", ".index.json.tmp-x1y2z3"},
      {".ocipack-spool-Q1w2E3"},
  };
  for (const auto& entries : leftovers) {
    TempDir tmp;
    make_dirs(tmp / "out");
    for (const auto& entry : entries) {
      if (entry.back() == '/') make_dirs(tmp / ("out/" + entry));
      else write_text(tmp / ("out/" + entry), entry == "oci-layout" ? k_oci_layout_json : "partial");
    }
    const auto before = tree(tmp / "out");
    auto store = LayoutStore::open_or_create(tmp / "out");
    ASSERT_TRUE(store.ok()) << entries.back() << ": " << store.error().message;
    EXPECT_FALSE(store->existing_index().has_value());
    EXPECT_EQ(tree(tmp / "out"), before);
    EXPECT_TRUE(check_unfinished_layout(tmp / "out").ok());
  }
}

TEST(LayoutStore, DirectoriesWithForeignEntriesAreRefusedNamingThem) {
  // Anything an unfinished build does not leave: another file, a blob name
  // that is not a digest, a symlinked blobs/ or blobs/sha256, a FIFO blob, a
  // foreign directory, another algorithm, a temp name of the wrong shape.
  const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> cases = {
      {"notes.txt", [](const std::string& d) { write_text(d + "/notes.txt", "mine"); }},
      {"blobs/sha256/readme", [](const std::string& d) {
         make_dirs(d + "/blobs/sha256");
         write_text(d + "/blobs/sha256/readme", "x");
       }},
      {"blobs", [](const std::string& d) { ASSERT_EQ(::symlink("/etc", (d + "/blobs").c_str()), 0); }},
      {"blobs/sha256", [](const std::string& d) {
         make_dirs(d + "/blobs");
         ASSERT_EQ(::symlink("/etc", (d + "/blobs/sha256").c_str()), 0);
       }},
      {"blobs/sha256/" + std::string(64, 'b'), [](const std::string& d) {
         make_dirs(d + "/blobs/sha256");
         ASSERT_EQ(::mkfifo((d + "/blobs/sha256/" + std::string(64, 'b')).c_str(), 0600), 0);
       }},
      {"blobs/sha512", [](const std::string& d) { make_dirs(d + "/blobs/sha512"); }},
      {"sub", [](const std::string& d) { make_dirs(d + "/sub"); }},
      {".index.json.tmp-toolong", [](const std::string& d) { write_text(d + "/.index.json.tmp-toolong", "x"); }},
  };
  for (const auto& [culprit, make] : cases) {
    TempDir tmp;
    make_dirs(tmp / "out");
    make(tmp / "out");
    const auto before = tree(tmp / "out");
    auto store = LayoutStore::open_or_create(tmp / "out");
    ASSERT_FALSE(store.ok()) << "accepted a directory holding " << culprit;
    EXPECT_NE(store.error().message.find(tmp / ("out/" + culprit)), std::string::npos) << store.error().message;
    EXPECT_EQ(tree(tmp / "out"), before);
  }
}

TEST(LayoutStore, SecondOpenOfTheSameNewDirectoryWaitsForTheFirst) {
  // The first store (a first build) holds the lock from the moment the
  // directory exists; a second open waits, then sees the committed layout.
  TempDir tmp;
  const std::string out = tmp / "new";
  auto first = LayoutStore::open_or_create(out);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->put_blob("half-made", k_media_type_config).ok());
  std::atomic<bool> second_opened{false};
  std::string second_index;
  std::thread second([&] {
    auto store = LayoutStore::open_or_create(out);
    second_opened = true;
    if (store.ok() && store->existing_index()) second_index = *store->existing_index();
    else second_index = store.ok() ? "no index" : store.error().message;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_opened.load()) << "opened while the first build held the lock";
  ASSERT_TRUE(first->write_index("{\"schemaVersion\":2,\"manifests\":[]}").ok());
  { LayoutStore done = std::move(*first); }
  second.join();
  EXPECT_EQ(second_index, "{\"schemaVersion\":2,\"manifests\":[]}");
}

TEST(LayoutStore, OpenWaitingOnADirectoryThatIsRemovedLocksTheNewOne) {
  // The first build fails and removes the directory it made while a second
  // waits: the second must lock the directory that exists, not the removed one.
  TempDir tmp;
  const std::string out = tmp / "new";
  auto first = LayoutStore::open_or_create(out);
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::optional<Result<LayoutStore>> second;
  std::thread waiter([&] { second.emplace(LayoutStore::open_or_create(out)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  first->discard_changes();
  { LayoutStore gone = std::move(*first); }
  waiter.join();
  ASSERT_TRUE(second->ok()) << second->error().message;
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0) << "the second open made the directory again";
  EXPECT_FALSE(LayoutLock::try_acquire(out).ok()) << "the existing directory is the locked one";
}

// --- import_blob: base blobs come in only after they are verified.

struct ImportFixture {
  testing::TempDir dir;
  std::string data = "layer bytes of the base image";
  Descriptor descriptor{k_media_type_layer_gzip, Sha256::of(data), static_cast<int64_t>(data.size()), {}};
  std::string source_blob() const { return dir / ("base/blobs/sha256/" + descriptor.digest.hex()); }
  ImportFixture() { make_dirs(dir / "base/blobs/sha256"); }
};

TEST(LayoutStore, ImportLinksAVerifiedBlob) {
  ImportFixture f;
  write_text(f.source_blob(), f.data);
  auto store = LayoutStore::open_or_create(f.dir / "out");
  ASSERT_TRUE(store.ok());
  auto status = store->import_blob(f.dir / "base", f.descriptor);
  ASSERT_TRUE(status.ok()) << status.error().message;
  struct stat a {}, b {};
  ASSERT_EQ(::stat(f.source_blob().c_str(), &a), 0);
  ASSERT_EQ(::stat(store->blob_path(f.descriptor.digest).c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(LayoutStore, ImportRefusesASameSizeBlobWithOtherContent) {
  ImportFixture f;
  std::string wrong = f.data;
  wrong[3] ^= 1;
  write_text(f.source_blob(), wrong);
  auto store = LayoutStore::open_or_create(f.dir / "out");
  ASSERT_TRUE(store.ok());
  auto status = store->import_blob(f.dir / "base", f.descriptor);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("does not match its digest"), std::string::npos) << status.error().message;
  EXPECT_FALSE(path_exists(store->blob_path(f.descriptor.digest)));
}

TEST(LayoutStore, ImportRefusesASymlinkOrNonRegularSource) {
  for (const std::string kind : {"symlink", "fifo", "directory"}) {
    ImportFixture f;
    write_text(f.dir / "decoy", f.data);  // right content behind the symlink: still refused
    if (kind == "symlink") {
      ASSERT_EQ(::symlink((f.dir / "decoy").c_str(), f.source_blob().c_str()), 0);
    }
    if (kind == "fifo") {
      ASSERT_EQ(::mkfifo(f.source_blob().c_str(), 0644), 0);
    }
    if (kind == "directory") make_dirs(f.source_blob());
    auto store = LayoutStore::open_or_create(f.dir / "out");
    ASSERT_TRUE(store.ok());
    auto status = store->import_blob(f.dir / "base", f.descriptor);  // must not block on the FIFO
    ASSERT_FALSE(status.ok()) << kind;
    EXPECT_NE(status.error().message.find(f.source_blob()), std::string::npos) << status.error().message;
    EXPECT_NE(status.error().message.find(kind == "symlink" ? "is a symbolic link" : kind == "fifo" ? "is a FIFO, not a regular file" : "is a directory, not a regular file"),
              std::string::npos) << status.error().message;
    EXPECT_FALSE(path_exists(store->blob_path(f.descriptor.digest))) << kind;
  }
}

TEST(LayoutStore, ImportReplacesACorruptCopyAlreadyInTheOutput) {
  ImportFixture f;
  write_text(f.source_blob(), f.data);
  make_dirs(f.dir / "out/blobs/sha256");
  write_text(f.dir / "out/oci-layout", k_oci_layout_json);
  std::string wrong = f.data;
  wrong[0] ^= 1;
  write_text(f.dir / ("out/blobs/sha256/" + f.descriptor.digest.hex()), wrong);  // same size
  auto store = LayoutStore::open_or_create(f.dir / "out");
  ASSERT_TRUE(store.ok());
  auto status = store->import_blob(f.dir / "base", f.descriptor);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read_text(store->blob_path(f.descriptor.digest)), f.data);
}

}  // namespace
}  // namespace ocipack
