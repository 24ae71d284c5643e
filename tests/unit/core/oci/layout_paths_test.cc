// Tests for core/oci/layout_paths.cc: blob paths (a trailing '/' of the
// layout dropped) and the temp-file names of builds, recognised exactly as
// TempFile and the tar input's spool create them — and nothing else.
#include "core/oci/layout_paths.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/util/temp_file.h"
#include "test_helpers.h"

namespace ocipack {
namespace {

TEST(LayoutPaths, BlobPaths) {
  auto digest = Digest::parse("sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(blob_relative_path(*digest), "blobs/sha256/" + std::string(64, 'a'));
  EXPECT_EQ(blob_path("out/", *digest), "out/blobs/sha256/" + std::string(64, 'a'));
  EXPECT_EQ(blob_path("/", *digest), "//blobs/sha256/" + std::string(64, 'a'));
  EXPECT_EQ(blob_dir_path("/x/out//"), "/x/out/blobs/sha256");
}

TEST(LayoutPaths, TempNamesAreTheOnesBuildsCreate) {
  testing::TempDir tmp;
  // Names made by the real creators are recognised.
  auto blob_temp = TempFile::create(tmp.path(), k_blob_temp_stem);
  ASSERT_TRUE(blob_temp.ok());
  const std::string blob_name = blob_temp->path().substr(tmp.path().size() + 1);
  EXPECT_TRUE(is_blob_temp_name(blob_name)) << blob_name;
  EXPECT_FALSE(is_layout_temp_name(blob_name));
  for (const char* file : {k_index_file, k_oci_layout_file}) {
    auto temp = TempFile::create(tmp.path(), file);
    ASSERT_TRUE(temp.ok());
    const std::string name = temp->path().substr(tmp.path().size() + 1);
    EXPECT_TRUE(is_layout_temp_name(name)) << name;
    EXPECT_FALSE(is_blob_temp_name(name)) << name;
  }
  EXPECT_TRUE(is_layout_temp_name(".ocipack-spool-Ab12Cd"));
  for (const char* other : {".ocipack-spool-Ab12C", ".index.json.tmp-12345", ".index.json.tmp-1234567", "index.json",
                            ".blob.tmp-abcdef", ".notes", ".oci-layout.tmp_abcdef"})
    EXPECT_FALSE(is_layout_temp_name(other)) << other;
  const std::vector<std::string> not_blob_temps{".blob.tmp-abcde", "blob.tmp-abcdef", ".blob.tmp-abcdefg",
                                                std::string(64, 'a')};
  for (const auto& other : not_blob_temps)
    EXPECT_FALSE(is_blob_temp_name(other)) << other;
}

}  // namespace
}  // namespace ocipack
