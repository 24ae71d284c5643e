// Tests for core/layer_extract.cc: layers are applied in order, `.wh.NAME`
// removes a lower path, `.wh..wh..opq` empties a lower directory but keeps
// what the same layer adds, hard links land inside the target, and an entry
// that climbs out with `..` is refused with an error naming it.
#include "core/layer_extract.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/sha256.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

// Writes a gzip'd tar (testing::write_python_tar specs) as a layout blob.
Descriptor make_layer(const TempDir& dir, const std::string& name, const std::string& specs) {
  const std::string tar = dir / (name + ".tar.gz");
  EXPECT_TRUE(testing::write_python_tar(tar, specs, "w:gz"));
  const std::string data = testing::read_text(tar);
  Descriptor d{k_media_type_layer_gzip, Sha256::of(data), static_cast<int64_t>(data.size()), {}};
  testing::make_dirs(dir / "layout/blobs/sha256");
  testing::write_text(dir / ("layout/blobs/sha256/" + d.digest.hex()), data);
  return d;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

TEST(LayerExtract, AppliesLayersAndWhiteouts) {
  TempDir dir;
  auto lower = make_layer(dir, "lower", "etc/;etc/a=1;etc/b=2;var/;var/cache/;var/cache/x=x;opt/;opt/o=o;etc/hl>etc/a");
  auto upper = make_layer(dir, "upper", "etc/;etc/.wh.b;var/.wh.cache;opt/;opt/.wh..wh..opq;opt/new=n;etc/a=changed");
  testing::make_dirs(dir / "root");
  auto status = extract_layers(dir / "layout", {lower, upper}, dir / "root");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(testing::read_text(dir / "root/etc/a"), "changed");
  EXPECT_FALSE(exists(dir / "root/etc/b"));
  EXPECT_FALSE(exists(dir / "root/var/cache"));
  EXPECT_TRUE(exists(dir / "root/var"));
  EXPECT_FALSE(exists(dir / "root/opt/o"));
  EXPECT_EQ(testing::read_text(dir / "root/opt/new"), "n");
  EXPECT_TRUE(exists(dir / "root/etc/hl"));
  EXPECT_FALSE(exists(dir / "root/etc/.wh.b"));
  EXPECT_FALSE(exists(dir / "root/opt/.wh..wh..opq"));
}

TEST(LayerExtract, RefusesEntriesThatLeaveTheRoot) {
  TempDir dir;
  auto evil = make_layer(dir, "evil", "ok=1;../escaped=x");
  testing::make_dirs(dir / "sub/root");
  auto status = extract_layers(dir / "layout", {evil}, dir / "sub/root");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("../escaped"), std::string::npos) << status.error().message;
  EXPECT_FALSE(exists(dir / "sub/escaped"));
}

TEST(LayerExtract, MissingBlobIsAnErrorNamingTheLayer) {
  TempDir dir;
  testing::make_dirs(dir / "root");
  Descriptor ghost{k_media_type_layer_gzip, Sha256::of("nothing"), 7, {}};
  auto status = extract_layers(dir / "layout", {ghost}, dir / "root");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(ghost.digest.str()), std::string::npos) << status.error().message;
}

}  // namespace
}  // namespace ocipack
