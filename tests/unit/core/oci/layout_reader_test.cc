// Tests for core/layout_reader.cc: reading an OCI image layout back. The
// "LAYOUT[:TAG]" grammar is pinned case by case (a part after the last ':'
// that contains '/' is not a tag: "host:5000/path" is a layout path).
// read_index must keep file order and annotations and name the layout and the
// field for every kind of broken layout. parse_config must invert
// encode_config exactly (decode → re-encode gives the same bytes), accept what
// Go tools write (nulls, unknown fields, a string Entrypoint) and name the
// field on a type error. load_image must find the tag (or list the available
// ones), follow a single-entry nested index, pick one image of a
// multi-platform index by platform (and refuse to guess without one, listing
// the platforms), and refuse a blob whose size or
// sha256 does not match its descriptor, naming the digest. Layouts are built by
// hand in a temp directory with encode_config/encode_manifest/update_index so
// the tests do not depend on the pipeline. Hostile layouts: every kind of
// non-regular file in place of index.json, oci-layout or a blob, symlinked
// blobs directories, JSON nested 10^5–10^6 deep or over the size limit,
// entries ocipack cannot read next to good ones, ambiguous tags, escaped
// tags in messages, and "LAYOUT:a/b" resolved by the layout on disk.
#include "core/oci/layout_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/sha256.h"
#include "fake_layout.h"
#include "hostile_files.h"
#include "test_helpers.h"
#include "expect_error.h"

namespace ocipack {
namespace {

using ocipack::testing::expect_error;

using ocipack::testing::make_dirs;
using ocipack::testing::read_text;
using ocipack::testing::TempDir;
using ocipack::testing::write_text;

using ocipack::testing::FakeImage;
using ocipack::testing::FakeLayout;

std::string digest_text(char c) { return "sha256:" + std::string(64, c); }

Digest digest_of_char(char c) {
  auto parsed = Digest::parse(digest_text(c));
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? *parsed : Digest();
}

ImageConfig full_config() {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.author = "Jane <jane@example.com>";
  c.architecture = "arm";
  c.variant = "v7";
  c.os = "linux";
  c.config.user = "1000:1000";
  c.config.exposed_ports = {"53/udp", "80/tcp", "8080/tcp"};
  c.config.env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY="};
  c.config.entrypoint = {"/bin/sh", "-c"};
  c.config.cmd = {"echo \"hi\"\n", "tab\there", std::string("\x01") + "\\/"};
  c.config.working_dir = "/srv";
  c.config.labels = {{"org.opencontainers.image.title", "demo"}, {"a", "\xc3\xa9"}};
  c.config.stop_signal = "SIGTERM";
  c.diff_ids = {digest_of_char('1'), digest_of_char('2')};
  HistoryEntry first;
  first.created = "2024-01-02T03:04:05Z";
  first.created_by = "ocipack";
  first.author = "Jane";
  first.comment = "base layer";
  HistoryEntry second;
  second.created = "2024-01-02T03:04:06Z";
  second.empty_layer = true;
  c.history = {first, second};
  return c;
}

void expect_configs_equal(const ImageConfig& a, const ImageConfig& b) {
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.author, b.author);
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.variant, b.variant);
  EXPECT_EQ(a.os, b.os);
  EXPECT_EQ(a.config.user, b.config.user);
  EXPECT_EQ(a.config.exposed_ports, b.config.exposed_ports);
  EXPECT_EQ(a.config.env, b.config.env);
  EXPECT_EQ(a.config.entrypoint, b.config.entrypoint);
  EXPECT_EQ(a.config.cmd, b.config.cmd);
  EXPECT_EQ(a.config.working_dir, b.config.working_dir);
  EXPECT_EQ(a.config.labels, b.config.labels);
  EXPECT_EQ(a.config.stop_signal, b.config.stop_signal);
  EXPECT_EQ(a.diff_ids, b.diff_ids);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].created, b.history[i].created);
    EXPECT_EQ(a.history[i].created_by, b.history[i].created_by);
    EXPECT_EQ(a.history[i].author, b.history[i].author);
    EXPECT_EQ(a.history[i].comment, b.history[i].comment);
    EXPECT_EQ(a.history[i].empty_layer, b.history[i].empty_layer);
  }
}

// Expects an error whose message contains every one of `parts`.
// --- parse_image_ref

ImageRef ref_ok(std::string_view text, std::string_view default_tag = "latest") {
  auto ref = parse_image_ref(text, default_tag);
  EXPECT_TRUE(ref.ok()) << text << ": " << (ref.ok() ? "" : ref.error().message);
  return ref.ok() ? *ref : ImageRef{};
}

TEST(LayoutReaderImageRef, SplitsAtTheFirstColonAfterTheLastSlash) {
  auto a = ref_ok("/a/b:tag");
  EXPECT_EQ(a.layout_dir, "/a/b");
  EXPECT_EQ(a.tag, "tag");
  auto b = ref_ok("./x:1.0");
  EXPECT_EQ(b.layout_dir, "./x");
  EXPECT_EQ(b.tag, "1.0");
  auto c = ref_ok("dir:a:b");  // tags may contain ':' (Yocto's OCI_IMAGE_TAG may)
  EXPECT_EQ(c.layout_dir, "dir");
  EXPECT_EQ(c.tag, "a:b");
  auto e = ref_ok("/deploy/img-oci:1.0:rc1");
  EXPECT_EQ(e.layout_dir, "/deploy/img-oci");
  EXPECT_EQ(e.tag, "1.0:rc1");
  auto d = ref_ok("relative:v2-rc.1_x");
  EXPECT_EQ(d.layout_dir, "relative");
  EXPECT_EQ(d.tag, "v2-rc.1_x");
}

