package similarity

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Note is what every output of the similarity analysis says of itself.
const Note = "Leads for a human to read, never verdicts: two programs can be alike because the course taught one way to write them. Nothing here changes a grade or reaches a student's report."

// PageName and CSVName are the files the analysis writes in a batch's
// output folder.
const (
	PageName = "similarity.html"
	CSVName  = "similarity.csv"
)

// palette is how many colours the fragments of a pair cycle through.
const palette = 10

//go:embed similarity.html.tmpl
var pageTemplate string

// pageTmpl is the page's template, parsed on first use: parsed at
// init, it cost every start of netgrade, the unit and pair runners of
// every sandbox included, which never write the page.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("similarity").Funcs(template.FuncMap{
		"pct": func(x float64) string { return fmt.Sprintf("%.0f%%", x*100) },
	}).Parse(pageTemplate))
})

// PageMeta is what the page says about the run.
type PageMeta struct {
	// Title heads the page (default "Similarity across the class").
	Title     string
	Version   string
	Generated time.Time
}

type pageView struct {
	Meta      PageMeta
	Note      string
	Rep       *Report
	Exercises []exView
}

type exView struct {
	ExerciseReport
	Anchor string
	Pairs  []pairView
}

type pairView struct {
	Pair
	Rank     int
	Anchor   string
	Exercise string
	ExAnchor string
	LinesA   []lineView
	LinesB   []lineView
	Shown    int
}

type lineView struct {
	No   int
	Segs []segView
}

type segView struct {
	Text string
	// Frag is the fragment the text is part of (-1: none); Colour its
	// colour class.
	Frag, Colour int
}

// WritePage writes similarity.html: per exercise, the pairs shown, most
// similar first, each opening (by its anchor, without script) a side by
// side view of the two files with each fragment they share in the same
// colour on both sides, and the rare output both programs showed. It is
// self-contained: its CSS is inline and nothing is fetched. What students
// wrote is shown as text, never as markup.
func WritePage(w io.Writer, rep *Report, meta PageMeta) error {
	if meta.Title == "" {
		meta.Title = "Similarity across the class"
	}
	if meta.Generated.IsZero() {
		meta.Generated = time.Now()
	}
	v := pageView{Meta: meta, Note: Note, Rep: rep}
	for i, er := range rep.Exercises {
		ev := exView{ExerciseReport: er, Anchor: fmt.Sprintf("ex-%d", i+1)}
		for j, p := range er.Pairs {
			pv := pairView{Pair: p, Rank: j + 1, Anchor: fmt.Sprintf("pair-%d-%d", i+1, j+1), Exercise: er.Exercise, ExAnchor: fmt.Sprintf("ex-%d", i+1)}
			var spansA, spansB []Span
			for _, f := range p.Fragments {
				spansA = append(spansA, f.A)
				spansB = append(spansB, f.B)
			}
			if p.a < len(er.files) && p.b < len(er.files) {
				pv.LinesA = paint(er.files[p.a].text, spansA)
				pv.LinesB = paint(er.files[p.b].text, spansB)
			}
			pv.Shown = len(p.Fragments)
			ev.Pairs = append(ev.Pairs, pv)
		}
		v.Exercises = append(v.Exercises, ev)
	}
	return pageTmpl().Execute(w, v)
}

// paint splits a source into lines of segments, each marked with the
// fragment it belongs to: spans come longest first, and a character in
// several takes the first.
func paint(text string, spans []Span) []lineView {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	marks := make([][]int, len(lines))
	for i, l := range lines {
		m := make([]int, utf8.RuneCountInString(l))
		for j := range m {
			m[j] = -1
		}
		marks[i] = m
	}
	for fi, s := range spans {
		for ln := s.Line; ln <= s.EndLine && ln <= len(lines); ln++ {
			m := marks[ln-1]
			from, to := 0, len(m)
			if ln == s.Line {
				from = min(s.Col, len(m))
			}
			if ln == s.EndLine {
				to = min(s.EndCol, len(m))
			}
			for c := from; c < to; c++ {
				if m[c] < 0 {
					m[c] = fi
				}
			}
		}
	}
	out := make([]lineView, len(lines))
	for i, l := range lines {
		lv := lineView{No: i + 1}
		rs := []rune(l)
		start := 0
		for c := 1; c <= len(rs); c++ {
			if c == len(rs) || marks[i][c] != marks[i][start] {
				f := marks[i][start]
				lv.Segs = append(lv.Segs, segView{Text: string(rs[start:c]), Frag: f, Colour: max(f, 0) % palette})
				start = c
			}
		}
		out[i] = lv
	}
	return out
}

// CSV returns similarity.csv: one row per pair shown, most similar first
// within each exercise.
func CSV(rep *Report) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{{"exercise", "student_a", "file_a", "student_b", "file_b", "similarity", "share_a", "share_b",
		"longest_fragment_tokens", "lines_a", "lines_b", "text_match", "same_rare_output"}}
	for _, er := range rep.Exercises {
		for _, p := range er.Pairs {
			var ev []string
			for _, e := range p.Behaviour {
				ev = append(ev, e.Check+": "+e.Output)
			}
			rows = append(rows, []string{er.Exercise, csvSafe(p.A), csvSafe(p.FileA), csvSafe(p.B), csvSafe(p.FileB),
				fmt.Sprintf("%.2f", p.Similarity), fmt.Sprintf("%.2f", p.ShareA), fmt.Sprintf("%.2f", p.ShareB),
				fmt.Sprint(p.Longest), p.LongestLines[0], p.LongestLines[1], fmt.Sprint(p.Text), csvSafe(strings.Join(ev, " | "))})
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// csvSafe keeps a spreadsheet from taking a cell for a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
