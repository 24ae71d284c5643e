// Tests for core/layout_ops.cc: tags, inspect and gc on hand-made layouts.
// list_tags keeps index order and lists untagged entries with tag "".
// inspect_text shows every field a user looks for (and escapes control
// characters); inspect_json is valid JSON holding the config verbatim and the
// layers with their diff_ids. gc removes exactly the unreachable blobs —
// reachability through nested indexes and through entries of unknown media
// type included — and never hidden files, foreign names or directories; it
// refuses, deleting nothing, when a reachable blob is missing or corrupted.
// LayoutLock excludes a second holder (another descriptor in this process,
// or a forked child), and a gc started while a build holds the lock waits for
// it and then honours the index the build committed. Hostile layouts: tags
// lists entries it cannot read (sha512, unknown algorithm, bad annotations,
// duplicates, unknown media types) with a note; gc refuses a symlinked
// blobs/ or blobs/sha256 (a decoy layout behind it stays byte-identical),
// never follows blob entries, and refuses when an entry is unreadable; every
// operation names a FIFO/socket/device/directory/symlink index.json or oci-layout.
#include "core/oci/layout_ops.h"
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

namespace ocipack {
namespace {

using ocipack::testing::make_dirs;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

using ocipack::testing::FakeImage;
using ocipack::testing::FakeLayout;

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

template <typename T>
void expect_error(const Result<T>& result, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(result.ok());
  for (const auto& part : parts)
    EXPECT_NE(result.error().message.find(part), std::string::npos)
        << "message: " << result.error().message << "\nmissing: " << part;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ImageConfig rich_config() {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.author = "Jane <jane@example.com>";
  c.architecture = "arm64";
  c.variant = "v8";
  c.os = "linux";
  c.config.user = "1000:1000";
  c.config.exposed_ports = {"443/tcp", "80/tcp"};
  c.config.env = {"PATH=/usr/bin:/bin", "GREETING=hello world"};
  c.config.entrypoint = {"/bin/sh", "-c"};
  c.config.cmd = {"echo hi"};
  c.config.working_dir = "/srv";
  c.config.labels = {{"org.opencontainers.image.title", "demo"}, {"evil", "a\x1b[2Jb"}};
  c.config.stop_signal = "SIGTERM";
  HistoryEntry h;
  h.created = "2024-01-02T03:04:05Z";
  h.created_by = "ocipack build";
  h.author = "Jane";
  h.comment = "first";
  c.history = {h};
  return c;
}

// --- tags

TEST(LayoutOpsTags, ListsEntriesInIndexOrder) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto one = layout.image({"a"});
  auto two = layout.image({"b"});
  layout.tag(two.manifest, "v2");
  layout.tag(one.manifest, "");
  layout.tag(one.manifest, "v1");
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].tag, "v2");
  EXPECT_EQ((*tags)[0].manifest.digest, two.manifest.digest);
  EXPECT_EQ((*tags)[1].tag, "");
  EXPECT_EQ((*tags)[2].tag, "v1");
  EXPECT_EQ((*tags)[2].manifest.digest, one.manifest.digest);
  expect_error(list_tags(tmp / "nothing"), {tmp / "nothing"});
}

// --- inspect

TEST(LayoutOpsInspect, TextShowsTheKeyFields) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer one", std::string(3000, 'x')}, rich_config());
  layout.tag(image.manifest, "v1");
  auto text = inspect_text(layout.dir(), "v1");
  ASSERT_TRUE(text.ok()) << text.error().message;
  const std::string& t = *text;
  for (const std::string& part : {
           std::string("Tag:          v1\n"),
           "Manifest:     " + image.manifest.digest.str(),
           "Config:       " + image.config.digest.str(),
           std::string("Created:      2024-01-02T03:04:05Z\n"),
           std::string("Author:       Jane <jane@example.com>\n"),
           std::string("Platform:     linux/arm64/v8\n"),
           std::string("User:         1000:1000\n"),
           std::string("Entrypoint:   [\"/bin/sh\",\"-c\"]\n"),
           std::string("Cmd:          [\"echo hi\"]\n"),
           std::string("WorkingDir:   /srv\n"),
           std::string("StopSignal:   SIGTERM\n"),
           std::string("ExposedPorts: 443/tcp 80/tcp\n"),
           std::string("Env:\n  PATH=/usr/bin:/bin\n  GREETING=hello world\n"),
           std::string("  org.opencontainers.image.title=demo\n"),
           std::string("  evil=a\\x1b[2Jb\n"),  // escaped, never raw
           std::string("Layers:       2\n"),
           "  " + image.layers[0].digest.str() + "  9 B\n",
           "    diff_id " + Sha256::of("tar:layer one").str() + "\n",
           "  " + image.layers[1].digest.str() + "  2.9 KiB (3000 bytes)\n",
           std::string("History:\n  2024-01-02T03:04:05Z  ocipack build  author: Jane  comment: first\n"),
       }) {
    EXPECT_TRUE(contains(t, part)) << "missing: " << part << "\nin:\n" << t;
  }
  const uint64_t total = static_cast<uint64_t>(image.manifest.size + image.config.size) + 9 + 3000;
  EXPECT_TRUE(contains(t, "Total size:   ")) << t;
  EXPECT_TRUE(contains(t, "(" + std::to_string(total) + " bytes)")) << t;
  EXPECT_FALSE(contains(t, "\x1b"));
  EXPECT_EQ(t.back(), '\n');
}

