// Tests for cli/verify_report.cc: verify --json says whether the check ran
// and whether the layout is valid, lists the problems, and keeps its keys in
// the documented order.
#include "cli/verify_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ocipack::cli {
namespace {

TEST(VerifyJson, ProblemsFound) {
  VerifyReport report;
  report.problems = {"index.json: bad", "blobs/sha256/ab: \x01"};
  report.manifests = 2;
  report.blobs_checked = 5;
  const auto j = nlohmann::ordered_json::parse(verify_json("L", "", &report, std::nullopt));
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"layout", "ref", "ran", "ok", "error", "problems", "checked"}));
  EXPECT_TRUE(j["ran"]);
  EXPECT_FALSE(j["ok"]);
  EXPECT_TRUE(j["ref"].is_null());
  EXPECT_TRUE(j["error"].is_null());
  ASSERT_EQ(j["problems"].size(), 2u);
  EXPECT_EQ(j["problems"][1], "blobs/sha256/ab: \x01");
  EXPECT_EQ(j["checked"]["manifests"], 2);
  EXPECT_EQ(j["checked"]["blobs"], 5);
}

TEST(VerifyJson, ValidLayout) {
  VerifyReport report;
  const auto j = nlohmann::json::parse(verify_json("L", "v1", &report, std::nullopt));
  EXPECT_TRUE(j["ran"]);
  EXPECT_TRUE(j["ok"]);
  EXPECT_EQ(j["ref"], "v1");
  EXPECT_TRUE(j["problems"].empty());
}

TEST(VerifyJson, CouldNotRun) {
  const auto j = nlohmann::json::parse(verify_json("missing", "", nullptr, std::string("layout 'missing' does not exist")));
  EXPECT_FALSE(j["ran"]);
  EXPECT_FALSE(j["ok"]);
  EXPECT_EQ(j["error"], "layout 'missing' does not exist");
  EXPECT_EQ(j["checked"]["entries"], 0);
}

}  // namespace
}  // namespace ocipack::cli
