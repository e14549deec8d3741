package overrides

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/netgrade/netgrade/internal/suggest"
)

// Error is one mistake in an overrides file, at a line and column.
type Error struct {
	File   string
	Line   int
	Column int
	// Msg says what is wrong and what is allowed.
	Msg string
	// Source is the line of the file the mistake is on.
	Source string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	if e.Source != "" {
		s += "\n    " + e.Source + "\n    " + strings.Repeat(" ", max(0, e.Column-1)) + "^"
	}
	return s
}

// Errors are all the mistakes found in an overrides file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// entryKeys are the keys of one override.
var entryKeys = []string{"check", "exercise", "set", "add", "comment", "by", "at", "verdict"}

// dateLayouts are the forms `at` may take.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// example is the shape of a file, for messages.
const example = "a mapping of student IDs, each to a list of overrides such as `- {check: udp-server/log-format, set: 2, comment: ..., by: ..., at: 2026-12-01}`"

type parseState struct {
	file  string
	lines []string
	errs  Errors
	cat   Catalog
}

func (p *parseState) errorf(n ast.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			line, col = tk.Position.Line, tk.Position.Column
		}
	}
	p.errAt(line, col, fmt.Sprintf(format, args...))
}

func (p *parseState) errAt(line, col int, msg string) {
	e := &Error{File: p.file, Line: line, Column: col, Msg: msg}
	if line >= 1 && line <= len(p.lines) {
		e.Source = strings.TrimRight(p.lines[line-1], "\r")
	}
	p.errs = append(p.errs, e)
}

// Parse parses an overrides file named name (for messages) against the
// course's catalog: every exercise and check it names must be the
// course's, and a points value it sets must be within what the target is
// worth. An empty file holds no override.
func Parse(name string, data []byte, cat Catalog) (*File, error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	p := &parseState{file: name, lines: strings.Split(string(data), "\n"), cat: cat}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var ye interface {
			GetToken() *token.Token
			GetMessage() string
		}
		if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
			pos := ye.GetToken().Position
			p.errAt(pos.Line, pos.Column, "this is not valid YAML: "+ye.GetMessage())
			return nil, p.errs
		}
		return nil, fmt.Errorf("%s: this is not valid YAML: %w", name, err)
	}
	out := &File{Source: name}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return out, nil
	}
	if len(f.Docs) > 1 {
		p.errAt(1, 1, "an overrides file holds one YAML document: "+example)
		return nil, p.errs
	}
	body := unwrap(f.Docs[0].Body)
	if _, ok := body.(*ast.NullNode); ok {
		return out, nil
	}
	seen := map[string]*Override{}
	for _, mv := range p.mapping(body, "the overrides file") {
		student := scalarText(mv.Key)
		if student == "" {
			p.errorf(mv.Key, "a student ID cannot be empty")
			continue
		}
		list, ok := unwrap(mv.Value).(*ast.SequenceNode)
		if !ok {
			p.errorf(valueOr(mv), "the overrides of %s must be a list (`- check: ...`), not %s", student, kind(mv.Value))
			continue
		}
		for _, item := range list.Values {
			o, ok := p.entry(item, student)
			if !ok {
				continue
			}
			k := o.Student + "\x00" + o.Exercise + "\x00" + o.Check
			if prev, dup := seen[k]; dup {
				p.errAt(o.Line, o.Column, fmt.Sprintf("%s is overridden twice (also at line %d): keep one override per check or exercise", o.Target(), prev.Line))
				continue
			}
			out.Overrides = append(out.Overrides, o)
			seen[k] = &out.Overrides[len(out.Overrides)-1]
		}
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			if p.errs[i].Line != p.errs[j].Line {
				return p.errs[i].Line < p.errs[j].Line
			}
			return p.errs[i].Column < p.errs[j].Column
		})
		return nil, p.errs
	}
	return out, nil
}

