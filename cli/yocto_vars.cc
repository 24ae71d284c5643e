// Implementation of the Yocto variable mapping (see yocto_vars.h). Each
// block follows one section of scripts/yocto/README.md.
#include "cli/yocto_vars.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <simdjson.h>

#include "cli/shlex.h"
#include "core/codec/stream_decoder.h"
#include "core/util/file_io.h"
#include "core/util/path.h"
#include "core/util/time_format.h"

namespace ocipack::cli {

namespace {

Error fail(const std::string& message) { return input_error(message); }

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The backend's truth values: "", 0, false, no, off, n are false.
bool is_true(const std::string& value) {
  const std::string v = lower(value);
  return !(v.empty() || v == "0" || v == "false" || v == "no" || v == "off" || v == "n");
}

bool has_word(const std::string& value) {
  return value.find_first_not_of(" \t\n\r") != std::string::npos;
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool exists_no_follow(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A tag as the class puts it in file names: ':' is valid in a tag but not
// wanted in a file name, so it becomes '_'.
std::string tag_in_file_name(std::string tag) {
  std::replace(tag.begin(), tag.end(), ':', '_');
  return tag;
}

std::string canonical(const std::string& path) {
  std::error_code error;
  auto resolved = std::filesystem::canonical(path, error);
  return error ? path : resolved.string();
}

// The words of NAME (shlex, as the class splits them).
Result<std::vector<std::string>> words_of(const YoctoVars& vars, const std::string& name) {
  const std::string text = vars.get(name);
  auto words = shlex_split(text);
  if (!words) return fail(name + ": unterminated quote or trailing backslash in: " + text);
  return words;
}

// A path of OCI_LAYERS, relative: leading and trailing '/' removed; "",
// ".." and "." components refused.
Result<std::string> layer_path(const std::string& item, const std::string& what) {
  std::string rel = item;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  const std::string wrapped = "/" + rel + "/";
  if (rel.empty() || wrapped.find("/../") != std::string::npos || wrapped.find("/./") != std::string::npos)
    return fail(what);
  return rel;
}

std::vector<std::string> split_items(const std::string& content) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t plus = content.find('+', start);
    std::string item = content.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    if (!item.empty()) items.push_back(std::move(item));
    if (plus == std::string::npos) return items;
    start = plus + 1;
  }
}

// Decompressed contents of a pkgdata file (zstd, gzip or plain, by magic).
Result<std::string> read_decoded(const std::string& path) {
  OCIPACK_TRY_ASSIGN(const std::string raw, read_file(path));
  const Compression compression = sniff_compression(raw);
  if (compression == Compression::none) return raw;
  OCIPACK_TRY_ASSIGN(auto decoder, make_stream_decoder(compression));
  std::string out;
  const ByteSink sink = [&out](std::string_view piece) { out.append(piece); };
  auto fed = decoder->feed(raw, sink);
  if (!fed) return fail(path + ": " + fed.error().message);
  auto done = decoder->finish();
  if (!done) return fail(path + ": " + done.error().message);
  return out;
}

// The keys of the object "files_info" of `json` (or of `json` itself).
Status add_files_info(const std::string& json, bool top_level_files_info, const std::string& path,
                      std::vector<std::string>& files) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return fail(path + ": not JSON");
  simdjson::dom::object object;
  if (top_level_files_info) {
    simdjson::dom::element info;
    if (doc["files_info"].get(info) != simdjson::SUCCESS) return ok_status();
    if (info.get(object) != simdjson::SUCCESS) return fail(path + ": files_info is not an object");
  } else if (doc.get(object) != simdjson::SUCCESS) {
    return fail(path + ": FILES_INFO is not an object");
  }
  for (auto field : object) files.emplace_back(field.key);
  return ok_status();
}

}  // namespace

