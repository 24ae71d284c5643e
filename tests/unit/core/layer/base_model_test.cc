// Tests for core/layer/base_model.cc: layers are applied in order with the OCI
// whiteout rules (a layer's whiteouts remove only what lies below it, never
// its own entries, wherever they stand in the tar); malformed whiteout
// names, paths leaving the root, entries or whiteouts below a symlink or a
// file, and bad hard links refuse the layer with an error naming it and the
// entry; hard links share one identity; blobs are checked (regular file, size,
// digest) before and while they stream; cancellation stops the stream; a
// directory walk gives the same model.
#include "core/layer/base_model.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "core/util/sha256.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

// One raw tar member: name, type flag, data (or link target for '1'/'2').
struct Member {
  std::string name;
  char type = '0';
  std::string data_or_link = {};
};

std::string tar_of(const std::vector<Member>& members) {
  std::string tar;
  for (const auto& m : members) {
    const bool is_link = m.type == '1' || m.type == '2';
    const std::string data = is_link || m.type == '5' ? "" : m.data_or_link;
    tar += testing::raw_tar_header(m.name, m.type, data.size(), is_link ? m.data_or_link : "");
    tar += testing::raw_tar_data(data);
  }
  return tar + testing::raw_tar_end();
}

// Applies each tar (bytes) as a layer, bottom to top, through a memfd.
Status apply(TreeModel& model, const std::vector<std::string>& layers, const std::atomic<bool>* cancel = nullptr) {
  for (size_t i = 0; i < layers.size(); ++i) {
    int fd = ::memfd_create("layer", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, layers[i].data(), layers[i].size()), static_cast<ssize_t>(layers[i].size()));
    ::lseek(fd, 0, SEEK_SET);
    UniqueFd owned(fd);
    OCIPACK_TRY(model.apply_layer(fd, "layer " + std::to_string(i + 1), cancel));
  }
  return ok_status();
}

Result<TreeModel> model_of(const std::vector<std::string>& layers) {
  TreeModel model;
  OCIPACK_TRY(apply(model, layers));
  return model;
}

std::string error_of(const std::vector<std::string>& layers) {
  auto model = model_of(layers);
  return model.ok() ? "(no error)" : model.error().message;
}

std::vector<std::string> paths_of(const TreeModel& model) {
  std::vector<std::string> out;
  std::function<void(const ModelNode&)> walk = [&](const ModelNode& node) {
    for (const auto& [name, child] : node.children) {
      out.push_back(child->entry().path);
      walk(*child);
    }
  };
  walk(model.root());
  return out;
}

TEST(BaseModel, AppliesLayersAndEveryKindOfWhiteout) {
  auto model = model_of({
      tar_of({{"etc/", '5'}, {"etc/a", '0', "1"}, {"etc/b", '0', "2"}, {"var/cache/x", '0', "x"},
              {"opt/o", '0', "o"}, {"opt/sub/deep", '0', "d"}, {"etc/hl", '1', "etc/a"}}),
      tar_of({{"etc/.wh.b", '0'}, {"var/.wh.cache", '0'}, {"opt/.wh..wh..opq", '0'}, {"opt/new", '0', "n"},
              {"etc/a", '0', "changed"}, {"etc/.wh.never-there", '0'}}),
  });
  ASSERT_TRUE(model.ok()) << model.error().message;
  // opt/ and var/ were implied: they keep no path (see ModelNode).
  const std::vector<std::string> expected = {"etc/", "etc/a", "etc/hl", "", "opt/new", ""};
  EXPECT_EQ(paths_of(*model), expected);
  EXPECT_EQ(*model->find("etc/a")->content, Sha256::of("changed"));
  EXPECT_EQ(*model->find("etc/hl")->content, Sha256::of("1"));  // the old inode, still linked
  EXPECT_TRUE(model->find("var")->implied);                      // never described: implied
  EXPECT_FALSE(model->find("etc")->implied);
  EXPECT_EQ(model->find("var")->entry().mode, 0755u);
}

