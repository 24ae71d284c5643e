// Tests for core/oci_json.cc: the image config, manifest and index.json
// documents. Their digests name the image, so the exact JSON bytes are pinned:
// compact, keys in the spec's order, empty optional fields omitted, maps
// sorted by key, strings escaped the same way every time. update_index is
// checked for the three cases a build meets (no index yet, same tag again →
// replaced in place, new tag → appended) and for keeping unknown fields of an
// existing index verbatim; malformed existing indexes (check_index) and
// non-UTF-8 values are errors, and check_oci_layout accepts only
// imageLayoutVersion 1.x. validate_ref_name is checked against the image-layout grammar
// quoted in oci_json.h. Image index blobs (encode_index) pin the descriptor
// platform object in the spec's key order; platform_of reads os.version and
// os.features from a config's extra fields; update_index files several
// entries in order.
#include "core/oci/oci_json.h"

#include <gtest/gtest.h>

#include <string>

namespace ocipack {
namespace {

Digest digest_of_char(char c) {
  auto parsed = Digest::parse("sha256:" + std::string(64, c));
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? *parsed : Digest();
}

std::string hex_of(char c) { return "sha256:" + std::string(64, c); }

ImageConfig full_config() {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.author = "Jane <jane@example.com>";
  c.architecture = "arm";
  c.variant = "v7";
  c.os = "linux";
  c.config.user = "1000:1000";
  c.config.exposed_ports = {"8080/tcp", "53/udp", "80/tcp", "53/udp"};
  c.config.env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
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

TEST(OciJsonConfig, FullConfigBytes) {
  auto json = encode_config(full_config());
  ASSERT_TRUE(json.ok()) << json.error().message;
  const std::string expected =
      R"({"created":"2024-01-02T03:04:05Z","author":"Jane <jane@example.com>",)"
      R"("architecture":"arm","variant":"v7","os":"linux",)"
      R"("config":{"User":"1000:1000",)"
      R"("ExposedPorts":{"53/udp":{},"80/tcp":{},"8080/tcp":{}},)"
      R"("Env":["PATH=/usr/bin:/bin","LANG=C.UTF-8"],)"
      R"("Entrypoint":["/bin/sh","-c"],)"
      R"("Cmd":["echo \"hi\"\n","tab\there","\u0001\\/"],)"
      R"("WorkingDir":"/srv",)"
      "\"Labels\":{\"a\":\"\xc3\xa9\",\"org.opencontainers.image.title\":\"demo\"},"
      R"("StopSignal":"SIGTERM"},)"
      R"("rootfs":{"type":"layers","diff_ids":[")" + hex_of('1') + R"(",")" + hex_of('2') + R"("]},)"
      R"("history":[{"created":"2024-01-02T03:04:05Z","created_by":"ocipack","author":"Jane","comment":"base layer"},)"
      R"({"created":"2024-01-02T03:04:06Z","empty_layer":true}]})";
  EXPECT_EQ(*json, expected);
}

TEST(OciJsonConfig, MinimalConfigOmitsEmptyFields) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  auto json = encode_config(c);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json,
            R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}})");
}

TEST(OciJsonConfig, ExtraFieldsFollowTheModelledOnesSortedByName) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.config.user = "1000";
  c.config.extra_fields = {{"Volumes", R"({"/data":{}})"}, {"StopTimeout", "10"},
                           {"Healthcheck", R"({"Test":["CMD","true"],"Interval":30})"}};
  c.extra_fields = {{"os.version", R"("10.0.1")"}, {"os.features", R"(["win32k"])"}, {"x-zz", "null"}};
  auto json = encode_config(c);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"architecture":"amd64","os":"linux","config":{"User":"1000",)"
                   R"("Healthcheck":{"Test":["CMD","true"],"Interval":30},"StopTimeout":10,"Volumes":{"/data":{}}},)"
                   R"("rootfs":{"type":"layers","diff_ids":[]},"os.features":["win32k"],"os.version":"10.0.1","x-zz":null})");
  c.extra_fields["broken"] = "{not json";
  auto bad = encode_config(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("broken is not valid JSON"), std::string::npos) << bad.error().message;
}