// entry parses one override of a student.
func (p *parseState) entry(n ast.Node, student string) (Override, bool) {
	o := Override{Student: student}
	what := "an override of " + student
	values := p.mapping(n, what)
	if len(values) == 0 {
		if values != nil {
			p.errorf(n, "%s is empty: give check or exercise, set or add, comment, by and at", what)
		}
		return o, false
	}
	// The override starts at its first key (the mapping's own token is
	// its first colon).
	n = values[0].Key
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		o.Line, o.Column = tk.Position.Line, tk.Position.Column
	}
	m := map[string]*ast.MappingValueNode{}
	before := len(p.errs)
	for _, mv := range values {
		k := scalarText(mv.Key)
		if !slices.Contains(entryKeys, k) {
			p.errorf(mv.Key, "unknown key %q in %s%s; allowed: %s", k, what, suggest.DidYouMean(k, entryKeys), strings.Join(entryKeys, ", "))
			continue
		}
		if _, dup := m[k]; dup {
			p.errorf(mv.Key, "%q is given twice in %s", k, what)
			continue
		}
		m[k] = mv
	}
	if len(p.errs) > before {
		return o, false
	}
	check, exercise := m["check"], m["exercise"]
	switch {
	case check != nil:
		o.Check = p.str(check, "check")
		if exercise != nil {
			// The check's short ID under its exercise, as a course file
			// names it.
			ex := p.str(exercise, "exercise")
			if t, ok := p.cat[o.Check]; ok && t.Check != "" && t.Exercise != ex {
				p.errorf(valueOr(check), "%s is a check of %s, not of exercise %s", o.Check, t.Exercise, ex)
				return o, false
			}
			if !strings.HasPrefix(o.Check, ex+"/") {
				o.Check = ex + "/" + o.Check
			}
		}
		t, ok := p.cat[o.Check]
		if !ok || t.Check == "" {
			p.errorf(valueOr(check), "%s", p.unknown("check", o.Check, true))
			return o, false
		}
		o.Exercise = t.Exercise
	case exercise != nil:
		o.Exercise = p.str(exercise, "exercise")
		t, ok := p.cat[o.Exercise]
		if !ok || t.Check != "" {
			p.errorf(valueOr(exercise), "%s", p.unknown("exercise", o.Exercise, false))
			return o, false
		}
	default:
		p.errorf(n, "%s names no check and no exercise: give `check: ID` or `exercise: ID`", what)
		return o, false
	}
	target := p.cat[o.Exercise]
	if o.Check != "" {
		target = p.cat[o.Check]
	}
	set, add := m["set"], m["add"]
	switch {
	case set != nil && add != nil:
		p.errorf(add.Key, "%s gives both set and add: give one (set replaces the points, add adds to them)", what)
	case set != nil:
		if v, ok := p.number(set, "set"); ok {
			if v < 0 || v > target.Max {
				p.errorf(valueOr(set), "set must be between 0 and the %s points %s is worth, not %s (use add for a bonus)", num(target.Max), orExercise(o), num(v))
			} else {
				o.Set = &v
			}
		}
	case add != nil:
		if v, ok := p.number(add, "add"); ok {
			o.Add = &v
		}
	default:
		p.errorf(n, "%s says neither set nor add: give `set: POINTS` to replace the points or `add: POINTS` to add to them (below 0 to take some off)", what)
	}
	for _, req := range []struct {
		key string
		dst *string
	}{{"comment", &o.Comment}, {"by", &o.By}} {
		mv := m[req.key]
		if mv == nil {
			p.errorf(n, "%s has no %s: every override says why (comment), who wrote it (by) and when (at)", what, req.key)
			continue
		}
		if *req.dst = strings.TrimSpace(p.str(mv, req.key)); *req.dst == "" && mv.Value != nil {
			p.errorf(valueOr(mv), "%s cannot be empty", req.key)
		}
	}
	if at := m["at"]; at == nil {
		p.errorf(n, "%s has no at: every override says when it was written, such as `at: 2026-12-01`", what)
	} else {
		o.At = p.date(at)
	}
	if v := m["verdict"]; v != nil {
		o.Verdict = p.str(v, "verdict")
	}
	return o, len(p.errs) == before
}