TEST(BaseModel, WhiteoutsNeverRemoveEntriesOfTheirOwnLayer) {
  // The opaque marker and the whiteout come AFTER the entries they must not touch.
  auto model = model_of({
      tar_of({{"d/", '5'}, {"d/old", '0', "o"}, {"y", '0', "lower y"}, {"z/", '5'}, {"z/keep", '0', "k"}}),
      tar_of({{"d/", '5'}, {"d/x", '0', "new"}, {"d/.wh..wh..opq", '0'}, {"y", '0', "upper y"}, {".wh.y", '0'},
              {"z/", '5'}, {"z/.wh.keep", '0'}, {"z/keep", '0', "re-added"}}),
  });
  ASSERT_TRUE(model.ok()) << model.error().message;
  const std::vector<std::string> expected = {"d/", "d/x", "y", "z/", "z/keep"};
  EXPECT_EQ(paths_of(*model), expected);
  EXPECT_EQ(*model->find("y")->content, Sha256::of("upper y"));
  EXPECT_EQ(*model->find("z/keep")->content, Sha256::of("re-added"));
}

TEST(BaseModel, MalformedWhiteoutNamesAreErrorsNamingLayerAndEntry) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {".wh.", "malformed whiteout"},          {"d/.wh.", "malformed whiteout"},
      {"d/.wh..", "malformed whiteout"},       {"d/.wh...", "malformed whiteout"},
      {"d/.wh..wh.x", "malformed whiteout"},   {"d/.wh..wh..opqx", "malformed whiteout"},
      {"d/.wh..wh..wh.x", "malformed whiteout"}, {".wh.d/child", "below a whiteout name"},
  };
  for (const auto& [name, why] : bad) {
    const std::string message = error_of({tar_of({{"d/", '5'}}), tar_of({{"ok", '0', "1"}, {name, '0'}})});
    EXPECT_NE(message.find("layer 2: entry 2 '" + name + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(why), std::string::npos) << message;
  }
  const std::string with_data = error_of({tar_of({{"d/.wh.x", '0', "data"}})});
  EXPECT_NE(with_data.find("'d/.wh.x' is a whiteout with data"), std::string::npos) << with_data;
  const std::string opaque_data = error_of({tar_of({{"d/.wh..wh..opq", '0', "data"}})});
  EXPECT_NE(opaque_data.find("whiteout with data"), std::string::npos) << opaque_data;
}