const std::vector<std::string>& yocto_var_names() {
  static const std::vector<std::string> names{
      "WORKDIR", "IMGDEPLOYDIR", "IMAGE_ROOTFS", "IMAGE_NAME", "IMAGE_NAME_SUFFIX", "IMAGE_BASENAME",
      "DEPLOY_DIR_IMAGE", "TOPDIR", "PKGDATA_DIR", "OCI_IMAGE_TAG", "OCI_IMAGE_AUTHOR", "OCI_IMAGE_AUTHOR_EMAIL",
      "OCI_IMAGE_RUNTIME_UID", "OCI_IMAGE_ARCH", "OCI_IMAGE_SUBARCH", "OCI_IMAGE_OS", "OCI_IMAGE_ENTRYPOINT",
      "OCI_IMAGE_ENTRYPOINT_ARGS", "OCI_IMAGE_CMD", "OCI_IMAGE_WORKINGDIR", "OCI_IMAGE_STOPSIGNAL",
      "OCI_IMAGE_PORTS", "OCI_IMAGE_LABELS", "OCI_IMAGE_ENV_VARS", "OCI_IMAGE_AUTO_LABELS", "OCI_IMAGE_REVISION",
      "OCI_IMAGE_BRANCH", "OCI_IMAGE_BUILD_DATE", "OCI_IMAGE_TAR_OUTPUT", "OCI_BASE_IMAGE", "OCI_BASE_IMAGE_TAG",
      "OCI_LAYER_MODE", "OCI_LAYERS", "OCI_LAYER_REMAINDER", "OCIPACK_EXTRA_ARGS", "OCI_IMAGE_COMPRESSION",
      "OCI_IMAGE_COMPRESSION_LEVEL", "OCI_IMAGE_SBOM", "OCI_IMAGE_SBOM_AUTO", "OCIPACK_CACHE_DIR",
      "OCIPACK_CACHE_REMOTE", "REPRODUCIBLE_TIMESTAMP_ROOTFS"};
  return names;
}

std::string YoctoVars::get(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::string() : it->second;
}

Result<YoctoVars> parse_yocto_vars(std::string_view text) {
  const auto& names = yocto_var_names();
  YoctoVars vars;
  size_t next = 0;  // index of the next expected name
  std::optional<std::string> current;
  std::string value;
  auto store = [&] {
    if (!current) return;
    if (value != "${" + *current + "}") vars.values[*current] = value;
  };
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    if (next < names.size() && line.substr(0, names[next].size() + 1) == names[next] + "=") {
      store();
      current = names[next];
      value = std::string(line.substr(names[next].size() + 1));
      ++next;
    } else if (current) {
      value += "\n";
      value += line;
    } else {
      return usage_error("--yocto-vars: expected " + names[0] + "= on the first line, not '" + std::string(line) + "'");
    }
    start = end + 1;
  }
  store();
  if (next < names.size()) return usage_error("--yocto-vars: no value for " + names[next] + " (the dump and this ocipack differ)");
  return vars;
}

Result<std::vector<std::string>> yocto_package_files(const std::string& pkgdata_dir, const std::string& package,
                                                     const std::string& layer) {
  std::string runtime = pkgdata_dir + "/runtime/" + package;
  std::string pkg = package;
  const std::string reverse = pkgdata_dir + "/runtime-reverse/" + package;
  if (!is_regular_file(runtime) && exists_no_follow(reverse)) {
    runtime = reverse;
    std::error_code error;
    const auto target = std::filesystem::read_symlink(reverse, error);
    if (!error) pkg = target.filename().string();
  }
  if (pkgdata_dir.empty() || !is_regular_file(runtime))
    return fail("layer '" + layer + "': no pkgdata for package '" + package + "' in " + pkgdata_dir + "/runtime");
  std::vector<std::string> files;
  OCIPACK_TRY_ASSIGN(const std::string runtime_text, read_file(runtime));
  if (runtime_text.rfind("FILES_INFO", 0) == 0 || runtime_text.find("\nFILES_INFO") != std::string::npos) {
    size_t start = 0;
    while (start < runtime_text.size()) {
      size_t end = runtime_text.find('\n', start);
      if (end == std::string::npos) end = runtime_text.size();
      const std::string line = runtime_text.substr(start, end - start);
      start = end + 1;
      const size_t sep = line.find(": ");
      if (line.rfind("FILES_INFO", 0) != 0 || sep == std::string::npos) continue;
      OCIPACK_TRY(add_files_info(line.substr(sep + 2), false, runtime, files));
    }
  } else {
    const std::string extended = pkgdata_dir + "/extended/" + pkg + ".json";
    for (const std::string& candidate : {extended + ".zstd", extended + ".gz", extended}) {
      if (!is_regular_file(candidate)) continue;
      OCIPACK_TRY_ASSIGN(const std::string json, read_decoded(candidate));
      OCIPACK_TRY(add_files_info(json, true, candidate, files));
      break;
    }  // none: no files recorded, an empty package
  }
  files.erase(std::remove_if(files.begin(), files.end(),
                             [](const std::string& f) { return f.find('\n') != std::string::npos; }),
              files.end());
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

Status prepare_yocto_outputs(const std::vector<std::string>& remove, const std::vector<std::string>& create) {
  for (const auto& path : remove) {
    std::error_code error;
    std::filesystem::remove_all(path, error);
    if (error) return io_error("cannot remove " + path + ": " + error.message());
  }
  for (const auto& path : create) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) return io_error("cannot create " + path + ": " + error.message());
  }
  return ok_status();
}