TEST(LayoutReaderImageRef, WithoutATagUsesTheDefault) {
  auto a = ref_ok("/a/b");
  EXPECT_EQ(a.layout_dir, "/a/b");
  EXPECT_EQ(a.tag, "latest");
  auto b = ref_ok("/a/b", "dev");
  EXPECT_EQ(b.tag, "dev");
  auto c = ref_ok("out");
  EXPECT_EQ(c.layout_dir, "out");
}

TEST(LayoutReaderImageRef, APartAfterTheColonWithASlashIsNotATag) {
  auto a = ref_ok("host:5000/path");
  EXPECT_EQ(a.layout_dir, "host:5000/path");
  EXPECT_EQ(a.tag, "latest");
  auto b = ref_ok("/mnt/c:/images/app");
  EXPECT_EQ(b.layout_dir, "/mnt/c:/images/app");
  EXPECT_EQ(b.tag, "latest");
  auto c = ref_ok("host:5000/path:v2");
  EXPECT_EQ(c.layout_dir, "host:5000/path");
  EXPECT_EQ(c.tag, "v2");
}

TEST(LayoutReaderImageRef, TrailingSlashesAreDropped) {
  EXPECT_EQ(ref_ok("/a/b/:v1").layout_dir, "/a/b");
  EXPECT_EQ(ref_ok("out//").layout_dir, "out");
  EXPECT_EQ(ref_ok("/:v1").layout_dir, "/");
}

TEST(LayoutReaderImageRef, Errors) {
  expect_error(parse_image_ref(""), {"empty image reference"});
  expect_error(parse_image_ref(":tag"), {"':tag'", "empty layout"});
  expect_error(parse_image_ref("/a/b:"), {"'/a/b:'", "empty tag"});
  expect_error(parse_image_ref("/a/b:-bad"), {"'/a/b:-bad'", "invalid tag '-bad'"});
  expect_error(parse_image_ref("/a/b:a..b"), {"invalid tag 'a..b'"});
  expect_error(parse_image_ref("/a/b", "no good"), {"invalid tag 'no good'"});
}

// --- read_index

TEST(LayoutReaderIndex, KeepsFileOrderAndAnnotations) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto one = layout.image({"layer one"});
  auto two = layout.image({"layer two"});
  layout.tag(one.manifest, "v1");
  layout.tag(two.manifest, "v2");
  Descriptor untagged = one.manifest;
  untagged.annotations["org.example.note"] = "kept";
  layout.tag(untagged, "");
  layout.tag(two.manifest, "v1");  // replaced in place, stays first

  auto index = read_index(layout.dir());
  ASSERT_TRUE(index.ok()) << index.error().message;
  ASSERT_EQ(index->size(), 3u);
  EXPECT_EQ((*index)[0].digest, two.manifest.digest);
  EXPECT_EQ((*index)[0].annotations.at(k_annotation_ref_name), "v1");
  EXPECT_EQ((*index)[1].annotations.at(k_annotation_ref_name), "v2");
  EXPECT_EQ((*index)[2].annotations.count(k_annotation_ref_name), 0u);
  EXPECT_EQ((*index)[2].annotations.at("org.example.note"), "kept");
  EXPECT_EQ((*index)[2].media_type, k_media_type_manifest);
  EXPECT_EQ((*index)[2].size, one.manifest.size);
  // A trailing slash on the layout path changes nothing.
  auto again = read_index(layout.dir() + "/");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
}

TEST(LayoutReaderIndex, MissingOrNullManifestsIsEmpty) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  write_text(layout.dir() + "/index.json", R"({"schemaVersion":2})");
  auto a = read_index(layout.dir());
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(a->empty());
  write_text(layout.dir() + "/index.json", R"({"schemaVersion":2,"manifests":null})");
  auto b = read_index(layout.dir());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->empty());
}

TEST(LayoutReaderIndex, LayoutErrorsNameTheLayout) {
  TempDir tmp;
  expect_error(read_index(tmp / "absent"), {tmp / "absent"});
  write_text(tmp / "file", "x");
  expect_error(read_index(tmp / "file"), {tmp / "file", "not a directory"});
  make_dirs(tmp / "plain");
  expect_error(read_index(tmp / "plain"), {tmp / "plain", "no oci-layout"});

  FakeLayout layout(tmp / "layout");
  expect_error(read_index(layout.dir()), {layout.dir(), "no index.json"});
  write_text(layout.dir() + "/oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
  expect_error(read_index(layout.dir()), {layout.dir(), "imageLayoutVersion '2.0.0'"});
  write_text(layout.dir() + "/oci-layout", "not json");
  expect_error(read_index(layout.dir()), {layout.dir(), "oci-layout"});
}

TEST(LayoutReaderIndex, DocumentErrorsNameTheField) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  const std::string good = R"({"mediaType":"m","digest":")" + digest_text('a') + R"(","size":1})";
  struct Case {
    std::string index;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"{", {"index.json", "not valid JSON"}},
      {"[]", {"index.json", "not a JSON object"}},
      {R"({"manifests":{}})", {"index.json", "manifests is an object, expected an array"}},
      {R"({"manifests":[)" + good + R"(,{"digest":"sha256:abc","size":1}]})",
       {"manifests[1].digest", "malformed digest 'sha256:abc'"}},
      {R"({"manifests":[{"digest":"md5:00","size":1}]})", {"manifests[0].digest", "unsupported digest"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"(","size":-5}]})",
       {"manifests[0].size is negative (-5)"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"(","size":1.5}]})",
       {"manifests[0].size is not an integer"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"(","size":18446744073709551615}]})",
       {"manifests[0].size is out of range"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"(","size":"1"}]})",
       {"manifests[0].size is a string, expected an integer"}},
      {R"({"manifests":[{"size":1}]})", {"manifests[0] has no digest"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"("}]})", {"manifests[0] has no size"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"(","size":1,"annotations":{"k":1}}]})",
       {"manifests[0].annotations.k is a number, expected a string"}},
      {R"({"manifests":[{"digest":")" + digest_text('a') + R"(","size":1,"mediaType":7}]})",
       {"manifests[0].mediaType is a number, expected a string"}},
      {R"({"manifests":["x"]})", {"manifests[0] is a string, expected an object"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.index);
    write_text(layout.dir() + "/index.json", c.index);
    auto result = read_index(layout.dir());
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("layout '" + layout.dir() + "'"), std::string::npos)
        << result.error().message;
    for (const auto& part : c.parts)
      EXPECT_NE(result.error().message.find(part), std::string::npos) << result.error().message;
  }
}

