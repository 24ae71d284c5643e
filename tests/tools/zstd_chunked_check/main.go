// zstd_chunked_check: checks a zstd:chunked layer blob with the code of
// Debian's containers/storage (golang-github-containers-storage-dev 1.43,
// the version podman 4.3 is built from) and tar-split, offline. It
//  1. finds the TOC through the layer descriptor's annotations with the
//     package's own readZstdChunkedManifest (checksum annotation verified,
//     TOC zstd-decompressed), for the legacy keys (io.containers.*, which
//     1.43 reads) and for the current keys (io.github.containers.*, read by
//     containers/storage ≥ 1.45), and parses it with the package's own
//     unmarshalToc;
//  2. reads the footer: the current 64-byte one ("GNUlInUx": TOC and
//     tar-split positions), or the legacy 40-byte one ("GnUlInUx"), which
//     it reads with 1.43's footer code (no position annotation given);
//  3. decompresses every file's frames [offset, endOffset) and every chunk
//     of a chunked file on its own, checking sizes and SHA-256 digests;
//  4. with a tar-split (current format: tarsplit-position annotation, its
//     digest in the TOC's tarSplitDigest), rebuilds the tar stream with
//     tar-split's asm.WriteOutputTarStream, the file contents coming from
//     the TOC's frames, and compares it byte for byte with the blob
//     decompressed as a whole; the TOC's entries must match the tar's
//     headers one to one (as containers/storage's ensureTOCMatchesTarSplit).
//
// Usage: zstd_chunked_check BLOB ANNOTATIONS_JSON [REBUILT_TAR]
// Prints one line per finding and "tar sha256:<hex>" of the layer's tar;
// exits 1 on any problem.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/containers/storage/pkg/chunked"
	"github.com/klauspost/compress/zstd"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

const (
	legacyChecksumKey = "io.containers.zstd-chunked.manifest-checksum"
	legacyPositionKey = "io.containers.zstd-chunked.manifest-position"
	checksumKey       = "io.github.containers.zstd-chunked.manifest-checksum"
	positionKey       = "io.github.containers.zstd-chunked.manifest-position"
	tarSplitKey       = "io.github.containers.zstd-chunked.tarsplit-position"
)

var (
	magicCurrent = []byte("GNUlInUx")
	magicLegacy  = []byte("GnUlInUx")
)

// blobSource serves byte ranges of the blob, as a registry would.
type blobSource struct{ blob []byte }

func (s blobSource) GetBlobAt(chunks []chunked.ImageSourceChunk) (chan io.ReadCloser, chan error, error) {
	streams := make(chan io.ReadCloser, len(chunks))
	errs := make(chan error, 1)
	for _, c := range chunks {
		if c.Offset+c.Length > uint64(len(s.blob)) || c.Offset+c.Length < c.Offset {
			errs <- fmt.Errorf("range %d+%d outside the blob of %d bytes", c.Offset, c.Length, len(s.blob))
			close(streams)
			close(errs)
			return streams, errs, nil
		}
		streams <- io.NopCloser(bytes.NewReader(s.blob[c.Offset : c.Offset+c.Length]))
	}
	// errs stays open: 1.43 selects on both channels, and a closed errs
	// would hand it a nil error instead of the stream.
	close(streams)
	return streams, errs, nil
}

// tocEntry is the TOC's entry as the current format writes it (1.43's
// FileMetadata lacks nothing a checker needs; tarSplitDigest is TOC-level).
type tocEntry struct {
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Linkname    string            `json:"linkName"`
	Mode        int64             `json:"mode"`
	Size        int64             `json:"size"`
	UID         int               `json:"uid"`
	GID         int               `json:"gid"`
	ModTime     string            `json:"modtime"`
	Devmajor    int64             `json:"devMajor"`
	Devminor    int64             `json:"devMinor"`
	Xattrs      map[string]string `json:"xattrs"`
	Digest      string            `json:"digest"`
	Offset      int64             `json:"offset"`
	EndOffset   int64             `json:"endOffset"`
	ChunkSize   int64             `json:"chunkSize"`
	ChunkOffset int64             `json:"chunkOffset"`
	ChunkDigest string            `json:"chunkDigest"`
	ChunkType   string            `json:"chunkType"`
}

type toc struct {
	Version        int        `json:"version"`
	Entries        []tocEntry `json:"entries"`
	TarSplitDigest string     `json:"tarSplitDigest"`
}

