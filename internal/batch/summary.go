package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/overrides"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/similarity"
)

// SummarySchema is the version of summary.json.
const SummarySchema = 1

// Summary is the class at a glance: what OUT/summary.json holds and what
// the class report shows.
type Summary struct {
	Schema   int `json:"schema"`
	Students int `json:"students"`
	// MaxScore is the most a student can score; the average, median and
	// histogram are over the Counted students: every student but those
	// with an exercise not graded properly (`error` in grades.csv), whose
	// total is not their grade.
	MaxScore     float64 `json:"max_score"`
	AverageScore float64 `json:"average_score"`
	MedianScore  float64 `json:"median_score"`
	Counted      int     `json:"counted"`
	// Histogram counts students by total score, in tenths of MaxScore.
	Histogram []Bin             `json:"histogram"`
	Exercises []ExerciseSummary `json:"exercises"`
	Checks    []CheckSummary    `json:"checks"`
	// ChecksOff are the checks of the exercises that the course does not
	// grade (switched off, or graded only when the course sets a text it
	// does not set): they have no pass rate and are not in Checks.
	ChecksOff []CheckOff `json:"checks_not_graded,omitempty"`
	// Sandboxes counts students by the sandbox they were graded in.
	Sandboxes map[string]int `json:"sandboxes"`
	// Incomplete lists students whose grading had netgrade errors.
	Incomplete []string `json:"incomplete,omitempty"`
	// Problems lists the submissions netgrade could not grade properly,
	// with why (see Record.Problem), by student.
	Problems []Problem `json:"problems,omitempty"`
	// Unplaced lists, by student, the files handed in that no exercise
	// graded: files of no exercise, and other candidates of an exercise.
	Unplaced []Unplaced `json:"files_not_graded,omitempty"`
	// Similarity is what the similarity analysis found (similarity.html,
	// similarity.csv), when it ran: leads for a human, never verdicts.
	Similarity *similarity.Report `json:"similarity,omitempty"`
	// AutogradedAverageScore is the average before the instructor's
	// overrides, when some apply (the figures above are with them).
	AutogradedAverageScore *float64 `json:"autograded_average_score,omitempty"`
	// Overrides are the instructor's overrides applied, each with the
	// autograded value beside the final one, flagged when the verdict under
	// it changed since it was written.
	Overrides []overrides.Applied `json:"overrides,omitempty"`
	// OverridesUnmatched are the overrides that found nothing to adjust.
	OverridesUnmatched []overrides.Unmatched `json:"overrides_unmatched,omitempty"`
	// Regrade says what changed since the last grading, when this output
	// held one (see changes.csv).
	Regrade *RegradeSummary `json:"regrade,omitempty"`
	// Interop is the class interop matrix's summary (`netgrade interop`),
	// when it was run: see InteropSection.
	Interop json.RawMessage `json:"interop,omitempty"`
}

// Unplaced is what one student handed in that no exercise graded.
type Unplaced struct {
	Student string `json:"student"`
	// NotGraded are source files no exercise's names or patterns match.
	NotGraded []string `json:"handed_in_not_graded,omitempty"`
	// AlsoFound are other candidates of an exercise: it graded another.
	AlsoFound []ExerciseFile `json:"also_found,omitempty"`
}

// ExerciseFile is a file that could be an exercise's.
type ExerciseFile struct {
	Exercise string `json:"exercise"`
	File     string `json:"file"`
	// Graded is the file the exercise graded instead.
	Graded string `json:"graded"`
}

// unplaced returns what a record's student handed in that no exercise
// graded, and whether there is any.
func unplaced(r *Record) (Unplaced, bool) {
	u := Unplaced{Student: r.Student, NotGraded: r.NotGraded}
	for _, ff := range r.Files {
		for _, f := range ff.AlsoFound {
			u.AlsoFound = append(u.AlsoFound, ExerciseFile{Exercise: ff.Exercise, File: f, Graded: ff.Path})
		}
	}
	return u, len(u.NotGraded)+len(u.AlsoFound) > 0
}

// CheckOff is a check the course does not grade, with why.
type CheckOff struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// OffReason says why the course does not grade a check under set ("" when
// it does): switched off, or graded only with a text the course leaves
// unset. The engine leaves such a check out of every result.
func OffReason(ex *graders.Exercise, c *graders.Check, set graders.Settings) string {
	if set.Check(c.ID).Disabled {
		return "switched off by the course"
	}
	if c.OnlyWithText != "" {
		v, ok := set.Texts[c.OnlyWithText]
		if !ok {
			v = ex.Texts[c.OnlyWithText]
		}
		if v == "" {
			return "graded only when the course sets the text " + c.OnlyWithText
		}
	}
	return ""
}