TEST(BaseModel, EntriesAndWhiteoutsBelowANonDirectoryAreErrors) {
  struct Case {
    std::vector<std::string> layers;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{tar_of({{"a", '2', "/x"}, {"a/evil", '0', "e"}})}, "entry 2 'a/evil' lies below 'a', which is a symlink"},
      {{tar_of({{"a", '2', "/x"}}), tar_of({{"a/evil", '0', "e"}})}, "'a/evil' lies below 'a', which is a symlink"},
      {{tar_of({{"a", '0', "f"}, {"a/b", '0', "b"}})}, "'a/b' lies below 'a', which is a regular file"},
      {{tar_of({{"link", '2', "/decoy"}}), tar_of({{"link/.wh.file", '0'}})}, "'link/.wh.file' lies below 'link'"},
      {{tar_of({{"link", '2', "/decoy"}}), tar_of({{"link/.wh..wh..opq", '0'}})}, "'link/.wh..wh..opq' lies below"},
      {{tar_of({{"d/", '5'}, {"d/l", '2', "/etc"}}), tar_of({{"d/l/sub/.wh.x", '0'}})}, "lies below 'd/l'"},
      {{tar_of({{"f", '0', "1"}, {"h", '1', "f"}, {"h/x", '0', "x"}})}, "'h/x' lies below 'h'"},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(c.layers);
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

TEST(BaseModel, ReplacingASymlinkByADirectoryMakesItADirectory) {
  // A later layer may replace the symlink itself; entries below it are then fine.
  auto model = model_of({tar_of({{"a", '2', "/x"}}), tar_of({{"a/", '5'}, {"a/.wh..wh..opq", '0'}, {"a/f", '0', "f"}})});
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_TRUE(model->find("a")->is_directory());
  EXPECT_NE(model->find("a/f"), nullptr);
}

TEST(BaseModel, PathsLeavingTheRootAreErrors) {
  for (const std::string name : {"/abs", "../up", "a/../../up", "a/.."}) {
    const std::string message = error_of({tar_of({{name, '0', "x"}})});
    EXPECT_NE(message.find("'" + name + "'"), std::string::npos) << message;
  }
  const std::string link = error_of({tar_of({{"a", '0', "x"}, {"h", '1', "../a"}})});
  EXPECT_NE(link.find("'h' is a hard link to '../a', outside the layer"), std::string::npos) << link;
}

TEST(BaseModel, HardLinksShareOneIdentity) {
  auto model = model_of({tar_of({{"d/", '5'}, {"d/one", '0', "data"}, {"d/two", '1', "d/one"}, {"solo", '0', "s"}}),
                         tar_of({{"three", '1', "d/two"}})});
  ASSERT_TRUE(model.ok()) << model.error().message;
  const ModelNode* three = model->find("three");
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(three->entry().type, EntryType::regular);
  EXPECT_EQ(three->entry().path, "three");
  EXPECT_EQ(*three->content, Sha256::of("data"));
  const std::vector<std::string> group = {"d/one", "d/two", "three"};
  EXPECT_EQ(model->link_group(*three), group);
  EXPECT_EQ(model->link_group(*model->find("solo")), std::vector<std::string>{"solo"});
  EXPECT_NE(error_of({tar_of({{"h", '1', "missing"}})}).find("'h' is a hard link to 'missing', which is missing"),
            std::string::npos);
  EXPECT_NE(error_of({tar_of({{"d/", '5'}, {"h", '1', "d"}})}).find("a directory"), std::string::npos);
  // A link to a later entry of the same layer has no target yet.
  EXPECT_NE(error_of({tar_of({{"h", '1', "f"}, {"f", '0', "x"}})}).find("which is missing"), std::string::npos);
}

TEST(BaseModel, DirectoryOverDirectoryKeepsChildrenFileOverDirectoryReplacesIt) {
  auto model = model_of({tar_of({{"d/", '5'}, {"d/c", '0', "c"}, {"e/", '5'}, {"e/c", '0', "c"}}),
                         tar_of({{"d/", '5'}, {"e", '0', "now a file"}})});
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_NE(model->find("d/c"), nullptr);
  EXPECT_EQ(model->find("e/c"), nullptr);
  EXPECT_EQ(model->find("e")->entry().type, EntryType::regular);
}

TEST(BaseModel, XattrsAreKeptOnceAndConflictingCopiesRefused) {
  // bsdtar stores each xattr twice: LIBARCHIVE.xattr (base64) and SCHILY.xattr.
  auto layer = [](const std::string& libarchive_value) {
    return testing::raw_pax_header({{"LIBARCHIVE.xattr.user.k", libarchive_value}, {"SCHILY.xattr.user.k", "v"}}) +
           testing::raw_tar_header("f", '0', 1) + testing::raw_tar_data("x") + testing::raw_tar_end();
  };
  auto model = model_of({layer("dg")});  // base64 of "v"
  ASSERT_TRUE(model.ok()) << model.error().message;
  using Xattrs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(model->find("f")->entry().xattrs, (Xattrs{{"user.k", "v"}}));
  const std::string message = error_of({layer("dw")});  // base64 of "w"
  EXPECT_NE(message.find("entry 1 'f' has two different values for xattr 'user.k'"), std::string::npos) << message;
}

TEST(BaseModel, LongPathsHaveNoLimit) {
  TempDir dir;
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += std::string(100, static_cast<char>('a' + i % 26)) + "/";
  deep += "leaf";  // ~6 KiB, beyond PATH_MAX
  ASSERT_TRUE(testing::write_python_tar(dir / "long.tar", deep + "=x"));
  TreeModel model;
  ASSERT_TRUE(apply(model, {testing::read_text(dir / "long.tar")}).ok());
  ASSERT_NE(model.find(deep), nullptr);
  EXPECT_EQ(*model.find(deep)->content, Sha256::of("x"));
}

// One entry of `depth` components, "top/", `width`-byte ones and "f",
// in a PAX header, so no parent directory is described: all are implied.
std::string deep_entry_tar(size_t depth, size_t width) {
  std::string path = "top/";
  for (size_t i = 2; i < depth; ++i) path += std::string(width, 'd') + "/";
  path += "f";
  return testing::raw_pax_header({{"path", path}}) + testing::raw_tar_header("placeholder", '0', 1) +
         testing::raw_tar_data("x") + testing::raw_tar_end();
}

// A line "KEY  N kB" of /proc/self/status, in KiB; -1 when missing.
long status_kib(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
}

// Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0) and returns
// that RSS in KiB, or -1 when the kernel does not allow it.
long reset_peak_rss_kib() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5\n";
  clear.flush();
  if (!clear) return -1;
  return status_kib("VmRSS:");
}