TEST(OciJsonConfig, OneLayerNoHistory) {
  ImageConfig c;
  c.created = "1970-01-01T00:00:00Z";
  c.architecture = "arm64";
  c.os = "linux";
  c.config.cmd = {"/bin/sh"};
  c.diff_ids = {digest_of_char('a')};
  auto json = encode_config(c);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"created":"1970-01-01T00:00:00Z","architecture":"arm64","os":"linux",)"
                   R"("config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[")" +
                       hex_of('a') + R"("]}})");
}

TEST(OciJsonConfig, EncodingIsDeterministic) {
  auto a = encode_config(full_config());
  auto b = encode_config(full_config());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(OciJsonConfig, InvalidUtf8LabelIsAnError) {
  ImageConfig c = full_config();
  c.config.labels["bad.label"] = "\xff\xfe";
  auto json = encode_config(c);
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.error().message.find("UTF-8"), std::string::npos) << json.error().message;
}

TEST(OciJsonConfig, InvalidUtf8ErrorNamesTheField) {
  // oci_json.h: "Errors (e.g. a label that is not valid UTF-8) name the field."
  ImageConfig c = full_config();
  c.config.labels["bad.label"] = "\xff\xfe";
  auto json = encode_config(c);
  ASSERT_FALSE(json.ok());
  const std::string& message = json.error().message;
  EXPECT_TRUE(message.find("bad.label") != std::string::npos ||
              message.find("Labels") != std::string::npos)
      << message;
}

TEST(OciJsonConfig, InvalidUtf8InOtherFieldsIsAnError) {
  ImageConfig env = full_config();
  env.config.env.push_back("X=\xc3");  // truncated 2-byte sequence
  EXPECT_FALSE(encode_config(env).ok());
  ImageConfig cmd = full_config();
  cmd.config.cmd = {"\xed\xa0\x80"};  // UTF-16 surrogate encoded in UTF-8
  EXPECT_FALSE(encode_config(cmd).ok());
}

Manifest sample_manifest() {
  Manifest m;
  m.config.media_type = k_media_type_config;
  m.config.digest = digest_of_char('c');
  m.config.size = 1234;
  Descriptor layer;
  layer.media_type = k_media_type_layer_gzip;
  layer.digest = digest_of_char('d');
  layer.size = 9876543210LL;
  m.layers = {layer};
  return m;
}

TEST(OciJsonManifest, ManifestBytes) {
  auto json = encode_manifest(sample_manifest());
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json,
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                hex_of('c') +
                R"(","size":1234},)"
                R"("layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                hex_of('d') + R"(","size":9876543210}]})");
}

TEST(OciJsonManifest, LayerOrderKeptAndAnnotationsSorted) {
  Manifest m = sample_manifest();
  Descriptor second;
  second.media_type = k_media_type_layer_gzip;
  second.digest = digest_of_char('b');
  second.size = 1;
  second.annotations = {{"z", "last"}, {"a", "first"}};
  m.layers.push_back(second);
  auto json = encode_manifest(m);
  ASSERT_TRUE(json.ok()) << json.error().message;
  const std::string tail = R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                           hex_of('b') + R"(","size":1,"annotations":{"a":"first","z":"last"}}]})";
  ASSERT_GE(json->size(), tail.size());
  EXPECT_EQ(json->substr(json->size() - tail.size()), tail);
  EXPECT_LT(json->find(hex_of('d')), json->find(hex_of('b')));
}

TEST(OciJsonManifest, NoLayers) {
  Manifest m = sample_manifest();
  m.layers.clear();
  auto json = encode_manifest(m);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->substr(json->size() - 13), R"(,"layers":[]})");
}

