// Placeholder while the chunk cache is being written (issue 15): see remote_cache.h.
#include "core/cache/remote_cache.h"
