package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/netgrade/netgrade/internal/report"
)

//go:embed html.tmpl
var htmlTemplate string

// htmlPage is the page's template, parsed on first use: parsed at
// init, it cost every start of netgrade, the unit and pair runners of
// every sandbox included, which never write the page.
var htmlPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"t":     func(s string) string { return Terminal(s, false) },
		"block": func(s string) string { return Terminal(s, true) },
		"num":   Num,
		"event": func(e report.Event) string { return strings.Join(EventLines(e), "\n") },
		"ms":    func(f float64) string { return fmt.Sprintf("%+.1f ms", f) },
		"secs":  func(ms int64) string { return fmt.Sprintf("%.1f s", float64(ms)/1000) },
		"mark":  func(s report.Status) string { return statusMark[s] },
		"markOf": func(c report.Check) string {
			if c.Unjudged() {
				return unjudgedMark
			}
			return statusMark[c.Status]
		},
		"markup":     htmlMarkup,
		"hiddenNote": func() string { return hiddenNote },
		"ladder":     Ladder,
		"lesson": func(r report.Result) string {
			_, line, _ := lessonOf(r)
			return line
		},
		"wireSource": wireSource,
	}).Parse(htmlTemplate))
})

// htmlData is what the page template shows.
type htmlData struct {
	Title    string
	Score    float64
	MaxScore float64
	Passed   int
	Results  []htmlResult
	// Notes are what the page says about the submission's files beyond
	// its results ("handed in, not graded: ...").
	Notes []string
}

type htmlResult struct {
	report.Result
	Anchor string
	Passed bool
	// NotHandedIn says why a result marked Missing was not graded.
	NotHandedIn string
	FirstFix    *report.Check
	// FirstFixAnchor is the anchor of FirstFix's article.
	FirstFixAnchor string
	Problems       []htmlCheck
}

type htmlCheck struct {
	report.Check
	Anchor  string
	Hidden  bool
	Program string
	Diff    *htmlDiff
	// SameAs is the earlier check that failed from the same cause, and
	// SameAsAnchor its anchor: this one refers to it.
	SameAs, SameAsAnchor string
}

// htmlDiff is expected against got; on one line the part of got that
// differs is marked.
type htmlDiff struct {
	Expected  string
	Got       string
	Multiline bool
	Pre, Mid  string
	Suf       string
}

// HTML writes one self-contained page for a submission's results: no
// script, no external resource (a Content-Security-Policy forbids both),
// the CSS inline, so it works offline and can be mailed. It shows the total
// and every exercise's score, its checks, and for every check that did
// not pass the problem, expected against got with the difference marked,
// how the program ended, the hint and the transcript. It is a
// student-facing page: checks the course hides are not named (see
// ForStudents). Everything a program printed is escaped by html/template
// after Terminal has made its control and bidi characters visible.
func HTML(w io.Writer, results []report.Result) error {
	return HTMLNotes(w, results, nil)
}

// HTMLNotes is HTML with notes about the submission's files shown under
// the summary: files handed in and not graded, other candidates of an
// exercise.
func HTMLNotes(w io.Writer, results []report.Result, notes []string) error {
	results = ForStudents(readable(results))
	d := htmlData{Notes: notes}
	d.Score, d.MaxScore = report.Total(results)
	var subs []string
	for _, r := range results {
		hr := htmlResult{Result: r, Anchor: "ex-" + r.Exercise, Passed: r.Passed()}
		if hr.Passed {
			d.Passed++
		}
		if !slices.Contains(subs, r.Submission) {
			subs = append(subs, r.Submission)
		}
		if r.Missing {
			hr.NotHandedIn = notHandedIn(r)
			d.Results = append(d.Results, hr)
			continue
		}
		same := sameCause(r)
		first := firstToFix(r)
		for i, c := range r.Checks {
			if i == first {
				hr.FirstFix = &r.Checks[i]
				hr.FirstFixAnchor = checkAnchor(c.ID)
			}
			if c.Status == report.Pass {
				continue
			}
			hc := htmlCheck{Check: c, Anchor: checkAnchor(c.ID), Hidden: isRedacted(c), Program: programLine(c.Exit, c.Traceback)}
			if id := same[c.ID]; id != "" {
				hc.SameAs, hc.SameAsAnchor = id, checkAnchor(id)
			}
			if c.Expected != "" || c.Actual != "" {
				hc.Diff = newHTMLDiff(c.Expected, c.Actual)
			}
			hr.Problems = append(hr.Problems, hc)
		}
		d.Results = append(d.Results, hr)
	}
	d.Title = "netgrade report"
	if len(subs) > 0 {
		d.Title += ": " + subs[0]
		if len(subs) > 1 {
			d.Title += fmt.Sprintf(" and %d more", len(subs)-1)
		}
	}
	return htmlPage().Execute(w, d)
}

func newHTMLDiff(expected, actual string) *htmlDiff {
	exp, act := Terminal(expected, true), Terminal(actual, true)
	d := &htmlDiff{Expected: exp, Got: act}
	if strings.Contains(exp, "\n") || strings.Contains(act, "\n") {
		d.Multiline = true
		return d
	}
	ar := []rune(act)
	pre, suf := commonAffixes([]rune(exp), ar)
	d.Pre, d.Mid, d.Suf = string(ar[:pre]), string(ar[pre:len(ar)-suf]), string(ar[len(ar)-suf:])
	return d
}

// checkAnchor is the id of a check's article: its ID with / as --.
func checkAnchor(id string) string { return "check-" + strings.ReplaceAll(id, "/", "--") }