TEST(BaseModel, DeepEntriesImplyParentsWithoutCopyingTheirPaths) {
  // 4096 levels of 200 bytes: an 800 KiB path. Implied parents holding their
  // prefix took 1.6 GB for this one entry (and tens of GB at 200 000 levels).
  // The growth of this process's peak RSS is measured, not the peak itself:
  // the tests before this one (and a sanitizer's quarantine) leave the
  // process's lifetime peak anywhere.
  const std::string tar = deep_entry_tar(k_max_model_depth, 200);
  const long before_kib = reset_peak_rss_kib();
  ASSERT_GT(before_kib, 0) << "/proc/self/clear_refs or /proc/self/status unusable";
  TreeModel model;
  const Status applied = apply(model, {tar});
  ASSERT_TRUE(applied.ok()) << applied.error().message.substr(0, 300);
  EXPECT_EQ(model.size(), k_max_model_depth);
  EXPECT_LT(status_kib("VmHWM:") - before_kib, 512 * 1024) << "KiB at most: the model is linear in the tar's size";
}

TEST(BaseModel, EntriesDeeperThanTheDepthLimitAreErrorsNamingThem) {
  // 200 000 levels fit in one PAX header of 400 KB; the model, its diff and
  // its destruction recurse once per level.
  for (size_t depth : {k_max_model_depth + 1, size_t{200000}}) {
    const std::string message = error_of({deep_entry_tar(depth, 1)});
    EXPECT_NE(message.find("layer 1: entry 1 'top/d/d/"), std::string::npos) << message.substr(0, 200);
    EXPECT_NE(message.find("is more than 4096 directories deep"), std::string::npos) << message.substr(0, 200);
  }
}

TEST(BaseModel, CancelStopsTheStream) {
  std::atomic<bool> cancel{true};
  TreeModel model;
  auto status = apply(model, {tar_of({{"a", '0', "x"}})}, &cancel);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "interrupted");
  EXPECT_EQ(status.error().kind, ErrorKind::interrupted);
}

TEST(BaseModel, CancelStopsTheHashOfDataAfterTheTar) {
  // A blob may hold gigabytes after the tar's end marker (all hashed for its
  // digest): Ctrl-C must stop that too. The tar goes first; once it has been
  // read, cancel is set and 64 MiB more follow.
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
  UniqueFd reader(sockets[0]), writer(sockets[1]);
  std::atomic<bool> cancel{false};
  std::thread feed([&] {
    const std::string tar = tar_of({{"a", '0', "x"}});
    const std::string block(1 << 20, '\0');
    if (::send(writer.get(), tar.data(), tar.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(tar.size())) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
    for (int i = 0; i < 64; ++i)
      if (::send(writer.get(), block.data(), block.size(), MSG_NOSIGNAL) < 0) break;
    ::shutdown(writer.get(), SHUT_WR);
  });
  TreeModel model;
  Sha256 hash;
  const Status status = model.apply_layer(reader.get(), "layer 1", &cancel, &hash);
  ::shutdown(reader.get(), SHUT_RD);
  reader.reset();  // the feeder's next send fails instead of blocking
  feed.join();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "interrupted");
  EXPECT_EQ(status.error().kind, ErrorKind::interrupted);
}

TEST(BaseModel, UnreadableStreamIsAnErrorNamingTheLayer) {
  const std::string message = error_of({"this is not a tar archive, not even close" + std::string(600, 'x')});
  EXPECT_EQ(message.rfind("layer 1", 0), 0u) << message;
}

// A layout holding gzip'd (single- and multi-member), zstd and plain tar layers.
Descriptor put_blob(const TempDir& dir, const std::string& data) {
  Descriptor d{k_media_type_layer_gzip, Sha256::of(data), static_cast<int64_t>(data.size()), {}};
  testing::make_dirs(dir / "layout/blobs/sha256");
  testing::write_text(dir / ("layout/blobs/sha256/" + d.digest.hex()), data);
  return d;
}

