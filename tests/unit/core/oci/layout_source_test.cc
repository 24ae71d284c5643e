// Tests for core/oci/layout_source.cc, the one seam every image reader goes
// through: a layout directory and its tarball (stage_layout_tarball, what
// `build --tar-output` writes) must read the same (index.json, documents,
// blob bytes, load_image, verify), a tarball member's BlobReader must stop
// at the member's end (not the tarball's), and a hostile or broken tarball
// (a '..' member, a link, a duplicate, an index.json over the document
// limit, a blob whose bytes do not match its digest or size) must be an
// error naming the culprit.
#include "core/oci/layout_source.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/image/layout_verify.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_tarball.h"
#include "expect_error.h"
#include "fake_layout.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::expect_error;
using testing::FakeLayout;
using testing::raw_tar_data;
using testing::raw_tar_end;
using testing::raw_tar_header;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

// A layout of one image (two layers) tagged "v1", and its tarball.
struct Fixture {
  TempDir tmp;
  std::string dir = tmp / "layout";
  std::string tar = tmp / "layout.tar";
  FakeLayout layout{dir};
  Descriptor manifest;
  std::vector<Descriptor> layers;

  Fixture() {
    const auto image = layout.image({"first layer bytes", std::string(3 << 20, 'x')});
    manifest = image.manifest;
    layout.tag(manifest, "v1");
    layers = load_image(dir, "v1")->manifest_doc.layers;
    auto staged = stage_layout_tarball(dir, tar, k_oci_layout_json, read_text(dir + "/index.json"), 0);
    EXPECT_TRUE(staged.ok()) << staged.error().message;
    EXPECT_TRUE(staged->commit(tar).ok());
  }
};

std::string read_all(BlobReader& blob) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = blob.read(buffer, sizeof buffer);
    EXPECT_GE(n, 0);
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

TEST(LayoutSource, APathIsATarballWhenItIsARegularFile) {
  Fixture f;
  auto dir = open_layout_source(f.dir);
  auto tar = open_layout_source(f.tar);
  ASSERT_TRUE(dir.ok() && tar.ok());
  EXPECT_FALSE((*dir)->is_tarball());
  EXPECT_TRUE((*tar)->is_tarball());
  EXPECT_EQ((*dir)->where(), "layout '" + f.dir + "'");
  EXPECT_EQ((*tar)->where(), "layout tarball '" + f.tar + "'");
  EXPECT_TRUE(is_layout_tarball_path(f.tar));
  EXPECT_FALSE(is_layout_tarball_path(f.dir));
  EXPECT_FALSE(is_layout_tarball_path(f.tmp / "missing"));
}

TEST(LayoutSource, DirectoryAndTarballReadTheSame) {
  Fixture f;
  auto dir = open_layout_source(f.dir);
  auto tar = open_layout_source(f.tar);
  ASSERT_TRUE(dir.ok() && tar.ok());
  EXPECT_EQ(*(*dir)->index_text(), *(*tar)->index_text());
  EXPECT_EQ(*(*dir)->read_document(f.manifest, "manifest"), *(*tar)->read_document(f.manifest, "manifest"));
  for (const auto& layer : f.layers) {
    auto from_dir = (*dir)->open_blob(layer, "layer");
    auto from_tar = (*tar)->open_blob(layer, "layer");
    ASSERT_TRUE(from_dir.ok() && from_tar.ok());
    EXPECT_EQ(from_tar->size(), static_cast<uint64_t>(layer.size));
    const std::string bytes = read_all(*from_dir);
    // The tarball member stops at its own end, not at the tarball's.
    EXPECT_EQ(read_all(*from_tar), bytes);
    char head[4] = {};
    ASSERT_EQ(from_tar->read_at(head, sizeof head, 1), 4);
    EXPECT_EQ(std::string(head, 4), bytes.substr(1, 4));
    EXPECT_EQ(from_tar->read_at(head, sizeof head, static_cast<uint64_t>(layer.size)), 0);
  }
  auto image_dir = load_image(**dir, "v1");
  auto image_tar = load_image(**tar, "v1");
  ASSERT_TRUE(image_dir.ok() && image_tar.ok()) << image_tar.error().message;
  EXPECT_EQ(image_dir->manifest.digest, image_tar->manifest.digest);
  EXPECT_EQ(image_dir->config_json, image_tar->config_json);
  // The path forms take the tarball too.
  EXPECT_TRUE(load_image(f.tar, "v1").ok());
  EXPECT_EQ(find_tagged_entry(f.tar, "v1")->digest, f.manifest.digest);
}