Descriptor manifest_descriptor(char digest_char, int64_t size, const std::string& tag) {
  Descriptor d;
  d.media_type = k_media_type_manifest;
  d.digest = digest_of_char(digest_char);
  d.size = size;
  if (!tag.empty()) d.annotations[k_annotation_ref_name] = tag;
  return d;
}

std::string descriptor_text(char digest_char, int64_t size, const std::string& tag) {
  std::string text = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     hex_of(digest_char) + R"(","size":)" + std::to_string(size);
  if (!tag.empty()) text += R"(,"annotations":{"org.opencontainers.image.ref.name":")" + tag + "\"}";
  return text + "}";
}

TEST(OciJsonIndex, NewIndex) {
  auto json = update_index(std::nullopt, manifest_descriptor('e', 500, "latest"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
                   R"("manifests":[)" + descriptor_text('e', 500, "latest") + "]}");
}

TEST(OciJsonIndex, SameTagIsReplacedInPlace) {
  const std::string existing =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      descriptor_text('1', 1, "a") + "," + descriptor_text('2', 2, "b") + "," +
      descriptor_text('3', 3, "c") + "]}";
  auto json = update_index(existing, manifest_descriptor('9', 99, "b"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json,
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                descriptor_text('1', 1, "a") + "," + descriptor_text('9', 99, "b") + "," +
                descriptor_text('3', 3, "c") + "]}");
}

TEST(OciJsonIndex, AnotherTagIsAppended) {
  const std::string existing =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      descriptor_text('1', 1, "latest") + "]}";
  auto json = update_index(existing, manifest_descriptor('2', 2, "v2"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json,
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                descriptor_text('1', 1, "latest") + "," + descriptor_text('2', 2, "v2") + "]}");
}

TEST(OciJsonIndex, UpdatingTwiceWithTheSameTagIsStable) {
  auto first = update_index(std::nullopt, manifest_descriptor('1', 1, "latest"));
  ASSERT_TRUE(first.ok());
  auto second = update_index(*first, manifest_descriptor('1', 1, "latest"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
}

TEST(OciJsonIndex, DescriptorWithoutTagIsAlwaysAppended) {
  const std::string existing =
      R"({"schemaVersion":2,"manifests":[)" + descriptor_text('1', 1, "") + "]}";
  auto json = update_index(existing, manifest_descriptor('1', 1, ""));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"manifests":[)" + descriptor_text('1', 1, "") + "," +
                       descriptor_text('1', 1, "") + "]}");
}

TEST(OciJsonIndex, UnknownFieldsArePreservedVerbatim) {
  const std::string other =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + hex_of('1') +
      R"(","size":7,"platform":{"architecture":"amd64","os":"linux"},)"
      R"("annotations":{"org.opencontainers.image.ref.name":"old","x-note":"keep me"},"x-extra":[1,true,null]})";
  const std::string existing = R"({"schemaVersion":2,"x-custom":{"k":[1,2,"three"]},"manifests":[)" +
                               other + R"(],"annotations":{"z":"1","a":"2"}})";
  auto json = update_index(existing, manifest_descriptor('2', 2, "new"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"x-custom":{"k":[1,2,"three"]},"manifests":[)" + other +
                       "," + descriptor_text('2', 2, "new") +
                       R"(],"annotations":{"z":"1","a":"2"}})");
}

TEST(OciJsonIndex, EveryEntryOfTheTagIsReplaced) {
  // Duplicates of the tag (another tool wrote them): the first becomes the new
  // entry, the later ones go, other entries keep their order.
  const std::string existing =
      R"({"schemaVersion":2,"manifests":[)" + descriptor_text('1', 1, "b") + "," + descriptor_text('2', 2, "a") +
      "," + descriptor_text('3', 3, "b") + "," + descriptor_text('4', 4, "c") + "," +
      descriptor_text('5', 5, "b") + "]}";
  auto json = update_index(existing, manifest_descriptor('9', 99, "b"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"manifests":[)" + descriptor_text('9', 99, "b") + "," +
                       descriptor_text('2', 2, "a") + "," + descriptor_text('4', 4, "c") + "]}");
}

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(OciJsonLimits, DepthIsCountedOutsideStrings) {
  EXPECT_TRUE(check_json_limits(nested_arrays(k_max_json_depth), "doc").ok());
  auto deep = check_json_limits(nested_arrays(k_max_json_depth + 1), "doc");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("doc is nested more than 64 levels deep"), std::string::npos);
  // Brackets in strings, escaped quotes and backslashes do not count.
  EXPECT_TRUE(check_json_limits("[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\\\\\"]", "doc").ok());
  EXPECT_FALSE(check_json_limits("[\"\\\\\"" + nested_arrays(100) + "]", "doc").ok());
  // Any bytes: unbalanced closers do not underflow, an open string runs to the end.
  EXPECT_TRUE(check_json_limits(std::string(1000, ']') + nested_arrays(10), "doc").ok());
  EXPECT_TRUE(check_json_limits("\"" + std::string(1000, '['), "doc").ok());
  auto big = check_json_limits(std::string(static_cast<size_t>(k_max_document_size) + 1, ' '), "doc");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("doc is too large"), std::string::npos);
}

TEST(OciJsonIndex, DeepOrHugeExistingIndexIsRefusedBeforeEncoding) {
  for (size_t depth : {size_t(k_max_json_depth), size_t(100000), size_t(1000000)}) {
    SCOPED_TRACE(depth);
    const std::string existing = R"({"schemaVersion":2,"x":)" + nested_arrays(depth) + R"(,"manifests":[]})";
    auto json = update_index(existing, manifest_descriptor('1', 1, "latest"));
    ASSERT_FALSE(json.ok());
    EXPECT_NE(json.error().message.find("index.json is nested more than 64 levels deep"), std::string::npos)
        << json.error().message;
    EXPECT_FALSE(check_index(existing).ok());
    // Objects too, and inside a descriptor.
    std::string objects = R"({"manifests":[{"x":)";
    for (size_t i = 0; i < depth; ++i) objects += "{\"k\":";
    objects += "1" + std::string(depth, '}') + "}]}";
    EXPECT_FALSE(check_index(objects).ok());
  }
  // Unknown members within the limit are kept, and the result stays readable.
  const std::string within = R"({"schemaVersion":2,"x":)" + nested_arrays(k_max_json_depth - 1) + R"(,"manifests":[]})";
  auto kept = update_index(within, manifest_descriptor('1', 1, "latest"));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_NE(kept->find(nested_arrays(k_max_json_depth - 1)), std::string::npos);
  EXPECT_TRUE(check_index(*kept).ok());
  // An index that would grow past the size limit is refused too.
  const std::string huge = R"({"schemaVersion":2,"x":")" +
                           std::string(static_cast<size_t>(k_max_document_size) - 100, 'x') + R"(","manifests":[]})";
  ASSERT_TRUE(check_index(huge).ok());
  auto grown = update_index(huge, manifest_descriptor('1', 1, "latest"));
  ASSERT_FALSE(grown.ok());
  EXPECT_NE(grown.error().message.find("new index.json is too large"), std::string::npos);
}

