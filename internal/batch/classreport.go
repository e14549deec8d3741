package batch

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/overrides"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/similarity"
)

//go:embed classreport.html.tmpl
var classReportTemplate string

// classReportTmpl is the page's template, parsed on first use: parsed at
// init, it cost every start of netgrade, the unit and pair runners of
// every sandbox included, which never write the page.
var classReportTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("class").Funcs(template.FuncMap{
		"num":     num,
		"pct":     func(x float64) string { return fmt.Sprintf("%.0f%%", x*100) },
		"plural":  plural,
		"sub":     func(a, b int) int { return a - b },
		"urlpath": url.PathEscape,
	}).Parse(classReportTemplate))
})

// plural returns "1 student", "2 students": n and the noun, in the
// plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ReportMeta is what the class report says about the run.
type ReportMeta struct {
	// Title heads the page (default "Class report").
	Title string
	// Similarity is the similarity analysis of the class, when it ran
	// (nil: none): summary.json holds it and the report links its page.
	Similarity *similarity.Report
	// Version is netgrade's version.
	Version string
	// Generated is when the report was made.
	Generated time.Time
	// Course gives the check settings of each exercise (nil: the
	// defaults), to leave the checks the course does not grade out of the
	// pass rates.
	Course graders.Course
	// Overrides are the instructor's overrides, applied to every class
	// file and student page (nil: none).
	Overrides *overrides.File
	// StudentPage, when set, writes every student's page again with the
	// overrides and what changed since the last grading.
	StudentPage PageFunc
}

// Histogram geometry, in SVG user units.
const (
	histWidth   = 640
	histHeight  = 220
	histTop     = 20
	histBottom  = 30
	histLeft    = 36
	rateWidth   = 240
	hardestShow = 8
)

// classView is the data of the template.
type classView struct {
	Meta       ReportMeta
	Sum        Summary
	Unisolated int
	Hist       histView
	Exercises  []exerciseView
	Checks     []checkView
	Hardest    []checkView
	Students   []studentView
	ExIDs      []string
	RateWidth  int
}

type histView struct {
	Width, Height, Left, Base, Max int
	Bars                           []barView
	Ticks                          []tickView
}

type barView struct {
	X, Y, W, H float64
	Count      int
	Label      string
	LabelX     float64
	CountY     float64
}

type tickView struct {
	Y     float64
	Label int
}

type exerciseView struct {
	ExerciseSummary
	Frac float64
	W    float64
}

type checkView struct {
	CheckSummary
	W       float64
	Message string
	NotPass int
}

type studentView struct {
	ID, Href string
	Scores   []string
	Total    string
	Pct      string
	Note     string
}

// ClassReport writes the class report: a self-contained HTML page (inline
// CSS and SVG, nothing fetched) with the submissions netgrade could not
// grade properly, the files handed in that no exercise graded, the score
// histogram, each check's pass rate as a bar
// (over the students who handed the exercise in, shown beside it), the
// average per exercise, the checks most students fail with their most
// common failure message, and a table of students, each linking to their
// own page (students/ID.html), "missing" for an exercise not handed in,
// "error" for one not graded properly. The checks the course does not
// grade are named once, out of the tables.
func ClassReport(w io.Writer, recs []*Record, sum Summary, exs []*graders.Exercise, meta ReportMeta) error {
	if meta.Title == "" {
		meta.Title = "Class report"
	}
	if meta.Generated.IsZero() {
		meta.Generated = time.Now()
	}
	v := classView{Meta: meta, Sum: sum, RateWidth: rateWidth}
	for k, n := range sum.Sandboxes {
		if k == sandbox.Process {
			v.Unisolated += n
		}
	}
	v.Hist = histogramView(sum.Histogram)
	for _, e := range sum.Exercises {
		ev := exerciseView{ExerciseSummary: e}
		if e.MaxScore > 0 {
			ev.Frac = e.Average / e.MaxScore
		}
		ev.W = ev.Frac * rateWidth
		v.Exercises = append(v.Exercises, ev)
	}
	for _, c := range sum.Checks {
		// Fail and Skip count only the students who handed the exercise in.
		cv := checkView{CheckSummary: c, W: c.PassRate * rateWidth, Message: render.Terminal(c.CommonFailure, false), NotPass: c.Fail + c.Skip - c.NotJudged}
		v.Checks = append(v.Checks, cv)
		if c.Fail > 0 {
			v.Hardest = append(v.Hardest, cv)
		}
	}
	sort.SliceStable(v.Hardest, func(i, j int) bool {
		if v.Hardest[i].NotPass != v.Hardest[j].NotPass {
			return v.Hardest[i].NotPass > v.Hardest[j].NotPass
		}
		return v.Hardest[i].Fail > v.Hardest[j].Fail
	})
	if len(v.Hardest) > hardestShow {
		v.Hardest = v.Hardest[:hardestShow]
	}
	for _, ex := range exs {
		v.ExIDs = append(v.ExIDs, ex.ID)
	}
	for _, r := range recs {
		sv := studentView{ID: r.Student, Href: "students/" + url.PathEscape(r.Student) + ".html"}
		total := 0.0
		for _, ex := range exs {
			res, ok := r.Result(ex.ID)
			switch {
			case !ok:
				sv.Scores = append(sv.Scores, "–")
				continue
			case res.Missing && !r.adjusted[ex.ID]:
				sv.Scores = append(sv.Scores, NotHandedIn)
				continue
			case !GradedProperly(r, res):
				sv.Scores = append(sv.Scores, NotGradedCell)
				continue
			}
			sv.Scores = append(sv.Scores, num(res.Score)+"/"+num(res.MaxScore))
			total += res.Score
		}
		sv.Total = num(total)
		if sum.MaxScore > 0 {
			sv.Pct = fmt.Sprintf("%.0f%%", total/sum.MaxScore*100)
		}
		switch {
		case r.Problem != "":
			sv.Note = "not graded properly: " + render.Terminal(r.Problem, false)
		case !r.Complete():
			sv.Note = "netgrade could not run some checks"
		}
		v.Students = append(v.Students, sv)
	}
	return classReportTmpl().Execute(w, v)
}

// histogramView lays the histogram's bars out.
func histogramView(bins []Bin) histView {
	h := histView{Width: histWidth, Height: histHeight, Left: histLeft, Base: histHeight - histBottom}
	for _, b := range bins {
		h.Max = max(h.Max, b.Count)
	}
	scaleMax := max(h.Max, 1)
	plot := float64(h.Base - histTop)
	slot := float64(histWidth-histLeft) / float64(max(len(bins), 1))
	for i, b := range bins {
		bh := float64(b.Count) / float64(scaleMax) * plot
		x := float64(histLeft) + float64(i)*slot
		h.Bars = append(h.Bars, barView{
			X: x + 3, W: slot - 6, Y: float64(h.Base) - bh, H: bh, Count: b.Count,
			Label: fmt.Sprintf("%d–%d%%", b.FromPct, b.ToPct), LabelX: x + slot/2, CountY: float64(h.Base) - bh - 4,
		})
	}
	for _, t := range []int{0, scaleMax / 2, scaleMax} {
		h.Ticks = append(h.Ticks, tickView{Y: float64(h.Base) - float64(t)/float64(scaleMax)*plot, Label: t})
	}
	return h
}
