package batch

import (
	"fmt"
	"io"
	"time"

	"github.com/netgrade/netgrade/internal/render"
	"github.com/schollz/progressbar/v3"
)

// NewProgress returns how a batch reports its progress on w: a progress
// bar when w is a terminal, one plain line per student otherwise (a log
// file, a CI job). Errors, and submissions that cannot be graded properly,
// are printed as lines in both cases, as they happen.
func NewProgress(w io.Writer, terminal bool) Progress {
	if terminal {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

// lineProgress prints a line per student.
type lineProgress struct {
	w           io.Writer
	total, done int
	begin       time.Time
}

func (p *lineProgress) Start(total, done int) {
	p.total, p.done, p.begin = total, done, time.Now()
	if done > 0 {
		fmt.Fprintf(p.w, "netgrade batch: %s, %d already graded, %d to grade\n", plural(total, "student"), done, total-done)
	} else {
		fmt.Fprintf(p.w, "netgrade batch: %s to grade\n", plural(total, "student"))
	}
}

func (p *lineProgress) Graded(s Student, rec *Record, err error) {
	p.done++
	if err != nil {
		fmt.Fprintf(p.w, "[%d/%d] %s: NOT GRADED: %s\n", p.done, p.total, s.ID, render.Terminal(err.Error(), false))
		return
	}
	if rec.Problem != "" {
		// One line, the problem first: a score of what could be graded
		// is not the student's grade.
		fmt.Fprintf(p.w, "[%d/%d] %s: NOT GRADED PROPERLY: %s (%s/%s on what could be graded)\n",
			p.done, p.total, s.ID, render.Terminal(rec.Problem, false), num(rec.Score), num(rec.MaxScore))
		fileNotes(p.w, s, rec)
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s: %s/%s in %.1fs\n", p.done, p.total, s.ID, num(rec.Score), num(rec.MaxScore), float64(rec.DurationMS)/1000)
	fileNotes(p.w, s, rec)
}

// fileNotes prints what a student handed in that no exercise graded, one
// line each, so that the log shows it as it happens.
func fileNotes(w io.Writer, s Student, rec *Record) {
	if rec == nil {
		return
	}
	for _, n := range rec.Found().Notes() {
		fmt.Fprintf(w, "    %s: %s\n", s.ID, render.Terminal(n, false))
	}
}

func (p *lineProgress) Finish() {}

// barProgress draws a progress bar.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total, done int) {
	if done > 0 {
		fmt.Fprintf(p.w, "netgrade batch: %s, %d already graded\n", plural(total, "student"), done)
	}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("grading"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
	_ = p.bar.Set(done)
}

func (p *barProgress) Graded(s Student, rec *Record, err error) {
	// What needs the instructor's eye is printed above the bar, as it
	// happens; the bar is drawn again below it.
	switch {
	case err != nil:
		_ = p.bar.Clear()
		fmt.Fprintf(p.w, "%s: NOT GRADED: %s\n", s.ID, render.Terminal(err.Error(), false))
	case rec != nil && rec.Problem != "":
		_ = p.bar.Clear()
		fmt.Fprintf(p.w, "%s: NOT GRADED PROPERLY: %s\n", s.ID, render.Terminal(rec.Problem, false))
		fileNotes(p.w, s, rec)
	case rec != nil && len(rec.Found().Notes()) > 0:
		_ = p.bar.Clear()
		fileNotes(p.w, s, rec)
	}
	p.bar.Describe(s.ID)
	_ = p.bar.Add(1)
}

func (p *barProgress) Finish() {
	if !p.bar.IsFinished() {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
