package coursefile

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/suggest"
)

// Error is one mistake in a course file, at a line and column.
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

// Errors are all the mistakes found in a course file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Allowed values and keys, for messages.
var (
	topKeys      = []string{"name", "python", "run", "timeouts", "interop", "exercises", "similarity"}
	interopKeys  = []string{"points", "min_partners"}
	runKeys      = []string{"command", "direct_when_executable", "race_hook"}
	timeoutKeys  = []string{"scale"}
	exerciseKeys = []string{"id", "file", "run", "texts", "visibility", "checks"}
	checkKeys    = []string{"points", "enabled", "visibility", "timeout"}
)

// parseState collects errors while walking the document.
type parseState struct {
	file  string
	lines []string
	errs  Errors
	reg   *graders.Registry
	// courseRun is the course's Run, the base of an exercise's own.
	courseRun Run
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

// lineFeeds turns CR LF and lone CR line ends into LF, as YAML reads
// them (YAML 1.2, 5.4), before the file is parsed: the parser's line
// numbers then index the lines an error shows (it counted a lone CR as a
// line end, and a CR LF inside a quoted string as two).
func lineFeeds(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
}

// Parse parses a course file named name (for messages) against the
// exercises of reg. Exercise IDs must be exercises of reg.
func Parse(name string, data []byte, reg *graders.Registry) (*Course, error) {
	data = lineFeeds(data)
	p := &parseState{file: name, lines: strings.Split(string(data), "\n"), reg: reg}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var ye interface {
			GetToken() *token.Token
			GetMessage() string
		}
		if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
			pos := ye.GetToken().Position
			if l, c, open, ok := unclosedFlow(p.lines, pos.Line, pos.Column); ok && l < pos.Line {
				// The parser notices a [ or { left open only where the
				// next entry starts: point at the bracket itself.
				p.errAt(l, c, fmt.Sprintf("this is not valid YAML: this %c is never closed (the YAML parser stopped at line %d: %s)", open, pos.Line, ye.GetMessage()))
				return nil, p.errs
			}
			p.errAt(pos.Line, pos.Column, "this is not valid YAML: "+ye.GetMessage())
			return nil, p.errs
		}
		return nil, fmt.Errorf("%s: this is not valid YAML: %w", name, err)
	}
	c := &Course{Source: name, TimeoutScale: 1, Run: Run{Command: []string{"python3", "{file}", "{args}"}, DirectWhenExecutable: true, RaceHook: true}}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		p.errAt(1, 1, "a course file holds one YAML document, a mapping with the keys "+strings.Join(topKeys, ", "))
		return nil, p.errs
	}
	top := p.mapping(f.Docs[0].Body, "the course", topKeys)
	if top == nil {
		return nil, p.errs
	}
	if n, ok := top["name"]; ok {
		c.Name = p.str(n, "name")
	}
	if n, ok := top["run"]; ok {
		if r := p.run(n, c.Run); r != nil {
			c.Run = *r
		}
	}
	p.courseRun = c.Run
	var python string
	if n, ok := top["python"]; ok {
		python = p.str(n, "python")
		if python != "" && strings.ContainsAny(python, " \t") {
			p.errorf(n, "python is one interpreter path, such as /usr/bin/python3, without spaces or arguments (put arguments in run.command); not %q", python)
			python = ""
		}
	}
	if n, ok := top["timeouts"]; ok {
		if m := p.mapping(n, "timeouts", timeoutKeys); m != nil {
			if s, ok := m["scale"]; ok {
				if v, ok := p.number(s, "timeouts.scale"); ok {
					if v <= 0 || v > 100 {
						p.errorf(s, "timeouts.scale must be a number above 0 and at most 100 (1 keeps netgrade's deadlines), not %v", v)
					} else {
						c.TimeoutScale = v
					}
				}
			}
		}
	}
	if n, ok := top["similarity"]; ok {
		c.Similarity = p.similarity(n, name)
	}
	if n, ok := top["interop"]; ok {
		c.Interop = p.interop(n)
	}
	n, ok := top["exercises"]
	if !ok {
		p.errorf(f.Docs[0].Body, "the course lists no exercises: add `exercises:`, a list of `- id: EXERCISE` with `file: NAME`")
	} else {
		c.Exercises = p.exercises(n)
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
	c.SetPython(python)
	return c, nil
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

// mapping checks that n is a mapping whose keys are among allowed and
// returns its values by key; on error it records it and returns nil.
func (p *parseState) mapping(n ast.Node, what string, allowed []string) map[string]ast.Node {
	var values []*ast.MappingValueNode
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		values = v.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{v}
	case *ast.AliasNode:
		p.errorf(n, "%s: aliases (*name) are not supported in a course file; write the value out", what)
		return nil
	default:
		if allowed == nil {
			p.errorf(n, "%s must be a mapping, not %s", what, kind(n))
		} else {
			p.errorf(n, "%s must be a mapping with the keys %s, not %s", what, strings.Join(allowed, ", "), kind(n))
		}
		return nil
	}
	out := map[string]ast.Node{}
	for _, mv := range values {
		if mv.Key.IsMergeKey() {
			p.errorf(mv.Key, "%s: merge keys (<<) are not supported in a course file; write the keys out", what)
			continue
		}
		k := scalarText(mv.Key)
		if allowed != nil && !slices.Contains(allowed, k) {
			p.errorf(mv.Key, "unknown key %q in %s; allowed: %s", k, what, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k]; dup {
			p.errorf(mv.Key, "%q is given twice in %s", k, what)
			continue
		}
		out[k] = mv.Value
		if mv.Value == nil {
			out[k] = &ast.NullNode{BaseNode: &ast.BaseNode{}, Token: mv.Key.GetToken()}
		}
	}
	return out
}

// keyed returns the keys of a mapping node with their key nodes, in
// file order, without checking them against a list.
func keyed(n ast.Node) []*ast.MappingValueNode {
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		return v.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}
	}
	return nil
}