TEST(OciJsonLimits, WritersRefuseWhatReadersWouldRefuse) {
  // A config whose encoding would pass the size limit (a label of 64 MiB).
  ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.config.labels["big"] = std::string(static_cast<size_t>(k_max_document_size), 'x');
  auto encoded = encode_config(config);
  ASSERT_FALSE(encoded.ok());
  EXPECT_NE(encoded.error().message.find("the new image config is too large"), std::string::npos)
      << encoded.error().message;
  config.config.labels["big"] = "small";
  EXPECT_TRUE(encode_config(config).ok());
}

TEST(OciJsonLayout, DeepOciLayoutIsRefused) {
  auto deep = check_oci_layout(R"({"imageLayoutVersion":"1.0.0","x":)" + nested_arrays(100000) + "}");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("oci-layout is nested"), std::string::npos);
}

TEST(OciJsonIndex, ExistingIndexWithoutManifestsGetsTheArray) {
  auto json = update_index(std::string(R"({"schemaVersion":2})"),
                           manifest_descriptor('1', 1, "latest"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"manifests":[)" + descriptor_text('1', 1, "latest") + "]}");
}

TEST(OciJsonIndex, PrettyPrintedExistingIndexIsAccepted) {
  const std::string existing = "{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n  ]\n}\n";
  auto json = update_index(existing, manifest_descriptor('1', 1, "latest"));
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"manifests":[)" + descriptor_text('1', 1, "latest") + "]}");
}

