// UniqueFd's one out-of-line member: close(2) stays out of the header.
#include "core/util/unique_fd.h"

#include <unistd.h>

namespace ocipack {

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = fd;
}

}  // namespace ocipack
