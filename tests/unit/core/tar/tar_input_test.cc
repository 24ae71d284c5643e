// Tests for core/tar_input.cc: a foreign tar is re-ordered into the directory
// walk's order, hard links are regrouped so the first name in that order
// holds the data, data comes back from the spool byte for byte (sparse holes
// included), and hostile entries are refused with errors naming them.
#include "core/tar/tar_input.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_helpers.h"

namespace ocipack {
namespace {

using testing::TempDir;

std::string make_tar(const TempDir& dir, const std::string& specs) {
  const std::string tar = dir / "in.tar";
  EXPECT_TRUE(testing::write_python_tar(tar, specs));
  return tar;
}

// Reads every item; `keep` receives the source, which owns the spool file the
// items' data lives in.
Result<std::vector<WalkItem>> read_all(const std::string& tar, const std::string& spool_dir,
                                       std::unique_ptr<TarInputSource>* keep = nullptr) {
  auto source = TarInputSource::open(tar, {}, spool_dir);
  if (!source) return source.error();
  std::vector<WalkItem> items;
  for (;;) {
    auto item = (*source)->next();
    if (!item) return item.error();
    if (!item->has_value()) break;
    items.push_back(std::move(**item));
  }
  if (keep) *keep = std::move(*source);
  return items;
}

TEST(TarInput, ReordersLikeTheDirectoryWalk) {
  TempDir dir;
  auto items = read_all(make_tar(dir, "./z/;./z/b=2;./a.b=3;./a/;./a/x=1;./B=0"), dir.path());
  ASSERT_TRUE(items.ok()) << items.error().message;
  std::vector<std::string> paths;
  for (const auto& i : *items) paths.push_back(i.entry.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"B", "a/", "a/x", "a.b", "z/", "z/b"}));
}

TEST(TarInput, FirstNameInWalkOrderHoldsTheData) {
  TempDir dir;
  // The archive stores the data under z/file; a/link sorts first.
  std::unique_ptr<TarInputSource> source;
  auto items = read_all(make_tar(dir, "z/;z/file=payload;a/;a/link>z/file"), dir.path(), &source);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 4u);
  const WalkItem& a_link = (*items)[1];
  const WalkItem& z_file = (*items)[3];
  EXPECT_EQ(a_link.entry.path, "a/link");
  EXPECT_EQ(a_link.entry.type, EntryType::regular);
  EXPECT_EQ(a_link.entry.size, 7u);
  ASSERT_GE(a_link.spool_fd, 0);
  std::string data(7, '\0');
  ASSERT_EQ(::pread(a_link.spool_fd, data.data(), 7, static_cast<off_t>(a_link.spool_offset)), 7);
  EXPECT_EQ(data, "payload");
  EXPECT_EQ(z_file.entry.path, "z/file");
  EXPECT_EQ(z_file.entry.type, EntryType::hard_link);
  EXPECT_EQ(z_file.entry.link_target, "a/link");
}

TEST(TarInput, ALinkToALinkJoinsTheGroupOfItsFile) {
  TempDir dir;
  // z/file holds the data, y/l1 links to it and a/l2 to y/l1: one file of
  // three names, whose first in walk order, a/l2, carries the data.
  std::unique_ptr<TarInputSource> source;
  auto items = read_all(make_tar(dir, "z/;z/file=payload;y/;y/l1>z/file;a/;a/l2>y/l1"), dir.path(), &source);
  ASSERT_TRUE(items.ok()) << items.error().message;
  std::vector<std::string> summary;
  for (const auto& i : *items)
    summary.push_back(i.entry.path + (i.entry.type == EntryType::hard_link ? " > " + i.entry.link_target : ""));
  EXPECT_EQ(summary, (std::vector<std::string>{"a/", "a/l2", "y/", "y/l1 > a/l2", "z/", "z/file > a/l2"}));
  const WalkItem& first = (*items)[1];
  EXPECT_EQ(first.entry.type, EntryType::regular);
  ASSERT_GE(first.spool_fd, 0);
  std::string data(7, '\0');
  ASSERT_EQ(::pread(first.spool_fd, data.data(), 7, static_cast<off_t>(first.spool_offset)), 7);
  EXPECT_EQ(data, "payload");
  for (size_t later : {3u, 5u}) {
    EXPECT_EQ((*items)[later].entry.size, 0u);
    EXPECT_EQ((*items)[later].spool_fd, -1);
  }
}