TEST(LayoutReaderIndex, UnknownFieldsAndDuplicateKeys) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  // Unknown members are ignored; a repeated key takes its last value (as Go does).
  write_text(layout.dir() + "/index.json",
             R"({"schemaVersion":2,"x":[1,{"y":null}],"manifests":[{"mediaType":"a","digest":")" +
                 digest_text('a') + R"(","size":1,"size":2,"platform":{"os":"linux"},"urls":["u"]}]})");
  auto index = read_index(layout.dir());
  ASSERT_TRUE(index.ok()) << index.error().message;
  ASSERT_EQ(index->size(), 1u);
  EXPECT_EQ((*index)[0].size, 2);
  EXPECT_EQ((*index)[0].media_type, "a");
}

// --- parse_config / parse_manifest

TEST(LayoutReaderConfig, FullConfigRoundTrip) {
  const ImageConfig original = full_config();
  auto json = encode_config(original);
  ASSERT_TRUE(json.ok()) << json.error().message;
  auto parsed = parse_config(*json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  expect_configs_equal(*parsed, original);
  auto again = encode_config(*parsed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *json);  // decode → encode is the identity on our documents
}

TEST(LayoutReaderConfig, MinimalConfigRoundTrip) {
  ImageConfig original;
  original.architecture = "amd64";
  original.os = "linux";
  auto json = encode_config(original);
  ASSERT_TRUE(json.ok());
  auto parsed = parse_config(*json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  expect_configs_equal(*parsed, original);
  EXPECT_EQ(*encode_config(*parsed), *json);
}

TEST(LayoutReaderConfig, AcceptsWhatGoToolsWrite) {
  // Docker/Go style: nulls for empty slices and maps, unknown fields, a
  // pretty-printed document, unsorted and repeated ExposedPorts, a string Cmd.
  const std::string json = R"({
    "architecture": "arm64", "os": "linux", "variant": null, "os.version": "x",
    "config": {
      "Hostname": "", "Env": null, "Entrypoint": null, "Cmd": "/bin/sh",
      "ExposedPorts": {"80/tcp": {}, "443/tcp": {}, "22/tcp": {}, "80/tcp": {}},
      "Volumes": {"/data": {}}, "Labels": null, "OnBuild": null
    },
    "container_config": {"Cmd": ["ignored"]},
    "rootfs": {"type": "layers", "diff_ids": [")" + digest_text('3') + R"("]},
    "history": [{"created": "2020-01-01T00:00:00.123456789Z", "created_by": "/bin/sh -c #(nop) ADD", "empty_layer": null}]
  })";
  auto parsed = parse_config(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->architecture, "arm64");
  EXPECT_EQ(parsed->variant, "");
  EXPECT_TRUE(parsed->config.env.empty());
  EXPECT_TRUE(parsed->config.entrypoint.empty());
  EXPECT_EQ(parsed->config.cmd, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(parsed->config.exposed_ports, (std::vector<std::string>{"22/tcp", "443/tcp", "80/tcp"}));
  EXPECT_TRUE(parsed->config.labels.empty());
  ASSERT_EQ(parsed->diff_ids.size(), 1u);
  EXPECT_EQ(parsed->diff_ids[0], digest_of_char('3'));
  ASSERT_EQ(parsed->history.size(), 1u);
  EXPECT_EQ(parsed->history[0].created, "2020-01-01T00:00:00.123456789Z");
  EXPECT_FALSE(parsed->history[0].empty_layer);
}

TEST(LayoutReaderConfig, KeepsFieldsItDoesNotModel) {
  const std::string json = R"({"architecture":"amd64","os":"windows","os.version":"10.0.17763.1",)"
                           R"("os.features":["win32k"],"x-vendor":{"b":1,"a":[true,null]},)"
                           R"("config":{"User":"u","Volumes":{"/v":{}},"Healthcheck":{"Test":["NONE"]},)"
                           R"("Shell":["/bin/bash","-c"],"OnBuild":["RUN x"],"StopTimeout":7,"ArgsEscaped":true,)"
                           R"("StopTimeout":9},"rootfs":{"type":"layers","diff_ids":[]}})";
  auto parsed = parse_config(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->extra_fields, (std::map<std::string, std::string>{
                                      {"os.features", R"(["win32k"])"},
                                      {"os.version", R"("10.0.17763.1")"},
                                      {"x-vendor", R"({"b":1,"a":[true,null]})"}}));
  EXPECT_EQ(parsed->config.extra_fields, (std::map<std::string, std::string>{
                                             {"ArgsEscaped", "true"},
                                             {"Healthcheck", R"({"Test":["NONE"]})"},
                                             {"OnBuild", R"(["RUN x"])"},
                                             {"Shell", R"(["/bin/bash","-c"])"},
                                             {"StopTimeout", "9"},  // the last of a repeated key
                                             {"Volumes", R"({"/v":{}})"}}));
  EXPECT_EQ(parsed->config.user, "u");
  auto again = encode_config(*parsed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, R"({"architecture":"amd64","os":"windows","config":{"User":"u","ArgsEscaped":true,)"
                    R"("Healthcheck":{"Test":["NONE"]},"OnBuild":["RUN x"],"Shell":["/bin/bash","-c"],)"
                    R"("StopTimeout":9,"Volumes":{"/v":{}}},"rootfs":{"type":"layers","diff_ids":[]},)"
                    R"("os.features":["win32k"],"os.version":"10.0.17763.1","x-vendor":{"b":1,"a":[true,null]}})");
}

TEST(LayoutReaderConfig, ErrorsNameTheField) {
  struct Case {
    std::string json;
    std::string part;
  };
  const std::vector<Case> cases = {
      {"{", "image config is not valid JSON"},
      {"[1]", "image config is not a JSON object"},
      {R"({"architecture":1})", "architecture is a number, expected a string"},
      {R"({"config":[]})", "config is an array, expected an object"},
      {R"({"config":{"Env":"A=1"}})", "config.Env is a string, expected an array of strings"},
      {R"({"config":{"Env":["A=1",2]}})", "config.Env[1] is a number, expected a string"},
      {R"({"config":{"Cmd":[true]}})", "config.Cmd[0] is a boolean, expected a string"},
      {R"({"config":{"Labels":{"a":"b","c":{}}}})", "config.Labels.c is an object, expected a string"},
      {R"({"config":{"ExposedPorts":["80/tcp"]}})", "config.ExposedPorts is an array, expected an object"},
      {R"({"config":{"User":0}})", "config.User is a number, expected a string"},
      {R"({"rootfs":{"diff_ids":"x"}})", "rootfs.diff_ids is a string, expected an array of digests"},
      {R"({"rootfs":{"diff_ids":["sha256:zz"]}})", "rootfs.diff_ids[0]: malformed digest 'sha256:zz'"},
      {R"({"history":{}})", "history is an object, expected an array"},
      {R"({"history":[{},{"empty_layer":"yes"}]})", "history[1].empty_layer is a string, expected a boolean"},
      {R"({"history":[{"comment":5}]})", "history[0].comment is a number, expected a string"},
      {"{\"author\":\"\xff\"}", "image config is not valid JSON"},  // invalid UTF-8
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    auto parsed = parse_config(c.json);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find(c.part), std::string::npos) << parsed.error().message;
  }
}

