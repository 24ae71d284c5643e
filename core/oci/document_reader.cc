// Implementation of the document reader (see document_reader.h) on
// simdjson's DOM API, used through error codes only. Each check reports at
// most one problem and the walk goes on, so verify sees every problem of a
// document and the loader's sink simply keeps the first unreadable one.
#include "core/oci/document_reader.h"

#include "core/oci/json_dom.h"
#include "core/util/text.h"

namespace ocipack {

void FirstUnreadable::report(Severity severity, std::string message) {
  if (severity == Severity::unreadable && !m_first) m_first = std::move(message);
}

namespace {

namespace dom = simdjson::dom;

// Forwards every problem and remembers the first unreadable one (of one
// descriptor, for IndexEntry::problem).
class RecordingSink final : public ProblemSink {
 public:
  explicit RecordingSink(ProblemSink& outer) : m_outer(outer) {}
  void report(Severity severity, std::string message) override {
    if (severity == Severity::unreadable && m_first_unreadable.empty()) m_first_unreadable = message;
    m_outer.report(severity, std::move(message));
  }
  const std::string& first_unreadable() const { return m_first_unreadable; }

 private:
  ProblemSink& m_outer;
  std::string m_first_unreadable;
};

// One object being read: `prefix` names it in messages ("index.json: manifests[2]").
class FieldReader {
 public:
  FieldReader(std::string prefix, ProblemSink& sink) : m_prefix(std::move(prefix)), m_sink(sink) {}

  // A reader for the object member `field` ("index.json: manifests[2].platform").
  FieldReader nested(const std::string& field) const { return FieldReader(m_prefix + "." + field, m_sink); }

  void unreadable(const std::string& text) { m_sink.report(Severity::unreadable, m_prefix + text); }
  void nonconforming(const std::string& text) { m_sink.report(Severity::nonconforming, m_prefix + text); }
  void wrong_type(Severity severity, const std::string& field, dom::element value, const char* expected) {
    m_sink.report(severity, m_prefix + "." + field + " is " + json_type_name(value) + ", expected " + expected);
  }

  // A string member: absent or null reads as unset (`null_is` says how a
  // null is graded: nullopt means it is fine); any other type is unreadable.
  std::optional<std::string> string_member(dom::object object, const std::string& field,
                                           std::optional<Severity> null_is = std::nullopt) {
    auto value = find_member(object, field);
    if (!value) return std::nullopt;
    if (is_json_null(*value)) {
      if (null_is) wrong_type(*null_is, field, *value, "a string");
      return std::nullopt;
    }
    auto text = string_value(*value);
    if (!text) wrong_type(Severity::unreadable, field, *value, "a string");
    return text ? std::optional<std::string>(*text) : std::nullopt;
  }