TEST(TarInput, RefusalsAreInputErrorsASpoolThatCannotBeWrittenIsIo) {
  TempDir dir;
  auto hostile = read_all(make_tar(dir, "ok=1;/abs=2"), dir.path());
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.error().kind, ErrorKind::input);
  auto no_spool = read_all(make_tar(dir, "ok=1"), dir / "missing");
  ASSERT_FALSE(no_spool.ok());
  EXPECT_EQ(no_spool.error().kind, ErrorKind::io) << no_spool.error().message;
}

struct Hostile {
  std::string specs;
  std::string culprit;
};

TEST(TarInput, RefusesHostileEntriesNamingThem) {
  for (const auto& c : std::vector<Hostile>{{"ok=1;/abs=2", "/abs"},
                                            {"a/;a/../../up=1", "a/../../up"},
                                            {"d=1;d=2", "duplicate entry 'd'"},
                                            {"l>missing", "missing"},
                                            {"early>late;late=1", "later entry 'late'"},
                                            {"etc/;etc/.wh.x=", ".wh."}}) {
    TempDir dir;
    auto items = read_all(make_tar(dir, c.specs), dir.path());
    ASSERT_FALSE(items.ok()) << c.specs;
    EXPECT_NE(items.error().message.find(c.culprit), std::string::npos) << items.error().message;
  }
}

TEST(TarInput, NotATarIsAnErrorNamingTheFile) {
  TempDir dir;
  testing::write_text(dir / "junk.tar", std::string(3000, 'j'));
  auto items = read_all(dir / "junk.tar", dir.path());
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("junk.tar"), std::string::npos) << items.error().message;
}

// Hand-made archives (test_helpers.h) for what libarchive alone would let
// through: a NUL inside a PAX path or link target (libarchive cuts the name
// there), and framing two tar readers disagree on.
Result<std::vector<WalkItem>> read_raw(const TempDir& dir, const std::string& bytes) {
  testing::write_text(dir / "raw.tar", bytes);
  return read_all(dir / "raw.tar", dir.path());
}

TEST(TarInput, RefusesANulInAPaxPathNamingTheWholeName) {
  TempDir dir;
  auto items = read_raw(dir, testing::raw_pax_header({{"path", std::string("etc/pass\0wd-shadow", 18)}}) +
                                 testing::raw_tar_header("placeholder", '0') + testing::raw_tar_end());
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("entry 'etc/pass\\x00wd-shadow' has a NUL byte in its path"),
            std::string::npos)
      << items.error().message;
}

TEST(TarInput, RefusesANulInALinkTarget) {
  for (char type : {'1', '2'}) {
    TempDir dir;
    auto items = read_raw(dir, testing::raw_tar_header("target", '0') +
                                   testing::raw_pax_header({{"linkpath", std::string("target\0/../../x", 15)}}) +
                                   testing::raw_tar_header("link", type) + testing::raw_tar_end());
    ASSERT_FALSE(items.ok()) << type;
    EXPECT_NE(items.error().message.find("'link' has a NUL byte in its link target 'target\\x00/../../x'"),
              std::string::npos)
        << items.error().message;
  }
}

TEST(TarInput, RefusesAHardLinkCarryingData) {
  // Smuggling: Go's archive/tar reads the next header right after the link
  // (a hidden entry), a reader that honours the size reads it as data.
  const std::string hidden = testing::raw_tar_header("hidden", '0');
  for (bool pax : {false, true}) {
    TempDir dir;
    std::string t = testing::raw_tar_header("target", '0');
    if (pax) t += testing::raw_pax_header({{"comment", "pax"}});
    t += testing::raw_tar_header("link", '1', 512, "target") + hidden + testing::raw_tar_end();
    auto items = read_raw(dir, t);
    ASSERT_FALSE(items.ok()) << "pax " << pax;
    EXPECT_NE(items.error().message.find("'link'"), std::string::npos) << items.error().message;
  }
}

TEST(TarInput, RefusesAnArchiveWithoutItsEndMarker) {
  TempDir dir;
  // Cut at an entry boundary: entries after the cut would be lost silently.
  auto items = read_raw(dir, testing::raw_tar_header("a", '0', 2) + testing::raw_tar_data("hi"));
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("end-of-archive marker"), std::string::npos) << items.error().message;
  EXPECT_NE(items.error().message.find("raw.tar"), std::string::npos) << items.error().message;
}

TEST(TarInput, ReadsAVolumeLabelAndAGlobalHeaderAsNothing) {
  TempDir dir;
  std::string t = testing::raw_tar_header("label", 'V', 0, "", [](std::string& h) {
    h.replace(257, 8, std::string("ustar  \0", 8));
  });
  const std::string global = "17 comment=hello\n";
  t += testing::raw_tar_header("pax_global_header", 'g', global.size()) + testing::raw_tar_data(global);
  t += testing::raw_tar_header("f", '0', 2) + testing::raw_tar_data("ok") + testing::raw_tar_end();
  auto items = read_raw(dir, t);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].entry.path, "f");
}

