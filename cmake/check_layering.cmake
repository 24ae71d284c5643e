# check_layering.cmake — the include rules of the source tree, enforced on
# every build (CMakeLists.txt runs this script before compiling anything).
# Each core/ area may include only the areas listed for it; core/ never
# includes pipeline/ or cli/; pipeline/ never includes cli/. A violation
# fails the build with one line per offending #include, naming the file, the
# header and the rule. docs/ARCHITECTURE.md explains why each rule exists.
#
#   cmake -DSOURCE_DIR=<repo> [-DSTAMP=<file>] -P cmake/check_layering.cmake
cmake_minimum_required(VERSION 3.22)

# area → the areas (besides itself) its files may include.
set(allowed_util "")
set(allowed_codec "util")
set(allowed_tar "util")
set(allowed_oci "util;tar")
set(allowed_layer "util;codec;tar;oci")
set(allowed_image "util;codec;tar;oci;layer")
set(allowed_cache "util;codec")
set(areas util codec tar oci layer image cache)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "check_layering: pass -DSOURCE_DIR=<source tree>")
endif()

set(violations "")
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
  ${SOURCE_DIR}/core/*.h ${SOURCE_DIR}/core/*.cc
  ${SOURCE_DIR}/pipeline/*.h ${SOURCE_DIR}/pipeline/*.cc
  ${SOURCE_DIR}/cli/*.h ${SOURCE_DIR}/cli/*.cc)
foreach(file ${files})
  file(STRINGS ${SOURCE_DIR}/${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  string(REGEX MATCH "^[a-z]+" top ${file})
  set(area "")
  if(top STREQUAL "core")
    string(REGEX MATCH "^core/([a-z]+)/" matched ${file})
    set(area ${CMAKE_MATCH_1})
    if(NOT area OR NOT area IN_LIST areas)
      list(APPEND violations "${file}: core/ files live in one of the areas ${areas}")
      continue()
    endif()
  endif()
  foreach(line ${includes})
    string(REGEX MATCH "\"([^\"]+)\"" matched "${line}")
    set(header ${CMAKE_MATCH_1})
    set(rule "")
    if(top STREQUAL "core" AND header MATCHES "^(pipeline|cli)/")
      set(rule "core/ never includes pipeline/ or cli/ (it knows nothing of threads or the CLI)")
    elseif(top STREQUAL "pipeline" AND header MATCHES "^cli/")
      set(rule "pipeline/ never includes cli/")
    elseif(top STREQUAL "core" AND header MATCHES "^core/")
      string(REGEX MATCH "^core/([a-z]+)/" matched ${header})
      set(target ${CMAKE_MATCH_1})
      if(NOT target STREQUAL area AND NOT target IN_LIST allowed_${area})
        string(REPLACE ";" ", " allowed_text "${allowed_${area}}")
        if(NOT allowed_text)
          set(allowed_text "no other area")
        endif()
        set(rule "core/${area} may include ${allowed_text}")
      endif()
    endif()
    if(rule)
      list(APPEND violations "${file}: #include \"${header}\": ${rule}")
    endif()
  endforeach()
endforeach()

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layering violations:\n  ${text}")
endif()
if(STAMP)
  file(TOUCH ${STAMP})
endif()
