// libarchive for the ocipack executable, loaded with dlopen the first time
// a command reads a tar (a tar input, a --base layer, a layout tarball)
// instead of at every start. Linked, libarchive brings libxml2, ICU (a 30 MB
// data library), liblzma, liblz4, libbz2, nettle and libacl, whose mapping
// and relocation cost every command about 6 ms on the project's 2-core
// machine — a tenth of a warm cached rebuild of a small image, which reads
// no tar at all. (libcurl is opened the same way, core/cache/curl_library.h.)
//
// How: this file defines each libarchive function core/ calls, with the
// declarations of <archive.h>, as a forwarder to the function looked up in
// libarchive.so.13 (its SONAME since libarchive 3.0). Being part of the
// executable, these definitions satisfy the references of libocipack_core.a,
// so with --as-needed the linker records no dependency on libarchive (the
// test `build.no_libarchive_needed` reads the executable's dynamic section
// to keep it so). The static libraries themselves still link libarchive for
// everyone else — the unit tests, the fuzz targets, programs that embed the
// pipeline — and never see this file.
//
// A library that cannot be loaded, or lacks a function, makes
// archive_read_new return null with errno ELIBACC, and
// ocipack_libarchive_load_error() (declared weak in core/tar/archive_handle.h)
// says why — dlerror's text, naming the file or the missing symbol — which
// the readers put in their one-line error; nothing is printed here. Every
// other function is reached only through an archive that archive_read_new
// made.
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr const char* k_library = "libarchive.so.13";

// The functions, looked up once: all of them, or none.
struct Functions {
#define OCIPACK_ARCHIVE_FUNCTIONS(X)                                                                         \
  X(archive_read_new) X(archive_read_free) X(archive_write_free) X(archive_read_open)                       \
  X(archive_read_next_header) X(archive_read_data_block) X(archive_read_support_filter_all)                 \
  X(archive_read_support_filter_gzip) X(archive_read_support_filter_zstd) X(archive_read_support_format_raw) \
  X(archive_read_support_format_tar) X(archive_read_support_format_gnutar) X(archive_filter_bytes)          \
  X(archive_errno) X(archive_error_string) X(archive_set_error) X(archive_entry_filetype)                   \
  X(archive_entry_gid) X(archive_entry_uid) X(archive_entry_hardlink) X(archive_entry_symlink)              \
  X(archive_entry_mtime) X(archive_entry_pathname) X(archive_entry_perm) X(archive_entry_rdevmajor)         \
  X(archive_entry_rdevminor) X(archive_entry_size) X(archive_entry_xattr_next) X(archive_entry_xattr_reset)
#define OCIPACK_ARCHIVE_MEMBER(name) decltype(&::name) name = nullptr;
  OCIPACK_ARCHIVE_FUNCTIONS(OCIPACK_ARCHIVE_MEMBER)
#undef OCIPACK_ARCHIVE_MEMBER
};

// Why the library could not be used ("" while it could), set once by
// functions().
char g_load_error[512];

// Keeps dlerror's text; without one, a line naming the function `missing`
// (a failed dlsym) or the library (a failed dlopen).
void keep_load_error(const char* missing = nullptr) {
  if (const char* why = ::dlerror())
    std::snprintf(g_load_error, sizeof g_load_error, "%s", why);
  else if (missing)
    std::snprintf(g_load_error, sizeof g_load_error, "%s has no %s", k_library, missing);
  else
    std::snprintf(g_load_error, sizeof g_load_error, "cannot load %s", k_library);
}

// Null when the library or one of its functions is missing.
const Functions* functions() {
  static const Functions* loaded = []() -> const Functions* {
    void* handle = ::dlopen(k_library, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      keep_load_error();
      return nullptr;
    }
    static Functions table;
    bool complete = true;
#define OCIPACK_ARCHIVE_LOOKUP(name)                                           \
  table.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name)); \
  if (!table.name && complete) keep_load_error(#name);                        \
  complete = complete && table.name != nullptr;
    OCIPACK_ARCHIVE_FUNCTIONS(OCIPACK_ARCHIVE_LOOKUP)
#undef OCIPACK_ARCHIVE_LOOKUP
    return complete ? &table : nullptr;
  }();
  return loaded;
}

// The table, for a function reached only through an archive that
// archive_read_new made (so the table is there).
const Functions& loaded() {
  const Functions* table = functions();
  if (!table) std::abort();
  return *table;
}

}  // namespace

extern "C" {

const char* ocipack_libarchive_load_error(void) {
  return functions() ? nullptr : g_load_error;
}

struct archive* archive_read_new(void) {
  const Functions* table = functions();
  if (!table) {
    errno = ELIBACC;
    return nullptr;
  }
  return table->archive_read_new();
}

// The variadic one: formatted here, handed over as "%s".
void archive_set_error(struct archive* a, int error, const char* format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  loaded().archive_set_error(a, error, "%s", message);
}

#define OCIPACK_FORWARD(ret, name, params, args) \
  ret name params { return loaded().name args; }

OCIPACK_FORWARD(int, archive_read_free, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_write_free, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_read_open,
                (struct archive * a, void* data, archive_open_callback* open, archive_read_callback* read,
                 archive_close_callback* close),
                (a, data, open, read, close))
OCIPACK_FORWARD(int, archive_read_next_header, (struct archive * a, struct archive_entry** entry), (a, entry))
OCIPACK_FORWARD(int, archive_read_data_block,
                (struct archive * a, const void** buffer, size_t* size, la_int64_t* offset), (a, buffer, size, offset))
OCIPACK_FORWARD(int, archive_read_support_filter_all, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_read_support_filter_gzip, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_read_support_filter_zstd, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_read_support_format_raw, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_read_support_format_tar, (struct archive * a), (a))
OCIPACK_FORWARD(int, archive_read_support_format_gnutar, (struct archive * a), (a))
OCIPACK_FORWARD(la_int64_t, archive_filter_bytes, (struct archive * a, int n), (a, n))
OCIPACK_FORWARD(int, archive_errno, (struct archive * a), (a))
OCIPACK_FORWARD(const char*, archive_error_string, (struct archive * a), (a))
OCIPACK_FORWARD(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
OCIPACK_FORWARD(la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
OCIPACK_FORWARD(la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
OCIPACK_FORWARD(const char*, archive_entry_hardlink, (struct archive_entry * e), (e))
OCIPACK_FORWARD(const char*, archive_entry_symlink, (struct archive_entry * e), (e))
OCIPACK_FORWARD(time_t, archive_entry_mtime, (struct archive_entry * e), (e))
OCIPACK_FORWARD(const char*, archive_entry_pathname, (struct archive_entry * e), (e))
OCIPACK_FORWARD(__LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
OCIPACK_FORWARD(dev_t, archive_entry_rdevmajor, (struct archive_entry * e), (e))
OCIPACK_FORWARD(dev_t, archive_entry_rdevminor, (struct archive_entry * e), (e))
OCIPACK_FORWARD(la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
OCIPACK_FORWARD(int, archive_entry_xattr_next,
                (struct archive_entry * e, const char** name, const void** value, size_t* size),
                (e, name, value, size))
OCIPACK_FORWARD(int, archive_entry_xattr_reset, (struct archive_entry * e), (e))

#undef OCIPACK_FORWARD
}