TEST(TarInput, AnXattrStoredTwiceIsKeptOnceAndTwoValuesAreRefused) {
  // bsdtar stores every xattr as LIBARCHIVE.xattr.NAME (URL-encoded name,
  // base64 value) and as SCHILY.xattr.NAME; libarchive returns both.
  {
    TempDir dir;
    auto items = read_raw(dir, testing::raw_pax_header({{"LIBARCHIVE.xattr.user.note", "aGVsbG8"},
                                                        {"SCHILY.xattr.user.note", "hello"}}) +
                                   testing::raw_tar_header("f", '0') + testing::raw_tar_end());
    ASSERT_TRUE(items.ok()) << items.error().message;
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ((*items)[0].entry.xattrs, (std::vector<std::pair<std::string, std::string>>{{"user.note", "hello"}}));
  }
  TempDir dir;
  auto items = read_raw(dir, testing::raw_pax_header({{"LIBARCHIVE.xattr.user.note", "aGVsbG8"},
                                                      {"SCHILY.xattr.user.note", "other"}}) +
                                 testing::raw_tar_header("f", '0') + testing::raw_tar_end());
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("entry 'f' has two different values for xattr 'user.note'"), std::string::npos)
      << items.error().message;
}

TEST(TarInput, EmptyFileIsAnErrorNamingIt) {
  TempDir dir;
  auto items = read_raw(dir, "");
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("raw.tar"), std::string::npos) << items.error().message;
}


// A raw tar of `entries` (headers and data) as a ROOTFS: the error must name
// `culprit`, or the read must succeed when culprit is empty.
void expect_raw_tar(const std::string& bytes, const std::string& culprit, const std::string& reason) {
  TempDir dir;
  auto items = read_raw(dir, bytes + testing::raw_tar_end());
  if (culprit.empty()) {
    EXPECT_TRUE(items.ok()) << items.error().message;
    return;
  }
  ASSERT_FALSE(items.ok()) << "accepted a tar where " << culprit << " " << reason;
  EXPECT_NE(items.error().message.find("'" + culprit + "'"), std::string::npos) << items.error().message;
  EXPECT_NE(items.error().message.find(reason), std::string::npos) << items.error().message;
}

// Owner ids as base-256 (GNU) fields: the 8 bytes big-endian, high bit set.
auto base256_id(size_t offset, int64_t value) {
  return [offset, value](std::string& h) {
    uint64_t bits = static_cast<uint64_t>(value);
    for (int i = 7; i >= 0; --i, bits >>= 8) h[offset + static_cast<size_t>(i)] = static_cast<char>(bits & 0xff);
    h[offset] = static_cast<char>(static_cast<unsigned char>(h[offset]) | 0x80);
  };
}

TEST(TarInput, RefusesOwnerIdsLinuxCannotHoldNamingTheEntry) {
  using testing::raw_tar_header;
  // -1 (what libarchive reads from an all-ones base-256 field), a huge
  // base-256 id, (uid_t)-1 and 2^32 via PAX, for the uid and the gid.
  expect_raw_tar(raw_tar_header("neg-uid", '0', 0, "", base256_id(108, -1)), "neg-uid", "has uid -1");
  expect_raw_tar(raw_tar_header("neg-gid", '0', 0, "", base256_id(116, -5)), "neg-gid", "has gid -5");
  expect_raw_tar(raw_tar_header("huge-uid", '0', 0, "", base256_id(108, int64_t{1} << 40)), "huge-uid",
                 "has uid 1099511627776");
  expect_raw_tar(testing::raw_pax_header({{"uid", "4294967295"}}) + raw_tar_header("minus-one"), "minus-one",
                 "has uid 4294967295");
  expect_raw_tar(testing::raw_pax_header({{"gid", "4294967296"}}) + raw_tar_header("big-gid"), "big-gid",
                 "has gid 4294967296");
  // The largest id Linux can own a file by is fine.
  expect_raw_tar(testing::raw_pax_header({{"uid", "4294967294"}, {"gid", "65534"}}) + raw_tar_header("max"), "", "");
}