TEST(BaseModel, FromLayersReadsGzipMultiMemberGzipAndPlainTar) {
  TempDir dir;
  ASSERT_TRUE(testing::write_python_tar(dir / "a.tar.gz", "etc/;etc/a=1;etc/b=2", "w:gz"));
  ASSERT_TRUE(testing::write_python_tar(dir / "b.tar", "etc/;etc/.wh.a;etc/c=3;usr/;usr/big=" + std::string(5000, 'z')));
  // The same tar cut in two, each half its own gzip member.
  ASSERT_EQ(std::system(("cd '" + dir.path() + "' && head -c 1536 b.tar | gzip -n > c.gz && "
                         "tail -c +1537 b.tar | gzip -n >> c.gz").c_str()), 0);
  ASSERT_TRUE(testing::write_python_tar(dir / "d.tar", "etc/d=4"));
  std::vector<Descriptor> layers = {put_blob(dir, testing::read_text(dir / "a.tar.gz")),
                                    put_blob(dir, testing::read_text(dir / "c.gz")),
                                    put_blob(dir, testing::read_text(dir / "d.tar"))};
  auto model = TreeModel::from_layers(dir / "layout", layers, nullptr);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const std::vector<std::string> expected = {"etc/", "etc/b", "etc/c", "etc/d", "usr/", "usr/big"};
  EXPECT_EQ(paths_of(*model), expected);
  EXPECT_EQ(*model->find("usr/big")->content, Sha256::of(std::string(5000, 'z')));
  EXPECT_EQ(model->find("etc/b")->entry().mtime, 1700000000);
  EXPECT_EQ(model->find("etc/b")->entry().mode, 0644u);
}

// A zstd layer as ocipack writes it: frames back to back, here two frames
// that cut the tar in the middle of an entry (made by the zstd program).
TEST(BaseModel, FromLayersReadsMultiFrameZstd) {
  TempDir dir;
  ASSERT_TRUE(testing::write_python_tar(dir / "a.tar", "etc/;etc/a=1;etc/b=2"));
  ASSERT_TRUE(testing::write_python_tar(dir / "b.tar", "etc/;etc/.wh.a;etc/c=3;usr/;usr/big=" + std::string(5000, 'z')));
  ASSERT_EQ(std::system(("cd '" + dir.path() + "' && zstd -q -c a.tar > a.zst && head -c 1536 b.tar | zstd -q -c > b.zst && "
                         "tail -c +1537 b.tar | zstd -q -c >> b.zst").c_str()), 0);
  std::vector<Descriptor> layers = {put_blob(dir, testing::read_text(dir / "a.zst")),
                                    put_blob(dir, testing::read_text(dir / "b.zst"))};
  for (Descriptor& layer : layers) layer.media_type = k_media_type_layer_zstd;
  auto model = TreeModel::from_layers(dir / "layout", layers, nullptr);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const std::vector<std::string> expected = {"etc/", "etc/b", "etc/c", "usr/", "usr/big"};
  EXPECT_EQ(paths_of(*model), expected);
  EXPECT_EQ(*model->find("usr/big")->content, Sha256::of(std::string(5000, 'z')));
}

TEST(BaseModel, ADigestMismatchIsCorruptARefusedLayerIsInput) {
  TempDir dir;
  ASSERT_TRUE(testing::write_python_tar(dir / "a.tar.gz", "etc/a=1", "w:gz"));
  std::string data = testing::read_text(dir / "a.tar.gz");
  Descriptor layer = put_blob(dir, data);
  data[data.size() - 5] ^= 0x40;  // inside the gzip trailer: still the same size
  testing::write_text(dir / ("layout/blobs/sha256/" + layer.digest.hex()), data);
  auto mismatch = TreeModel::from_layers(dir / "layout", {layer}, nullptr);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().kind, ErrorKind::corrupt) << mismatch.error().message;
  ASSERT_TRUE(testing::write_python_tar(dir / "b.tar", "etc/.wh..wh.x"));
  auto refused = TreeModel::from_layers(dir / "layout", {put_blob(dir, testing::read_text(dir / "b.tar"))}, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::input) << refused.error().message;
}

