// PhaseReport: how a long phase of the library that runs before the layer
// graph (spooling a tar input, walking and comparing trees for a delta,
// reading a base image's layers) tells its caller how far it has come. A
// plain callback, so core/ stays free of threads and of the CLI: the caller
// (pipeline/ passes BuildHooks::on_phase down) decides what to draw and how
// often; the phase calls it freely (per block or per entry) and must not
// rely on it being set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace ocipack {

enum class PhaseUnit { bytes, entries };

struct PhaseStatus {
  std::string phase;    // what is being done: "spooling", "diffing", "reading base"
  std::string subject;  // what it is done to: a file or directory name, as given
  PhaseUnit unit = PhaseUnit::bytes;
  uint64_t done = 0;
  uint64_t total = 0;  // 0 when unknown (a tar read from a pipe, a walk)
};

using PhaseReport = std::function<void(const PhaseStatus&)>;

// Calls `report` when it is set.
inline void report_phase(const PhaseReport& report, const PhaseStatus& status) {
  if (report) report(status);
}

}  // namespace ocipack