 private:
  std::string m_prefix;
  ProblemSink& m_sink;
};

std::string read_media_type(dom::object object, FieldReader& reader) {
  if (!find_member(object, "mediaType")) {
    reader.nonconforming(" has no mediaType");
    return "";
  }
  auto text = reader.string_member(object, "mediaType", Severity::nonconforming);
  if (!text) return "";
  if (!is_valid_media_type(*text)) reader.nonconforming(".mediaType " + in_quotes(*text) + " is not a valid media type");
  return *text;
}

std::optional<Digest> read_digest(dom::object object, FieldReader& reader) {
  auto value = find_member(object, "digest");
  if (!value) {
    reader.unreadable(" has no digest");
    return std::nullopt;
  }
  auto text = string_value(*value);
  if (!text) {
    reader.wrong_type(Severity::unreadable, "digest", *value, "a string");
    return std::nullopt;
  }
  auto digest = Digest::parse(*text);
  if (!digest) {
    reader.unreadable(".digest " + in_quotes(*text) + ": " + printable(digest.error().message));
    return std::nullopt;
  }
  return *digest;
}

// -1 when the size cannot be read (int64 per the spec: simdjson types a
// number by the range it fits).
int64_t read_size(dom::object object, FieldReader& reader) {
  auto value = find_member(object, "size");
  if (!value) {
    reader.unreadable(" has no size");
    return -1;
  }
  switch (value->type()) {
    case dom::element_type::INT64: {
      int64_t size = -1;
      if (value->get_int64().get(size) || size < 0) {
        reader.unreadable(".size is negative (" + std::to_string(size) + ")");
        return -1;
      }
      return size;
    }
    case dom::element_type::UINT64: reader.unreadable(".size is out of range"); return -1;
    case dom::element_type::DOUBLE: reader.unreadable(".size is not an integer"); return -1;
    default: reader.wrong_type(Severity::unreadable, "size", *value, "an integer"); return -1;
  }
}

// Annotations: an object of strings (null: none); a member of another type is
// left out and unreadable.
std::map<std::string, std::string> read_annotations(dom::object object, FieldReader& reader) {
  std::map<std::string, std::string> out;
  auto value = find_member(object, "annotations");
  if (!value || is_json_null(*value)) return out;
  dom::object map;
  if (value->get_object().get(map)) {
    reader.wrong_type(Severity::unreadable, "annotations", *value, "an object");
    return out;
  }
  for (dom::key_value_pair member : map) {
    if (auto text = string_value(member.value))
      out[std::string(member.key)] = std::string(*text);
    else
      reader.wrong_type(Severity::unreadable, "annotations." + printable(member.key), member.value, "a string");
  }
  return out;
}

// The platform object (the image spec requires architecture and os; a
// missing one is nonconforming and reads as "").
std::optional<Platform> read_platform(dom::object object, FieldReader& reader) {
  auto value = find_member(object, "platform");
  if (!value || is_json_null(*value)) return std::nullopt;
  dom::object fields;
  if (value->get_object().get(fields)) {
    reader.wrong_type(Severity::unreadable, "platform", *value, "an object");
    return std::nullopt;
  }
  FieldReader inner = reader.nested("platform");
  Platform platform;
  for (auto [key, target] : {std::pair{"architecture", &platform.architecture}, std::pair{"os", &platform.os}}) {
    if (!find_member(fields, key)) inner.nonconforming(" has no " + std::string(key));
    *target = inner.string_member(fields, key).value_or("");
  }
  platform.variant = inner.string_member(fields, "variant").value_or("");
  platform.os_version = inner.string_member(fields, "os.version").value_or("");
  auto features = find_member(fields, "os.features");
  if (!features || is_json_null(*features)) return platform;
  dom::array array;
  bool strings = !features->get_array().get(array);
  if (strings) {
    for (dom::element item : array) {
      auto text = string_value(item);
      if (text) platform.os_features.emplace_back(*text);
      strings = strings && text;
    }
  }
  if (!strings) inner.wrong_type(Severity::unreadable, "os.features", *features, "an array of strings");
  return platform;
}

// An OCI 1.1 "artifactType" (of a descriptor or a manifest): "" when absent;
// one that is not a valid media type string reads as "" (nonconforming: an
// entry stays usable for what it names).
std::string read_artifact_type(dom::object object, FieldReader& reader) {
  auto value = find_member(object, "artifactType");
  if (!value || is_json_null(*value)) return "";
  auto text = string_value(*value);
  if (!text || !is_valid_media_type(*text)) {
    reader.nonconforming(".artifactType is not a valid media type");
    return "";
  }
  return std::string(*text);
}

// Reads one descriptor; returns it when its digest reads (IndexEntry::located).
std::optional<Descriptor> read_descriptor(dom::element value, const std::string& prefix, ProblemSink& sink) {
  FieldReader reader(prefix, sink);
  dom::object object;
  if (value.get_object().get(object)) {
    reader.unreadable(std::string(" is ") + json_type_name(value) + ", expected an object");
    return std::nullopt;
  }
  Descriptor d;
  d.media_type = read_media_type(object, reader);
  auto digest = read_digest(object, reader);
  d.size = read_size(object, reader);
  d.annotations = read_annotations(object, reader);
  d.platform = read_platform(object, reader);
  d.artifact_type = read_artifact_type(object, reader);
  if (!digest) return std::nullopt;
  d.digest = *digest;
  return d;
}

// The document's JSON object, or nullopt with the problem reported.
std::optional<dom::object> read_document_object(dom::parser& parser, std::string_view json, const std::string& what,
                                                ProblemSink& sink) {
  auto root = parse_json_document(parser, json, what);
  if (!root) {
    sink.report(Severity::unreadable, root.error().message);
    return std::nullopt;
  }
  auto object = document_object(*root, what);
  if (!object) {
    sink.report(Severity::unreadable, object.error().message);
    return std::nullopt;
  }
  return *object;
}

void check_schema_version(dom::object object, const std::string& what, ProblemSink& sink) {
  auto value = find_member(object, "schemaVersion");
  if (!value) return sink.report(Severity::nonconforming, what + " has no schemaVersion");
  int64_t version = 0;
  if (value->type() != dom::element_type::INT64 || value->get_int64().get(version))
    return sink.report(Severity::nonconforming, what + ": schemaVersion is " + json_type_name(*value) +
                                                    ", expected the integer 2");
  if (version != 2)
    sink.report(Severity::nonconforming, what + ": schemaVersion is " + std::to_string(version) + ", expected 2");
}

// The document's own mediaType (optional): `acceptable` says what it may
// be, and it must agree with the descriptor that points at the document.
void check_document_media_type(dom::object object, const std::string& what, bool (*acceptable)(std::string_view),
                               const std::string& expected, const Descriptor* referrer, ProblemSink& sink) {
  auto value = find_member(object, "mediaType");
  if (!value) return;
  auto text = string_value(*value);
  if (!text)
    return sink.report(Severity::nonconforming,
                       what + ": mediaType is " + json_type_name(*value) + ", expected a string");
  if (!acceptable(*text))
    return sink.report(Severity::nonconforming, what + ": mediaType is " + in_quotes(*text) + ", expected " + expected);
  if (referrer && !referrer->media_type.empty() && referrer->media_type != *text)
    sink.report(Severity::nonconforming, what + ": mediaType " + in_quotes(*text) + " differs from its descriptor's " +
                                             in_quotes(referrer->media_type));
}

bool is_oci_index_media_type(std::string_view media_type) { return media_type == k_media_type_index; }

// The ref.name annotation and the digest text of an index entry, read
// without the descriptor's other checks (for entries that fail them).
void read_entry_labels(dom::element item, IndexEntry& entry) {
  dom::object object;
  if (item.get_object().get(object)) return;
  if (auto digest = find_member(object, "digest")) entry.digest_text = std::string(string_value(*digest).value_or(""));
  dom::object annotations;
  if (auto value = find_member(object, "annotations"); value && !value->get_object().get(annotations))
    if (auto tag = find_member(annotations, k_annotation_ref_name))
      if (auto text = string_value(*tag)) entry.tag = std::string(*text);
}

// An array member of a document. Missing or null is nonconforming and reads
// as no items; another type is unreadable.
struct ArrayMember {
  bool readable = true;
  std::vector<dom::element> items;
};

ArrayMember array_member(dom::object object, const std::string& what, const std::string& field,
                         const std::string& missing, ProblemSink& sink) {
  ArrayMember member;
  auto value = find_member(object, field);
  if (!value) {
    sink.report(Severity::nonconforming, what + missing);
    return member;
  }
  dom::array array;
  if (!value->get_array().get(array)) {
    for (dom::element item : array) member.items.push_back(item);
    return member;
  }
  const std::string wrong = what + ": " + field + " is " + json_type_name(*value) + ", expected an array";
  member.readable = is_json_null(*value);
  sink.report(member.readable ? Severity::nonconforming : Severity::unreadable, wrong);
  return member;
}

}  // namespace

IndexDocument read_index_document(std::string_view json, const std::string& what, const Descriptor* referrer,
                                  ProblemSink& sink) {
  IndexDocument document;
  dom::parser parser;
  auto object = read_document_object(parser, json, what, sink);
  if (!object) return document;
  check_schema_version(*object, what, sink);
  if (referrer)
    check_document_media_type(*object, what, is_index_media_type, "an image index media type", referrer, sink);
  else
    check_document_media_type(*object, what, is_oci_index_media_type, k_media_type_index, nullptr, sink);
  // A layout's index.json as `umoci init` writes it ("manifests": null): no images yet.
  if (auto value = find_member(*object, "manifests"); !referrer && value && is_json_null(*value)) {
    document.readable = true;
    return document;
  }
  auto manifests = array_member(*object, what, "manifests", " has no manifests array", sink);
  document.readable = manifests.readable;
  for (dom::element item : manifests.items) {
    IndexEntry entry;
    entry.position = document.entries.size();
    read_entry_labels(item, entry);
    RecordingSink recording(sink);
    entry.located = read_descriptor(item, what + ": manifests[" + std::to_string(entry.position) + "]", recording);
    entry.problem = recording.first_unreadable();
    if (entry.problem.empty()) entry.descriptor = entry.located;
    document.entries.push_back(std::move(entry));
  }
  return document;
}

ManifestDocument read_manifest_document(std::string_view json, const std::string& what, const Descriptor* referrer,
                                        ProblemSink& sink) {
  ManifestDocument document;
  dom::parser parser;
  auto object = read_document_object(parser, json, what, sink);
  if (!object) return document;
  document.readable = true;
  check_schema_version(*object, what, sink);
  if (auto value = find_member(*object, "mediaType")) {
    auto text = string_value(*value);
    if (text && is_index_media_type(*text))
      sink.report(Severity::unreadable, what + " is an image index (mediaType " + printable(*text) +
                                            "), not an image manifest");
    else
      check_document_media_type(*object, what, is_manifest_media_type, "an image manifest media type", referrer,
                                sink);
  }
  if (auto config = find_member(*object, "config"); !config) {
    sink.report(Severity::unreadable, what + " has no config descriptor");
  } else if ((document.config = read_descriptor(*config, what + ": config", sink)) &&
             !document.config->media_type.empty() && !is_config_media_type(document.config->media_type) &&
             document.config->media_type != k_media_type_empty) {
    sink.report(Severity::nonconforming, what + ": config.mediaType is " + in_quotes(document.config->media_type) +
                                             ", expected " + k_media_type_config);
  }
  for (dom::element item : array_member(*object, what, "layers", " has no layers", sink).items)
    document.layers.push_back(
        read_descriptor(item, what + ": layers[" + std::to_string(document.layers.size()) + "]", sink));
  FieldReader reader(what, sink);
  document.artifact_type = read_artifact_type(*object, reader);
  document.annotations = read_annotations(*object, reader);
  if (auto subject = find_member(*object, "subject"); subject && !is_json_null(*subject))
    document.subject = read_descriptor(*subject, what + ": subject", sink);
  return document;
}

}  // namespace ocipack
