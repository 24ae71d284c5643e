// Implementation of verify_layout (see layout_verify.h). A Verifier walks the
// layout top-down — oci-layout, index.json, nested indexes, manifests, then
// each manifest's config and layers — and appends one line per problem to the
// report; no check ever aborts the walk, it only skips what depends on the
// broken part (a manifest that is not JSON has no layers to follow).
//
// The documents are read by the one document reader the loader uses
// (core/oci/document_reader.h), with a sink that reports every problem it
// finds, readable or not; configs get verify's own checks (config_checks.h).
// The layout is read through a LayoutSource (core/oci/layout_source.h): a
// directory, or a layout tarball read in place. Each blob is read once (blob_stream.h): one pass hashes the stored bytes
// and, for a layer, decompresses them into the diff_id hash and the tar
// entry checks (tar_entry_checker.h). Blobs shared by several manifests are
// checked once.
#include "core/image/layout_verify.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "core/image/blob_stream.h"
#include "core/image/chunked_layer_check.h"
#include "core/image/config_checks.h"
#include "core/image/tar_entry_checker.h"
#include "core/oci/document_reader.h"
#include "core/oci/layout_paths.h"
#include "core/oci/media_types.h"
#include "core/util/digest.h"
#include "core/util/file_io.h"
#include "core/util/open_beneath.h"
#include "core/oci/layout_reader.h"
#include "core/oci/layout_source.h"
#include "core/oci/oci_json.h"
#include "core/util/unique_fd.h"
#include "core/util/path.h"
#include "core/util/sha256.h"
#include "core/util/text.h"

namespace ocipack {

namespace {

constexpr int k_max_index_depth = 8;

// Verify's sink for the document reader: every problem is a line of the
// report, unreadable or nonconforming alike.
class ReportSink final : public ProblemSink {
 public:
  explicit ReportSink(std::vector<std::string>& lines) : m_lines(lines) {}
  void report(Severity, std::string message) override { m_lines.push_back(std::move(message)); }

 private:
  std::vector<std::string>& m_lines;
};

// Whether an index's platform for an image and the image's config disagree
// (os and architecture must match; the variant where both name one).
bool platforms_differ(const Platform& declared, const Platform& config) {
  return declared.os != config.os || declared.architecture != config.architecture ||
         (!declared.variant.empty() && !config.variant.empty() && declared.variant != config.variant);
}

class Verifier {
 public:
  Verifier(const LayoutSource& source, VerifyReport& report)
      : m_source(source), m_report(report), m_sink(report.problems) {}

  void run(const VerifyOptions& options) {
    check_oci_layout_file();
    auto text = read_layout_file(k_index_file);
    if (!text) return;
    const IndexDocument index = read_index_document(*text, k_index_file, nullptr, m_sink);
    check_tags(index.entries);
    bool found = false;
    std::vector<std::string> tags;
    for (const auto& entry : index.entries) {
      if (!entry.located) continue;
      auto ref = entry.located->annotations.find(k_annotation_ref_name);
      const bool tagged = ref != entry.located->annotations.end();
      if (tagged && std::find(tags.begin(), tags.end(), ref->second) == tags.end()) tags.push_back(ref->second);
      if (options.ref && (!tagged || ref->second != *options.ref)) continue;
      found = true;
      const std::string label =
          tagged ? "tag " + in_quotes(ref->second) : "index.json manifests[" + std::to_string(entry.position) + "]";
      check_manifest_entry(*entry.located, label, 0);
    }
    check_subjects();
    if (options.ref && !found) {
      m_report.ref_missing = true;
      std::string list;
      for (const auto& tag : tags) list += (list.empty() ? "" : ", ") + in_quotes(tag);
      problem("index.json has no manifest tagged " + in_quotes(*options.ref) +
              (tags.empty() ? " (it has no tagged manifests)" : " (available tags: " + list + ")"));
    }
  }

 private:
  struct BlobFacts {
    std::optional<int64_t> size;    // unset: missing or unreadable
    std::optional<Digest> diff_id;  // layers whose content could be decompressed
    ConfigFacts config;             // configs
    std::optional<Platform> image_platform;  // manifests: what their config says
  };

  void problem(std::string line) { m_report.problems.push_back(std::move(line)); }

  // A file of the layout itself (oci-layout, index.json), read with
  // read_regular_file: a FIFO, device, directory or symlink is a problem, not a hang.
  std::optional<std::string> read_layout_file(const std::string& name) {
    auto text = m_source.read_file(name, k_max_document_size);
    if (!text) {
      problem(name + ": " + text.error().message);
      return std::nullopt;
    }
    if (!*text) problem(name + (name == k_oci_layout_file ? " is missing (not an OCI image layout?)" : " is missing"));
    return std::move(*text);
  }