// verify finds the same in a tarball as in its directory (FakeLayout's
// layers are not tars: the same "not gzip" problems in both), and one more
// when a layer's bytes are changed inside the tarball.
TEST(LayoutSource, VerifyReadsATarballAndFindsItsCorruptBlob) {
  Fixture f;
  auto from_dir = verify_layout(f.dir, VerifyOptions{});
  auto report = verify_layout(f.tar, VerifyOptions{});
  ASSERT_TRUE(from_dir.ok() && report.ok()) << report.error().message;
  EXPECT_EQ(report->problems, from_dir->problems);
  EXPECT_EQ(report->blobs_checked, from_dir->blobs_checked);
  EXPECT_GE(report->blobs_checked, 4u);
  // One byte of the first layer flipped inside the tarball.
  std::string bytes = read_text(f.tar);
  const size_t at = bytes.find("first layer bytes");
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 1;
  write_text(f.tar, bytes);
  auto corrupt = verify_layout(f.tar, VerifyOptions{});
  ASSERT_TRUE(corrupt.ok());
  ASSERT_EQ(corrupt->problems.size(), from_dir->problems.size() + 1);
  bool named = false;
  for (const auto& line : corrupt->problems)
    named = named || (line.find(f.layers[0].digest.str()) != std::string::npos && line.find("hashes to") != std::string::npos);
  EXPECT_TRUE(named);
}

TEST(LayoutSource, ATarballBlobOfAnotherSizeOrContentIsRefused) {
  Fixture f;
  auto tar = open_layout_source(f.tar);
  ASSERT_TRUE(tar.ok());
  Descriptor wrong_size = f.manifest;
  wrong_size.size += 1;
  auto opened = (*tar)->open_blob(wrong_size, "manifest");
  expect_error(opened, {"manifest is " + std::to_string(f.manifest.size) + " bytes, but its descriptor says"});
  EXPECT_EQ(opened.error().kind, ErrorKind::corrupt);
  Descriptor missing = f.manifest;
  missing.digest = Sha256::of("nothing");
  expect_error((*tar)->open_blob(missing, "config"), {"config is missing"});

  std::string bytes = read_text(f.tar);
  const std::string manifest_text = read_text(f.layout.path_of(f.manifest));
  const size_t at = bytes.find(manifest_text);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] ^= 1;
  write_text(f.tar, bytes);
  auto corrupt = open_layout_source(f.tar);
  ASSERT_TRUE(corrupt.ok());
  expect_error((*corrupt)->read_document(f.manifest, "manifest"),
               {"layout tarball '" + f.tar + "'", f.manifest.digest.str(), "is corrupted"});
  expect_error(load_image(f.tar, "v1"), {"layout tarball", "is corrupted"});
}

TEST(LayoutSource, HostileTarballsAreRefusedNamingTheMember) {
  TempDir tmp;
  const std::string layout(k_oci_layout_json);
  auto tarball = [&](const std::string& name, const std::string& body) {
    write_text(tmp / name, raw_tar_header("oci-layout", '0', layout.size()) + raw_tar_data(layout) + body +
                               raw_tar_end());
    return tmp / name;
  };
  const std::string index = R"({"schemaVersion":2,"manifests":[]})";
  expect_error(open_layout_source(tarball("dotdot.tar", raw_tar_header("../index.json", '0', index.size()) +
                                                            raw_tar_data(index))),
               {"member '../index.json' has a '..' component"});
  expect_error(open_layout_source(tarball("abs.tar", raw_tar_header("/index.json", '0', index.size()) +
                                                         raw_tar_data(index))),
               {"member '/index.json' has an absolute path"});
  expect_error(open_layout_source(tarball("link.tar", raw_tar_header("index.json", '2', 0, "/etc/passwd"))),
               {"member 'index.json' is neither a regular file nor a directory"});
  expect_error(open_layout_source(tarball("twice.tar", raw_tar_header("index.json", '0', index.size()) +
                                                           raw_tar_data(index) +
                                                           raw_tar_header("./index.json", '0', index.size()) +
                                                           raw_tar_data(index))),
               {"member './index.json' appears twice"});
  // An index.json over the document limit is refused before it is read whole.
  const std::string huge(static_cast<size_t>(k_max_document_size) + 1, ' ');
  auto source = open_layout_source(tarball("huge.tar", raw_tar_header("index.json", '0', huge.size()) +
                                                           raw_tar_data(huge)));
  ASSERT_TRUE(source.ok()) << source.error().message;
  expect_error((*source)->index_text(), {"index.json is too large"});
  expect_error(load_image(tmp / "huge.tar", "latest"), {"index.json is too large"});
  // Not a tar at all.
  write_text(tmp / "junk.tar", std::string(1000, 'j'));
  expect_error(open_layout_source(tmp / "junk.tar"), {"layout tarball '" + tmp / "junk.tar" + "'"});
}

}  // namespace
}  // namespace ocipack