TEST(LayoutOpsInspect, TextLeavesOutEmptyFields) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({});
  layout.tag(image.manifest, "bare");
  auto text = inspect_text(layout.dir(), "bare");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_TRUE(contains(*text, "Platform:     linux/amd64\n"));
  EXPECT_TRUE(contains(*text, "Layers:       0\n"));
  for (const char* absent : {"Author:", "User:", "Entrypoint:", "Cmd:", "Env:", "Labels:", "History:"})
    EXPECT_FALSE(contains(*text, absent)) << absent;
}

TEST(LayoutOpsInspect, JsonHasTheConfigVerbatimAndTheLayers) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer one", "layer two"}, rich_config());
  layout.tag(image.manifest, "v1");
  auto text = inspect_json(layout.dir(), "v1");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_NE(text->back(), '\n');
  const auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["tag"], "v1");
  EXPECT_EQ(j["manifest"]["digest"], image.manifest.digest.str());
  EXPECT_EQ(j["manifest"]["size"], image.manifest.size);
  EXPECT_EQ(j["config"], nlohmann::json::parse(image.config_json));
  EXPECT_TRUE(contains(*text, "\"config\":" + image.config_json + ","));  // the stored bytes
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][1]["digest"], image.layers[1].digest.str());
  EXPECT_EQ(j["layers"][1]["size"], 9);
  EXPECT_EQ(j["layers"][1]["mediaType"], k_media_type_layer_gzip);
  EXPECT_EQ(j["layers"][1]["diff_id"], Sha256::of("tar:layer two").str());
  EXPECT_EQ(j["size"], image.manifest.size + image.config.size + 18);
}

TEST(LayoutOpsInspect, ConfigFromAnotherToolIsKeptAsStored) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  // Pretty-printed, with fields ocipack does not model and a trailing newline.
  const std::string config = "{\n  \"architecture\": \"amd64\",\n  \"os\": \"linux\",\n  \"os.features\": [\"x\"],\n"
                             "  \"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}\n}\n";
  Descriptor c = layout.blob(config, k_media_type_config);
  layout.tag(layout.blob(*encode_manifest(Manifest{c, {}}), k_media_type_manifest), "foreign");
  auto text = inspect_json(layout.dir(), "foreign");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_TRUE(contains(*text, "\"config\":" + config.substr(0, config.size() - 1) + ",\"layers\":[]"));
  EXPECT_EQ(nlohmann::json::parse(*text)["config"]["os.features"][0], "x");
}

TEST(LayoutOpsInspect, UnknownTagIsAnError) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  layout.tag(layout.image({"a"}).manifest, "v1");
  expect_error(inspect_text(layout.dir(), "v9"), {"no image tagged 'v9'", "'v1'"});
  expect_error(inspect_json(layout.dir(), "v9"), {"no image tagged 'v9'"});
}

// --- gc