  void check_oci_layout_file() {
    auto text = read_layout_file(k_oci_layout_file);
    if (!text) return;
    if (auto valid = check_oci_layout(*text); !valid) problem(valid.error().message);
  }

  // Each tag must be a valid ref.name, carried by one entry: consumers pick
  // different ones of several (skopeo the first, umoci refuses it as ambiguous).
  void check_tags(const std::vector<IndexEntry>& entries) {
    std::map<std::string, std::vector<size_t>> positions;
    std::vector<std::string> order;
    for (const auto& entry : entries) {
      if (!entry.located) continue;
      auto ref = entry.located->annotations.find(k_annotation_ref_name);
      if (ref == entry.located->annotations.end()) continue;
      if (auto valid = validate_ref_name(ref->second); !valid)
        problem("index.json: manifests[" + std::to_string(entry.position) + "]: " + valid.error().message);
      auto& list = positions[ref->second];
      if (list.empty()) order.push_back(ref->second);
      list.push_back(entry.position);
    }
    for (const auto& tag : order) {
      const auto& list = positions[tag];
      if (list.size() < 2) continue;
      std::string where;
      for (size_t position : list)
        where += (where.empty() ? "manifests[" : ", manifests[") + std::to_string(position) + "]";
      problem("index.json: tag " + in_quotes(tag) + " is ambiguous: " + std::to_string(list.size()) +
              " entries carry it (" + where + ")");
    }
  }

  // --- blobs

  // True if `d`'s blob was checked before (then only this descriptor's size
  // is compared); otherwise registers it and returns false.
  bool already_checked(const Descriptor& d, const std::string& what, BlobFacts*& facts) {
    auto [it, inserted] = m_blobs.try_emplace(d.digest.hex());
    facts = &it->second;
    if (inserted) return false;
    if (facts->size && d.size >= 0 && *facts->size != d.size)
      problem(what + ": blob is " + std::to_string(*facts->size) + " bytes, but this descriptor says " +
              std::to_string(d.size));
    return true;
  }

  // Opens a blob for reading, reporting a missing or irregular file and a
  // size that differs from the descriptor's.
  std::optional<BlobReader> open_blob(const Descriptor& d, const std::string& what, BlobFacts& facts) {
    auto file = m_source.find_blob(d.digest);
    if (!file) {
      problem(what + ": " + file.error().message);
      return std::nullopt;
    }
    if (!*file) {
      problem(what + ": blob is missing (" + blob_relative_path(d.digest) + ")");
      return std::nullopt;
    }
    facts.size = static_cast<int64_t>((*file)->size());
    if (d.size >= 0 && *facts.size != d.size)
      problem(what + ": blob is " + std::to_string(*facts.size) + " bytes, but its descriptor says " +
              std::to_string(d.size));
    return std::move(*file);
  }

  void check_digest(const Descriptor& d, const Digest& actual, const std::string& what) {
    ++m_report.blobs_checked;
    if (actual != d.digest)
      problem(what + ": blob content hashes to " + actual.str() + " (corrupted, or the digest is wrong)");
  }

  // Reads a JSON document blob. Its text is returned whenever it could be
  // read, even with a wrong digest, so that its content is still checked.
  std::optional<std::string> read_document(const Descriptor& d, const std::string& what, BlobFacts& facts) {
    auto fd = open_blob(d, what, facts);
    if (!fd) return std::nullopt;
    if (*facts.size > k_max_document_size) {
      problem(what + ": blob is " + std::to_string(*facts.size) + " bytes, more than a document may have (" +
              std::to_string(k_max_document_size) + ")");
      return std::nullopt;
    }
    std::string text;
    text.reserve(static_cast<size_t>(*facts.size));
    bool grew = false;
    Sha256 hash;
    auto outcome = stream_blob(*fd, std::nullopt, hash, [&](std::string_view data) {
      grew = grew || text.size() + data.size() > static_cast<size_t>(k_max_document_size);
      if (!grew) text.append(data);
    });
    if (!outcome.read_error.empty()) {
      problem(what + ": " + blob_relative_path(d.digest) + ": " + outcome.read_error);
      return std::nullopt;
    }
    if (grew) {
      problem(what + ": blob grew while being read");
      return std::nullopt;
    }
    check_digest(d, hash.finish(), what);
    return text;
  }

