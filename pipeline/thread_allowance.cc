// ThreadAllowance (see thread_allowance.h).
#include "pipeline/thread_allowance.h"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

namespace ocipack {

struct ThreadAllowance::Control {
  explicit Control(int threads)
      : control(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads)) {}
  tbb::global_control control;
};

ThreadAllowance::ThreadAllowance(int threads) {
  if (threads > tbb::info::default_concurrency()) m_control = std::make_unique<Control>(threads);
}

ThreadAllowance::~ThreadAllowance() = default;

}  // namespace ocipack
