package overrides

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// AdjustmentCheck is the ID suffix of the line an exercise's override adds
// to its result ("udp-server/instructor"): every report then shows it,
// with its points, and the comment as its note.
const AdjustmentCheck = "instructor"

// Applied is an override as applied to a student's grading: the
// autograded value kept beside the final one.
type Applied struct {
	Override
	// Autograded is what the check or exercise scored before the override
	// (for an exercise, with the overrides of its checks applied); Final
	// what it scores with it.
	Autograded float64 `json:"autograded"`
	Final      float64 `json:"final"`
	// Verdict is the verdict under the override now: a check's status, an
	// exercise's autograded score ("3/10") or "missing".
	Verdict string `json:"verdict"`
	// WrittenOver is the verdict the override was written over: the
	// file's verdict, else the one it was first applied over.
	WrittenOver string `json:"written_over,omitempty"`
	// Flag says why the instructor should look at the override again
	// (the verdict under it changed); empty when nothing changed.
	Flag string `json:"flag,omitempty"`
}

// Unmatched is an override that found nothing to adjust.
type Unmatched struct {
	Override
	Reason string `json:"reason"`
}

// Seen maps an override's Key to the verdict it was first applied over.
type Seen map[string]string

// Apply applies a student's overrides to their results and returns the
// adjusted results (results itself is not changed), what each override
// did, and the overrides that matched nothing. Check overrides come first,
// then exercise overrides, on top of them. seen gives the verdicts the
// overrides were first applied over (nil: none yet); an override whose
// verdict is no longer that one is flagged.
func Apply(results []report.Result, list []Override, seen Seen) ([]report.Result, []Applied, []Unmatched) {
	out := make([]report.Result, len(results))
	for i, r := range results {
		r.Checks = slices.Clone(r.Checks)
		for j := range r.Checks {
			r.Checks[j].Notes = slices.Clone(r.Checks[j].Notes)
		}
		out[i] = r
	}
	var applied []Applied
	var unmatched []Unmatched
	ordered := slices.Clone(list)
	slices.SortStableFunc(ordered, func(a, b Override) int {
		return boolInt(a.Check == "") - boolInt(b.Check == "")
	})
	for _, o := range ordered {
		i := slices.IndexFunc(out, func(r report.Result) bool { return r.Exercise == o.Exercise })
		if i < 0 {
			unmatched = append(unmatched, Unmatched{o, "the student has no result for exercise " + o.Exercise})
			continue
		}
		r := &out[i]
		var a Applied
		if o.Check != "" {
			j := slices.IndexFunc(r.Checks, func(c report.Check) bool { return c.ID == o.Check })
			if j < 0 {
				unmatched = append(unmatched, Unmatched{o, "the grading has no check " + o.Check + " (the course does not grade it)"})
				continue
			}
			c := &r.Checks[j]
			a = Applied{Override: o, Autograded: c.Points, Verdict: checkVerdict(*c)}
			a.Final = adjust(c.Points, o)
			if c.Scored() {
				r.Score += a.Final - c.Points
			} else {
				r.Score += a.Final
			}
			c.Points = a.Final
			c.Notes = append(c.Notes, Note(o, a.Autograded, a.Final))
		} else {
			a = Applied{Override: o, Autograded: r.Score, Verdict: exerciseVerdict(results[i])}
			a.Final = adjust(r.Score, o)
			r.Checks = append(r.Checks, report.Check{
				ID: o.Exercise + "/" + AdjustmentCheck, Title: "Instructor's adjustment", Category: report.Usage,
				Status: report.Pass, Points: a.Final - r.Score, Notes: []string{Note(o, a.Autograded, a.Final)},
			})
			r.Score = a.Final
			r.Missing = false
		}
		a.WrittenOver = o.Verdict
		if a.WrittenOver == "" {
			a.WrittenOver = seen[o.Key()]
		}
		if a.WrittenOver == "" {
			a.WrittenOver = a.Verdict
		}
		if !sameVerdict(a.WrittenOver, a.Verdict) {
			a.Flag = fmt.Sprintf("the verdict under this override changed since it was written: %s then, %s now", a.WrittenOver, a.Verdict)
		}
		applied = append(applied, a)
	}
	return out, applied, unmatched
}

// sameVerdict reports whether two verdicts are the same: for an
// exercise, the same autograded score, whatever the maximum (a course that
// changed another check's points does not change what was judged).
func sameVerdict(then, now string) bool {
	score := func(v string) string {
		s, _, _ := strings.Cut(v, "/")
		return s
	}
	return score(then) == score(now)
}

// adjust returns points adjusted by o, never below 0.
func adjust(points float64, o Override) float64 {
	switch {
	case o.Set != nil:
		return *o.Set
	case o.Add != nil:
		return math.Max(0, points+*o.Add)
	}
	return points
}

// Note is what a report says of an override: the points before and after,
// why, who and when.
func Note(o Override, autograded, final float64) string {
	return fmt.Sprintf("instructor's adjustment: %s instead of %s (%s, %s on %s)", points(final), num(autograded), o.Comment, o.By, o.At.Format(time.DateOnly))
}

// points says "1 point", "2 points", "0.5 points".
func points(x float64) string {
	if x == 1 {
		return "1 point"
	}
	return num(x) + " points"
}

// checkVerdict is a check's verdict, as an override remembers it.
func checkVerdict(c report.Check) string {
	if c.Unjudged() {
		return "not judged"
	}
	return string(c.Status)
}

// exerciseVerdict is an exercise's verdict, as an override remembers it:
// its autograded score, or why it has none.
func exerciseVerdict(r report.Result) string {
	switch {
	case r.Missing:
		return "missing"
	case r.HasErrors():
		return "error"
	}
	return num(r.Score) + "/" + num(r.MaxScore)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
