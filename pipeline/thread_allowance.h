// ThreadAllowance: lets TBB run `threads` threads in this process even when
// that is more than the machine's cores (raising TBB's process-wide limit)
// for as long as the object lives. More threads than cores is a user's
// explicit choice, and the limit is process-wide: so the program's main
// decides it (cli/main.cc, for --threads); the library never does, and an
// embedder's own TBB settings stay as they are. Without an allowance, a
// build asking for more threads than cores runs on as many as TBB allows.
#pragma once

#include <memory>

namespace ocipack {

class ThreadAllowance {
 public:
  explicit ThreadAllowance(int threads);
  ~ThreadAllowance();
  ThreadAllowance(const ThreadAllowance&) = delete;
  ThreadAllowance& operator=(const ThreadAllowance&) = delete;

 private:
  struct Control;  // tbb::global_control, kept out of this header
  std::unique_ptr<Control> m_control;
};

}  // namespace ocipack
