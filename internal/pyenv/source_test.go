package pyenv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUndecodable: a .py file Python cannot read as UTF-8, and that
// declares no other encoding, is named with the first byte that is not
// UTF-8; a declared encoding, a BOM or another kind of file is not.
func TestUndecodable(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, text, want string
	}{
		{"utf-8", "a.py", "print('café')\n", ""},
		{"bom", "b.py", "\xef\xbb\xbfprint('café')\n", ""},
		{"latin-1", "c.py", "pass # caf\xe9\n", "c.py is not UTF-8 text (byte 0xe9 at offset 10), so Python cannot read it: save it as UTF-8"},
		{"declared latin-1", "d.py", "# -*- coding: latin-1 -*-\npass # caf\xe9\n", ""},
		{"declared utf-8, is not", "e.py", "# coding: utf_8\npass # caf\xe9\n", "e.py is not UTF-8 text (byte 0xe9 at offset 26), so Python cannot read it: save it as UTF-8"},
		{"cookie on the third line", "f.py", "#\n#\n# coding: latin-1\n\xe9\n", "f.py is not UTF-8 text (byte 0xe9 at offset 22), so Python cannot read it: save it as UTF-8"},
		{"not Python", "g.txt", "caf\xe9\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			require.NoError(t, os.WriteFile(path, []byte(tc.text), 0o644))
			assert.Equal(t, tc.want, Undecodable(path, tc.file))
		})
	}
	assert.Contains(t, Undecodable(filepath.Join(dir, "missing.py"), "missing.py"), "missing.py cannot be read")
}
