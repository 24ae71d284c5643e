// Tests for cli/options.cc: every flag lands in the right BuildOptions field,
// --entrypoint/--cmd follow the "once: shlex, repeated: elements" rule,
// SOURCE_DATE_EPOCH and --created resolve as documented, and each malformed
// value is refused with a message naming the flag and the value.
#include "cli/options.h"

#include <gtest/gtest.h>

#include <map>

#include "cli/errors.h"
#include "cli/yocto_vars.h"
#include "test_helpers.h"

namespace ocipack::cli {
namespace {

Environment test_env() {
  Environment env;
  env.now = 1800000000;
  env.hardware_threads = 4;
  return env;
}

Result<CommandLine> parse(std::vector<std::string> args, Environment env = test_env()) {
  return parse_command_line(args, env);
}

std::vector<std::string> base() { return {"build", "/rootfs", "-o", "/out"}; }

std::vector<std::string> with(std::vector<std::string> extra) {
  auto args = base();
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(CliOptions, Defaults) {
  auto cl = parse(base());
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  const BuildOptions& b = cl->build;
  EXPECT_EQ(cl->action, CommandLine::Action::build);
  ASSERT_EQ(b.layers.size(), 1u);
  EXPECT_EQ(b.layers[0].rootfs, "/rootfs");
  EXPECT_FALSE(b.layers[0].diff_base.has_value());
  EXPECT_FALSE(b.base_layout.has_value());
  EXPECT_EQ(b.layout_dir, "/out");
  EXPECT_EQ(b.image.tag, "latest");
  EXPECT_FALSE(b.image.os.has_value());  // the builder defaults to linux
  ASSERT_TRUE(b.image.architecture.has_value());  // the host's
  EXPECT_FALSE(b.image.architecture->empty());
  EXPECT_EQ(b.image.created, 1800000000);
  EXPECT_FALSE(b.clamp_mtime.has_value());
  EXPECT_EQ(b.layer.threads, 4);
  EXPECT_EQ(b.layer.codec.level, 6);
  EXPECT_EQ(b.layer.chunking.target_size, 1024u * 1024);
  EXPECT_FALSE(b.tar_output.has_value());
  EXPECT_FALSE(b.image.cmd.has_value());
  EXPECT_FALSE(b.image.user.has_value());
}

TEST(CliOptions, EveryImageFlag) {
  auto cl = parse(with({"--tag", "v1.2", "--author", "Jane <jane@example.org>", "--user", "1000:1000",
                        "--arch", "aarch64", "--variant", "v8", "--os", "linux", "--entrypoint",
                        "/bin/sh -c 'echo a b'", "--cmd", "x", "--cmd", "y z", "--workdir", "/srv",
                        "--stop-signal", "SIGTERM", "--port", "80", "--port", "53/udp", "--label",
                        "a=b c", "--label", "k=v=w", "--env", "PATH=/bin:/usr/bin", "--env",
                        "MSG=hello world", "--created", "2024-01-02T03:04:05Z", "--level", "9",
                        "--threads", "3", "--chunk-size", "256K", "--tar-output", "/out.tar", "-q"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  const ImageSpec& i = cl->build.image;
  EXPECT_EQ(i.tag, "v1.2");
  EXPECT_EQ(i.author, "Jane <jane@example.org>");
  EXPECT_EQ(i.user, "1000:1000");
  EXPECT_EQ(i.architecture, "arm64");
  EXPECT_EQ(i.variant, "v8");
  EXPECT_EQ(*i.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "echo a b"}));
  EXPECT_EQ(*i.cmd, (std::vector<std::string>{"x", "y z"}));
  EXPECT_EQ(i.working_dir, "/srv");
  EXPECT_EQ(i.stop_signal, "SIGTERM");
  EXPECT_EQ(i.exposed_ports, (std::vector<std::string>{"80/tcp", "53/udp"}));
  EXPECT_EQ(i.labels.at("a"), "b c");
  EXPECT_EQ(i.labels.at("k"), "v=w");
  EXPECT_EQ(i.env, (std::vector<std::string>{"PATH=/bin:/usr/bin", "MSG=hello world"}));
  EXPECT_EQ(i.created, 1704164645);
  EXPECT_EQ(cl->build.layer.codec.level, 9);
  EXPECT_EQ(cl->build.layer.threads, 3);
  EXPECT_EQ(cl->build.layer.chunking.target_size, 256u * 1024);
  EXPECT_EQ(cl->build.tar_output, "/out.tar");
  EXPECT_TRUE(cl->quiet);
}

TEST(CliOptions, LayersBaseAndDiffBase) {
  auto cl = parse({"build", "-o", "/out", "--layer", "/l1", "--layer", "/l2", "--base", "/base:v1",
                   "--diff-base", "/old"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  const BuildOptions& b = cl->build;
  ASSERT_EQ(b.layers.size(), 2u);
  EXPECT_EQ(b.layers[0].rootfs, "/l1");
  EXPECT_FALSE(b.layers[0].diff_base.has_value());
  EXPECT_EQ(b.layers[1].rootfs, "/l2");
  EXPECT_EQ(b.layers[1].diff_base, "/old");
  EXPECT_EQ(b.base_layout, "/base");
  EXPECT_EQ(b.base_tag, "v1");
  // With a base, unset platform fields are inherited, not defaulted.
  EXPECT_FALSE(b.image.architecture.has_value());
  cl = parse(with({"--layer", "/upper"}));
  ASSERT_TRUE(cl.ok());
  ASSERT_EQ(cl->build.layers.size(), 2u);
  EXPECT_EQ(cl->build.layers[0].rootfs, "/rootfs");  // ROOTFS first
  EXPECT_FALSE(parse({"build", "-o", "/out"}).ok());
  EXPECT_FALSE(parse(with({"--base", "/base:bad tag"})).ok());
}

TEST(CliOptions, LayoutSubcommands) {
  auto cl = parse({"tags", "/layout"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::tags);
  EXPECT_EQ(cl->layout_dir, "/layout");
  cl = parse({"inspect", "/layout:v2", "--json"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::inspect);
  EXPECT_EQ(cl->layout_dir, "/layout");
  EXPECT_EQ(cl->tag, "v2");
  EXPECT_TRUE(cl->json);
  cl = parse({"inspect", "/layout"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->tag, "");  // no tag named: latest, else the layout's only image (picked when run)
  cl = parse({"verify", "/layout", "--ref", "v1"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::verify);
  EXPECT_EQ(cl->tag, "v1");
  cl = parse(with({"--owner", "root"}));
  ASSERT_TRUE(cl.ok());
  EXPECT_TRUE(cl->build.owner_root);
  EXPECT_FALSE(parse(with({"--owner", "nobody"})).ok());
  cl = parse({"gc", "/layout"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::gc);
  EXPECT_FALSE(parse({"gc"}).ok());
}

TEST(CliOptions, ArchImpliesVariantUnlessGiven) {
  auto cl = parse(with({"--arch", "armv7l"}));
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.image.architecture, "arm");
  EXPECT_EQ(cl->build.image.variant, "v7");
  cl = parse(with({"--arch", "armv7l", "--variant", "v6"}));
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.image.variant, "v6");
}

TEST(CliOptions, EmptyTagMeansLatest) {
  auto cl = parse(with({"--tag", ""}));
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.image.tag, "latest");
}

TEST(CliOptions, SourceDateEpochSetsCreatedAndClamp) {
  Environment env = test_env();
  env.source_date_epoch = "1600000000";
  auto cl = parse(base(), env);
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.image.created, 1600000000);
  EXPECT_EQ(cl->build.clamp_mtime, 1600000000);
  cl = parse(with({"--created", "@1700000000"}), env);
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.image.created, 1700000000);  // --created wins for the documents
  EXPECT_EQ(cl->build.clamp_mtime, 1600000000);    // mtimes are still clamped
  env.source_date_epoch = "yesterday";
  cl = parse(base(), env);
  ASSERT_FALSE(cl.ok());
  EXPECT_NE(cl.error().message.find("SOURCE_DATE_EPOCH 'yesterday'"), std::string::npos);
}

struct BadCase {
  std::vector<std::string> flags;
  std::string must_mention;
};

TEST(CliOptions, MalformedValuesNameTheCulprit) {
  const std::vector<BadCase> cases = {
      {{"--env", "NOEQUALS"}, "--env 'NOEQUALS'"},
      {{"--env", "=value"}, "--env '=value'"},
      {{"--label", "novalue"}, "--label 'novalue'"},
      {{"--port", "abc"}, "--port 'abc'"},
      {{"--port", "70000"}, "--port '70000'"},
      {{"--port", "0"}, "--port '0'"},
      {{"--port", "80/xyz"}, "--port '80/xyz'"},
      {{"--arch", "vax"}, "'vax'"},
      {{"--variant", "v9"}, "'v9'"},
      {{"--level", "99"}, "--level 99"},
      {{"--threads", "0"}, "--threads 0"},
      {{"--chunk-size", "1G"}, "--chunk-size '1G'"},
      {{"--chunk-size", "10K"}, "--chunk-size '10K'"},
      {{"--chunk-size", "lots"}, "--chunk-size 'lots'"},
      {{"--created", "tomorrow"}, "'tomorrow'"},
      {{"--cmd", "'unterminated"}, "No closing quotation"},
      {{"--tag", "bad tag"}, "'bad tag'"},
      {{"--level", "high"}, "--level"},
      {{"--no-such-flag"}, "--no-such-flag"},
  };
  for (const auto& c : cases) {
    auto cl = parse(with(c.flags));
    ASSERT_FALSE(cl.ok()) << c.flags[0];
    EXPECT_NE(cl.error().message.find(c.must_mention), std::string::npos)
        << "message: " << cl.error().message;
    EXPECT_EQ(cl.error().message.find('\n'), std::string::npos) << "one line: " << cl.error().message;
  }
}

TEST(CliOptions, EveryRefusalIsAUsageError) {
  // Whatever kind the library check behind a flag gives (a bad tag in a
  // stored index is an input error), on the command line it is usage.
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--arch", "vax"}, {"--tag", "bad tag"}, {"--created", "tomorrow"}, {"--compressor", "zstd"},
           {"--gzip-format", "single"}, {"--base", "/base:bad tag"}, {"--cmd", "'open"}, {"--no-such-flag"}}) {
    auto cl = parse(with(flags));
    ASSERT_FALSE(cl.ok()) << flags[0];
    EXPECT_EQ(cl.error().kind, ErrorKind::usage) << cl.error().message;
    EXPECT_TRUE(cl.error().field().empty()) << cl.error().message;
  }
  auto env = test_env();
  env.source_date_epoch = "yesterday";
  auto sde = parse(base(), env);
  ASSERT_FALSE(sde.ok());
  EXPECT_EQ(sde.error().kind, ErrorKind::usage);
  auto inspect = parse({"inspect", "/layout:bad tag"});
  ASSERT_FALSE(inspect.ok());
  EXPECT_EQ(inspect.error().kind, ErrorKind::usage);
}

TEST(CliOptions, MissingArgumentsAreUsageErrors) {
  EXPECT_FALSE(parse({}).ok());
  EXPECT_FALSE(parse({"build"}).ok());
  EXPECT_FALSE(parse({"build", "/rootfs"}).ok());
}

TEST(CliOptions, HelpNamesEveryYoctoVariable) {
  auto cl = parse({"build", "--help"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::help);
  for (const char* var : {"OCI_IMAGE_TAG", "OCI_IMAGE_AUTHOR", "OCI_IMAGE_RUNTIME_UID", "OCI_IMAGE_ARCH",
                          "OCI_IMAGE_SUBARCH", "OCI_IMAGE_OS", "OCI_IMAGE_ENTRYPOINT", "OCI_IMAGE_CMD",
                          "OCI_IMAGE_WORKINGDIR", "OCI_IMAGE_STOPSIGNAL", "OCI_IMAGE_PORTS",
                          "OCI_IMAGE_LABELS", "OCI_IMAGE_ENV_VARS", "SOURCE_DATE_EPOCH",
                          "OCI_IMAGE_TAR_OUTPUT"})
    EXPECT_NE(cl->text.find(var), std::string::npos) << var;
}

TEST(CliOptions, CompressorFormatAndPresets) {
  auto cl = parse(with({"--compressor", "isal"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.codec.kind, CodecKind::isal);
  EXPECT_EQ(cl->build.layer.codec.level, 1);  // isal's default
  cl = parse(with({"--fast"}));
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.layer.codec.kind, CodecKind::isal);
  EXPECT_EQ(cl->build.layer.codec.level, 1);
  cl = parse(with({"--fast", "--level", "3"}));
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.layer.codec.level, 3);
  cl = parse(with({"--compressor", "isal", "--gzip-format", "single", "--dictionary", "--stats",
                   "--no-progress"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.codec.format, GzipFormat::single);
  EXPECT_TRUE(cl->build.layer.codec.dictionary);
  EXPECT_TRUE(cl->stats);
  EXPECT_TRUE(cl->no_progress);
  cl = parse(with({"--level", "12"}));
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.layer.codec.kind, CodecKind::libdeflate);
  EXPECT_EQ(cl->build.layer.codec.level, 12);

  const std::vector<BadCase> cases = {
      {{"--compressor", "zstd"}, "--compressor 'zstd'"},
      {{"--gzip-format", "many"}, "--gzip-format 'many'"},
      {{"--gzip-format", "single"}, "needs --compressor isal"},
      {{"--compressor", "isal", "--level", "4"}, "--level 4: expected 0-3 for isal"},
      {{"--dictionary"}, "--dictionary only applies to --gzip-format single"},
  };
  for (const auto& c : cases) {
    auto bad = parse(with(c.flags));
    ASSERT_FALSE(bad.ok()) << c.flags[0];
    EXPECT_NE(bad.error().message.find(c.must_mention), std::string::npos) << bad.error().message;
  }
}

// --compression-format picks the layer format; --level applies to its codec
// with that codec's default; the gzip-only flags and out-of-range levels are
// one usage error naming the flags.
TEST(CliOptions, CompressionFormat) {
  auto cl = parse(base());
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->build.layer.codec.compression, LayerCompression::gzip);
  cl = parse(with({"--compression-format", "zstd"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.codec.compression, LayerCompression::zstd);
  EXPECT_EQ(cl->build.layer.codec.kind, CodecKind::zstd);
  EXPECT_EQ(cl->build.layer.codec.level, 3);
  EXPECT_EQ(cl->build.layer.chunking.target_size, 8u << 20);  // the format's default chunk size
  cl = parse(with({"--compression-format", "zstd", "--chunk-size", "256K"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.chunking.target_size, 256u << 10);
  cl = parse(with({"--compression-format", "zstd", "--level", "19"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.codec.level, 19);
  cl = parse(with({"--compression-format", "none"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.codec.compression, LayerCompression::none);
  EXPECT_FALSE(cl->build.layer.codec.kind.has_value());
  EXPECT_FALSE(cl->build.layer.codec.level.has_value());
  EXPECT_EQ(cl->build.layer.chunking.target_size, 1u << 20);
  cl = parse(with({"--compression-format", "gzip", "--compressor", "isal"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.layer.codec.level, 1);

  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"--compression-format", "brotli"},
       "--compression-format 'brotli': expected gzip, zstd, zstd:chunked or none"},
      {{"--compression-format", "zstd", "--compressor", "isal"},
       "--compressor isal does not apply to --compression-format zstd (it chooses the gzip engine)"},
      {{"--compression-format", "zstd", "--compressor", "libdeflate"},
       "--compressor libdeflate does not apply to --compression-format zstd (it chooses the gzip engine)"},
      {{"--compression-format", "zstd", "--dictionary"},
       "--dictionary does not apply to --compression-format zstd (it primes the pieces of a single gzip member)"},
      {{"--compression-format", "zstd", "--gzip-format", "single"},
       "--gzip-format single does not apply to --compression-format zstd (it lays out gzip layers)"},
      {{"--compression-format", "zstd", "--level", "20"}, "--level 20: expected 1-19 for zstd"},
      {{"--compression-format", "zstd", "--level", "0"}, "--level 0: expected 1-19 for zstd"},
      {{"--compression-format", "zstd", "--fast"}, "--fast (ISA-L gzip) does not apply to --compression-format zstd"},
      {{"--compression-format", "none", "--level", "3"},
       "--level 3 does not apply to --compression-format none (nothing is compressed)"},
      {{"--compression-format", "zstd:chunked", "--dictionary"},
       "--dictionary does not apply to --compression-format zstd:chunked (it primes the pieces of a single gzip member)"},
  };
  for (const auto& [flags, message] : refused) {
    auto bad = parse(with(flags));
    ASSERT_FALSE(bad.ok()) << message;
    EXPECT_TRUE(bad.error().is(ErrorKind::usage));
    EXPECT_EQ(bad.error().message, message);
  }
  auto help = parse({"build", "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_NE(help->text.find("--compression-format"), std::string::npos);
  EXPECT_NE(help->text.find("zstd 1-19 (default 3)"), std::string::npos) << "level bounds from level_bounds";
  auto version = parse({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_NE(version->text.find("libzstd "), std::string::npos) << version->text;
}

TEST(CliOptions, ValueParsers) {
  EXPECT_EQ(*parse_port("8080"), "8080/tcp");
  EXPECT_EQ(*parse_port("53/udp"), "53/udp");
  EXPECT_EQ(*parse_port("9/sctp"), "9/sctp");
  EXPECT_FALSE(parse_port("").ok());
  EXPECT_FALSE(parse_port("80/").ok());
  EXPECT_FALSE(parse_port("-1").ok());
  EXPECT_EQ(*parse_size("--chunk-size", "1M"), 1048576u);
  EXPECT_EQ(*parse_size("--chunk-size", "512KiB"), 524288u);
  EXPECT_EQ(*parse_size("--chunk-size", "65536"), 65536u);
  auto kv = parse_key_value("--env", "A=");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->second, "");
  auto words = parse_command_words("--cmd", {"a 'b c'"});
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"a", "b c"}));
}

TEST(CliOptions, AnnotationsAndSbom) {
  auto cl = parse(with({"--annotation", "org.opencontainers.image.revision=abc", "--annotation", "k=a b=c",
                        "--annotation", "k=last", "--index-annotation", "e=1", "--sbom", "/x/sbom.json"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.manifest_annotations,
            (std::map<std::string, std::string>{{"k", "last"}, {"org.opencontainers.image.revision", "abc"}}));
  EXPECT_EQ(cl->build.index_annotations, (std::map<std::string, std::string>{{"e", "1"}}));
  EXPECT_EQ(cl->build.sbom_path, "/x/sbom.json");
  cl = parse(base());
  ASSERT_TRUE(cl.ok());
  EXPECT_TRUE(cl->build.manifest_annotations.empty());
  EXPECT_TRUE(cl->build.sbom_path.empty());
  auto bad = parse(with({"--annotation", "=v"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--annotation"), std::string::npos) << bad.error().message;
  bad = parse(with({"--index-annotation", "novalue"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--index-annotation"), std::string::npos) << bad.error().message;
}

TEST(CliOptions, Attach) {
  auto cl = parse({"attach", "/layout:v2", "/sbom.json"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->action, CommandLine::Action::attach);
  EXPECT_EQ(cl->attach.layout_dir, "/layout");
  EXPECT_EQ(cl->attach.tag, "v2");
  EXPECT_EQ(cl->attach.document_path, "/sbom.json");
  EXPECT_FALSE(cl->attach.artifact_type.has_value());
  cl = parse({"attach", "/layout", "--artifact-type", "text/plain", "/notes"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->attach.tag, "latest");
  EXPECT_EQ(cl->attach.artifact_type, std::optional<std::string>("text/plain"));
  EXPECT_FALSE(parse({"attach", "/layout"}).ok());
}

// --force-platform needs --base and reaches BuildOptions; --json sets the
// command's json for build and verify.
TEST(CliOptions, ForcePlatformAndJson) {
  auto cl = parse(with({"--base", "/b", "--arch", "arm64", "--force-platform", "--json"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_TRUE(cl->build.force_platform);
  EXPECT_TRUE(cl->json);
  cl = parse(base());
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_FALSE(cl->build.force_platform);
  EXPECT_FALSE(cl->json);
  cl = parse(with({"--arch", "arm64", "--force-platform"}));
  ASSERT_FALSE(cl.ok());
  EXPECT_EQ(cl.error().kind, ErrorKind::usage);
  EXPECT_NE(cl.error().message.find("--force-platform needs --base"), std::string::npos) << cl.error().message;
  cl = parse({"verify", "/l", "--json", "--ref", "v1"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->action, CommandLine::Action::verify);
  EXPECT_TRUE(cl->json);
  EXPECT_EQ(cl->tag, "v1");
}

}  // namespace
}  // namespace ocipack::cli

namespace ocipack::cli {
namespace {

TEST(CliOptions, IndexTakesSourcesInOrderOrEdits) {
  auto cl = parse({"index", "-o", "/out", "--tag", "multi", "/a", "/b.tar:v1", "/c:v1:rc"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->action, CommandLine::Action::index);
  const IndexRequest& r = cl->index;
  EXPECT_EQ(r.layout_dir, "/out");
  EXPECT_EQ(r.tag, "multi");
  ASSERT_EQ(r.sources.size(), 3u);
  EXPECT_EQ(r.sources[0].path, "/a");
  EXPECT_EQ(r.sources[0].tag, "latest");
  EXPECT_EQ(r.sources[1].path, "/b.tar");
  EXPECT_EQ(r.sources[1].tag, "v1");
  EXPECT_EQ(r.sources[2].tag, "v1:rc");
  EXPECT_FALSE(r.flatten);

  auto edit = parse({"index", "-o", "/out", "--add", "/d:v2", "--remove", "linux/arm/v7", "--remove",
                     "linux/arm64", "--flatten", "-q"});
  ASSERT_TRUE(edit.ok()) << edit.error().message;
  EXPECT_EQ(edit->index.tag, "latest");
  ASSERT_EQ(edit->index.add.size(), 1u);
  EXPECT_EQ(edit->index.add[0].tag, "v2");
  ASSERT_EQ(edit->index.remove.size(), 2u);
  EXPECT_EQ(platform_text(edit->index.remove[0]), "linux/arm/v7");
  EXPECT_TRUE(edit->index.flatten);
  EXPECT_TRUE(edit->quiet);

  auto bad = parse({"index", "-o", "/out", "--remove", "linux"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--remove: invalid platform 'linux'"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse({"index", "/a"}).ok());  // -o is required
}

// index --annotation/--index-annotation: parsed as build's (a later value
// wins, KEY=VALUE required); the library's field names map to the flags.
TEST(CliOptions, IndexTakesAnnotationsOfTheDocumentAndOfItsEntry) {
  auto cl = parse({"index", "-o", "/out", "/a", "--annotation", "k=first", "--annotation", "k=a b=c",
                   "--index-annotation", "e=1"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->index.document_annotations, (std::map<std::string, std::string>{{"k", "a b=c"}}));
  EXPECT_EQ(cl->index.index_annotations, (std::map<std::string, std::string>{{"e", "1"}}));
  auto bad = parse({"index", "-o", "/out", "/a", "--annotation", "novalue"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--annotation 'novalue': expected KEY=VALUE"), std::string::npos);
  EXPECT_EQ(flag_for_field("document_annotations"), "--annotation");
  EXPECT_EQ(flag_for_field("index_annotations"), "--index-annotation");
}

TEST(CliOptions, PlatformPicksFromAMultiPlatformImage) {
  auto inspect = parse({"inspect", "/l:multi", "--platform", "linux/arm64/v8"});
  ASSERT_TRUE(inspect.ok()) << inspect.error().message;
  ASSERT_TRUE(inspect->platform.has_value());
  EXPECT_EQ(platform_text(*inspect->platform), "linux/arm64/v8");
  EXPECT_FALSE(parse({"inspect", "/l:multi"})->platform.has_value());

  auto build = parse(with({"--base", "/l:multi", "--platform", "linux/arm/v7"}));
  ASSERT_TRUE(build.ok()) << build.error().message;
  ASSERT_TRUE(build->build.base_platform.has_value());
  EXPECT_EQ(platform_text(*build->build.base_platform), "linux/arm/v7");
  EXPECT_FALSE(parse(with({"--base", "/l:multi"}))->build.base_platform.has_value());
  auto alone = parse(with({"--platform", "linux/arm/v7"}));
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.error().message.find("--platform needs --base"), std::string::npos);
}

}  // namespace
}  // namespace ocipack::cli

namespace ocipack::cli {
namespace {

// Unknown subcommands and flags are named, with the nearest known name when
// one is close, before CLI11 would complain about something else (a
// required -o the typo hid); `help CMD` and `version` are subcommands.
TEST(CliOptions, UnknownNamesAreNamedWithASuggestion) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"biuld", "/r", "-o", "/o"}, "unknown command 'biuld' (did you mean 'build'?)"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"build", "/r", "--tga", "v1"}, "unknown option '--tga' (did you mean '--tag'?)"},  // -o missing too
      {{"build", "/r", "-o", "/o", "--tga=v1"}, "unknown option '--tga' (did you mean '--tag'?)"},
      {{"build", "/r", "-o", "/o", "--no-such-flag"}, "unknown option '--no-such-flag'"},
      {{"build", "/r", "-x", "-o", "/o"}, "unknown option '-x'"},
      {{"verify", "/l", "--rfe", "v1"}, "unknown option '--rfe' (did you mean '--ref'?)"},
      {{"inspect", "/l", "--jsno"}, "unknown option '--jsno' (did you mean '--json'?)"},
      {{"--verison"}, "unknown option '--verison' (did you mean '--version'?)"},
      {{"help", "inspcet"}, "unknown command 'inspcet' (did you mean 'inspect'?)"},
  };
  for (const auto& [args, message] : refused) {
    auto cl = parse(args);
    ASSERT_FALSE(cl.ok()) << message;
    EXPECT_EQ(cl.error().kind, ErrorKind::usage);
    EXPECT_EQ(cl.error().message, message);
  }
  // A value that looks like a flag is a value, not an unknown flag.
  auto cl = parse(with({"--label", "--x=1", "--cmd=--tga"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.image.labels.at("--x"), "1");
  EXPECT_FALSE(parse(with({"--", "--tga"})).ok()) << "after --, an extra word is CLI11's to refuse";
}

TEST(CliOptions, UsageHintNamesTheSubcommand) {
  EXPECT_EQ(usage_hint({"build", "/r"}), "see 'ocipack build --help'");
  EXPECT_EQ(usage_hint({"verify", "--ref"}), "see 'ocipack verify --help'");
  EXPECT_EQ(usage_hint({"biuld"}), "see 'ocipack --help'");
  EXPECT_EQ(usage_hint({}), "see 'ocipack --help'");
  EXPECT_EQ(usage_hint({"help", "x"}), "see 'ocipack --help'");
}

TEST(CliOptions, HelpAndVersionSubcommands) {
  auto help = parse({"help", "verify"});
  ASSERT_TRUE(help.ok()) << help.error().message;
  EXPECT_EQ(help->action, CommandLine::Action::help);
  EXPECT_EQ(help->text, parse({"verify", "--help"})->text);
  EXPECT_NE(help->text.find("--ref"), std::string::npos);
  EXPECT_NE(help->text.find("1 problems found"), std::string::npos) << help->text;
  auto top = parse({"help"});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->text, parse({"--help"})->text);
  for (const char* name : {"build", "index", "tags", "inspect", "verify", "gc", "attach", "tag", "untag", "help", "version"})
    EXPECT_NE(top->text.find(name), std::string::npos) << name;
  for (const char* command : {"build", "index", "tags", "inspect", "verify", "gc", "attach", "tag", "untag"}) {
    auto text = parse({command, "--help"});
    ASSERT_TRUE(text.ok()) << command;
    EXPECT_NE(text->text.find("Exit status: 0 done; 1 the operation failed"), std::string::npos) << command;
    EXPECT_NE(text->text.find("143"), std::string::npos) << command;
  }
  auto version = parse({"version"});
  ASSERT_TRUE(version.ok()) << version.error().message;
  EXPECT_EQ(version->action, CommandLine::Action::version);
  EXPECT_EQ(version->text, parse({"--version"})->text);
  for (const char* library : {"libdeflate", "libzstd"})
    EXPECT_NE(version->text.find(library), std::string::npos) << version->text;
}

// SOURCE_DATE_EPOCH= (set, empty) is unset with a warning; garbage still fails.
TEST(CliOptions, EmptySourceDateEpochIsUnsetWithAWarning) {
  Environment env = test_env();
  env.source_date_epoch = "";
  auto cl = parse(base(), env);
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.image.created, env.now);
  EXPECT_FALSE(cl->build.clamp_mtime.has_value());
  ASSERT_EQ(cl->warnings.size(), 1u);
  EXPECT_NE(cl->warnings[0].find("SOURCE_DATE_EPOCH is set but empty: ignored"), std::string::npos);
  EXPECT_TRUE(parse(base())->warnings.empty());
  env.source_date_epoch = " ";
  auto garbage = parse(base(), env);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("SOURCE_DATE_EPOCH ' '"), std::string::npos) << garbage.error().message;
}

// --diff-base alone makes an image of nothing but the delta: a warning, the
// build goes on; with --base, or over a lower layer that is the diff base, none.
TEST(CliOptions, DiffBaseWithoutBaseWarns) {
  auto cl = parse(with({"--diff-base", "/old"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  ASSERT_EQ(cl->warnings.size(), 1u);
  EXPECT_EQ(cl->warnings[0],
            "--diff-base without --base: the image holds only the changes from '/old', not the files they apply to");
  EXPECT_TRUE(parse(with({"--diff-base", "/old", "--base", "/b"}))->warnings.empty());
  EXPECT_TRUE(parse({"build", "-o", "/o", "--layer", "/old", "--layer", "/new", "--diff-base", "/old"})->warnings.empty());
  EXPECT_TRUE(parse(base())->warnings.empty());
}

// --variant only where the architecture has variants, --os from Go's list,
// --stop-signal a signal name or number; each refusal names flag and value.
TEST(CliOptions, PlatformAndStopSignalAreValidated) {
  for (const auto& ok : std::vector<std::vector<std::string>>{
           {"--arch", "arm", "--variant", "v6"}, {"--arch", "arm64", "--variant", "v8"}, {"--os", "windows"},
           {"--os", "freebsd"}, {"--stop-signal", "SIGTERM"}, {"--stop-signal", "TERM"}, {"--stop-signal", "9"},
           {"--stop-signal", "SIGRTMIN+3"}, {"--base", "/b", "--variant", "v7"}})
    EXPECT_TRUE(parse(with(ok)).ok()) << ok[0] << " " << ok[1] << ": " << parse(with(ok)).error().message;
  const std::vector<BadCase> cases = {
      {{"--arch", "amd64", "--variant", "v7"}, "--variant: variant 'v7': architecture 'amd64' has no variants"},
      {{"--arch", "aarch64", "--variant", "v7"}, "--variant: variant 'v7' is not one of arm64's (v8)"},
      {{"--os", "linx"}, "--os: unknown operating system 'linx'"},
      {{"--os", "Linux"}, "'Linux'"},
      {{"--stop-signal", "SIGFOO"}, "--stop-signal 'SIGFOO'"},
      {{"--stop-signal", "0"}, "--stop-signal '0'"},
      {{"--stop-signal", "65"}, "--stop-signal '65'"},
      {{"--stop-signal", "sigterm"}, "--stop-signal 'sigterm'"},
  };
  for (const auto& c : cases) {
    auto cl = parse(with(c.flags));
    ASSERT_FALSE(cl.ok()) << c.must_mention;
    EXPECT_EQ(cl.error().kind, ErrorKind::usage);
    EXPECT_NE(cl.error().message.find(c.must_mention), std::string::npos) << cl.error().message;
  }
}

}  // namespace
}  // namespace ocipack::cli

namespace ocipack::cli {
namespace {

// The chunk cache flags: --cache, else $OCIPACK_CACHE_DIR; --no-cache beats
// the environment; sizes with G; every bad value names its flag.
TEST(CliOptions, CacheFlagsAndEnvironment) {
  auto none = parse({"build", "-o", "out", "rootfs"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->build.layer.cache.dir.empty());
  EXPECT_EQ(none->build.layer.cache.max_bytes, uint64_t{5} << 30);
  auto given = parse({"build", "-o", "out", "--cache", "c", "--cache-max-size", "2G", "--cache-remote",
                      "http://127.0.0.1:8080/x/", "--cache-remote-timeout", "3", "rootfs"});
  ASSERT_TRUE(given.ok()) << given.error().message;
  EXPECT_EQ(given->build.layer.cache.dir, "c");
  EXPECT_EQ(given->build.layer.cache.max_bytes, uint64_t{2} << 30);
  EXPECT_EQ(given->build.layer.cache.remote_url, "http://127.0.0.1:8080/x/");
  EXPECT_EQ(given->build.layer.cache.remote_timeout_ms, 3000);
  Environment env = test_env();
  env.cache_dir = "from-env";
  env.cache_remote = "http://127.0.0.1:1/r";
  auto from_env = parse({"build", "-o", "out", "rootfs"}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.error().message;
  EXPECT_EQ(from_env->build.layer.cache.dir, "from-env");
  EXPECT_EQ(from_env->build.layer.cache.remote_url, "http://127.0.0.1:1/r");
  auto flag_wins = parse({"build", "-o", "out", "--cache", "mine", "rootfs"}, env);
  ASSERT_TRUE(flag_wins.ok());
  EXPECT_EQ(flag_wins->build.layer.cache.dir, "mine");
  auto off = parse({"build", "-o", "out", "--no-cache", "rootfs"}, env);
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->build.layer.cache.dir.empty());
  EXPECT_TRUE(off->build.layer.cache.remote_url.empty());
  EXPECT_EQ(*parse_size("--cache-max-size", "5G"), uint64_t{5} << 30);
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--cache-max-size", "5X"}, "--cache-max-size '5X'"},
      {{"--cache", "c", "--cache-remote-timeout", "0"}, "--cache-remote-timeout 0"},
      {{"--cache-remote", "http://127.0.0.1:1/r"}, "--cache-remote needs"},
      {{"--cache", "c", "--cache-remote", "ftp://127.0.0.1/r"}, "--cache-remote"},
      {{"--cache", "c", "--cache-remote", "http://127.0.0.1/r?x=1"}, "--cache-remote"},
      {{"--no-cache", "--cache", "c"}, "--no-cache"},
      {{"--cache", ""}, "--cache"},
  };
  for (const auto& [flags, must_mention] : bad) {
    std::vector<std::string> args = {"build", "-o", "out"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("rootfs");
    auto refused = parse(args);
    ASSERT_FALSE(refused.ok()) << must_mention;
    EXPECT_EQ(refused.error().kind, ErrorKind::usage);
    EXPECT_NE(refused.error().message.find(must_mention), std::string::npos) << refused.error().message;
  }
}

TEST(CliOptions, CacheSubcommands) {
  auto stats = parse({"cache", "stats", "dir"});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->action, CommandLine::Action::cache_stats);
  EXPECT_EQ(stats->cache_dir, "dir");
  auto prune = parse({"cache", "prune", "dir", "--max-size", "1G"});
  ASSERT_TRUE(prune.ok()) << prune.error().message;
  EXPECT_EQ(prune->action, CommandLine::Action::cache_prune);
  EXPECT_EQ(prune->cache_max_bytes, uint64_t{1} << 30);
  auto typo = parse({"cache", "prnue", "dir"});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("did you mean 'prune'"), std::string::npos) << typo.error().message;
  auto flag_typo = parse({"cache", "prune", "dir", "--max-sise", "1G"});
  ASSERT_FALSE(flag_typo.ok());
  EXPECT_NE(flag_typo.error().message.find("--max-size"), std::string::npos) << flag_typo.error().message;
  EXPECT_FALSE(parse({"cache", "prune", "dir", "--max-size", "lots"}).ok());
  EXPECT_FALSE(parse({"cache"}).ok());
}

}  // namespace
}  // namespace ocipack::cli

namespace ocipack::cli {
namespace {

// `add-layer IMAGE DIR`: the build of DIR on --base IMAGE into IMAGE, as an
// edit of the base; --tag writes elsewhere; the history flags; the codec
// flags as build's; the words of errors (DIR, add-layer).
TEST(CliOptions, AddLayerIsABuildThatEditsItsBase) {
  testing::TempDir dir;
  testing::make_dirs(dir / "layer");
  auto cl = parse({"add-layer", dir / "L:v1", dir / "layer"});
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  const BuildOptions& b = cl->build;
  EXPECT_EQ(cl->action, CommandLine::Action::add_layer);
  ASSERT_EQ(b.layers.size(), 1u);
  EXPECT_EQ(b.layers[0].rootfs, dir / "layer");
  EXPECT_EQ(b.layout_dir, dir / "L");
  EXPECT_EQ(b.base_layout, dir / "L");
  EXPECT_EQ(b.base_tag, "v1");
  EXPECT_EQ(b.image.tag, "v1");
  EXPECT_TRUE(b.image.extra_tags.empty());
  EXPECT_TRUE(b.edit_base);
  EXPECT_FALSE(b.image.architecture.has_value());  // inherited from the image
  EXPECT_EQ(b.image.history_created_by, "ocipack add-layer");
  EXPECT_EQ(b.layer.codec.compression, LayerCompression::gzip);
  EXPECT_EQ(b.image.created, 1800000000);

  Environment env = test_env();
  env.source_date_epoch = "1600000000";
  auto full = parse({"add-layer", dir / "L", dir / "layer", "--tag", "v2", "--history.created_by", "useradd",
                     "--history.comment", "home", "--history.author", "me", "--compression-format", "zstd",
                     "--level", "9", "--owner", "root"},
                    env);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->build.base_tag, "latest");
  EXPECT_EQ(full->build.image.tag, "v2");
  EXPECT_EQ(full->build.image.history_created_by, "useradd");
  EXPECT_EQ(full->build.image.history_comment, "home");
  EXPECT_EQ(full->build.image.history_author, "me");
  EXPECT_EQ(full->build.layer.codec.compression, LayerCompression::zstd);
  EXPECT_EQ(full->build.layer.codec.level, 9);
  EXPECT_TRUE(full->build.owner_root);
  EXPECT_EQ(full->build.image.created, 1600000000);
  EXPECT_EQ(full->build.clamp_mtime, 1600000000);

  EXPECT_FALSE(parse({"add-layer", dir / "L", dir / "layer", "--tag", "a", "--tag", "b"}).ok());
  EXPECT_FALSE(parse({"add-layer", dir / "L", dir / "layer", "--level", "99"}).ok());
  EXPECT_FALSE(parse({"add-layer", dir / "L", dir / "layer", "--author", "x"}).ok());  // build's, not add-layer's
  EXPECT_FALSE(parse({"add-layer", dir / "L"}).ok());

  Error missing = field_error(ErrorKind::input, "layers[0].rootfs", " '/x' does not exist");
  EXPECT_EQ(message_for_user(missing, "add-layer"), "DIR '/x' does not exist");
  EXPECT_EQ(message_for_user(missing), "rootfs '/x' does not exist");
  Error base = field_error(ErrorKind::input, "base_layout", ": layout 'L' has no tag 'v9'");
  EXPECT_EQ(message_for_user(base, "add-layer"), "add-layer: layout 'L' has no tag 'v9'");
  EXPECT_EQ(message_for_user(base), "--base: layout 'L' has no tag 'v9'");
}

TEST(CliOptions, TarOutputDir) {
  auto cl = parse(with({"--tar-output", "/out.tar", "--tar-output-dir", "/out-dir.tar"}));
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  EXPECT_EQ(cl->build.tar_output, "/out.tar");
  EXPECT_EQ(cl->build.tar_output_dir, "/out-dir.tar");
}

// --yocto-vars FILE: the dump mapped (cli/yocto_vars.h) and parsed like typed
// arguments; with any other flag but --print-yocto-args it is refused.
TEST(CliOptions, YoctoVarsBuildsWhatTheDumpSays) {
  ocipack::testing::TempDir dir;
  ocipack::testing::make_dirs(dir.path() + "/rootfs/etc");
  ocipack::testing::make_dirs(dir.path() + "/deploy");
  std::map<std::string, std::string> values{{"IMGDEPLOYDIR", dir.path() + "/deploy"},
                                            {"IMAGE_ROOTFS", dir.path() + "/rootfs"},
                                            {"IMAGE_NAME", "img"},
                                            {"IMAGE_BASENAME", "base"},
                                            {"OCI_IMAGE_CMD", "/bin/sh -c 'echo $(x)'"},
                                            {"OCI_IMAGE_TAR_OUTPUT", "1"},
                                            {"OCI_LAYER_MODE", "multi"},
                                            {"OCI_LAYERS", "etc:directories:/etc"},
                                            {"OCI_LAYER_REMAINDER", "1"}};
  std::string text;
  for (const auto& name : yocto_var_names()) text += name + "=" + (values.count(name) ? values[name] : "") + "\n";
  const std::string file = dir.path() + "/vars";
  ocipack::testing::write_text(file, text);
  Environment env = test_env();
  env.source_date_epoch = "1700000000";
  env.git = [](const std::string&, const std::vector<std::string>&) { return std::optional<std::string>(); };
  auto cl = parse({"build", "--yocto-vars", file}, env);
  ASSERT_TRUE(cl.ok()) << cl.error().message;
  const BuildOptions& b = cl->build;
  EXPECT_EQ(b.layout_dir, dir.path() + "/deploy/img-oci");
  EXPECT_EQ(b.image.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo $(x)"}));
  EXPECT_EQ(b.image.created, 1700000000);
  EXPECT_EQ(b.clamp_mtime, 1700000000);
  EXPECT_TRUE(b.layers.empty());
  ASSERT_TRUE(b.path_layers.has_value());
  EXPECT_EQ(b.path_layers->layers.size(), 1u);
  EXPECT_EQ(b.tar_output_dir, dir.path() + "/deploy/img-oci-dir.tar");
  EXPECT_EQ(cl->yocto_links.size(), 3u);
  EXPECT_FALSE(cl->yocto_args.has_value());
  auto printed = parse({"build", "--yocto-vars", file, "--print-yocto-args"}, env);
  ASSERT_TRUE(printed.ok());
  ASSERT_TRUE(printed->yocto_args.has_value());
  EXPECT_EQ(printed->yocto_args->front(), "build");
  auto mixed = parse({"build", "--yocto-vars", file, "-o", "/x"}, env);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("--yocto-vars FILE takes no other flag"), std::string::npos);
}

}  // namespace
}  // namespace ocipack::cli