  // Hashes a blob of a type we cannot look into.
  void check_opaque_blob(const Descriptor& d, const std::string& what) {
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return;
    auto fd = open_blob(d, what, *facts);
    if (!fd) return;
    Sha256 hash;
    auto outcome = stream_blob(*fd, std::nullopt, hash, [](std::string_view) {});
    if (!outcome.read_error.empty())
      return problem(what + ": " + blob_relative_path(d.digest) + ": " + outcome.read_error);
    check_digest(d, hash.finish(), what);
  }

  // --- manifests, configs, layers

  void check_manifest_entry(const Descriptor& d, const std::string& label, int depth) {
    if (is_index_media_type(d.media_type)) return check_index_blob(d, label, depth);
    if (is_manifest_media_type(d.media_type)) return check_image_manifest(d, label);
    // An invalid or missing mediaType was reported with the descriptor.
    if (!d.media_type.empty())
      problem(label + ": mediaType " + in_quotes(d.media_type) + " is neither an image manifest nor an image index");
    check_opaque_blob(d, label + ": blob " + d.digest.str());
  }

  void check_index_blob(const Descriptor& d, const std::string& label, int depth) {
    const std::string what = label + ": image index " + d.digest.str();
    if (depth >= k_max_index_depth)
      return problem(what + " is nested more than " + std::to_string(k_max_index_depth) + " indexes deep");
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return;
    auto text = read_document(d, what, *facts);
    if (!text) return;
    for (const auto& entry : read_index_document(*text, what, &d, m_sink).entries)
      if (entry.located)
        check_manifest_entry(*entry.located, label + " > manifests[" + std::to_string(entry.position) + "]",
                             depth + 1);
  }

  void check_image_manifest(const Descriptor& d, const std::string& label) {
    const std::string what = label + ": manifest " + d.digest.str();
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return check_declared_platform(d, label, facts->image_platform);
    auto text = read_document(d, what, *facts);
    if (!text) return;
    ++m_report.manifests;
    const ManifestDocument manifest = read_manifest_document(*text, what, &d, m_sink);
    if (!manifest.readable) return;
    if (manifest.subject) m_subjects.emplace_back(*manifest.subject, label + ": subject " + manifest.subject->digest.str());
    if (is_artifact(manifest)) return check_artifact_blobs(manifest, label);

    // Blobs: the config first (its own problems), then the layers, then what
    // needs both (the diff_ids) and the platform the index declares.
    std::optional<ConfigFacts> config;
    std::string config_what;
    if (manifest.config) {
      config_what = label + ": config " + manifest.config->digest.str();
      config = check_config(*manifest.config, config_what);
    }
    DiffIds computed;
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
      const auto& layer = manifest.layers[i];
      computed.push_back(layer ? check_layer(*layer, label + ": layer " + std::to_string(i + 1) + " " +
                                                         layer->digest.str())
                               : std::nullopt);
    }
    if (!config) return;
    facts->image_platform = config->platform;
    check_declared_platform(d, label, facts->image_platform);
    check_diff_ids(*config, computed, manifest, config_what);
  }

  // An OCI 1.1 artifact manifest (a referrer: an SBOM), not an image: its
  // config is not an image config and its layers are not tars.
  static bool is_artifact(const ManifestDocument& manifest) {
    return (manifest.subject || !manifest.artifact_type.empty()) && manifest.config &&
           !is_config_media_type(manifest.config->media_type);
  }

  // Its blobs are checked for existence, size and digest only.
  void check_artifact_blobs(const ManifestDocument& manifest, const std::string& label) {
    check_opaque_blob(*manifest.config, label + ": config " + manifest.config->digest.str());
    for (size_t i = 0; i < manifest.layers.size(); ++i)
      if (manifest.layers[i])
        check_opaque_blob(*manifest.layers[i],
                          label + ": blob " + std::to_string(i + 1) + " " + manifest.layers[i]->digest.str());
  }

  // The subjects of the referrers seen, checked last — once every image was
  // checked in full — so a subject the layout holds is a cache hit whose size
  // is compared (already_checked), and one it does not hold is missing.
  void check_subjects() {
    for (const auto& [subject, what] : m_subjects) check_opaque_blob(subject, what);
  }

  // The platform an image index declares for an image against the one its
  // config says (each descriptor of a manifest checked, the manifest once).
  void check_declared_platform(const Descriptor& d, const std::string& label, const std::optional<Platform>& actual) {
    if (d.platform && actual && platforms_differ(*d.platform, *actual))
      problem(label + ": the platform " + printable(platform_text(*d.platform)) + " its descriptor says differs from " +
              printable(platform_text(*actual)) + " of its config");
  }