TEST(LayoutOpsGc, RemovesExactlyTheUnreachableBlobs) {
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
  for (const auto& hex : expected) EXPECT_FALSE(exists(layout.blobs() + "/" + hex)) << hex;
  for (const auto* image : {&kept, &nested, &unknown}) {
    EXPECT_TRUE(exists(layout.path_of(image->manifest)));
    EXPECT_TRUE(exists(layout.path_of(image->config)));
    for (const auto& l : image->layers) EXPECT_TRUE(exists(layout.path_of(l)));
  }
  EXPECT_FALSE(exists(layout.blobs() + "/.blob.tmp-abc123"));
  EXPECT_TRUE(exists(layout.blobs() + "/.hidden-other"));
  EXPECT_TRUE(exists(layout.blobs() + "/README"));
  EXPECT_TRUE(exists(layout.blobs() + "/" + std::string(64, 'A')));
  EXPECT_TRUE(exists(layout.blobs() + "/" + std::string(64, 'd')));
  EXPECT_TRUE(exists(layout.dir() + "/blobs/sha512/" + std::string(128, 'e')));

  // Every tag still loads; a second run finds nothing to do.
  for (const char* tag : {"v1", "nested", "custom"}) EXPECT_TRUE(load_image(layout.dir(), tag).ok()) << tag;
  auto again = collect_garbage(layout.dir());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->removed_blobs, 0u);
  EXPECT_EQ(again->freed_bytes, 0u);
}

TEST(LayoutOpsGc, EmptyIndexRemovesEveryBlob) {
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

TEST(LayoutOpsGc, RefusesWhenAReferencedBlobIsMissing) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer one", "layer two"});
  layout.tag(image.manifest, "v1");
  auto stray = layout.blob("garbage", "x");
  ::unlink(layout.path_of(image.layers[1]).c_str());
  expect_error(collect_garbage(layout.dir()),
               {layout.dir(), image.layers[1].digest.str(), "manifest " + image.manifest.digest.str(), "missing",
                "refusing"});
  EXPECT_TRUE(exists(layout.path_of(stray)));  // nothing deleted

  // A missing manifest (referenced by index.json itself) too.
  layout.blob("layer two", k_media_type_layer_gzip);
  ::unlink(layout.path_of(image.manifest).c_str());
  expect_error(collect_garbage(layout.dir()), {image.manifest.digest.str(), "index.json", "missing"});
  EXPECT_TRUE(exists(layout.path_of(stray)));
}

TEST(LayoutOpsGc, RefusesWhenAManifestIsCorrupted) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"layer"});
  layout.tag(image.manifest, "v1");
  auto stray = layout.blob("garbage", "x");
  std::string manifest = read_text(layout.path_of(image.manifest));
  manifest.back() = ' ';
  write_text(layout.path_of(image.manifest), manifest);
  expect_error(collect_garbage(layout.dir()), {image.manifest.digest.str(), "corrupted", "refusing"});
  EXPECT_TRUE(exists(layout.path_of(stray)));
  EXPECT_TRUE(exists(layout.path_of(image.config)));
}

TEST(LayoutOpsGc, RefusesWhatIsNotALayout) {
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

TEST(LayoutOpsTags, EntriesOcipackCannotReadAreListedWithANote) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto image = layout.image({"a"});
  layout.tag(image.manifest, "good");
  std::string index = read_text(layout.dir() + "/index.json");
  const std::string manifest = R"("digest":")" + image.manifest.digest.str() + R"(","size":)" +
                               std::to_string(image.manifest.size);
  index.insert(index.rfind("]}"),
               R"(,{"digest":"sha512:)" + std::string(128, 'b') +
                   R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"s512"}})"
                   R"(,{"mediaType":"application/x-unknown",)" + manifest +
                   R"(,"annotations":{"org.opencontainers.image.ref.name":"odd"}})"
                   R"(,{"mediaType":"application/vnd.oci.image.manifest.v1+json",)" + manifest +
                   R"(,"annotations":{"org.opencontainers.image.ref.name":"good"}})");
  write_text(layout.dir() + "/index.json", index);
  auto tags = list_tags(layout.dir());
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  ASSERT_EQ(tags->size(), 4u);
  const auto& t = *tags;
  EXPECT_TRUE(t[0].readable);
  EXPECT_TRUE(contains(t[0].note, "tag 'good' is ambiguous (2 entries carry it)")) << t[0].note;
  EXPECT_EQ(t[0].digest_text, image.manifest.digest.str());
  EXPECT_FALSE(t[1].readable);
  EXPECT_EQ(t[1].tag, "s512");
  EXPECT_EQ(t[1].digest_text, "sha512:" + std::string(128, 'b'));
  EXPECT_TRUE(contains(t[1].note, "unsupported digest")) << t[1].note;
  EXPECT_TRUE(t[2].readable);
  EXPECT_TRUE(contains(t[2].note, "'application/x-unknown' is neither")) << t[2].note;
  EXPECT_TRUE(contains(t[3].note, "ambiguous"));
  // inspect of the readable, unambiguous entry works; of the others it names the problem.
  EXPECT_TRUE(inspect_text(layout.dir(), "odd").ok());
  expect_error(inspect_text(layout.dir(), "good"), {"ambiguous"});
  expect_error(inspect_json(layout.dir(), "s512"), {"unsupported digest"});
  // gc cannot know what an unreadable entry reaches: it deletes nothing.
  auto stray = layout.blob("garbage", "x");
  expect_error(collect_garbage(layout.dir()), {"manifests[1].digest", "refusing to collect garbage"});
  EXPECT_TRUE(exists(layout.path_of(stray)));
}

