// verify --json (see verify_report.h).
#include "cli/verify_report.h"

#include <nlohmann/json.hpp>

namespace ocipack::cli {

std::string verify_json(const std::string& layout, const std::string& ref, const VerifyReport* report,
                        const std::optional<std::string>& error) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["layout"] = layout;
  j["ref"] = ref.empty() ? Json(nullptr) : Json(ref);
  j["ran"] = report != nullptr;
  j["ok"] = report != nullptr && report->ok();
  j["error"] = error ? Json(*error) : Json(nullptr);
  j["problems"] = Json::array();
  if (report)
    for (const auto& problem : report->problems) j["problems"].push_back(problem);
  j["checked"] = {{"manifests", report ? report->manifests : 0},
                  {"blobs", report ? report->blobs_checked : 0},
                  {"layers", report ? report->layers_checked : 0},
                  {"entries", report ? report->entries_checked : 0}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ocipack::cli