  void check_diff_ids(const ConfigFacts& config, const DiffIds& computed, const ManifestDocument& manifest,
                      const std::string& config_what) {
    if (!config.diff_ids) return;
    const DiffIds& diff_ids = *config.diff_ids;
    const auto& layers = manifest.layers;
    if (diff_ids.size() != layers.size())
      problem(config_what + ": rootfs.diff_ids has " + std::to_string(diff_ids.size()) + " entries for " +
              std::to_string(layers.size()) + " layers");
    for (size_t i = 0; i < std::min(diff_ids.size(), layers.size()); ++i) {
      const auto& expected = diff_ids[i];
      const auto& actual = computed[i];
      if (expected && actual && *expected != *actual)
        problem(config_what + ": rootfs.diff_ids[" + std::to_string(i) + "] is " + expected->str() + ", but layer " +
                std::to_string(i + 1) + " (" + layers[i]->digest.str() + ") decompresses to " + actual->str());
    }
  }

  // The config's checks (once per blob); nullopt when it cannot be read.
  std::optional<ConfigFacts> check_config(const Descriptor& d, const std::string& what) {
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return facts->config;
    auto text = read_document(d, what, *facts);
    if (!text) return std::nullopt;
    facts->config = check_config_document(*text, what, m_report.problems);
    return facts->config;
  }

  // Checks a layer blob and its tar stream; returns its diff_id when its
  // content could be decompressed to the end.
  std::optional<Digest> check_layer(const Descriptor& d, const std::string& what) {
    BlobFacts* facts = nullptr;
    if (already_checked(d, what, facts)) return facts->diff_id;
    const auto compression = layer_compression(d.media_type);
    if (!compression && !d.media_type.empty())
      problem(what + ": unsupported layer media type " + in_quotes(d.media_type));
    auto fd = open_blob(d, what, *facts);
    if (!fd) return std::nullopt;

    Sha256 blob_hash;
    Sha256 diff_hash;
    TarEntryChecker tar(what);
    std::vector<TarListing> listing;  // a zstd:chunked layer's entries, for its TOC
    const bool chunked = compression && is_chunked_layer(d.annotations);
    if (chunked)
      tar.observe_entries([&](const ScannedEntry& e) { listing.push_back({e.path, e.type, e.size, e.link}); });
    // Without a known compression the content is only hashed (no sink use).
    auto outcome = stream_blob(*fd, compression, blob_hash, [&](std::string_view data) {
      if (!compression) return;
      diff_hash.update(data);
      tar.feed(data);
    });
    if (!outcome.read_error.empty()) {
      problem(what + ": " + blob_relative_path(d.digest) + ": " + outcome.read_error);
      return std::nullopt;
    }
    check_digest(d, blob_hash.finish(), what);
    if (!compression) return std::nullopt;
    ++m_report.layers_checked;
    if (!outcome.decode_error.empty()) {
      problem(what + ": " + outcome.decode_error);
    } else {
      tar.finish();
      facts->diff_id = diff_hash.finish();
    }
    for (auto& line : tar.take_problems()) problem(std::move(line));
    m_report.entries_checked += tar.entries();
    if (chunked && outcome.decode_error.empty()) {
      std::vector<std::string> lines;
      check_chunked_layer(fd->fd(), fd->size(), d.annotations, listing, what, lines, fd->offset());
      for (auto& line : lines) problem(std::move(line));
    }
    return facts->diff_id;
  }

  const LayoutSource& m_source;
  VerifyReport& m_report;
  ReportSink m_sink;
  std::map<std::string, BlobFacts> m_blobs;  // by digest hex
  std::vector<std::pair<Descriptor, std::string>> m_subjects;  // referrers' subjects, what names each
};

}  // namespace

Result<VerifyReport> verify_layout(const std::string& layout_dir, const VerifyOptions& options) {
  const std::string dir = trim_trailing_slashes(layout_dir);
  if (dir.empty()) return usage_error("empty layout path");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return input_error("cannot access layout '" + dir + "': " + errno_text(errno));
  if (S_ISREG(st.st_mode)) {
    OCIPACK_TRY_ASSIGN(const auto tarball, open_layout_tarball(dir));
    return verify_layout(*tarball, options);
  }
  if (!S_ISDIR(st.st_mode)) return input_error("layout '" + dir + "' is not a directory");
  return verify_layout(*open_layout_directory(dir), options);
}

Result<VerifyReport> verify_layout(const LayoutSource& source, const VerifyOptions& options) {
  VerifyReport report;
  Verifier(source, report).run(options);
  return report;
}

}  // namespace ocipack