// Problem is a submission netgrade could not grade properly: a corrupt
// archive, a folder with no exercise file, a file that does not decode.
type Problem struct {
	Student string `json:"student"`
	Reason  string `json:"reason"`
}

// Bin is one bar of the score histogram: students whose score, as a
// percentage of the maximum, is in [FromPct, ToPct) (the last bin includes
// 100).
type Bin struct {
	FromPct int `json:"from_pct"`
	ToPct   int `json:"to_pct"`
	Count   int `json:"count"`
}

// ExerciseSummary is one exercise over the class.
type ExerciseSummary struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	MaxScore float64 `json:"max_score"`
	// Average is over every student whose work on it was graded properly,
	// 0 for those who did not hand it in; the NotGraded others are left
	// out.
	Average float64 `json:"average"`
	// Submitted counts students who handed in a file for it that could be
	// run (see handedIn); Missing those with no file for it at all (no
	// name or pattern of the course matched one); NotGraded those whose
	// work on it was not graded properly (see GradedProperly); FullMarks
	// those who got every point.
	Submitted int `json:"submitted"`
	Missing   int `json:"missing"`
	NotGraded int `json:"not_graded"`
	FullMarks int `json:"full_marks"`
}

// GradedProperly reports whether a student's result on an exercise is a
// grade: their file was missing (a real 0, told apart as "missing"), or
// it ran and every check got a verdict. An archive that could not be
// unpacked, a file Python cannot read and a check netgrade could not run
// make a result that is not one.
func GradedProperly(r *Record, res report.Result) bool {
	if res.Missing || r.adjusted[res.Exercise] {
		return true
	}
	return res.Command != nil && !res.HasErrors() && !slices.Contains(r.Unreadable, res.Exercise)
}

// handedIn reports whether a result is of work handed in and run: the
// student's file was there (not Missing) and its programs ran (an archive
// that could not be unpacked ran nothing). Only such work counts in the
// checks' pass rates.
func handedIn(res report.Result) bool {
	return !res.Missing && res.Command != nil
}

// CheckSummary is one check over the class.
type CheckSummary struct {
	ID       string          `json:"id"`
	Exercise string          `json:"exercise"`
	Title    string          `json:"title"`
	Category report.Category `json:"category"`
	Pass     int             `json:"pass"`
	Fail     int             `json:"fail"`
	Skip     int             `json:"skip"`
	Error    int             `json:"error"`
	// NotJudged counts the skips of students whose program the check could
	// not judge (left out of their score): they are in Skip too, and, as
	// errors, out of PassRate.
	NotJudged int `json:"not_judged,omitempty"`
	// HandedIn counts the students who handed the exercise in (see
	// handedIn): Pass, Fail, Skip and Error count only them.
	HandedIn int `json:"handed_in"`
	// PassRate is Pass over the students who handed the exercise in and
	// got a verdict (pass, fail or skip: a skipped check was not passed);
	// errors are left out, as they are netgrade's.
	PassRate float64 `json:"pass_rate"`
	// CommonFailure is the most frequent failure message among the
	// students who handed the exercise in (numbers such as ports taken as
	// equal), with how many of them got it.
	CommonFailure      string `json:"common_failure,omitempty"`
	CommonFailureCount int    `json:"common_failure_count,omitempty"`
}

// numbers matches what differs between two instances of one message.
var numbers = regexp.MustCompile(`\d+(\.\d+)?`)

// Summarize computes the class summary from the records, for the course's
// exercises (in course order), under netgrade's default check settings.
func Summarize(recs []*Record, exs []*graders.Exercise) Summary {
	return SummarizeCourse(recs, exs, nil)
}