TEST(BaseModel, FromLayersRefusesBadBlobsNamingThem) {
  TempDir dir;
  ASSERT_TRUE(testing::write_python_tar(dir / "a.tar.gz", "etc/a=1", "w:gz"));
  const std::string good = testing::read_text(dir / "a.tar.gz");
  Descriptor layer = put_blob(dir, good);
  const std::string blob = dir / ("layout/blobs/sha256/" + layer.digest.hex());
  auto error_with = [&](const std::function<void()>& damage) {
    ::unlink(blob.c_str());
    damage();
    auto model = TreeModel::from_layers(dir / "layout", {layer}, nullptr);
    return model.ok() ? std::string("(no error)") : model.error().message;
  };
  std::string wrong = good;
  wrong[wrong.size() - 5] ^= 0x40;  // inside the gzip trailer: still the same size
  EXPECT_NE(error_with([&] { testing::write_text(blob, wrong); }).find("does not match its digest"),
            std::string::npos);
  testing::write_text(dir / "decoy", good);
  EXPECT_NE(error_with([&] { ASSERT_EQ(::symlink((dir / "decoy").c_str(), blob.c_str()), 0); }).find("is a symbolic link"),
            std::string::npos);
  EXPECT_NE(error_with([&] { ASSERT_EQ(::mkfifo(blob.c_str(), 0644), 0); }).find("is a FIFO, not a regular file"),
            std::string::npos);
  EXPECT_NE(error_with([&] { testing::write_text(blob, good + "x"); }).find("but its descriptor says"),
            std::string::npos);
  const std::string missing = error_with([] {});
  EXPECT_NE(missing.find("base layer 1 (" + layer.digest.str() + ")"), std::string::npos) << missing;
}

TEST(BaseModel, FromDirectoryHashesFilesAndKeepsHardLinks) {
  TempDir dir;
  testing::make_dirs(dir / "root/d");
  testing::write_text(dir / "root/d/f", "content");
  ASSERT_EQ(::link((dir / "root/d/f").c_str(), (dir / "root/g").c_str()), 0);
  ASSERT_EQ(::symlink("/nowhere", (dir / "root/s").c_str()), 0);
  auto model = TreeModel::from_directory(dir / "root", {}, true, nullptr);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const std::vector<std::string> expected = {"d/", "d/f", "g", "s"};
  EXPECT_EQ(paths_of(*model), expected);
  EXPECT_EQ(*model->find("g")->content, Sha256::of("content"));
  EXPECT_EQ(model->find("g")->entry().type, EntryType::regular);
  EXPECT_EQ(model->link_group(*model->find("g")), (std::vector<std::string>{"d/f", "g"}));
  EXPECT_EQ(model->find("s")->entry().link_target, "/nowhere");
  auto unhashed = TreeModel::from_directory(dir / "root", {}, false, nullptr);
  ASSERT_TRUE(unhashed.ok());
  EXPECT_FALSE(unhashed->find("d/f")->content.has_value());
}

// from_layers reports "reading base" in blob bytes of the layers' total.
TEST(BaseModel, FromLayersReportsBytesReadOfTheTotal) {
  TempDir dir;
  ASSERT_TRUE(testing::write_python_tar(dir / "a.tar", "etc/;etc/a=" + std::string(100000, 'a')));
  ASSERT_TRUE(testing::write_python_tar(dir / "b.tar", "etc/b=2"));
  std::vector<Descriptor> layers = {put_blob(dir, testing::read_text(dir / "a.tar")),
                                    put_blob(dir, testing::read_text(dir / "b.tar"))};
  const uint64_t total = static_cast<uint64_t>(layers[0].size + layers[1].size);
  std::vector<PhaseStatus> seen;
  auto model = TreeModel::from_layers(dir / "layout", layers, nullptr,
                                      [&](const PhaseStatus& status) { seen.push_back(status); });
  ASSERT_TRUE(model.ok()) << model.error().message;
  ASSERT_FALSE(seen.empty());
  for (const auto& status : seen) {
    EXPECT_EQ(status.phase, "reading base");
    EXPECT_EQ(status.total, total);
    EXPECT_LE(status.done, total);
  }
  EXPECT_EQ(seen.back().done, total);
}

}  // namespace
}  // namespace ocipack