Status make_yocto_links(const std::vector<std::pair<std::string, std::string>>& links) {
  for (const auto& [link, target] : links) {
    const std::string temp = link + ".tmp-link";
    ::unlink(temp.c_str());
    if (::symlink(target.c_str(), temp.c_str()) != 0 || ::rename(temp.c_str(), link.c_str()) != 0) {
      const int saved = errno;
      ::unlink(temp.c_str());
      return io_error("cannot link " + link + " -> " + target + ": " + std::strerror(saved));
    }
  }
  return ok_status();
}

std::optional<std::string> run_git(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"git", "-c", "safe.directory=*", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "git", &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string out;
  if (spawned == 0) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(pipe_fds[0]);
  if (spawned != 0) return std::nullopt;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  out = out.substr(0, out.find('\n'));
  if (out.empty()) return std::nullopt;
  return out;
}

namespace {

// OCI_LAYER_MODE = "multi": OCI_LAYERS as path sets over IMAGE_ROOTFS.
Result<PathLayersPlan> multi_layers(const YoctoVars& vars, const std::string& rootfs, YoctoBuild& build) {
  PathLayersPlan plan;
  plan.rootfs = rootfs;
  plan.remainder = is_true(vars.get("OCI_LAYER_REMAINDER"));
  auto defs = shlex_split(vars.get("OCI_LAYERS"));
  if (!defs) return fail("OCI_LAYERS: unterminated quote");
  if (defs->empty()) return fail("OCI_LAYER_MODE = \"multi\" needs OCI_LAYERS");
  for (const auto& def : *defs) {
    const size_t first = def.find(':');
    const size_t second = first == std::string::npos ? first : def.find(':', first + 1);
    if (second == std::string::npos) return fail("OCI_LAYERS entry '" + def + "' is not name:type:content");
    const std::string name = def.substr(0, first);
    const std::string type = def.substr(first + 1, second - first - 1);
    const std::string content = def.substr(second + 1);
    if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
                            std::string::npos)
      return fail("OCI_LAYERS: bad layer name '" + name + "'");
    PathLayerSpec spec;
    spec.name = name;
    spec.empty_warning = "layer '" + name + "' is empty (everything already in earlier layers); left out";
    const std::string in_layer = "layer '" + name + "': ";
    if (type == "directories" || type == "files") {
      for (const auto& item : split_items(content)) {
        OCIPACK_TRY_ASSIGN(auto rel, layer_path(item, "OCI_LAYERS: bad path '" + item + "'"));
        PathClaimGroup group;
        group.paths.push_back(rel);
        group.recursive = true;
        group.warn_if_none = in_layer + item + " is not in IMAGE_ROOTFS";
        if (type == "directories") group.warn_if_not_directory = in_layer + item + " is not a directory";
        spec.claims.push_back(std::move(group));
      }
    } else if (type == "packages") {
      for (const auto& package : split_items(content)) {
        OCIPACK_TRY_ASSIGN(auto files, yocto_package_files(vars.get("PKGDATA_DIR"), package, name));
        PathClaimGroup group;
        for (auto& file : files) {
          while (!file.empty() && file.front() == '/') file.erase(0, 1);
          if (!file.empty()) group.paths.push_back(std::move(file));
        }
        group.warn_if_none = in_layer + "no file of package '" + package + "' is in IMAGE_ROOTFS";
        spec.claims.push_back(std::move(group));
      }
    } else if (type == "host") {
      build.warnings.push_back("layer '" + name + "' copies files from the build host: " + content);
      for (const auto& item : split_items(content)) {
        const size_t colon = item.rfind(':');
        if (colon == std::string::npos) return fail(in_layer + "host item '" + item + "' is not src:dst");
        const std::string source = item.substr(0, colon);
        std::string destination = item.substr(colon + 1);
        if (!destination.empty() && destination.back() == '/') destination += base_name(trim_trailing_slashes(source));
        OCIPACK_TRY_ASSIGN(auto rel, layer_path(destination, in_layer + "bad destination '" + item + "'"));
        if (!exists_no_follow(source)) return fail(in_layer + "host path " + source + " does not exist");
        spec.host.push_back({source, rel});
      }
      if (spec.host.empty()) continue;
    } else {
      return fail("OCI_LAYERS: layer '" + name + "' has unknown type '" + type +
                  "' (packages, directories, files or host)");
    }
    plan.layers.push_back(std::move(spec));
  }
  return plan;
}

