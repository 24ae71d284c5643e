// Placeholder while the chunk cache is being written (issue 15): see cache_entry.h.
#include "core/cache/cache_entry.h"
