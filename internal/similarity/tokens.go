package similarity

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"unicode/utf8"
)

// pyTokens is the script that turns Python files into normalised tokens
// with Python's own tokenize module (see its header).
//
//go:embed pytokens.py
var pyTokens string

// Token is one normalised token of a file, with where it stands in the
// source: lines from 1, columns in characters from 0, End exclusive.
type Token struct {
	Text            string
	Line, Col       int
	EndLine, EndCol int
}

// pythonTokens tokenizes the files at paths with python's tokenize module,
// in one process for all of them. A file Python cannot tokenize (not
// Python, a syntax error the tokenizer sees, unreadable) gets a nil slice
// and, in whys, the reason; the caller compares it on normalised text.
func pythonTokens(ctx context.Context, python string, paths []string) (toks [][]Token, whys []string, err error) {
	toks = make([][]Token, len(paths))
	whys = make([]string, len(paths))
	if len(paths) == 0 {
		return toks, whys, nil
	}
	in, err := json.Marshal(paths)
	if err != nil {
		return nil, nil, err
	}
	// -I: isolated, so that no file of the current folder (a student's
	// tokenize.py) shadows the standard library.
	cmd := exec.CommandContext(ctx, python, "-I", "-c", pyTokens)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s to tokenize the files: %w", python, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	i := 0
	for sc.Scan() && i < len(paths) {
		var rec struct {
			Toks  [][5]json.RawMessage `json:"toks"`
			Error string               `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, nil, fmt.Errorf("reading the tokens of %s: %w", paths[i], err)
		}
		if rec.Error != "" {
			whys[i] = rec.Error
		} else {
			ts := make([]Token, 0, len(rec.Toks))
			for _, t := range rec.Toks {
				var tk Token
				if err := errors.Join(json.Unmarshal(t[0], &tk.Text), json.Unmarshal(t[1], &tk.Line), json.Unmarshal(t[2], &tk.Col),
					json.Unmarshal(t[3], &tk.EndLine), json.Unmarshal(t[4], &tk.EndCol)); err != nil {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					return nil, nil, fmt.Errorf("reading the tokens of %s: %w", paths[i], err)
				}
				ts = append(ts, tk)
			}
			toks[i] = ts
		}
		i++
	}
	scanErr := sc.Err()
	werr := cmd.Wait()
	if scanErr != nil {
		return nil, nil, fmt.Errorf("reading the tokenizer's output: %w", scanErr)
	}
	if werr != nil || i != len(paths) {
		return nil, nil, fmt.Errorf("%s could not tokenize the files (%d of %d done): %v: %s", python, i, len(paths), werr, lastLine(stderr.String()))
	}
	return toks, whys, nil
}

// lastLine returns the last non-empty line of s (a traceback's verdict).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// wordRe is a token of normalised text: a word, or one other visible
// character.
var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+|\S`)

// textTokens tokenizes a file that is not Python (or that Python's
// tokenizer refused) as normalised text: lower-cased words and
// punctuation, layout dropped.
func textTokens(src string) []Token {
	var out []Token
	for i, line := range strings.Split(src, "\n") {
		for _, m := range wordRe.FindAllStringIndex(line, -1) {
			col := utf8.RuneCountInString(line[:m[0]])
			n := utf8.RuneCountInString(line[m[0]:m[1]])
			out = append(out, Token{Text: strings.ToLower(line[m[0]:m[1]]), Line: i + 1, Col: col, EndLine: i + 1, EndCol: col + n})
		}
	}
	return out
}

// normaliseSource returns a file's text as shown and as the text tokenizer
// reads it: UTF-8, or, for a file that is not, Latin-1 (one character a
// byte, as Python reads a file that declares a one-byte encoding, so that
// its tokens' columns fall right); a leading byte-order mark dropped; \r\n
// and \r turned into \n as Python reads lines.
func normaliseSource(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := string(data)
	if !utf8.Valid(data) {
		rs := make([]rune, len(data))
		for i, b := range data {
			rs[i] = rune(b)
		}
		s = string(rs)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