// The image's date: SOURCE_DATE_EPOCH, except OE's fallback (an image
// recipe writes no epoch file), where the rootfs's own date
// (REPRODUCIBLE_TIMESTAMP_ROOTFS) is what OE used for the files; without
// SOURCE_DATE_EPOCH, now (and no clamp).
int64_t image_epoch(const YoctoVars& vars, const YoctoHost& host, YoctoBuild& build) {
  const std::string sde = host.source_date_epoch.value_or("");
  build.source_date_epoch = host.source_date_epoch;
  if (!all_digits(sde) || sde.size() > 12) return host.now;
  const int64_t epoch = std::stoll(sde);
  const std::string rootfs_time = vars.get("REPRODUCIBLE_TIMESTAMP_ROOTFS");
  if (epoch == k_oe_source_date_epoch_fallback && all_digits(rootfs_time) && rootfs_time.size() <= 12) {
    build.notes.push_back("SOURCE_DATE_EPOCH is OE's fallback (2011-04-05): the image is dated "
                          "REPRODUCIBLE_TIMESTAMP_ROOTFS (" + format_rfc3339(std::stoll(rootfs_time)) + ")");
    build.source_date_epoch = rootfs_time;
    return std::stoll(rootfs_time);
  }
  return epoch;
}

void add(std::vector<std::string>& args, std::initializer_list<std::string> words) {
  args.insert(args.end(), words);
}

Status add_words(std::vector<std::string>& args, const std::string& flag, const YoctoVars& vars,
                 const std::string& name) {
  OCIPACK_TRY_ASSIGN(auto words, words_of(vars, name));
  for (auto& word : words) {
    if (!flag.empty()) args.push_back(flag);
    args.push_back(std::move(word));
  }
  return ok_status();
}

void auto_labels(const YoctoVars& vars, const YoctoHost& host, int64_t epoch, std::vector<std::string>& args) {
  const std::string topdir = vars.get("TOPDIR");
  auto git = [&](std::vector<std::string> git_args) -> std::string {
    if (topdir.empty() || !host.git) return "";
    return host.git(topdir, git_args).value_or("");
  };
  std::string revision = vars.get("OCI_IMAGE_REVISION");
  if (revision.empty()) revision = git({"rev-parse", "--short", "HEAD"});
  if (!revision.empty() && revision != "none") {
    add(args, {"--label", "org.opencontainers.image.revision=" + revision});
    add(args, {"--annotation", "org.opencontainers.image.revision=" + revision});
  }
  std::string branch = vars.get("OCI_IMAGE_BRANCH");
  if (branch.empty()) {
    branch = git({"rev-parse", "--abbrev-ref", "HEAD"});
    if (branch == "HEAD") branch.clear();  // detached HEAD: no branch
  }
  if (!branch.empty() && branch != "none") add(args, {"--label", "org.opencontainers.image.ref.name=" + branch});
  std::string date = vars.get("OCI_IMAGE_BUILD_DATE");
  if (date.empty()) date = format_rfc3339(epoch);
  if (date != "none") {
    add(args, {"--label", "org.opencontainers.image.created=" + date});
    add(args, {"--annotation", "org.opencontainers.image.created=" + date});
  }
}

