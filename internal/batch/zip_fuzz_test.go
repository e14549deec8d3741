package batch

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzZipLimits are small, so that the fuzzer reaches them.
var fuzzZipLimits = ZipLimits{Files: 16, FileBytes: 4 << 10, TotalBytes: 12 << 10}

// zipOf builds an archive of name, content pairs; a name ending in "@"
// is a symbolic link to its content.
func zipOf(entries ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		name, content := entries[i], entries[i+1]
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if strings.HasSuffix(name, "@") {
			h.Name = strings.TrimSuffix(name, "@")
			h.SetMode(fs.ModeSymlink | 0o777)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		_, _ = io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// FuzzExtract unpacks any archive a student may hand in. Whatever it
// holds, nothing is written outside the target folder, no link or special
// file is created, the limits hold on what was written, and a refusal is
// one error that says so (ErrArchive) or names the archive. An archive
// unpacked without error is unpacked whole: each file holds its entry's
// bytes.
func FuzzExtract(f *testing.F) {
	f.Add(zipOf("udp_server.py", "import socket\n", "python/tcp_client.py", "import sys\n"))
	f.Add(zipOf("../evil.py", "x", "ok.py", "y"))
	f.Add(zipOf("/etc/evil", "x"))
	f.Add(zipOf(`..\..\evil.py`, "x", `dir\file.py`, "y"))
	f.Add(zipOf("link@", "/etc/passwd", "link/x.py", "y"))
	f.Add(zipOf("__MACOSX/._server.py", "junk", "server.py", "print(1)\n"))
	f.Add(zipOf("a.py", "1", "a.py", "2"))
	f.Add(zipOf("dir/", "", "dir/a.py", "1", "dir", "file over dir"))
	f.Add(zipOf("big.py", strings.Repeat("0", 64<<10)))
	f.Add(zipOf("a.py", strings.Repeat("a", 3<<10), "b.py", strings.Repeat("b", 3<<10), "c.py", strings.Repeat("c", 3<<10), "d.py", strings.Repeat("d", 3<<10), "e.py", strings.Repeat("d", 3<<10)))
	f.Add([]byte("PK\x03\x04 not a zip"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, archive []byte) {
		root := t.TempDir()
		src := filepath.Join(root, "student.zip")
		require.NoError(t, os.WriteFile(src, archive, 0o644))
		target := filepath.Join(root, "target")
		require.NoError(t, os.Mkdir(target, 0o755))
		err := Extract(src, target, fuzzZipLimits)
		if err != nil {
			require.True(t, errors.Is(err, ErrArchive) || strings.Contains(err.Error(), "student.zip"), "the error says what is wrong with which archive: %v", err)
		}

		// Nothing outside the target.
		top, rerr := os.ReadDir(root)
		require.NoError(t, rerr)
		require.Len(t, top, 2, "only the archive and the target folder")

		// Inside: folders and regular files within the limits.
		var files int
		var total int64
		got := map[string][]byte{}
		werr := filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
			require.NoError(t, err)
			info, err := os.Lstat(p)
			require.NoError(t, err)
			switch {
			case info.IsDir():
				return nil
			case !info.Mode().IsRegular():
				t.Fatalf("%s is a %s, not a file", p, info.Mode().Type())
			}
			files++
			total += info.Size()
			require.LessOrEqual(t, info.Size(), fuzzZipLimits.FileBytes)
			rel, err := filepath.Rel(target, p)
			require.NoError(t, err)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			got[filepath.ToSlash(rel)] = data
			return nil
		})
		require.NoError(t, werr)
		require.LessOrEqual(t, files, fuzzZipLimits.Files)
		require.LessOrEqual(t, total, fuzzZipLimits.TotalBytes)
		if err != nil {
			return
		}

		// Unpacked whole: every regular entry is there, with its bytes.
		zr, zerr := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		require.NoError(t, zerr, "an archive unpacked without error is a zip archive")
		want := 0
		for _, zf := range zr.File {
			clean := path.Clean(strings.TrimSuffix(strings.ReplaceAll(zf.Name, `\`, "/"), "/"))
			if first, _, _ := strings.Cut(clean, "/"); first == "__MACOSX" || !zf.Mode().IsRegular() || clean == "." {
				continue
			}
			want++
			rc, oerr := zf.Open()
			require.NoError(t, oerr)
			data, rerr := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, rerr)
			require.Equal(t, string(data), string(got[clean]), "%s holds its entry's bytes", clean)
		}
		require.Equal(t, want, files, "one file per entry")
	})
}