void expect_index_error(const std::string& existing) {
  auto json = update_index(existing, manifest_descriptor('1', 1, "latest"));
  ASSERT_FALSE(json.ok()) << "accepted: " << existing;
  EXPECT_NE(json.error().message.find("index.json"), std::string::npos) << json.error().message;
}

TEST(OciJsonIndex, InvalidJsonIsAnError) {
  expect_index_error("");
  expect_index_error("{");
  expect_index_error("{\"schemaVersion\":2,}");
  expect_index_error("not json");
}

TEST(OciJsonIndex, NonObjectIsAnError) {
  expect_index_error("[]");
  expect_index_error("2");
  expect_index_error("\"index\"");
  expect_index_error("null");
}

TEST(OciJsonIndex, ManifestsNotAnArrayIsAnError) {
  expect_index_error(R"({"schemaVersion":2,"manifests":{}})");
  expect_index_error(R"({"schemaVersion":2,"manifests":"x"})");
  // null, as `umoci init` writes it, is an empty index (issue 13).
  auto from_null = update_index(std::string(R"({"schemaVersion":2,"manifests":null})"), manifest_descriptor('1', 1, "v1"));
  ASSERT_TRUE(from_null.ok()) << from_null.error().message;
  EXPECT_EQ(from_null->find("null"), std::string::npos) << *from_null;
}

TEST(OciJsonIndex, InvalidUtf8TagIsAnError) {
  auto json = update_index(std::nullopt, manifest_descriptor('1', 1, "\xff"));
  EXPECT_FALSE(json.ok());
}

TEST(OciJsonIndex, CheckIndexMakesTheChecksOfUpdateIndex) {
  for (const char* good : {R"({"schemaVersion":2,"manifests":[]})", R"({})",
                           R"({"schemaVersion":2,"x":1})"}) {
    EXPECT_TRUE(check_index(good).ok()) << good;
    EXPECT_TRUE(update_index(std::string(good), manifest_descriptor('1', 1, "t")).ok()) << good;
  }
  for (const char* bad : {"", "{", "[]", "null", R"({"manifests":{}})", R"({"manifests":3})"}) {
    Status status = check_index(bad);
    ASSERT_FALSE(status.ok()) << "accepted: " << bad;
    EXPECT_NE(status.error().message.find("index.json"), std::string::npos)
        << status.error().message;
    EXPECT_FALSE(update_index(std::string(bad), manifest_descriptor('1', 1, "t")).ok()) << bad;
  }
}

TEST(OciJsonLayoutFile, AcceptsVersionOneX) {
  EXPECT_TRUE(check_oci_layout(k_oci_layout_json).ok());
  EXPECT_TRUE(check_oci_layout("{\"imageLayoutVersion\": \"1.0.0\"}\n").ok());
  EXPECT_TRUE(check_oci_layout(R"({"imageLayoutVersion":"1.1.0","x":true})").ok());
}

TEST(OciJsonLayoutFile, RejectsOtherContent) {
  for (const char* bad : {"", "not json", "[]", "{}", R"({"imageLayoutVersion":1})",
                          R"({"imageLayoutVersion":"2.0.0"})", R"({"imageLayoutVersion":"10.0"})",
                          R"({"imagelayoutversion":"1.0.0"})"}) {
    Status status = check_oci_layout(bad);
    ASSERT_FALSE(status.ok()) << "accepted: " << bad;
    EXPECT_NE(status.error().message.find("oci-layout"), std::string::npos)
        << status.error().message;
  }
  Status status = check_oci_layout(R"({"imageLayoutVersion":"2.0.0"})");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("2.0.0"), std::string::npos) << status.error().message;
}