TEST(TarInput, RefusesEntriesBelowANonDirectoryNamingThem) {
  using testing::raw_tar_header;
  // Below a symlink (absolute and relative targets), below a file, below a
  // hard link, deeper below a symlink, and in either archive order.
  expect_raw_tar(raw_tar_header("a", '2', 0, "/etc") + raw_tar_header("a/evil"), "a/evil", "lies below 'a'");
  expect_raw_tar(raw_tar_header("d/") + raw_tar_header("d/up", '2', 0, "..") + raw_tar_header("d/up/x"), "d/up/x",
                 "lies below 'd/up'");
  expect_raw_tar(raw_tar_header("f", '0', 1) + testing::raw_tar_data("x") + raw_tar_header("f/b"), "f/b",
                 "lies below 'f'");
  expect_raw_tar(raw_tar_header("t") + raw_tar_header("h", '1', 0, "t") + raw_tar_header("h/c"), "h/c",
                 "lies below 'h'");
  expect_raw_tar(raw_tar_header("s", '2', 0, "/") + raw_tar_header("s/x/y/z"), "s/x/y/z", "lies below 's'");
  expect_raw_tar(raw_tar_header("late/evil") + raw_tar_header("late", '2', 0, "/etc"), "late",
                 "earlier entries lie below it");
  // A directory replaced by a later entry is a duplicate.
  expect_raw_tar(raw_tar_header("r/", '5') + raw_tar_header("r", '2', 0, "/etc") + raw_tar_header("r/x"), "r",
                 "duplicate entry");
  // Below a real directory, listed or not, is fine.
  expect_raw_tar(raw_tar_header("ok/", '5') + raw_tar_header("ok/x") + raw_tar_header("implicit/y"), "", "");
}

TEST(TarInput, StreamsAreTarInputsDirectoriesAreNot) {
  TempDir dir;
  testing::make_dirs(dir / "tree");
  testing::write_text(dir / "file.tar", "");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  ASSERT_EQ(::symlink((dir / "fifo").c_str(), (dir / "fifo-link").c_str()), 0);
  EXPECT_TRUE(is_tar_input("-"));
  EXPECT_TRUE(is_tar_input(dir / "file.tar"));
  EXPECT_TRUE(is_tar_input(dir / "fifo"));
  EXPECT_TRUE(is_tar_input(dir / "fifo-link"));  // as /dev/fd/N of <(…) is
  EXPECT_TRUE(is_tar_input("/dev/null"));
  EXPECT_FALSE(is_tar_input(dir / "tree"));
  EXPECT_FALSE(is_tar_input(dir / "missing"));
}

TEST(TarInput, ReadsATarFromAPipeAndAnEmptyDeviceIsAClearError) {
  TempDir dir;
  const std::string tar = make_tar(dir, "a/;a/x=hello");
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const std::string bytes = testing::read_text(tar);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    ssize_t ignored = ::write(pipe_fds[1], bytes.data(), bytes.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  const std::string path = "/dev/fd/" + std::to_string(pipe_fds[0]);
  ASSERT_TRUE(is_tar_input(path));
  auto items = read_all(path, dir.path());
  ::close(pipe_fds[0]);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[1].entry.path, "a/x");

  auto empty = read_all("/dev/null", dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("'/dev/null' is empty"), std::string::npos) << empty.error().message;
}

// The spool reports "spooling" with the bytes read of the file's size, up
// to all of it; a set cancel flag stops it with an interrupted error.
TEST(TarInput, ReportsSpoolingProgressAndStopsWhenCancelled) {
  TempDir dir;
  const std::string tar = make_tar(dir, "a/;a/x=" + std::string(100000, 'q') + ";b=2");
  std::vector<PhaseStatus> seen;
  auto source = TarInputSource::open(tar, {}, dir.path(), nullptr,
                                     [&](const PhaseStatus& status) { seen.push_back(status); });
  ASSERT_TRUE(source.ok()) << source.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(tar.c_str(), &st), 0);
  ASSERT_FALSE(seen.empty());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].phase, "spooling");
    EXPECT_EQ(seen[i].subject, tar);
    EXPECT_EQ(seen[i].unit, PhaseUnit::bytes);
    EXPECT_EQ(seen[i].total, static_cast<uint64_t>(st.st_size));
    if (i > 0) {
      EXPECT_GE(seen[i].done, seen[i - 1].done);
    }
  }
  EXPECT_EQ(seen.back().done, static_cast<uint64_t>(st.st_size));

  std::atomic<bool> cancel{true};
  auto stopped = TarInputSource::open(tar, {}, dir.path(), &cancel);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, ErrorKind::interrupted);
}

// A cancel is seen while stdin waits for a writer that sends nothing.
TEST(TarInput, CancelWhileStdinIsIdle) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int saved = ::dup(STDIN_FILENO);
  ASSERT_EQ(::dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto source = TarInputSource::open("-", {}, dir.path(), &cancel);
  canceller.join();
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ::close(fds[0]);
  ::close(fds[1]);  // the writer never wrote nor closed before the cancel
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().kind, ErrorKind::interrupted) << source.error().message;
}

}  // namespace
}  // namespace ocipack