TEST(LayoutReaderManifest, RoundTrip) {
  Manifest original;
  original.config = Descriptor{k_media_type_config, digest_of_char('c'), 123, {}};
  original.layers = {Descriptor{k_media_type_layer_gzip, digest_of_char('1'), 1000, {{"k", "v"}}},
                     Descriptor{"application/vnd.oci.image.layer.v1.tar", digest_of_char('2'), 0, {}}};
  auto json = encode_manifest(original);
  ASSERT_TRUE(json.ok());
  auto parsed = parse_manifest(*json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->config.digest, original.config.digest);
  EXPECT_EQ(parsed->config.size, 123);
  EXPECT_EQ(parsed->config.media_type, k_media_type_config);
  ASSERT_EQ(parsed->layers.size(), 2u);
  EXPECT_EQ(parsed->layers[0].annotations, original.layers[0].annotations);
  EXPECT_EQ(parsed->layers[1].media_type, original.layers[1].media_type);
  EXPECT_EQ(parsed->layers[1].size, 0);
  EXPECT_EQ(*encode_manifest(*parsed), *json);
}

TEST(LayoutReaderManifest, Errors) {
  const std::string config = R"("config":{"digest":")" + digest_text('c') + R"(","size":1})";
  expect_error(parse_manifest(R"({"layers":[]})"), {"manifest has no config descriptor"});
  expect_error(parse_manifest("{" + config + R"(,"layers":[{"digest":")" + digest_text('1') +
                              R"(","size":1},{"digest":")" + digest_text('2') + R"(","size":-1}]})"),
               {"manifest: layers[1].size is negative"});
  expect_error(parse_manifest("{" + config + R"(,"layers":{}})"), {"layers is an object, expected an array"});
  expect_error(parse_manifest(R"({"mediaType":")" + std::string(k_media_type_index) + R"(","manifests":[]})"),
               {"is an image index"});
  auto no_layers = parse_manifest("{" + config + R"(,"layers":null})");
  ASSERT_TRUE(no_layers.ok()) << no_layers.error().message;
  EXPECT_TRUE(no_layers->layers.empty());
}

TEST(LayoutReaderSniff, DocumentKinds) {
  EXPECT_EQ(sniff_document_kind(R"({"manifests":[]})"), DocumentKind::index);
  EXPECT_EQ(sniff_document_kind(R"({"schemaVersion":2,"config":{}})"), DocumentKind::manifest);
  EXPECT_EQ(sniff_document_kind(R"({"layers":[]})"), DocumentKind::manifest);
  EXPECT_EQ(sniff_document_kind(R"({"architecture":"amd64"})"), DocumentKind::other);
  EXPECT_EQ(sniff_document_kind("\x1f\x8b binary"), DocumentKind::other);
  EXPECT_EQ(sniff_document_kind("[]"), DocumentKind::other);
}