// SummarizeCourse is Summarize under a course's check settings of each
// exercise (nil: the defaults): the checks the course does not grade are
// listed in ChecksOff, not in Checks.
func SummarizeCourse(recs []*Record, exs []*graders.Exercise, course graders.Course) Summary {
	s := Summary{Schema: SummarySchema, Students: len(recs), Sandboxes: map[string]int{}}
	type failures struct {
		count map[string]int
		first map[string]string
	}
	checkIdx := map[string]int{}
	fails := map[string]*failures{}
	for _, ex := range exs {
		es := ExerciseSummary{ID: ex.ID, Title: ex.Title}
		set := graders.SettingsOf(course, ex.ID)
		for _, c := range ex.Checks {
			if why := OffReason(ex, c, set); why != "" {
				s.ChecksOff = append(s.ChecksOff, CheckOff{ID: c.ID, Reason: why})
				continue
			}
			checkIdx[c.ID] = len(s.Checks)
			s.Checks = append(s.Checks, CheckSummary{ID: c.ID, Exercise: ex.ID, Title: c.Title, Category: c.Category})
			fails[c.ID] = &failures{count: map[string]int{}, first: map[string]string{}}
		}
		s.Exercises = append(s.Exercises, es)
	}
	var totals []float64
	for _, r := range recs {
		s.Sandboxes[r.Sandbox]++
		if !r.Complete() {
			s.Incomplete = append(s.Incomplete, r.Student)
		}
		if r.Problem != "" {
			s.Problems = append(s.Problems, Problem{Student: r.Student, Reason: r.Problem})
		}
		if u, ok := unplaced(r); ok {
			s.Unplaced = append(s.Unplaced, u)
		}
		total, counted := 0.0, true
		for i, ex := range exs {
			res, ok := r.Result(ex.ID)
			if !ok {
				continue
			}
			es := &s.Exercises[i]
			es.MaxScore = math.Max(es.MaxScore, res.MaxScore)
			if GradedProperly(r, res) {
				es.Average += res.Score
			} else {
				es.NotGraded++
				counted = false
			}
			total += res.Score
			if res.Missing {
				es.Missing++
			}
			if res.Passed() && len(res.Checks) > 0 {
				es.FullMarks++
			}
			if !handedIn(res) {
				// Nothing ran: says nothing about the checks themselves.
				continue
			}
			es.Submitted++
			for _, c := range res.Checks {
				j, ok := checkIdx[c.ID]
				if !ok {
					continue
				}
				cs := &s.Checks[j]
				cs.HandedIn++
				switch c.Status {
				case report.Pass:
					cs.Pass++
				case report.Fail:
					cs.Fail++
					key := numbers.ReplaceAllString(c.Message, "#")
					f := fails[c.ID]
					f.count[key]++
					if _, ok := f.first[key]; !ok {
						f.first[key] = c.Message
					}
				case report.Skip:
					cs.Skip++
					if c.Unjudged() {
						cs.NotJudged++
					}
				case report.Error:
					cs.Error++
				}
			}
		}
		if counted {
			totals = append(totals, total)
		}
	}
	s.Counted = len(totals)
	for i := range s.Exercises {
		s.MaxScore += s.Exercises[i].MaxScore
		if n := len(recs) - s.Exercises[i].NotGraded; n > 0 {
			s.Exercises[i].Average = round2(s.Exercises[i].Average / float64(n))
		}
	}
	for i := range s.Checks {
		cs := &s.Checks[i]
		if n := cs.Pass + cs.Fail + cs.Skip - cs.NotJudged; n > 0 {
			cs.PassRate = round4(float64(cs.Pass) / float64(n))
		}
		f := fails[cs.ID]
		best, bestN := "", 0
		for k, n := range f.count {
			if n > bestN || (n == bestN && k < best) {
				best, bestN = k, n
			}
		}
		if bestN > 0 {
			cs.CommonFailure, cs.CommonFailureCount = f.first[best], bestN
		}
	}
	s.Histogram = histogram(totals, s.MaxScore)
	if len(totals) > 0 {
		sum := 0.0
		for _, t := range totals {
			sum += t
		}
		s.AverageScore = round2(sum / float64(len(totals)))
		sorted := append([]float64(nil), totals...)
		sort.Float64s(sorted)
		mid := len(sorted) / 2
		if len(sorted)%2 == 1 {
			s.MedianScore = sorted[mid]
		} else {
			s.MedianScore = round2((sorted[mid-1] + sorted[mid]) / 2)
		}
	}
	return s
}