func (p *parseState) str(n ast.Node, what string) string {
	switch v := unwrap(n).(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		return v.Value.Value
	}
	p.errorf(n, "%s must be a string, not %s", what, kind(n))
	return ""
}

func (p *parseState) number(n ast.Node, what string) (float64, bool) {
	switch v := unwrap(n).(type) {
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
	p.errorf(n, "%s must be a number, not %s", what, kind(n))
	return 0, false
}

func (p *parseState) boolean(n ast.Node, what string) (bool, bool) {
	if v, ok := unwrap(n).(*ast.BoolNode); ok {
		return v.Value, true
	}
	p.errorf(n, "%s must be true or false, not %s", what, kind(n))
	return false, false
}

func (p *parseState) duration(n ast.Node, what string) time.Duration {
	s, ok := unwrap(n).(*ast.StringNode)
	if !ok {
		p.errorf(n, "%s must be a duration such as 20s or 1m30s, not %s", what, kind(n))
		return 0
	}
	d, err := time.ParseDuration(s.Value)
	if err != nil || d <= 0 || d > time.Hour {
		p.errorf(n, "%s must be a duration above 0 and at most 1h, such as 20s or 1m30s, not %q", what, s.Value)
		return 0
	}
	return d
}

func (p *parseState) visibility(n ast.Node, what string) report.Visibility {
	s := scalarText(n)
	for _, v := range report.Visibilities {
		if s == string(v) {
			return v
		}
	}
	names := make([]string, len(report.Visibilities))
	for i, v := range report.Visibilities {
		names[i] = string(v)
	}
	p.errorf(n, "%s must be one of %s, not %q", what, strings.Join(names, ", "), s)
	return ""
}

func (p *parseState) run(n ast.Node, base Run) *Run {
	m := p.mapping(n, "run", runKeys)
	if m == nil {
		return nil
	}
	r := base
	if v, ok := m["command"]; ok {
		if _, isString := unwrap(v).(*ast.StringNode); !isString {
			p.errorf(v, "run.command must be a string such as python3 {file} {args}, not %s", kind(v))
		} else if cmd := p.command(v); cmd != nil {
			r.Command = cmd
		}
	}
	if v, ok := m["direct_when_executable"]; ok {
		if b, ok := p.boolean(v, "run.direct_when_executable"); ok {
			r.DirectWhenExecutable = b
		}
	}
	if v, ok := m["race_hook"]; ok {
		if b, ok := p.boolean(v, "run.race_hook"); ok {
			r.RaceHook = b
		}
	}
	return &r
}

// command reads a command template: words split at spaces, holding {file}.
func (p *parseState) command(v ast.Node) []string {
	cmd := strings.Fields(scalarText(v))
	if !slices.ContainsFunc(cmd, func(s string) bool { return strings.Contains(s, "{file}") }) {
		p.errorf(v, "run.command must hold {file}, where the submission file goes: e.g. python3 {file} {args}")
		return nil
	}
	ok := true
	for _, tok := range cmd {
		for _, ph := range placeholders(tok) {
			if !slices.Contains([]string{"file", "args", "port", "host", "message"}, ph) {
				p.errorf(v, "run.command: unknown placeholder {%s}; allowed: {file}, {args}, {port}, {host}, {message}", ph)
				ok = false
			}
		}
	}
	if !ok {
		return nil
	}
	return cmd
}

func (p *parseState) exercises(n ast.Node) []*Entry {
	seq, ok := unwrap(n).(*ast.SequenceNode)
	if !ok {
		p.errorf(n, "exercises must be a list of `- id: EXERCISE` entries, not %s", kind(n))
		return nil
	}
	var out []*Entry
	files := map[string]bool{}
	for _, item := range seq.Values {
		e := p.exercise(item)
		if e == nil {
			continue
		}
		if slices.ContainsFunc(out, func(o *Entry) bool { return o.ID == e.ID }) {
			p.errorf(item, "exercise %q is listed twice", e.ID)
			continue
		}
		if dup := slices.IndexFunc(e.Files, func(f string) bool { return files[f] }); dup >= 0 {
			p.errorf(item, "file %q is given to two exercises", e.Files[dup])
			continue
		}
		for _, f := range e.Files {
			files[f] = true
		}
		out = append(out, e)
	}
	if len(out) == 0 && len(p.errs) == 0 {
		p.errorf(n, "the course lists no exercises")
	}
	return out
}

func (p *parseState) knownIDs() []string {
	var ids []string
	for _, e := range p.reg.Exercises() {
		ids = append(ids, e.ID)
	}
	return ids
}

func (p *parseState) exercise(n ast.Node) *Entry {
	m := p.mapping(n, "an exercise", exerciseKeys)
	if m == nil {
		return nil
	}
	idNode, ok := m["id"]
	if !ok {
		p.errorf(n, "this exercise has no id: add `id: EXERCISE`, one of %s", strings.Join(p.knownIDs(), ", "))
		return nil
	}
	e := &Entry{ID: p.str(idNode, "id"), Checks: map[string]graders.CheckSettings{}}
	if e.ID == "" {
		return nil
	}
	g, err := p.reg.Get(e.ID)
	if err != nil {
		p.errorf(idNode, "unknown exercise %q%s; known exercises: %s", e.ID, suggest.DidYouMean(e.ID, p.knownIDs()), strings.Join(p.knownIDs(), ", "))
		return nil
	}
	e.Grader = g
	if f, ok := m["file"]; ok {
		e.Files = p.files(f)
		if len(e.Files) > 0 {
			e.File = e.Files[0]
		}
	} else {
		p.errorf(idNode, "exercise %s has no file: add `file: NAME`, the file of a student's folder that holds it (e.g. %s.py), or a list of names and patterns such as [%s.py, \"*%s*.py\"]", e.ID, e.ID, e.ID, e.ID)
	}
	if r, ok := m["run"]; ok {
		e.Run = p.run(r, p.courseRun)
	}
	if t, ok := m["texts"]; ok {
		e.Texts = p.texts(t, e)
	}
	var defVis report.Visibility
	if v, ok := m["visibility"]; ok {
		defVis = p.visibility(v, "visibility")
	}
	if cs, ok := m["checks"]; ok {
		p.checks(cs, e)
	}
	if defVis != "" {
		for _, c := range e.Grader.Checks {
			s := e.Checks[c.ID]
			if s.Visibility == "" {
				s.Visibility = defVis
				e.Checks[c.ID] = s
			}
		}
	}
	return e
}

// files reads an exercise's file: one name, or a list of names and glob
// patterns, each a path inside the student's folder.
func (p *parseState) files(n ast.Node) []string {
	var items []ast.Node
	if seq, ok := unwrap(n).(*ast.SequenceNode); ok {
		items = seq.Values
		if len(items) == 0 {
			p.errorf(n, "file must name at least one file: a name such as udp-server.py, or a list such as [udp-server.py, \"*udp*server*.py\"]")
			return nil
		}
	} else {
		items = []ast.Node{n}
	}
	var out []string
	for _, it := range items {
		if _, ok := unwrap(it).(*ast.StringNode); !ok {
			p.errorf(it, "file must be a name or glob pattern (a string), or a list of them; not %s", kind(it))
			continue
		}
		f := scalarText(it)
		switch {
		case f == "":
			p.errorf(it, "file must not be empty: give a name such as udp-server.py or a pattern such as \"*udp*.py\"")
			continue
		case path.IsAbs(f) || strings.HasPrefix(path.Clean(f), "..") || strings.Contains(f, "\\"):
			p.errorf(it, "file must be a path inside the student's folder, with / between folders, such as udp-server.py; not %q", f)
			continue
		}
		if _, err := path.Match(f, ""); err != nil {
			p.errorf(it, "file %q is not a valid glob pattern: * matches any run of characters but /, ? one character, [abc] one of a set; a [ must be closed (%v)", f, err)
			continue
		}
		if slices.Contains(out, f) {
			p.errorf(it, "file %q is given twice", f)
			continue
		}
		out = append(out, f)
	}
	return out
}

func (p *parseState) texts(n ast.Node, e *Entry) map[string]string {
	var allowed []string
	for k := range e.Grader.Texts {
		allowed = append(allowed, k)
	}
	sort.Strings(allowed)
	if len(allowed) == 0 {
		p.errorf(n, "exercise %s has no texts a course can set", e.ID)
		return nil
	}
	m := p.mapping(n, "texts of "+e.ID, allowed)
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for _, kv := range keyed(n) {
		k := scalarText(kv.Key)
		v, ok := m[k]
		if !ok {
			continue
		}
		s := p.str(v, "texts."+k)
		if s == "" {
			continue
		}
		if isPattern(k) {
			if _, err := regexp.Compile(s); err != nil {
				p.errorf(v, "texts.%s is not a valid regular expression (Go RE2 syntax): %v", k, err)
				continue
			}
		}
		if e.Grader != nil {
			if rule := e.Grader.TextRules[k]; rule != nil {
				if err := rule(s); err != nil {
					p.errorf(v, "texts.%s: %v", k, err)
					continue
				}
			}
			want := placeholders(e.Grader.Texts[k])
			for _, ph := range placeholders(s) {
				if !slices.Contains(want, ph) {
					allowedPh := "none"
					if len(want) > 0 {
						allowedPh = "{" + strings.Join(want, "}, {") + "}"
					}
					p.errorf(v, "texts.%s: unknown placeholder {%s}; allowed: %s", k, ph, allowedPh)
				}
			}
		}
		out[k] = s
	}
	return out
}

func (p *parseState) checks(n ast.Node, e *Entry) {
	var allowed []string
	if e.Grader != nil {
		for _, c := range e.Grader.Checks {
			allowed = append(allowed, strings.TrimPrefix(c.ID, e.ID+"/"))
		}
	}
	if p.mapping(n, "checks of "+e.ID, nil) == nil {
		return
	}
	for _, kv := range keyed(n) {
		k := scalarText(kv.Key)
		id := k
		if !strings.Contains(id, "/") {
			id = e.ID + "/" + k
		}
		if e.Grader.Check(id) == nil {
			p.errorf(kv.Key, "unknown check %q of exercise %s; its checks: %s", k, e.ID, strings.Join(allowed, ", "))
			continue
		}
		if !strings.HasPrefix(id, e.ID+"/") {
			p.errorf(kv.Key, "check %q is not a check of exercise %s", k, e.ID)
			continue
		}
		if _, dup := e.Checks[id]; dup {
			p.errorf(kv.Key, "check %q is given twice", k)
			continue
		}
		m := p.mapping(kv.Value, "check "+k, checkKeys)
		if m == nil {
			continue
		}
		var s graders.CheckSettings
		if v, ok := m["points"]; ok {
			if f, ok := p.number(v, "points"); ok {
				if f < 0 || f > 1000 {
					p.errorf(v, "points must be between 0 and 1000, not %v", f)
				} else {
					s.Points = &f
				}
			}
		}
		if v, ok := m["enabled"]; ok {
			if b, ok := p.boolean(v, "enabled"); ok {
				s.Disabled = !b
			}
		}
		if v, ok := m["visibility"]; ok {
			s.Visibility = p.visibility(v, "visibility")
		}
		if v, ok := m["timeout"]; ok {
			s.Timeout = p.duration(v, "timeout")
		}
		e.Checks[id] = s
	}
}

// unclosedFlow returns where the innermost flow collection ([ or {) still
// open at line:col (1-based) was opened, reading lines as YAML does:
// brackets inside quoted strings and comments do not count.
func unclosedFlow(lines []string, line, col int) (int, int, byte, bool) {
	type open struct {
		line, col int
		ch        byte
	}
	var stack []open
	for i := 0; i < len(lines) && i < line; i++ {
		l := lines[i]
		end := len(l)
		if i == line-1 {
			end = min(end, max(col-1, 0))
		}
		var quote byte
		for j := 0; j < end; j++ {
			ch := l[j]
			switch {
			case quote != 0:
				if ch == quote {
					if quote == '\'' && j+1 < len(l) && l[j+1] == '\'' {
						j++ // '' is a quote inside a single-quoted string
						continue
					}
					quote = 0
				} else if ch == '\\' && quote == '"' {
					j++
				}
			case ch == '#' && (j == 0 || l[j-1] == ' ' || l[j-1] == '\t'):
				j = end // a comment runs to the end of the line
			case ch == '\'' || ch == '"':
				quote = ch
			case ch == '[' || ch == '{':
				stack = append(stack, open{i + 1, j + 1, ch})
			case ch == ']' || ch == '}':
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			}
		}
	}
	if len(stack) == 0 {
		return 0, 0, 0, false
	}
	top := stack[len(stack)-1]
	return top.line, top.col, top.ch, true
}

// interop reads the course's `interop:` setting, which turns the class
// interop matrix into points (netgrade interop; off without it).
func (p *parseState) interop(n ast.Node) *Interop {
	m := p.mapping(n, "interop", interopKeys)
	if m == nil {
		return nil
	}
	in := &Interop{MinPartners: 3}
	pts, ok := m["points"]
	if !ok {
		p.errorf(n, "interop needs `points:`, the most a student gets per pair of exercises (e.g. interop: {points: 2, min_partners: 3})")
		return nil
	}
	if v, ok := p.number(pts, "interop.points"); ok {
		if v <= 0 || v > 1000 {
			p.errorf(pts, "interop.points must be a number above 0 (the most a student gets per pair of exercises), not %v", v)
		}
		in.Points = v
	}
	if mp, ok := m["min_partners"]; ok {
		if v, ok := p.number(mp, "interop.min_partners"); ok {
			if v < 0 || v != float64(int(v)) {
				p.errorf(mp, "interop.min_partners must be a whole number of classmates, 0 or more, not %v", v)
			}
			in.MinPartners = int(v)
		}
	}
	return in
}