// --- load_image

TEST(LayoutReaderLoad, LoadsTheTaggedImage) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  ImageConfig config = full_config();
  auto one = layout.image({"layer a", "layer b"}, config);
  auto two = layout.image({"other"});
  layout.tag(two.manifest, "other");
  layout.tag(one.manifest, "v1");

  auto image = load_image(layout.dir(), "v1");
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(image->manifest.digest, one.manifest.digest);
  EXPECT_EQ(image->manifest.annotations.at(k_annotation_ref_name), "v1");
  EXPECT_EQ(image->manifest_doc.config.digest, one.config.digest);
  ASSERT_EQ(image->manifest_doc.layers.size(), 2u);
  EXPECT_EQ(image->manifest_doc.layers[1].digest, one.layers[1].digest);
  EXPECT_EQ(image->config_json, one.config_json);
  config.diff_ids = {Sha256::of("tar:layer a"), Sha256::of("tar:layer b")};
  expect_configs_equal(image->config, config);
}

TEST(LayoutReaderLoad, UnknownTagListsTheAvailableTags) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto one = layout.image({"a"});
  layout.tag(one.manifest, "v1");
  layout.tag(one.manifest, "v2");
  layout.tag(one.manifest, "");
  expect_error(load_image(layout.dir(), "v3"),
               {layout.dir(), "no image tagged 'v3'", "available tags: 'v1', 'v2'", "1 untagged"});

  FakeLayout empty(tmp / "empty");
  write_text(empty.dir() + "/index.json", R"({"schemaVersion":2,"manifests":[]})");
  expect_error(load_image(empty.dir(), "latest"), {"no image tagged 'latest'", "no tagged images"});
}

TEST(LayoutReaderLoad, CorruptedBlobsNameTheDigest) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"layer"});
  layout.tag(image.manifest, "v1");
  const std::string config_path = layout.path_of(image.config);
  const std::string config = read_text(config_path);

  // Same size, different content: the digest check catches it.
  std::string flipped = config;
  flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'x' ? 'y' : 'x';
  write_text(config_path, flipped);
  expect_error(load_image(layout.dir(), "v1"),
               {image.config.digest.str(), "config of tag 'v1'", "corrupted", Sha256::of(flipped).str()});

  // Different size: named before any hashing.
  write_text(config_path, config + " ");
  expect_error(load_image(layout.dir(), "v1"),
               {image.config.digest.str(), std::to_string(config.size() + 1) + " bytes",
                "descriptor says " + std::to_string(config.size())});

  write_text(config_path, config);
  ASSERT_TRUE(load_image(layout.dir(), "v1").ok());

  // The manifest blob is checked the same way.
  const std::string manifest_path = layout.path_of(image.manifest);
  const std::string manifest = read_text(manifest_path);
  write_text(manifest_path, manifest.substr(0, manifest.size() - 1) + " ");
  expect_error(load_image(layout.dir(), "v1"), {image.manifest.digest.str(), "manifest of tag 'v1'", "corrupted"});
  ::unlink(manifest_path.c_str());
  expect_error(load_image(layout.dir(), "v1"), {image.manifest.digest.str(), "is missing"});
}

TEST(LayoutReaderLoad, LayersMustExistWithTheirSize) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"layer one", "layer two"});
  layout.tag(image.manifest, "v1");
  const std::string layer_path = layout.path_of(image.layers[1]);
  write_text(layer_path, "short");
  expect_error(load_image(layout.dir(), "v1"),
               {"layer " + image.layers[1].digest.str(), "5 bytes", "descriptor says 9"});
  ::unlink(layer_path.c_str());
  expect_error(load_image(layout.dir(), "v1"), {"layer " + image.layers[1].digest.str(), "missing"});
}

TEST(LayoutReaderLoad, DiffIdCountMustMatchLayers) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"layer one"});
  // A config that claims two diff_ids for the manifest's one layer.
  ImageConfig config = FakeLayout::base_config();
  config.diff_ids = {digest_of_char('1'), digest_of_char('2')};
  auto config_json = encode_config(config);
  ASSERT_TRUE(config_json.ok());
  Manifest manifest{layout.blob(*config_json, k_media_type_config), image.layers};
  auto manifest_desc = layout.blob(*encode_manifest(manifest), k_media_type_manifest);
  layout.tag(manifest_desc, "bad");
  expect_error(load_image(layout.dir(), "bad"), {"config " + manifest.config.digest.str(), "2 diff_ids for 1 layers"});
}

TEST(LayoutReaderLoad, FollowsASingleEntryNestedIndex) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"layer"});
  auto other = layout.image({"other layer"});
  const std::string single = R"({"schemaVersion":2,"mediaType":")" + std::string(k_media_type_index) +
                             R"(","manifests":[{"mediaType":")" + k_media_type_manifest + R"(","digest":")" +
                             image.manifest.digest.str() + R"(","size":)" +
                             std::to_string(image.manifest.size) + R"(,"platform":{"architecture":"amd64","os":"linux"}}]})";
  layout.tag(layout.blob(single, k_media_type_index), "nested");
  auto loaded = load_image(layout.dir(), "nested");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->manifest.digest, image.manifest.digest);
  EXPECT_EQ(loaded->config_json, image.config_json);

  std::string multi = single;
  multi.insert(multi.find("]}"), R"(,{"mediaType":")" + std::string(k_media_type_manifest) + R"(","digest":")" +
                                     other.manifest.digest.str() + R"(","size":)" +
                                     std::to_string(other.manifest.size) + "}");
  layout.tag(layout.blob(multi, k_media_type_index), "multi");
  expect_error(load_image(layout.dir(), "multi"), {"tag 'multi'", "image index with 2 manifests"});
}