Result<std::string> base_image(const YoctoVars& vars, YoctoBuild& build) {
  const std::string base = vars.get("OCI_BASE_IMAGE");
  std::string tag = vars.get("OCI_BASE_IMAGE_TAG");
  if (tag.empty()) tag = "latest";
  std::string dir;
  if (base.front() == '/') {
    dir = base;
  } else if (base.find_first_of("/.") != std::string::npos) {
    return fail("OCI_BASE_IMAGE '" + base +
                "' looks like a registry reference; fetch it with a container-bundle recipe and name that recipe");
  } else {
    const std::string tag_fs = tag_in_file_name(tag);
    const std::string deploy = vars.get("DEPLOY_DIR_IMAGE");
    dir = deploy + "/" + base + "-" + tag_fs + "-oci";
    if (!is_directory(dir)) dir = deploy + "/" + base + "-oci";
  }
  if (!is_regular_file(dir + "/index.json"))
    return fail("base image '" + base + "' not found (no OCI layout at " + dir + ")");
  dir = canonical(dir);
  build.notes.push_back("base image " + dir + ":" + tag);
  return dir + ":" + tag;
}

Status outputs_and_codec(const YoctoVars& vars, const std::string& layout, YoctoBuild& build) {
  auto& args = build.args;
  if (is_true(vars.get("OCI_IMAGE_TAR_OUTPUT"))) {
    add(args, {"--tar-output", layout + ".tar"});
    add(args, {"--tar-output-dir", layout + "-dir.tar"});
  }
  const std::string compression = vars.get("OCI_IMAGE_COMPRESSION");
  if (!compression.empty() && compression != "gzip") add(args, {"--compression-format", compression});
  if (!vars.get("OCI_IMAGE_COMPRESSION_LEVEL").empty()) add(args, {"--level", vars.get("OCI_IMAGE_COMPRESSION_LEVEL")});

  const std::string sbom = vars.get("OCI_IMAGE_SBOM");
  const std::string sbom_word = lower(sbom);
  std::string attach;
  if (sbom_word.empty() || sbom_word == "0" || sbom_word == "no" || sbom_word == "off" || sbom_word == "false" ||
      sbom_word == "none") {
  } else if (sbom_word == "auto" || sbom_word == "1" || sbom_word == "yes" || sbom_word == "on" ||
             sbom_word == "true") {
    const std::string automatic = vars.get("OCI_IMAGE_SBOM_AUTO");
    if (is_regular_file(automatic)) attach = automatic;
    else
      build.notes.push_back("no SPDX document at " + automatic + " (is create-spdx inherited?): no SBOM attached");
  } else if (sbom.front() == '/') {
    if (!is_regular_file(sbom)) return fail("OCI_IMAGE_SBOM: no such file: " + sbom);
    attach = sbom;
  } else {
    return fail("OCI_IMAGE_SBOM must be auto, off or an absolute path, not '" + sbom + "'");
  }
  if (!attach.empty()) {
    build.notes.push_back("SBOM " + attach);
    add(args, {"--sbom", attach});
  }

  const std::string cache = vars.get("OCIPACK_CACHE_DIR");
  const std::string remote = vars.get("OCIPACK_CACHE_REMOTE");
  if (!cache.empty()) {
    add(args, {"--cache", cache});
    build.create_first.push_back(cache);
  }
  else if (remote.empty()) args.push_back("--no-cache");
  if (!remote.empty()) {
    if (cache.empty()) return fail("OCIPACK_CACHE_REMOTE needs a local cache: OCIPACK_CACHE_DIR is empty");
    add(args, {"--cache-remote", remote});
  }
  return add_words(args, "", vars, "OCIPACK_EXTRA_ARGS");
}

}  // namespace

