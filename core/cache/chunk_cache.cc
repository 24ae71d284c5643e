// Placeholder while the chunk cache is being written (issue 15): see chunk_cache.h.
#include "core/cache/chunk_cache.h"