// histogram counts totals in ten bins of the maximum score.
func histogram(totals []float64, maxScore float64) []Bin {
	bins := make([]Bin, 10)
	for i := range bins {
		bins[i] = Bin{FromPct: i * 10, ToPct: (i + 1) * 10}
	}
	if maxScore <= 0 {
		return bins
	}
	for _, t := range totals {
		i := int(math.Floor(t / maxScore * 10))
		bins[min(max(i, 0), 9)].Count++
	}
	return bins
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

// num formats a score without trailing zeros.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// NotHandedIn is the gradebook's cell for an exercise a student handed in
// no file for, told apart from a real 0 (spreadsheets' SUM and AVERAGE
// skip it).
const NotHandedIn = "missing"

// NotGradedCell is the gradebook's cell for an exercise whose work was not
// graded properly (see GradedProperly): neither a 0 nor missing.
const NotGradedCell = "error"

// GradesCSV returns the gradebook: a header row, then one row per student
// with their score on each exercise (NotHandedIn for an exercise they
// handed in no file for; NotGradedCell for one not graded properly; empty
// when the student's file has no result for it), their total (the sum of
// the other cells' numbers: an exercise marked NotGradedCell adds nothing)
// and, in the last column, the exercises marked NotGradedCell, so that a
// total that is not the student's grade says so.
func GradesCSV(recs []*Record, exs []*graders.Exercise) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := []string{"student"}
	for _, ex := range exs {
		header = append(header, ex.ID)
	}
	header = append(header, "total", "not_graded")
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range recs {
		row := []string{csvSafe(r.Student)}
		total := 0.0
		var errs []string
		for _, ex := range exs {
			res, ok := r.Result(ex.ID)
			switch {
			case !ok:
				row = append(row, "")
				continue
			case res.Missing && !r.adjusted[ex.ID]:
				row = append(row, NotHandedIn)
				continue
			case !GradedProperly(r, res):
				row = append(row, NotGradedCell)
				errs = append(errs, ex.ID)
				continue
			}
			row = append(row, num(res.Score))
			total += res.Score
		}
		row = append(row, num(total), strings.Join(errs, " "))
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// csvSafe keeps a spreadsheet from taking a cell for a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteClassFiles writes OUT/grades.csv, OUT/summary.json, OUT/changes.csv
// and OUT/report.html from every student file in OUT, with the
// instructor's overrides (meta.Overrides) applied, and returns the
// summary. changes.csv lists what changed since each student's last
// grading (kept in OUT/previous by Run); a header alone when nothing did.
// With meta.StudentPage, every student's page is written again, with the
// overrides, what changed and what the interop matrix tells them
// (InteropLines). The similarity section is kept from the summary already
// there when meta.Similarity is nil and the analysis's page remains.
func WriteClassFiles(out string, exs []*graders.Exercise, meta ReportMeta) (Summary, error) {
	graded, err := ReadRecords(out)
	if err != nil {
		return Summary{}, err
	}
	rg, err := ReadRegrade(out, graded, exs)
	if err != nil {
		return Summary{}, err
	}
	recs, applied, unmatched, err := applyOverrides(out, graded, meta.Overrides)
	if err != nil {
		return Summary{}, err
	}
	sum := SummarizeCourse(recs, exs, meta.Course)
	if len(applied) > 0 {
		auto := SummarizeCourse(graded, exs, meta.Course).AverageScore
		sum.AutogradedAverageScore = &auto
	}
	sum.Overrides, sum.OverridesUnmatched = applied, unmatched
	sum.Regrade = regradeSummary(rg)
	changes, err := ChangesCSV(rg.Changes)
	if err != nil {
		return sum, fmt.Errorf("writing changes.csv: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(out, "changes.csv"), changes); err != nil {
		return sum, err
	}
	if meta.StudentPage != nil {
		interop := InteropLines(out)
		for _, r := range recs {
			var buf bytes.Buffer
			notes := append(r.Found().Notes(), changeNotes(rg.ChangesOf(r.Student))...)
			notes = append(notes, interop[r.Student]...)
			if err := meta.StudentPage(&buf, r.Results, notes); err != nil {
				return sum, fmt.Errorf("rendering the page of %s: %w", r.Student, err)
			}
			path := PagePath(out, r.Student)
			if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
				continue // as it was: left untouched
			}
			if err := WriteFileAtomic(path, buf.Bytes()); err != nil {
				return sum, err
			}
		}
	}
	sum.Interop = InteropSection(out)
	csvData, err := GradesCSV(recs, exs)
	if err != nil {
		return sum, fmt.Errorf("writing grades.csv: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(out, "grades.csv"), csvData); err != nil {
		return sum, err
	}
	sum.Similarity = meta.Similarity
	if sum.Similarity == nil {
		previousSimilarity(out, &sum)
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return sum, err
	}
	if err := WriteFileAtomic(filepath.Join(out, "summary.json"), append(js, '\n')); err != nil {
		return sum, err
	}
	var page bytes.Buffer
	if err := ClassReport(&page, recs, sum, exs, meta); err != nil {
		return sum, fmt.Errorf("writing report.html: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(out, "report.html"), page.Bytes()); err != nil {
		return sum, err
	}
	return sum, nil
}