// unknown says that an exercise or check is not the course's, with the
// closest one it has.
func (p *parseState) unknown(what, id string, check bool) string {
	var ids []string
	for k, t := range p.cat {
		if (t.Check != "") == check {
			ids = append(ids, k)
		}
	}
	sort.Strings(ids)
	msg := fmt.Sprintf("the course has no %s %q", what, id)
	if s, ok := suggest.Closest(id, ids); ok {
		return msg + fmt.Sprintf(": did you mean %q?", s)
	}
	if !check {
		return msg + "; its exercises: " + strings.Join(ids, ", ")
	}
	return msg + " (give its full ID, EXERCISE/CHECK, as the reports show it, or exercise: EXERCISE with check: CHECK)"
}

// orExercise names the target of an override for messages.
func orExercise(o Override) string {
	if o.Check != "" {
		return o.Check
	}
	return "exercise " + o.Exercise
}

// mapping returns the key/value pairs of a mapping node, recording an
// error when n is none.
func (p *parseState) mapping(n ast.Node, what string) []*ast.MappingValueNode {
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			if mv.Key.IsMergeKey() {
				p.errorf(mv.Key, "%s: merge keys (<<) are not supported in an overrides file; write the keys out", what)
				return nil
			}
		}
		if v.Values == nil {
			return []*ast.MappingValueNode{} // {}: a mapping, empty
		}
		return v.Values
	case *ast.MappingValueNode:
		if v.Key.IsMergeKey() {
			p.errorf(v.Key, "%s: merge keys (<<) are not supported in an overrides file; write the keys out", what)
			return nil
		}
		return []*ast.MappingValueNode{v}
	case *ast.AliasNode:
		p.errorf(n, "%s: aliases (*name) are not supported in an overrides file; write the value out", what)
	default:
		if what == "the overrides file" {
			p.errorf(n, "the overrides file must be %s, not %s", example, kind(n))
		} else {
			p.errorf(n, "%s must be a mapping with the keys %s, not %s", what, strings.Join(entryKeys, ", "), kind(n))
		}
	}
	return nil
}

// valueOr returns a pair's value node, or its key when it has no value.
func valueOr(mv *ast.MappingValueNode) ast.Node {
	if mv.Value == nil {
		return mv.Key
	}
	if _, ok := mv.Value.(*ast.NullNode); ok && mv.Value.GetToken() == nil {
		return mv.Key
	}
	return mv.Value
}

func (p *parseState) str(mv *ast.MappingValueNode, what string) string {
	switch v := unwrap(mv.Value).(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		return v.Value.Value
	case *ast.IntegerNode, *ast.FloatNode:
		return v.String()
	}
	p.errorf(valueOr(mv), "%s must be a string, not %s", what, kind(mv.Value))
	return ""
}

func (p *parseState) number(mv *ast.MappingValueNode, what string) (float64, bool) {
	switch v := unwrap(mv.Value).(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return float64(i), true
		case uint64:
			return float64(i), true
		}
	case *ast.FloatNode:
		if !math.IsNaN(v.Value) && !math.IsInf(v.Value, 0) {
			return v.Value, true
		}
	}
	p.errorf(valueOr(mv), "%s must be a number of points, not %s", what, kind(mv.Value))
	return 0, false
}

// date parses `at`: a date, a date and time, or an RFC 3339 time (UTC
// unless it says otherwise).
func (p *parseState) date(mv *ast.MappingValueNode) time.Time {
	s := strings.TrimSpace(scalarText(mv.Value))
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	p.errorf(valueOr(mv), "at must be a date such as 2026-12-01 or 2026-12-01 14:30, not %q", s)
	return time.Time{}
}

// unwrap removes tags and anchors around a node.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

func scalarText(n ast.Node) string {
	switch v := unwrap(n).(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		return v.Value.Value
	case nil:
		return ""
	default:
		return v.String()
	}
}

// kind names a node's type for messages.
func kind(n ast.Node) string {
	switch unwrap(n).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "true/false"
	case *ast.NullNode, nil:
		return "nothing"
	default:
		return "something else"
	}
}

// num formats points without trailing zeros.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