TEST(OciJsonRefName, AcceptsTheGrammar) {
  for (const char* tag : {"latest", "v1.0", "my-image:1.0", "a--b", "repo/name:tag", "A", "1",
                          "a_b", "a@b", "a+b", "a.b-c_d:e@f+g", "org/repo/image", "1.2.3-rc.1",
                          "UPPER.lower"}) {
    EXPECT_TRUE(validate_ref_name(tag).ok()) << tag;
  }
}

TEST(OciJsonRefName, RejectsWhatTheGrammarDoesNotAllow) {
  // alphanum must start and end every component; separators are single
  // characters of [-._:@+] or "--", always between alphanumerics.
  for (const char* tag : {"", "-x", "x-", ".x", "x.", "a..b", "a.-b", "a---b", "a b", "x/", "/x",
                          "a//b", ":tag", "tag:", "a/-b", "a/b-", "\xc3\xa9", "a\tb", "a*b",
                          "a\\b", "a#b"}) {
    Status status = validate_ref_name(tag);
    ASSERT_FALSE(status.ok()) << "accepted '" << tag << "'";
    EXPECT_NE(status.error().message.find("'" + std::string(tag) + "'"), std::string::npos)
        << status.error().message;
  }
}

// --- image index blobs and platforms

TEST(OciJsonImageIndex, NestedIndexBytesWithPlatformsInTheSpecsOrder) {
  Descriptor amd = manifest_descriptor('a', 10, "");
  amd.platform = Platform{"amd64", "linux", "", {}, ""};
  Descriptor win = manifest_descriptor('b', 20, "");
  win.platform = Platform{"amd64", "windows", "10.0.17763.1", {"win32k"}, ""};
  Descriptor arm = manifest_descriptor('c', 30, "");
  arm.annotations["k"] = "v";
  arm.platform = Platform{"arm", "linux", "", {}, "v7"};
  auto json = encode_index(ImageIndex{{amd, win, arm}, {{"org.example", "x"}}});
  ASSERT_TRUE(json.ok()) << json.error().message;
  const std::string m = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")";
  EXPECT_EQ(*json,
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" + m +
                hex_of('a') + R"(","size":10,"platform":{"architecture":"amd64","os":"linux"}},)" + m + hex_of('b') +
                R"(","size":20,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1",)"
                R"("os.features":["win32k"]}},)" + m + hex_of('c') +
                R"(","size":30,"annotations":{"k":"v"},"platform":{"architecture":"arm","os":"linux","variant":"v7"}}],)"
                R"("annotations":{"org.example":"x"}})");
}

TEST(OciJsonImageIndex, EmptyIndexHasAnEmptyManifestsArray) {
  auto json = encode_index(ImageIndex{});
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})");
}

TEST(OciJsonImageIndex, PlatformOfAConfigTakesOsVersionAndFeaturesFromItsExtraFields) {
  ImageConfig c;
  c.architecture = "arm64";
  c.os = "linux";
  c.variant = "v8";
  EXPECT_EQ(platform_of(c), (Platform{"arm64", "linux", "", {}, "v8"}));
  c.extra_fields["os.version"] = "\"10.0\"";
  c.extra_fields["os.features"] = R"(["a",1,"b"])";
  EXPECT_EQ(platform_of(c), (Platform{"arm64", "linux", "10.0", {"a", "b"}, "v8"}));
  c.extra_fields["os.version"] = "5";  // not a string: left out
  c.extra_fields["os.features"] = "{";  // not JSON: left out
  EXPECT_EQ(platform_of(c), (Platform{"arm64", "linux", "", {}, "v8"}));
}

