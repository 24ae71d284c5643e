// A fixture for the layering check (tests/CMakeLists.txt): a codec header
// that includes an OCI header, which cmake/check_layering.cmake must refuse.
#pragma once
#include "core/util/result.h"
#include "core/oci/oci_json.h"
