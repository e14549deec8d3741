package pyenv

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"
)

// codingCookie is PEP 263's encoding declaration, on one of a source
// file's first two lines.
var codingCookie = regexp.MustCompile(`^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`)

// Undecodable says why Python cannot read the .py file at path as its
// source ("" when it can, and for files of other kinds), naming the file
// name in the message: a file that is not UTF-8 and declares no other
// encoding (PEP 263) stops Python before it runs a line ("SyntaxError:
// Non-UTF-8 code"), which a batch reports as a problem of the submission
// before it grades anything.
func Undecodable(path, name string) string {
	if !strings.EqualFold(filepath.Ext(path), ".py") {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("%s cannot be read: %v", name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return ""
	}
	lines := bytes.SplitN(data, []byte("\n"), 3)
	for _, line := range lines[:min(2, len(lines))] {
		m := codingCookie.FindSubmatch(line)
		if m == nil {
			continue
		}
		if enc := strings.ReplaceAll(strings.ToLower(string(m[1])), "_", "-"); enc != "utf-8" && enc != "utf8" {
			return "" // another encoding, declared: Python reads it
		}
	}
	off := 0
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	return fmt.Sprintf("%s is not UTF-8 text (byte 0x%02x at offset %d), so Python cannot read it: save it as UTF-8", name, data[off], off)
}