// A layout with "multi": an index of amd64, arm/v7 and a nested index
// holding arm64/v8 (whose own entry in the outer index has no platform).
struct MultiPlatformLayout {
  FakeLayout layout;
  FakeImage amd, arm, arm64;
  Descriptor inner, outer;
  explicit MultiPlatformLayout(const std::string& dir) : layout(dir) {
    auto config = [](const char* arch, const char* variant) {
      ImageConfig c = FakeLayout::base_config();
      c.architecture = arch;
      c.variant = variant;
      return c;
    };
    amd = layout.image({"amd"}, config("amd64", ""));
    arm = layout.image({"arm"}, config("arm", "v7"));
    arm64 = layout.image({"arm64"}, config("arm64", "v8"));
    amd.manifest.platform = Platform{"amd64", "linux", "", {}, ""};
    arm.manifest.platform = Platform{"arm", "linux", "", {}, "v7"};
    arm64.manifest.platform = Platform{"arm64", "linux", "", {}, "v8"};
    inner = layout.blob(*encode_index(ImageIndex{{arm64.manifest}, {}}), k_media_type_index);
    outer = layout.blob(*encode_index(ImageIndex{{amd.manifest, arm.manifest, inner}, {}}), k_media_type_index);
    layout.tag(outer, "multi");
    layout.tag(amd.manifest, "plain");
  }
};

TEST(LayoutReaderLoad, AMultiPlatformIndexNeedsAPlatformAndListsThem) {
  TempDir tmp;
  MultiPlatformLayout m(tmp / "layout");
  auto refused = load_image(m.layout.dir(), "multi");
  expect_error(refused, {"tag 'multi' names an image index with 3 manifests: choose a platform (linux/amd64, "
                         "linux/arm/v7, manifests[2] (no platform))"});
  EXPECT_TRUE(refused.error().is(ErrorKind::input));

  auto arm = load_image(m.layout.dir(), "multi", *parse_platform("linux/arm/v7"));
  ASSERT_TRUE(arm.ok()) << arm.error().message;
  EXPECT_EQ(arm->manifest.digest, m.arm.manifest.digest);
  EXPECT_EQ(arm->config.architecture, "arm");
  ASSERT_EQ(arm->indexes.size(), 1u);
  EXPECT_EQ(arm->indexes[0].digest, m.outer.digest);

  expect_error(load_image(m.layout.dir(), "multi", *parse_platform("linux/s390x")),
               {"no image for platform linux/s390x", "(it has linux/amd64, linux/arm/v7, manifests[2] (no platform))"});
  // The platform of a tag naming one image must be that image's.
  EXPECT_TRUE(load_image(m.layout.dir(), "plain", *parse_platform("linux/amd64")).ok());
  expect_error(load_image(m.layout.dir(), "plain", *parse_platform("linux/arm64")),
               {"tag 'plain' names an image for linux/amd64, not linux/arm64"});
}

TEST(LayoutReaderLoad, SeveralImagesForOnePlatformAreRefused) {
  TempDir tmp;
  MultiPlatformLayout m(tmp / "layout");
  Descriptor arm_v6 = m.arm.manifest;
  arm_v6.platform->variant = "v6";
  m.layout.tag(m.layout.blob(*encode_index(ImageIndex{{m.arm.manifest, arm_v6}, {}}), k_media_type_index), "arms");
  expect_error(load_image(m.layout.dir(), "arms", *parse_platform("linux/arm")),
               {"2 images for platform linux/arm", "name the variant too"});
  EXPECT_TRUE(load_image(m.layout.dir(), "arms", *parse_platform("linux/arm/v6")).ok());
}

TEST(LayoutReaderLoad, NestedIndexesAreFollowedToTheImage) {
  TempDir tmp;
  MultiPlatformLayout m(tmp / "layout");
  // A tag naming the inner index directly: one entry, followed without a platform.
  m.layout.tag(m.inner, "inner");
  auto inner = load_image(m.layout.dir(), "inner");
  ASSERT_TRUE(inner.ok()) << inner.error().message;
  EXPECT_EQ(inner->manifest.digest, m.arm64.manifest.digest);
  // An index of one index of one index ... deeper than 8 is refused.
  Descriptor d = m.amd.manifest;
  for (int i = 0; i < 9; ++i) d = m.layout.blob(*encode_index(ImageIndex{{d}, {}}), k_media_type_index);
  m.layout.tag(d, "deep");
  expect_error(load_image(m.layout.dir(), "deep"), {"nested too deeply"});
}

TEST(LayoutReaderLoad, ReadBlobRefusesOversizedDocuments) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  Descriptor d = layout.blob("{}", k_media_type_config);
  ASSERT_TRUE(read_blob(layout.dir(), d, "test").ok());
  // A descriptor claiming a huge size with a file to match is not read into memory.
  const std::string path = layout.path_of(d);
  ASSERT_EQ(::truncate(path.c_str(), k_max_document_size + 1), 0);
  d.size = k_max_document_size + 1;
  expect_error(read_blob(layout.dir(), d, "test"), {d.digest.str(), "too large"});
}

// --- hostile layouts

