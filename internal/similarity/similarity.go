// Package similarity finds, across a class, the students who handed in the
// same program: each exercise's files are turned into tokens (Python's own
// tokenizer for Python, normalised text for anything else), fingerprinted
// by winnowing k-grams as MOSS and Dolos do, stripped of the course's base
// code and of what most of the class shares, and compared through an
// index of fingerprints (never file by file). Beside the text, each
// program's observed behaviour is a second witness: two programs that fail
// the same checks with the same rare output. What it finds is a lead for a
// human to read, never a verdict: nothing of it changes a grade or reaches
// a student's report.
package similarity

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// DefaultThreshold is the similarity above which a pair is shown when the
// course sets none: half of the two files' own code (base code left out)
// in fragments the other file holds too. In the test class, programs of
// one exercise written apart share at most a fifth; a copy with its names
// changed shares all of it, one with its functions reordered and comments
// changed 0.98, and two programs built on the same undeclared slides'
// example 0.75 (under 0.1 once it is declared).
const DefaultThreshold = 0.5

// Common fingerprints: one held by more than CommonShare of an
// exercise's files, and by at least commonMin, is discounted as MOSS's -m
// does (the course's own idiom, the slides' example nobody declared).
const (
	CommonShare = 0.5
	commonMin   = 3
)

// maxSource is the most of a file compared: a student's program is a few
// KiB; a huge file is not one, and would only slow the class down.
const maxSource = 256 << 10

// tokenizeTimeout bounds the one Python run that tokenizes a class.
const tokenizeTimeout = 5 * time.Minute

// File is one student's file of one exercise.
type File struct {
	// Student is the student's ID.
	Student string
	// Name is the file as the student named it (for the reader).
	Name string
	// Path is where to read it.
	Path string
	// Result is the file's grading (nil: none), for the behaviour witness.
	Result *report.Result
}

// ExerciseFiles is the files of one exercise, one per student who handed it in.
type ExerciseFiles struct {
	ID    string
	Files []File
}

// Options configure an analysis.
type Options struct {
	// Python is the interpreter whose tokenize module reads .py files
	// (the course's; "python3" when empty).
	Python string
	// Base are files of code every student was given (the slides'
	// examples, a template, a published reference): their k-grams are
	// removed from every file before comparing.
	Base []string
	// Threshold is the similarity above which a pair is shown
	// (DefaultThreshold when 0).
	Threshold float64
}

// Report is what an analysis found.
type Report struct {
	// K is the k-gram length and Window the winnowing window, in tokens.
	K      int `json:"k"`
	Window int `json:"window"`
	// Threshold is the similarity above which a pair is shown.
	Threshold float64 `json:"threshold"`
	// Page is the analysis's page, in the batch's output folder.
	Page string `json:"page"`
	// Note says what the analysis is: a lead, never a verdict.
	Note string `json:"note"`
	// Base names the base code files removed.
	Base      []string         `json:"base,omitempty"`
	Exercises []ExerciseReport `json:"exercises"`
}

// ExerciseReport is what an analysis found in one exercise.
type ExerciseReport struct {
	Exercise string `json:"exercise"`
	// Files counts the files compared.
	Files int `json:"files"`
	// AsText counts the .py files Python's tokenizer refused, compared as
	// text.
	AsText int `json:"compared_as_text,omitempty"`
	// Common counts the fingerprints discounted as shared by most files.
	Common int `json:"common_fingerprints"`
	// Compared counts the pairs of files compared: those sharing a
	// fingerprint or a rare output, of the n(n-1)/2 possible.
	Compared int `json:"pairs_compared"`
	// Pairs are the pairs shown, most similar first: above the threshold,
	// or with the same rare output.
	Pairs []Pair `json:"pairs"`
	files []source
}

// PairCount counts the pairs shown, over every exercise.
func (r *Report) PairCount() int {
	n := 0
	for _, e := range r.Exercises {
		n += len(e.Pairs)
	}
	return n
}

