package apispec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parsePython reads a Python literal as str() and repr() write it (dicts,
// lists, tuples, sets, strings with either quote, bytes, numbers, True,
// False, None) and returns it as encoding/json would decode the JSON it
// stands for. It exists to recognise, and still read, a body a student
// wrote with str(item) instead of json.dumps(item); no library reads
// Python literals in Go, and the grammar needed is this small.
func parsePython(s string) (any, error) {
	p := &pyParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.rest(), p.i)
	}
	return v, nil
}

// maxDepth bounds nesting, so that a hostile body cannot exhaust the stack.
const maxDepth = 64

type pyParser struct {
	s string
	i int
}

var errPy = errors.New("not a Python literal")

// pyWords are Python's constants and the JSON values they stand for.
var pyWords = []struct {
	word  string
	value any
}{{"True", true}, {"False", false}, {"None", nil}}

func (p *pyParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 10 {
		r = r[:10]
	}
	return r
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deep", errPy)
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("%w: unexpected end", errPy)
	}
	c := p.s[p.i]
	switch {
	case c == '{':
		return p.dict(depth)
	case c == '[':
		return p.seq(depth, ']')
	case c == '(':
		return p.seq(depth, ')')
	case c == '\'' || c == '"':
		return p.str()
	case (c == 'b' || c == 'B') && p.i+1 < len(p.s) && (p.s[p.i+1] == '\'' || p.s[p.i+1] == '"'):
		p.i++
		return p.str()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, w := range pyWords {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.value, nil
		}
	}
	return nil, fmt.Errorf("%w: unexpected %q", errPy, p.rest())
}

// dict reads {k: v, ...} and also a set {v, ...} (as a list).
func (p *pyParser) dict(depth int) (any, error) {
	p.i++ // {
	out := map[string]any{}
	var set []any
	for first := true; ; first = false {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			if set != nil {
				return set, nil
			}
			return out, nil
		}
		if !first {
			if p.i >= len(p.s) || p.s[p.i] != ',' {
				return nil, fmt.Errorf("%w: expected , or } at offset %d", errPy, p.i)
			}
			p.i++
			p.space()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				continue
			}
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ':' && set == nil {
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out[keyString(k)] = v
			continue
		}
		if len(out) > 0 {
			return nil, fmt.Errorf("%w: expected : at offset %d", errPy, p.i)
		}
		set = append(set, k)
	}
}

// keyString writes a dict key as JSON would (json.dumps turns 1 into "1").
func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(k)
}

// seq reads a list or a tuple, which JSON both writes as an array.
func (p *pyParser) seq(depth int, end byte) (any, error) {
	p.i++
	out := []any{}
	for first := true; ; first = false {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		if !first {
			if p.i >= len(p.s) || p.s[p.i] != ',' {
				return nil, fmt.Errorf("%w: expected , at offset %d", errPy, p.i)
			}
			p.i++
			p.space()
			if p.i < len(p.s) && p.s[p.i] == end {
				continue
			}
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// str reads a quoted string with Python's escapes.
func (p *pyParser) str() (any, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\n':
			return nil, fmt.Errorf("%w: line break in a string", errPy)
		case c == '\\' && p.i+1 < len(p.s):
			if err := p.escape(&b); err != nil {
				return nil, err
			}
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += n
		}
	}
	return nil, fmt.Errorf("%w: unterminated string", errPy)
}

func (p *pyParser) escape(b *strings.Builder) error {
	e := p.s[p.i+1]
	p.i += 2
	simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': "\\", '\'': "'", '"': "\"", '0': "\x00", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
	if s, ok := simple[e]; ok {
		b.WriteString(s)
		return nil
	}
	width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
	if width == 0 || p.i+width > len(p.s) {
		b.WriteByte('\\')
		b.WriteByte(e)
		return nil
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+width], 16, 32)
	if err != nil {
		return fmt.Errorf("%w: bad escape", errPy)
	}
	p.i += width
	b.WriteRune(rune(n))
	return nil
}

// number reads an int or a float (with _ separators), as a float64.
func (p *pyParser) number() (any, error) {
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("+-0123456789._eEjxXabcdefABCDEF", p.s[p.i]) >= 0 {
		p.i++
	}
	lit := strings.ReplaceAll(p.s[start:p.i], "_", "")
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		return f, nil
	}
	if n, err := strconv.ParseInt(lit, 0, 64); err == nil {
		return float64(n), nil
	}
	return nil, fmt.Errorf("%w: bad number %q", errPy, lit)
}