// `n` nested arrays (or objects) as JSON text.
std::string nested(size_t n, bool objects = false) {
  std::string out;
  out.reserve(2 * n + 8 * n * objects);
  for (size_t i = 0; i < n; ++i) out += objects ? "{\"k\":" : "[";
  out += "1";
  for (size_t i = 0; i < n; ++i) out += objects ? "}" : "]";
  return out;
}

// index.json text with one extra top-level member `x` holding `value`.
std::string index_with_member(const std::string& index_text, const std::string& value) {
  std::string out = index_text;
  EXPECT_EQ(out.back(), '}');
  out.pop_back();
  return out + ",\"x\":" + value + "}";
}

TEST(LayoutReaderImageRef, TagsWithSlashesFollowTheLayoutOnDisk) {
  TempDir tmp;
  FakeLayout layout(tmp / "L");
  FakeLayout colon(tmp / "p:q/L2");
  make_dirs(tmp / "plain");
  struct Case {
    std::string text, layout, tag;
  };
  const std::vector<Case> cases = {
      // Rule 1: the split whose left part is a layout, even with '/' in the tag.
      {"L:a/b", "L", "a/b"},
      {"L:library/busybox:1.0", "L", "library/busybox:1.0"},
      {"L:v1", "L", "v1"},
      // ':' in an earlier path component of the layout.
      {"p:q/L2:a/b", "p:q/L2", "a/b"},
      {"p:q/L2", "p:q/L2", "latest"},
      // Rule 2 when no split names a layout: the old split after the last '/'
      // (a directory without oci-layout is not a layout).
      {"absent:a/b", "absent:a/b", "latest"},
      {"plain:a/b", "plain:a/b", "latest"},
      {"absent:v1", "absent", "v1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto ref = ref_ok(tmp / c.text);
    EXPECT_EQ(ref.layout_dir, tmp / c.layout);
    EXPECT_EQ(ref.tag, c.tag);
  }
  // Two layouts the text can mean: refused, naming both.
  FakeLayout also(tmp / "L:a");
  expect_error(parse_image_ref(tmp / "L:a:v1"), {"ambiguous", "'" + tmp / "L" + "'", "'" + tmp / "L:a" + "'"});
  expect_error(parse_image_ref(tmp / "L:"), {"empty tag"});
}

TEST(LayoutReaderHostile, NonRegularLayoutFilesAndBlobsAreRefusedByName) {
  for (const std::string target : {"index.json", "oci-layout", "manifest", "config", "layer"}) {
    for (const auto& hostile : ocipack::testing::hostile_kinds()) {
      SCOPED_TRACE(target + " " + hostile.name);
      TempDir tmp;
      FakeLayout layout(tmp / "layout");
      auto image = layout.image({"a"});
      layout.tag(image.manifest, "v1");
      const bool is_blob = target != "index.json" && target != "oci-layout";
      const Descriptor& d = target == "manifest" ? image.manifest : target == "config" ? image.config : image.layers[0];
      const std::string path = is_blob ? layout.path_of(d) : layout.dir() + "/" + target;
      ASSERT_TRUE(ocipack::testing::make_hostile_in_place(path, hostile.kind, tmp.path()));
      const std::string culprit = path + " " + hostile.expected;
      expect_error(load_image(layout.dir(), "v1"), {culprit, is_blob ? d.digest.str() : layout.dir()});
      if (is_blob) continue;
      expect_error(read_index(layout.dir()), {culprit});
      expect_error(read_index_entries(layout.dir()), {culprit});
      expect_error(read_index_text(layout.dir()), {culprit});
    }
  }
}

TEST(LayoutReaderHostile, SymlinkedBlobDirectoriesAreNotFollowed) {
  for (const char* link : {"blobs", "blobs/sha256"}) {
    SCOPED_TRACE(link);
    TempDir tmp;
    FakeLayout decoy(tmp / "decoy");
    auto image = decoy.image({"a"});
    decoy.tag(image.manifest, "v1");
    FakeLayout layout(tmp / "layout");
    write_text(layout.dir() + "/index.json", read_text(decoy.dir() + "/index.json"));
    ASSERT_EQ(std::system(("rm -rf '" + layout.dir() + "/" + link + "'").c_str()), 0);
    ASSERT_EQ(::symlink((decoy.dir() + "/" + link).c_str(), (layout.dir() + "/" + link).c_str()), 0);
    expect_error(load_image(layout.dir(), "v1"), {layout.dir() + "/" + link + " is a symbolic link"});
  }
}

TEST(LayoutReaderHostile, DeepOrHugeIndexIsAnErrorNamingIt) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"a"});
  layout.tag(image.manifest, "v1");
  const std::string good = read_text(layout.dir() + "/index.json");
  for (size_t depth : {size_t(k_max_json_depth), size_t(100000), size_t(1000000)}) {
    for (bool objects : {false, true}) {
      SCOPED_TRACE(std::to_string(depth) + (objects ? " objects" : " arrays"));
      write_text(layout.dir() + "/index.json", index_with_member(good, nested(depth, objects)));
      expect_error(read_index(layout.dir()), {"index.json", "nested more than 64 levels deep"});
      expect_error(load_image(layout.dir(), "v1"), {"index.json", "nested more than 64 levels deep"});
      expect_error(read_index_entries(layout.dir()), {"index.json", "nested more than 64 levels deep"});
    }
  }
  // Within the limit (the index itself is 1 level, the member 63 more): read.
  write_text(layout.dir() + "/index.json", index_with_member(good, nested(k_max_json_depth - 1)));
  EXPECT_TRUE(load_image(layout.dir(), "v1").ok());
  // Deep nesting inside an annotation value: counted only outside strings.
  write_text(layout.dir() + "/index.json", index_with_member(good, "\"" + std::string(100000, '[') + "\\\"\""));
  EXPECT_TRUE(load_image(layout.dir(), "v1").ok());
  // Larger than k_max_document_size.
  write_text(layout.dir() + "/index.json",
             index_with_member(good, "\"" + std::string(static_cast<size_t>(k_max_document_size), 'x') + "\""));
  expect_error(read_index(layout.dir()), {layout.dir() + "/index.json is too large"});
}