var problems int

func fail(format string, args ...interface{}) {
	problems++
	fmt.Printf("FAIL: "+format+"\n", args...)
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// decoder is made once: DecodeAll may be called again and again on one
// decoder, and a new one per file (thousands in a real rootfs) cost
// minutes in allocations and goroutines.
var decoder *zstd.Decoder

func decompress(b []byte) ([]byte, error) {
	if decoder == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		decoder = d
	}
	return decoder.DecodeAll(b, nil)
}

// decompressStream decodes a stream of many frames (a whole layer).
// DecodeAll grows its output to exactly the next frame's size, copying
// everything decoded so far once per frame: quadratic over the ~16k frames
// of a real rootfs (ten minutes for minbase). The streaming reader's output
// grows geometrically instead.
func decompressStream(b []byte) ([]byte, error) {
	d, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return io.ReadAll(d)
}

// readTOC reads the TOC with 1.43's code through the given checksum and
// position annotations (renamed to the keys 1.43 knows).
func readTOC(blob []byte, annotations map[string]string, sumKey, posKey string) []byte {
	renamed := map[string]string{legacyChecksumKey: annotations[sumKey]}
	if posKey != "" {
		renamed[legacyPositionKey] = annotations[posKey]
	}
	manifest, _, err := chunked.OcipackReadZstdChunkedManifest(blobSource{blob}, int64(len(blob)), renamed)
	if err != nil {
		fail("containers/storage cannot read the TOC through %s/%s: %v", sumKey, posKey, err)
		return nil
	}
	if _, err := chunked.OcipackUnmarshalToc(manifest); err != nil {
		fail("containers/storage cannot parse the TOC: %v", err)
	}
	fmt.Printf("ok: TOC read by containers/storage through %s (%d bytes)\n", sumKey, len(manifest))
	return manifest
}

// readFooter checks the blob's last skippable frame: the current 64-byte
// footer or the legacy 40-byte one.
func readFooter(blob []byte, annotations map[string]string) {
	n := len(blob)
	if n >= 72 && bytes.Equal(blob[n-8:], magicCurrent) {
		f := blob[n-64:]
		if !bytes.Equal(blob[n-72:n-68], []byte{0x50, 0x2a, 0x4d, 0x18}) || binary.LittleEndian.Uint32(blob[n-68:]) != 64 {
			fail("the 64-byte footer is not in a skippable frame of its own")
		}
		v := make([]uint64, 7)
		for i := range v {
			v[i] = binary.LittleEndian.Uint64(f[8*i:])
		}
		pos := fmt.Sprintf("%d:%d:%d:%d", v[0], v[1], v[2], v[3])
		split := fmt.Sprintf("%d:%d:%d", v[4], v[5], v[6])
		if annotations[positionKey] != "" && annotations[positionKey] != pos {
			fail("footer TOC position %s != annotation %s", pos, annotations[positionKey])
		}
		if annotations[tarSplitKey] != "" && annotations[tarSplitKey] != split {
			fail("footer tar-split position %s != annotation %s", split, annotations[tarSplitKey])
		}
		fmt.Printf("ok: current 64-byte footer (TOC %s, tar-split %s)\n", pos, split)
		return
	}
	if n >= 40 && bytes.Equal(blob[n-8:], magicLegacy) {
		if annotations[legacyChecksumKey] != "" {
			readTOC(blob, annotations, legacyChecksumKey, "")
			fmt.Println("ok: legacy 40-byte footer read by containers/storage 1.43")
		}
		return
	}
	fail("no zstd:chunked footer at the end of the blob")
}

// fileContents decompresses each file's frames and checks its chunks.
func fileContents(blob []byte, t *toc) map[string][]byte {
	contents := map[string][]byte{}
	for i := 0; i < len(t.Entries); i++ {
		e := t.Entries[i]
		if e.Type != "reg" || e.Size == 0 {
			if e.Type == "reg" && (e.Digest != "" || e.Offset != 0) {
				fail("%s: empty file with a digest or offset", e.Name)
			}
			continue
		}
		if e.Offset <= 0 || e.EndOffset <= e.Offset || e.EndOffset > int64(len(blob)) {
			fail("%s: frames [%d, %d) outside the blob", e.Name, e.Offset, e.EndOffset)
			continue
		}
		data, err := decompress(blob[e.Offset:e.EndOffset])
		if err != nil || int64(len(data)) != e.Size || sha(data) != e.Digest {
			fail("%s: frames [%d, %d) do not hold its %d bytes with digest %s (%v)", e.Name, e.Offset, e.EndOffset, e.Size, e.Digest, err)
			continue
		}
		contents[e.Name] = data
		chunks := []tocEntry{e}
		for i+1 < len(t.Entries) && t.Entries[i+1].Type == "chunk" {
			i++
			chunks = append(chunks, t.Entries[i])
		}
		if len(chunks) > 1 || e.ChunkSize != 0 {
			checkChunks(blob, e, chunks, data)
		}
	}
	return contents
}