TEST(OciJsonIndex, SeveralEntriesAreFiledInOrder) {
  const std::string existing =
      R"({"schemaVersion":2,"manifests":[)" + descriptor_text('a', 1, "v1") + "," + descriptor_text('b', 2, "v2") + "]}";
  auto json = update_index(existing, std::vector<Descriptor>{manifest_descriptor('c', 3, "v2"),
                                                             manifest_descriptor('d', 4, "v3"),
                                                             manifest_descriptor('e', 5, "")});
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"manifests":[)" + descriptor_text('a', 1, "v1") + "," +
                       descriptor_text('c', 3, "v2") + "," + descriptor_text('d', 4, "v3") + "," +
                       descriptor_text('e', 5, "") + "]}");
}

}  // namespace
}  // namespace ocipack

namespace ocipack {
namespace {

// edit_image_index: the kept entries and every other member stay as they are
// (order, unknown fields, escapes as JSON reads them), new entries are
// encoded, the given annotations set beside the kept ones.
TEST(OciJsonEditIndex, KeepsEveryMemberItDoesNotChange) {
  const std::string kept =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + hex_of('1') +
      R"(","size":7,"urls":["https://x/y"],"data":"e30=","x-extra":[1,true,null],"platform":{"os":"linux","architecture":"arm"}})";
  const std::string dropped =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + hex_of('2') + R"(","size":8})";
  const std::string existing = R"({"schemaVersion":2,"x-custom":{"k":[1,2.5,"three"]},"manifests":[)" + dropped +
                               "," + kept + R"(],"subject":{"digest":")" + hex_of('3') +
                               R"("},"annotations":{"z":"1","a":"2"},"artifactType":"application/x"})";
  Descriptor added{k_media_type_manifest, digest_of_char('4'), 9, {}};
  added.platform = Platform{"amd64", "linux", "", {}, ""};
  auto json = edit_image_index(existing, {{std::size_t{1}}, {std::nullopt, added}}, {{"a", "changed"}, {"b", "new"}},
                               "the index");
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"schemaVersion":2,"x-custom":{"k":[1,2.5,"three"]},"manifests":[)" + kept +
                       R"(,{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + hex_of('4') +
                       R"(","size":9,"platform":{"architecture":"amd64","os":"linux"}}],"subject":{"digest":")" +
                       hex_of('3') + R"("},"annotations":{"z":"1","a":"changed","b":"new"},"artifactType":"application/x"})");
  // Without annotations to set, none are added; a document without
  // "manifests" gets the array.
  auto bare = edit_image_index(R"({"schemaVersion":2})", {{std::nullopt, added}}, {}, "the index");
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_EQ(bare->find("annotations"), std::string::npos);
  EXPECT_NE(bare->find(hex_of('4')), std::string::npos);
}

TEST(OciJsonEditIndex, RefusesWhatItCannotEdit) {
  const std::vector<IndexEntryEdit> keep_first{{std::size_t{0}}};
  auto expect_refused = [&](const std::string& existing, const std::string& wanted,
                            const std::map<std::string, std::string>& annotations = {}) {
    auto json = edit_image_index(existing, keep_first, annotations, "the index");
    ASSERT_FALSE(json.ok()) << existing;
    EXPECT_NE(json.error().message.find(wanted), std::string::npos) << json.error().message;
  };
  expect_refused(R"({"manifests":[]})", "the index has no entry 0 to keep");
  expect_refused(R"({"manifests":{}})", "the index: 'manifests' is not an array");
  expect_refused(R"([])", "the index is not a JSON object");
  expect_refused(R"({"manifests":[)", "the index is not valid JSON");
  expect_refused(R"({"manifests":[{}],"x":)" + nested_arrays(70) + "}", "nested more than 64 levels deep");
  expect_refused(R"({"manifests":[{}],"annotations":[1]})", "'annotations' is not an object", {{"k", "v"}});
}

}  // namespace
}  // namespace ocipack