TEST(LayoutReaderHostile, DeepManifestOrConfigIsAnErrorNamingIt) {
  for (bool in_config : {false, true}) {
    for (size_t depth : {size_t(100000), size_t(1000000)}) {
      SCOPED_TRACE(std::to_string(depth) + (in_config ? " config" : " manifest"));
      TempDir tmp;
      FakeLayout layout(tmp / "layout");
      auto image = layout.image({"a"});
      std::string config = image.config_json;
      config.pop_back();
      config += ",\"x\":" + nested(depth) + "}";
      Descriptor config_d = layout.blob(config, k_media_type_config);
      auto manifest_json = encode_manifest(Manifest{config_d, image.layers});
      ASSERT_TRUE(manifest_json.ok());
      std::string manifest = *manifest_json;
      if (!in_config) {
        manifest.pop_back();
        manifest += ",\"x\":" + nested(depth, true) + "}";
      }
      layout.tag(layout.blob(manifest, k_media_type_manifest), "v1");
      expect_error(load_image(layout.dir(), "v1"),
                   {in_config ? "config " + config_d.digest.str() : std::string("manifest "),
                    "nested more than 64 levels deep"});
    }
  }
}

TEST(LayoutReaderIndex, EntriesOcipackCannotReadAreKeptWithTheirProblem) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  const std::string good = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                           digest_text('a') + R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"ok"}})";
  write_text(layout.dir() + "/index.json",
             R"({"manifests":[{"digest":"sha512:)" + std::string(128, 'b') +
                 R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"s512"}},)" + good +
                 R"(,{"digest":"blake3:x","size":2},"text",)"
                 R"({"digest":")" + digest_text('c') +
                 R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"bad","n":1}}]})");
  auto entries = read_index_entries(layout.dir());
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 5u);
  const auto& e = *entries;
  EXPECT_FALSE(e[0].descriptor);
  EXPECT_EQ(e[0].tag, "s512");
  EXPECT_EQ(e[0].digest_text, "sha512:" + std::string(128, 'b'));
  EXPECT_NE(e[0].problem.find("manifests[0].digest"), std::string::npos) << e[0].problem;
  ASSERT_TRUE(e[1].descriptor);
  EXPECT_EQ(e[1].tag, "ok");
  EXPECT_TRUE(e[1].problem.empty());
  EXPECT_FALSE(e[2].descriptor);
  EXPECT_NE(e[2].problem.find("unsupported digest 'blake3:x'"), std::string::npos);
  EXPECT_FALSE(e[3].descriptor);
  EXPECT_NE(e[3].problem.find("manifests[3] is a string"), std::string::npos);
  EXPECT_FALSE(e[4].descriptor);
  EXPECT_EQ(e[4].tag, "bad");
  EXPECT_NE(e[4].problem.find("manifests[4].annotations.n is a number"), std::string::npos);
  // The strict reader still fails on the first of them.
  expect_error(read_index(layout.dir()), {"manifests[0].digest"});
}

TEST(LayoutReaderLoad, OtherUnreadableEntriesDoNotMatterButDuplicatesDo) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"a"});
  layout.tag(image.manifest, "good");
  std::string index = read_text(layout.dir() + "/index.json");
  const std::string entries = R"(,{"digest":"sha512:)" + std::string(128, 'b') +
                              R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"s512"}})"
                              R"(,{"mediaType":"application/x-unknown","digest":")" + image.manifest.digest.str() +
                              R"(","size":1,"annotations":{"org.opencontainers.image.ref.name":"other"}})";
  index.insert(index.rfind("]}"), entries);
  write_text(layout.dir() + "/index.json", index);
  auto loaded = load_image(layout.dir(), "good");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->manifest.digest, image.manifest.digest);
  expect_error(load_image(layout.dir(), "s512"), {"manifests[1].digest", "unsupported digest"});
  // A tag two entries carry is ambiguous.
  const std::string dup = R"(,{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                          image.manifest.digest.str() + R"(","size":)" + std::to_string(image.manifest.size) +
                          R"(,"annotations":{"org.opencontainers.image.ref.name":"good"}})";
  index.insert(index.rfind("]}"), dup);
  write_text(layout.dir() + "/index.json", index);
  expect_error(load_image(layout.dir(), "good"), {"tag 'good' is ambiguous", "manifests[0], manifests[3]"});
}

TEST(LayoutReaderLoad, TagsFromTheLayoutAreEscapedInMessages) {
  TempDir tmp;
  FakeLayout layout(tmp / "layout");
  auto image = layout.image({"a"});
  write_text(layout.dir() + "/index.json",
             R"({"manifests":[{"digest":")" + image.manifest.digest.str() + R"(","size":1,)"
             R"("annotations":{"org.opencontainers.image.ref.name":"x\u001b[2J\nforged"}}]})");
  auto result = load_image(layout.dir(), "v1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.find('\x1b'), std::string::npos) << result.error().message;
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
  EXPECT_NE(result.error().message.find("'x\\x1b[2J\\nforged'"), std::string::npos) << result.error().message;
}

}  // namespace
}  // namespace ocipack