TEST(LayoutOpsGc, NeverDeletesThroughASymlinkedBlobsDirectory) {
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

TEST(LayoutOpsGc, BlobEntriesAreNeverFollowed) {
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
  EXPECT_FALSE(exists(link_to_file));
  EXPECT_FALSE(exists(link_to_dir));
  EXPECT_TRUE(exists(directory + "/x"));
  EXPECT_EQ(read_text(tmp / "outside/victim"), "keep me");
  EXPECT_EQ(read_text(tmp / "outside/dir/inner"), "keep me too");
  // A reachable blob that is a symlink (to a matching copy) is refused, not followed.
  write_text(tmp / "outside/config", read_text(layout.path_of(image.config)));
  ASSERT_EQ(::unlink(layout.path_of(image.config).c_str()), 0);
  ASSERT_EQ(::symlink((tmp / "outside/config").c_str(), layout.path_of(image.config).c_str()), 0);
  auto stray = layout.blob("garbage", "x");
  expect_error(collect_garbage(layout.dir()), {image.config.digest.str(), "not a regular file", "refusing"});
  EXPECT_TRUE(exists(layout.path_of(stray)));
}

TEST(LayoutOpsHostile, NonRegularLayoutFilesAreRefusedByEveryOperation) {
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
      expect_error(list_tags(layout.dir()), {culprit});
      expect_error(inspect_text(layout.dir(), "v1"), {culprit});
      expect_error(inspect_json(layout.dir(), "v1"), {culprit});
      expect_error(collect_garbage(layout.dir()), {culprit});
      EXPECT_TRUE(exists(layout.path_of(stray)));
    }
  }
}

// --- locking

TEST(LayoutOpsLock, ExcludesASecondHolder) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout", true);
  auto lock = LayoutLock::acquire(layout.dir());
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_EQ(lock->path(), layout.dir());

  // flock locks belong to open file descriptions: a second open in this
  // process is a second holder.
  expect_error(LayoutLock::try_acquire(layout.dir()), {"locked by another process", layout.dir()});
  {
    int fd = ::open(lock->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
    ::close(fd);
  }
  // A forked child cannot take it either.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = ::open(layout.dir().c_str(), O_RDONLY | O_DIRECTORY);
    ::_exit(fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // Moving keeps the lock; destruction releases it.
  LayoutLock moved = std::move(*lock);
  EXPECT_FALSE(LayoutLock::try_acquire(layout.dir()).ok());
  { LayoutLock gone = std::move(moved); }
  auto again = LayoutLock::try_acquire(layout.dir());
  ASSERT_TRUE(again.ok()) << again.error().message;

  expect_error(LayoutLock::acquire(tmp / "absent"), {"cannot open layout directory", tmp / "absent"});
}

TEST(LayoutOpsLock, GcWaitsForABuildAndHonoursItsIndex) {
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
  EXPECT_TRUE(exists(layout.path_of(new_image.manifest)));
  layout.tag(new_image.manifest, "v2");
  { LayoutLock released = std::move(*build_lock); }

  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);  // only the stray blob
  EXPECT_FALSE(exists(layout.path_of(stray)));
  EXPECT_TRUE(load_image(layout.dir(), "v1").ok());
  EXPECT_TRUE(load_image(layout.dir(), "v2").ok());
}


// A first build killed before its index.json: gc prunes what it left (its
// blobs are unreachable, its temp files belong to no running build) and the
// directory stays a layout the next build accepts. Foreign files still make
// gc refuse, deleting nothing.
TEST(LayoutOpsGc, UnfinishedLayoutOfAKilledFirstBuildIsPruned) {
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
  EXPECT_TRUE(exists(dir + "/blobs/sha256/" + std::string(64, 'd')));
  EXPECT_EQ(testing::read_text(dir + "/notes.txt"), "mine");
}

}  // namespace
}  // namespace ocipack
