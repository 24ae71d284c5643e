// A fixture for the layering check: a tar source that includes the pipeline.
#include "core/tar/walker.h"
#include "pipeline/chunk.h"