func checkChunks(blob []byte, file tocEntry, chunks []tocEntry, data []byte) {
	var at int64
	for k, c := range chunks {
		end := file.EndOffset
		if k+1 < len(chunks) {
			end = chunks[k+1].Offset
		}
		if c.Name != file.Name || c.ChunkOffset != at || c.ChunkSize <= 0 || c.Offset < file.Offset || end <= c.Offset || end > file.EndOffset {
			fail("%s: chunk %d misplaced (offset %d..%d, chunkOffset %d, want %d)", file.Name, k, c.Offset, end, c.ChunkOffset, at)
			return
		}
		part, err := decompress(blob[c.Offset:end])
		if err != nil || int64(len(part)) != c.ChunkSize || sha(part) != c.ChunkDigest ||
			!bytes.Equal(part, data[at:at+c.ChunkSize]) {
			fail("%s: chunk %d (%d bytes at %d) does not decompress to its digest", file.Name, k, c.ChunkSize, c.Offset)
			return
		}
		at += c.ChunkSize
	}
	if at != file.Size {
		fail("%s: chunks cover %d of %d bytes", file.Name, at, file.Size)
	}
}

// readTarSplit reads the tar-split frame named by the annotation and
// checks it against the TOC's digest.
func readTarSplit(blob []byte, annotations map[string]string, t *toc) []byte {
	var offset, length, size uint64
	if _, err := fmt.Sscanf(annotations[tarSplitKey], "%d:%d:%d", &offset, &length, &size); err != nil || offset+length > uint64(len(blob)) {
		fail("bad %s annotation %q", tarSplitKey, annotations[tarSplitKey])
		return nil
	}
	compressed := blob[offset : offset+length]
	if sha(compressed) != t.TarSplitDigest {
		fail("tar-split digest %s != TOC tarSplitDigest %s", sha(compressed), t.TarSplitDigest)
	}
	data, err := decompress(compressed)
	if err != nil || uint64(len(data)) != size {
		fail("tar-split does not decompress to %d bytes: %v", size, err)
		return nil
	}
	fmt.Printf("ok: tar-split (%d bytes, %d compressed), digest as in the TOC\n", size, length)
	return data
}

type fileGetter map[string][]byte