// Pair is two students' files of one exercise, with what they share.
type Pair struct {
	A     string `json:"student_a"`
	FileA string `json:"file_a"`
	B     string `json:"student_b"`
	FileB string `json:"file_b"`
	// Similarity is the share of the two files' own tokens (base code
	// left out) in fragments the other file holds too; ShareA and ShareB
	// are each file's own.
	Similarity float64 `json:"similarity"`
	ShareA     float64 `json:"share_a"`
	ShareB     float64 `json:"share_b"`
	// Longest is the longest fragment in common, in tokens, and where it
	// is in each file (lines).
	Longest      int       `json:"longest_fragment_tokens"`
	LongestLines [2]string `json:"longest_fragment_lines"`
	// Text is true when the similarity reaches the threshold.
	Text bool `json:"text"`
	// Behaviour is the rare output both programs showed while failing the
	// same checks (empty when none).
	Behaviour []Evidence `json:"same_rare_output,omitempty"`
	// Fragments are the fragments in common, longest first.
	Fragments []Fragment `json:"-"`
	a, b      int
}

// Evidence is an output two programs showed, failing the same check, that
// few others showed.
type Evidence struct {
	Check  string `json:"check"`
	Output string `json:"output"`
	// Students counts the students whose program showed it.
	Students int `json:"students"`
}

// Fragment is a run of tokens two files share, in each of them.
type Fragment struct {
	A, B   Span
	Tokens int
}

// Span is a stretch of a source: lines from 1, columns in characters from
// 0, the end exclusive.
type Span struct {
	Line, Col, EndLine, EndCol int
}

// Lines returns the span's lines, "12-30" or "12".
func (s Span) Lines() string {
	if s.EndLine == s.Line {
		return fmt.Sprint(s.Line)
	}
	return fmt.Sprintf("%d-%d", s.Line, s.EndLine)
}

// source is one file as analysed.
type source struct {
	File
	text string
	toks []Token
	// asText says why a .py file is compared as text ("" when not).
	asText string
	// base marks the tokens inside base code; own counts the others.
	base []bool
	own  int
	// hashes are the file's k-gram hashes, by first token.
	hashes []uint64
	// common marks the tokens inside k-grams most files hold: they never
	// count as matched, though they stay in the file's size.
	common []bool
	fps    []fingerprint
	// at gives the positions of each fingerprint (built once per file).
	at map[uint64][]int
}

// Analyze compares, within each exercise, every student's file with every
// other's, and returns the pairs to show.
func Analyze(ctx context.Context, exs []ExerciseFiles, opt Options) (*Report, error) {
	if opt.Threshold <= 0 {
		opt.Threshold = DefaultThreshold
	}
	if opt.Python == "" {
		opt.Python = "python3"
	}
	rep := &Report{K: K, Window: Window, Threshold: opt.Threshold, Note: Note, Page: PageName}
	var all []*source
	for _, ex := range exs {
		er := ExerciseReport{Exercise: ex.ID}
		for _, f := range ex.Files {
			er.files = append(er.files, source{File: f})
		}
		rep.Exercises = append(rep.Exercises, er)
	}
	var base []*source
	for _, b := range opt.Base {
		base = append(base, &source{File: File{Name: filepath.Base(b), Path: b}})
		rep.Base = append(rep.Base, filepath.Base(b))
	}
	for i := range rep.Exercises {
		for j := range rep.Exercises[i].files {
			all = append(all, &rep.Exercises[i].files[j])
		}
	}
	if err := tokenizeAll(ctx, opt.Python, append(slices.Clone(base), all...)); err != nil {
		return nil, err
	}
	baseHashes := map[uint64]bool{}
	for _, b := range base {
		for _, h := range kgramHashes(b.toks, K) {
			baseHashes[h] = true
		}
	}
	for i := range rep.Exercises {
		er := &rep.Exercises[i]
		for j := range er.files {
			prepare(&er.files[j], baseHashes)
			if er.files[j].asText != "" {
				er.AsText++
			}
		}
		er.Files = len(er.files)
		er.Common = dropCommon(er.files)
		er.Pairs, er.Compared = pairs(er.files, opt.Threshold)
		slices.SortStableFunc(er.Pairs, func(x, y Pair) int {
			switch {
			case x.Similarity != y.Similarity:
				if x.Similarity > y.Similarity {
					return -1
				}
				return 1
			case x.Longest != y.Longest:
				return y.Longest - x.Longest
			case x.A != y.A:
				return strings.Compare(x.A, y.A)
			}
			return strings.Compare(x.B, y.B)
		})
	}
	return rep, nil
}