Result<YoctoBuild> map_yocto_vars(const YoctoVars& vars, const YoctoHost& host) {
  YoctoBuild build;
  for (const char* required : {"IMGDEPLOYDIR", "IMAGE_ROOTFS", "IMAGE_NAME", "IMAGE_BASENAME"})
    if (vars.get(required).empty()) return fail(std::string(required) + " is not set");
  const std::string rootfs_var = vars.get("IMAGE_ROOTFS");
  if (!is_directory(rootfs_var)) return fail("IMAGE_ROOTFS is not a directory: " + rootfs_var);

  // Names.
  std::string tag = vars.get("OCI_IMAGE_TAG");
  if (tag.empty()) tag = "latest";
  const std::string deploy = vars.get("IMGDEPLOYDIR");
  const std::string image_name = vars.get("IMAGE_NAME") + vars.get("IMAGE_NAME_SUFFIX") + "-oci";
  const std::string layout = deploy + "/" + image_name;
  const std::string tag_fs = tag_in_file_name(tag);
  const std::string link_name = vars.get("IMAGE_BASENAME") + "-" + tag_fs + "-oci";
  const bool tarballs = is_true(vars.get("OCI_IMAGE_TAR_OUTPUT"));
  build.remove_first = {layout, layout + ".tar", layout + "-dir.tar"};
  if (link_name != image_name) {
    build.links.emplace_back(deploy + "/" + link_name, image_name);
    if (tarballs) {
      build.links.emplace_back(deploy + "/" + link_name + ".tar", image_name + ".tar");
      build.links.emplace_back(deploy + "/" + link_name + "-dir.tar", image_name + "-dir.tar");
    }
  }

  const int64_t epoch = image_epoch(vars, host, build);
  auto& args = build.args;
  add(args, {"build", "-o", layout, "--tag", tag, "--created", "@" + std::to_string(epoch), "--no-progress"});

  // Config: author "Name <email>" when both are set, else whichever is.
  const std::string author = vars.get("OCI_IMAGE_AUTHOR"), email = vars.get("OCI_IMAGE_AUTHOR_EMAIL");
  std::string who = author.empty() ? email : author;
  if (!author.empty() && !email.empty())
    who = author + " " + (email.size() >= 2 && email.front() == '<' && email.back() == '>' ? email : "<" + email + ">");
  if (!who.empty()) add(args, {"--author", who});
  for (const auto& [name, flag] : std::initializer_list<std::pair<const char*, const char*>>{
           {"OCI_IMAGE_RUNTIME_UID", "--user"}, {"OCI_IMAGE_ARCH", "--arch"}, {"OCI_IMAGE_SUBARCH", "--variant"},
           {"OCI_IMAGE_OS", "--os"}})
    if (!vars.get(name).empty()) add(args, {flag, vars.get(name)});
  if (has_word(vars.get("OCI_IMAGE_ENTRYPOINT"))) add(args, {"--entrypoint", vars.get("OCI_IMAGE_ENTRYPOINT")});
  if (has_word(vars.get("OCI_IMAGE_ENTRYPOINT_ARGS"))) add(args, {"--cmd", vars.get("OCI_IMAGE_ENTRYPOINT_ARGS")});
  else if (has_word(vars.get("OCI_IMAGE_CMD"))) add(args, {"--cmd", vars.get("OCI_IMAGE_CMD")});
  if (!vars.get("OCI_IMAGE_WORKINGDIR").empty()) add(args, {"--workdir", vars.get("OCI_IMAGE_WORKINGDIR")});
  if (!vars.get("OCI_IMAGE_STOPSIGNAL").empty()) add(args, {"--stop-signal", vars.get("OCI_IMAGE_STOPSIGNAL")});
  OCIPACK_TRY(add_words(args, "--port", vars, "OCI_IMAGE_PORTS"));
  // Automatic labels first, so that OCI_IMAGE_LABELS can override them.
  if (is_true(vars.get("OCI_IMAGE_AUTO_LABELS"))) auto_labels(vars, host, epoch, args);
  OCIPACK_TRY(add_words(args, "--label", vars, "OCI_IMAGE_LABELS"));
  OCIPACK_TRY(add_words(args, "--env", vars, "OCI_IMAGE_ENV_VARS"));

  if (!vars.get("OCI_BASE_IMAGE").empty()) {
    OCIPACK_TRY_ASSIGN(auto base, base_image(vars, build));
    add(args, {"--base", base});
  }

  const std::string rootfs = canonical(rootfs_var);
  const std::string mode = vars.get("OCI_LAYER_MODE");
  args.push_back(rootfs);  // multi: checked as the rootfs, then replaced by the plan
  if (mode.empty() || mode == "single") {
  } else if (mode == "multi") {
    OCIPACK_TRY_ASSIGN(auto plan, multi_layers(vars, rootfs, build));
    build.path_layers = std::move(plan);
  } else {
    return fail("OCI_LAYER_MODE must be single or multi, not '" + mode + "'");
  }
  OCIPACK_TRY(outputs_and_codec(vars, layout, build));
  return build;
}

}  // namespace ocipack::cli