func (g fileGetter) Get(name string) (io.ReadCloser, error) {
	// The TOC holds names as JSON can (U+FFFD for bytes that are not
	// UTF-8); tar-split keeps the raw name. Current containers/storage
	// refuses such a layer's partial pull (ensureTOCMatchesTarSplit), for
	// podman's own layers as for any: reported, but the bytes are checked.
	if text, _ := json.Marshal(name); !utf8.ValidString(name) {
		var asJSON string
		_ = json.Unmarshal(text, &asJSON)
		fmt.Printf("note: %q is not UTF-8: the TOC names it %q (current containers/storage refuses partial pulls of such layers)\n", name, asJSON)
		name = asJSON
	}
	data, ok := g[name]
	if !ok {
		return nil, fmt.Errorf("no TOC entry with contents for %q", name)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// compareHeaders checks the TOC entries (chunks aside) against the tar's
// headers, one to one and in order.
func compareHeaders(tarStream []byte, t *toc) {
	var entries []tocEntry
	for _, e := range t.Entries {
		if e.Type != "chunk" {
			entries = append(entries, e)
		}
	}
	types := map[byte]string{tar.TypeReg: "reg", tar.TypeLink: "hardlink", tar.TypeSymlink: "symlink", tar.TypeDir: "dir",
		tar.TypeChar: "char", tar.TypeBlock: "block", tar.TypeFifo: "fifo"}
	r := tar.NewReader(bytes.NewReader(tarStream))
	k := 0
	for ; ; k++ {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("the tar does not parse: %v", err)
			return
		}
		if k >= len(entries) {
			fail("tar entry %q has no TOC entry", h.Name)
			return
		}
		e := entries[k]
		xattrs := map[string]string{}
		for key, v := range h.PAXRecords {
			if strings.HasPrefix(key, "SCHILY.xattr.") {
				xattrs[strings.TrimPrefix(key, "SCHILY.xattr.")] = base64.StdEncoding.EncodeToString([]byte(v))
			}
		}
		if e.Xattrs == nil {
			e.Xattrs = map[string]string{}
		}
		// JSON cannot hold names that are not UTF-8: Go's producers write
		// them with U+FFFD, as encoding/json does here.
		name, _ := json.Marshal(h.Name)
		_ = json.Unmarshal(name, &h.Name)
		link, _ := json.Marshal(h.Linkname)
		_ = json.Unmarshal(link, &h.Linkname)
		got := fmt.Sprintf("%s %q %q %o %d %d:%d %d,%d %v %s", e.Type, e.Name, e.Linkname, e.Mode, e.Size, e.UID, e.GID, e.Devmajor, e.Devminor, sorted(e.Xattrs), e.ModTime)
		want := fmt.Sprintf("%s %q %q %o %d %d:%d %d,%d %v %s", types[h.Typeflag], h.Name, h.Linkname, h.Mode, h.Size, h.Uid, h.Gid, h.Devmajor, h.Devminor, sorted(xattrs), h.ModTime.UTC().Format("2006-01-02T15:04:05Z07:00"))
		if got != want {
			fail("TOC entry %d: %s, tar header: %s", k, got, want)
		}
	}
	if k != len(entries) {
		fail("the TOC has %d entries, the tar %d", len(entries), k)
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: zstd_chunked_check BLOB ANNOTATIONS_JSON [REBUILT_TAR]")
		os.Exit(2)
	}
	blob, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	annotations := map[string]string{}
	if text, err := os.ReadFile(os.Args[2]); err != nil || json.Unmarshal(text, &annotations) != nil {
		fmt.Println("FAIL: cannot read the annotations", os.Args[2])
		os.Exit(1)
	}
	var manifest []byte
	if annotations[legacyChecksumKey] != "" {
		manifest = readTOC(blob, annotations, legacyChecksumKey, legacyPositionKey)
	}
	if annotations[checksumKey] != "" {
		current := readTOC(blob, annotations, checksumKey, positionKey)
		if manifest != nil && !bytes.Equal(manifest, current) {
			fail("the legacy and current annotations name different TOCs")
		}
		manifest = current
	}
	if manifest == nil {
		fail("no zstd:chunked annotations")
		os.Exit(1)
	}
	readFooter(blob, annotations)
	var t toc
	if err := json.Unmarshal(manifest, &t); err != nil || t.Version != 1 {
		fail("TOC JSON: %v (version %d)", err, t.Version)
		os.Exit(1)
	}
	contents := fileContents(blob, &t)
	fmt.Printf("ok: %d TOC entries, %d file contents checked\n", len(t.Entries), len(contents))

	whole, err := decompressStream(blob)
	if err != nil {
		fail("the blob does not decompress as a zstd stream: %v", err)
		os.Exit(1)
	}
	compareHeaders(whole, &t)
	if annotations[tarSplitKey] != "" {
		if split := readTarSplit(blob, annotations, &t); split != nil {
			var rebuilt bytes.Buffer
			if err := asm.WriteOutputTarStream(fileGetter(contents), storage.NewJSONUnpacker(bytes.NewReader(split)), &rebuilt); err != nil {
				fail("tar-split cannot rebuild the tar: %v", err)
			} else if !bytes.Equal(rebuilt.Bytes(), whole) {
				fail("the tar rebuilt from TOC + tar-split (%d bytes) differs from the decompressed blob (%d bytes)", rebuilt.Len(), len(whole))
			} else {
				fmt.Printf("ok: tar rebuilt from TOC + tar-split is byte-identical (%d bytes)\n", rebuilt.Len())
				if len(os.Args) > 3 {
					_ = os.WriteFile(os.Args[3], rebuilt.Bytes(), 0o644)
				}
			}
		}
	} else {
		fmt.Println("note: no tar-split (legacy format): the tar cannot be rebuilt from the metadata")
	}
	fmt.Printf("tar %s\n", sha(whole))
	if problems > 0 {
		fmt.Printf("%d problem(s)\n", problems)
		os.Exit(1)
	}
}