// tokenizeAll reads every file and tokenizes it: .py files with Python's
// tokenizer, all in one run; the others, and the .py files it refuses, as
// normalised text.
func tokenizeAll(ctx context.Context, python string, srcs []*source) error {
	var py []*source
	var paths []string
	for _, s := range srcs {
		data, err := os.ReadFile(s.Path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", s.Path, err)
		}
		if len(data) > maxSource {
			s.text = normaliseSource(data[:maxSource])
			s.toks = textTokens(s.text)
			s.asText = fmt.Sprintf("larger than %d KiB: its beginning compared as text", maxSource>>10)
			continue
		}
		s.text = normaliseSource(data)
		if strings.EqualFold(filepath.Ext(s.Path), ".py") {
			py = append(py, s)
			paths = append(paths, s.Path)
		} else {
			s.toks = textTokens(s.text)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, tokenizeTimeout)
	defer cancel()
	toks, whys, err := pythonTokens(ctx, python, paths)
	if err != nil {
		return err
	}
	for i, s := range py {
		if whys[i] != "" {
			s.asText = whys[i]
			s.toks = textTokens(s.text)
			continue
		}
		s.toks = toks[i]
	}
	return nil
}

// prepare marks a file's base code and winnows the rest.
func prepare(s *source, baseHashes map[uint64]bool) {
	hashes := kgramHashes(s.toks, K)
	s.hashes = hashes
	s.base = make([]bool, len(s.toks))
	for i, h := range hashes {
		if baseHashes[h] {
			for j := i; j < i+K; j++ {
				s.base[j] = true
			}
		}
	}
	for _, b := range s.base {
		if !b {
			s.own++
		}
	}
	for _, fp := range winnow(hashes, Window) {
		if !baseHashes[fp.hash] {
			s.fps = append(s.fps, fp)
		}
	}
}

// dropCommon removes the fingerprints most files hold, and returns how
// many distinct ones it removed.
func dropCommon(files []source) int {
	holders := map[uint64]int{}
	for _, f := range files {
		seen := map[uint64]bool{}
		for _, fp := range f.fps {
			if !seen[fp.hash] {
				seen[fp.hash] = true
				holders[fp.hash]++
			}
		}
	}
	common := map[uint64]bool{}
	for h, n := range holders {
		if n >= commonMin && float64(n) > CommonShare*float64(len(files)) {
			common[h] = true
		}
	}
	for i := range files {
		f := &files[i]
		f.fps = slices.DeleteFunc(f.fps, func(fp fingerprint) bool { return common[fp.hash] })
		f.common = make([]bool, len(f.toks))
		for j, h := range f.hashes {
			if common[h] {
				for k := j; k < j+K; k++ {
					f.common[k] = true
				}
			}
		}
	}
	return len(common)
}

// pairs returns the pairs of files to show: those whose similarity
// reaches the threshold and those with the same rare output. Only pairs
// that share a fingerprint are compared (an index of fingerprints, not
// every pair), and how many were compared.
func pairs(files []source, threshold float64) ([]Pair, int) {
	index := map[uint64][]int{}
	for i, f := range files {
		files[i].at = make(map[uint64][]int, len(f.fps))
		for _, fp := range f.fps {
			files[i].at[fp.hash] = append(files[i].at[fp.hash], fp.pos)
			if l := index[fp.hash]; len(l) == 0 || l[len(l)-1] != i {
				index[fp.hash] = append(l, i)
			}
		}
	}
	type key struct{ a, b int }
	cand := map[key]bool{}
	for _, l := range index {
		for x := 0; x < len(l); x++ {
			for y := x + 1; y < len(l); y++ {
				cand[key{l[x], l[y]}] = true
			}
		}
	}
	witness := behaviour(files)
	for k := range witness {
		cand[key{k[0], k[1]}] = true
	}
	var out []Pair
	for k := range cand {
		p := compare(files, k.a, k.b)
		p.Text = p.Similarity >= threshold && p.Longest > 0
		p.Behaviour = witness[[2]int{k.a, k.b}]
		if p.Text || len(p.Behaviour) > 0 {
			out = append(out, p)
		}
	}
	return out, len(cand)
}

// compare measures what two files share: their fingerprints in common,
// joined into fragments where they follow each other in both files.
func compare(files []source, a, b int) Pair {
	fa, fb := &files[a], &files[b]
	p := Pair{A: fa.Student, FileA: fa.Name, B: fb.Student, FileB: fb.Name, a: a, b: b}
	type match struct{ pa, pb int }
	var ms []match
	for _, fp := range fa.fps {
		for _, pb := range fb.at[fp.hash] {
			ms = append(ms, match{fp.pos, pb})
		}
	}
	sort.Slice(ms, func(i, j int) bool {
		di, dj := ms[i].pa-ms[i].pb, ms[j].pa-ms[j].pb
		if di != dj {
			return di < dj
		}
		return ms[i].pa < ms[j].pa
	})
	type run struct{ a0, a1, b0 int }
	var runs []run
	for i, m := range ms {
		if i > 0 && m.pa-m.pb == ms[i-1].pa-ms[i-1].pb && m.pa-ms[i-1].pa <= K {
			runs[len(runs)-1].a1 = m.pa
			continue
		}
		runs = append(runs, run{m.pa, m.pa, m.pb})
	}
	covA := make([]bool, len(fa.toks))
	covB := make([]bool, len(fb.toks))
	for _, r := range runs {
		n := r.a1 - r.a0 + K
		// Winnowing selects a k-gram in every window, not the first: the
		// run's ends are found token by token.
		for r.a0 > 0 && r.b0 > 0 && fa.toks[r.a0-1].Text == fb.toks[r.b0-1].Text {
			r.a0, r.b0, n = r.a0-1, r.b0-1, n+1
		}
		for r.a0+n < len(fa.toks) && r.b0+n < len(fb.toks) && fa.toks[r.a0+n].Text == fb.toks[r.b0+n].Text {
			n++
		}
		for i := range n {
			covA[r.a0+i] = true
			covB[r.b0+i] = true
		}
		p.Fragments = append(p.Fragments, Fragment{
			A: span(fa.toks, r.a0, r.a0+n), B: span(fb.toks, r.b0, r.b0+n), Tokens: n,
		})
	}
	slices.SortStableFunc(p.Fragments, func(x, y Fragment) int {
		if x.Tokens != y.Tokens {
			return y.Tokens - x.Tokens
		}
		return x.A.Line - y.A.Line
	})
	ca, cb := matched(covA, fa), matched(covB, fb)
	if fa.own > 0 {
		p.ShareA = float64(ca) / float64(fa.own)
	}
	if fb.own > 0 {
		p.ShareB = float64(cb) / float64(fb.own)
	}
	if fa.own+fb.own > 0 {
		p.Similarity = float64(ca+cb) / float64(fa.own+fb.own)
	}
	if len(p.Fragments) > 0 {
		f := p.Fragments[0]
		p.Longest = f.Tokens
		p.LongestLines = [2]string{f.A.Lines(), f.B.Lines()}
	}
	return p
}

// matched counts the covered tokens of a file that count: neither base
// code nor code most files hold.
func matched(cov []bool, f *source) int {
	n := 0
	for i, c := range cov {
		if c && !f.base[i] && (f.common == nil || !f.common[i]) {
			n++
		}
	}
	return n
}

// span returns where tokens [from, to) stand in the source.
func span(toks []Token, from, to int) Span {
	return Span{Line: toks[from].Line, Col: toks[from].Col, EndLine: toks[to-1].EndLine, EndCol: toks[to-1].EndCol}
}
