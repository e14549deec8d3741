package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/outlock"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// PageFunc writes a student's own page (HTML) from their results and the
// notes on their files (see Found.Notes).
type PageFunc func(w io.Writer, results []report.Result, notes []string) error

// Options configure a batch.
type Options struct {
	// Out is the output folder.
	Out string
	// Jobs is how many students are graded at the same time.
	Jobs int
	// Regrade grades every student again, even those already done.
	Regrade bool
	// Exercises are the course's exercises, in course order: every
	// student is graded on each.
	Exercises []*graders.Exercise
	// Course gives each exercise its check settings and the command
	// template that runs its file (nil: the defaults, a .py file under
	// python3). The sandbox carries it to the engine, in the unit.
	Course graders.Course
	// Sandbox grades each student.
	Sandbox sandbox.Sandbox
	// SandboxNote says why the sandbox is not the one asked for, if so;
	// it is recorded with every student.
	SandboxNote string
	// Find finds a student's file of an exercise.
	Find Finder
	// Expected names the file expected for an exercise, for the message of
	// a student who handed none in (optional).
	Expected func(exercise string) string
	// StudentPage writes OUT/students/ID.html; nil writes none.
	StudentPage PageFunc
	// Progress is told how the batch goes (optional).
	Progress Progress
	// Zip bounds what an archive may unpack to (DefaultZipLimits() if zero).
	Zip ZipLimits
	// Version is netgrade's version, written into every record.
	Version string

	// course is the digest of the course's entries (see courseDigest).
	course string
	// Captures, when set, is the folder of the checks' captures
	// (--capture): CAPTURES/ID/CHECK.pcapng, linked from the student's
	// page and record.
	Captures string
}

// Progress is told how a batch goes. Calls may come from several
// goroutines but never at the same time.
type Progress interface {
	// Start is called once: total students in this run, of which done
	// were already graded and are skipped.
	Start(total, done int)
	// Graded is called when a student is done (rec) or could not be
	// graded (err, never the student's fault).
	Graded(s Student, rec *Record, err error)
	// Finish is called once at the end.
	Finish()
}

// Outcome is what a batch did.
type Outcome struct {
	// Students in this run (after --shard), Skipped of them already done.
	Students, Skipped int
	// Graded in this run.
	Graded int
	// Errors are students netgrade could not grade, by ID.
	Errors map[string]error
	// Incomplete are students graded in this run for whom netgrade could
	// not run some checks (status error); the next run grades them again.
	Incomplete []string
	// Interrupted is true when the batch was stopped before the end.
	Interrupted bool
}

// workDir is the folder under OUT where archives are unpacked while graded.
const workDir = ".work"

// Run grades the students. Each student already done (a complete record
// for the same submission content) is skipped unless opt.Regrade; each one
// graded is written to OUT/students/ID.json as soon as it is done. When ctx
// is cancelled, Run stops every grading in progress, writes nothing for
// those, and returns with Interrupted set.
func Run(ctx context.Context, students []Student, opt Options) (*Outcome, error) {
	if opt.Find == nil {
		return nil, errNoFinder
	}
	if opt.Sandbox == nil || len(opt.Exercises) == 0 {
		return nil, errors.New("batch: no sandbox or no exercise given")
	}
	if opt.Zip == (ZipLimits{}) {
		opt.Zip = DefaultZipLimits()
	}
	opt.Jobs = max(1, opt.Jobs)
	if opt.Progress == nil {
		opt.Progress = nopProgress{}
	}
	unlock, err := lockOut(opt.Out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sdir := filepath.Join(opt.Out, studentsDir)
	removeTemps(sdir)
	if err := startRound(opt.Out); err != nil {
		return nil, err
	}
	opt.course = courseDigest(opt)
	work := filepath.Join(opt.Out, workDir)
	if err := os.RemoveAll(work); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", work, err)
	}
	defer os.RemoveAll(work)

	// An output folder inside the submissions folder is not a student.
	students = slices.DeleteFunc(slices.Clone(students), func(s Student) bool { return !s.Zip && sameDir(s.Source, opt.Out) })
	out := &Outcome{Students: len(students), Errors: map[string]error{}}
	var todo []Student
	for _, s := range students {
		if !opt.Regrade && done(s, opt) {
			out.Skipped++
			continue
		}
		todo = append(todo, s)
	}
	opt.Progress.Start(len(students), out.Skipped)
	defer opt.Progress.Finish()

	var mu sync.Mutex
	queue := make(chan Student)
	var wg sync.WaitGroup
	for range min(opt.Jobs, max(1, len(todo))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range queue {
				rec, err := gradeStudent(ctx, s, opt)
				if err != nil && ctx.Err() != nil {
					continue // interrupted: nothing written for this student
				}
				mu.Lock()
				switch {
				case err != nil:
					out.Errors[s.ID] = err
				case !rec.Complete():
					out.Graded++
					out.Incomplete = append(out.Incomplete, s.ID)
				default:
					out.Graded++
				}
				opt.Progress.Graded(s, rec, err)
				mu.Unlock()
			}
		}()
	}
feed:
	for _, s := range todo {
		select {
		case queue <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	out.Interrupted = ctx.Err() != nil
	if !out.Interrupted {
		if err := endRound(opt.Out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// done reports whether the student has a complete record for the same
// submission content, graded by this netgrade under the same course
// entries.
func done(s Student, opt Options) bool {
	rec, err := ReadRecord(RecordPath(opt.Out, s.ID))
	if err != nil || !rec.Complete() || len(rec.Results) != len(opt.Exercises) {
		return false
	}
	if rec.Version != opt.Version || rec.Course != opt.course {
		return false
	}
	for i, ex := range opt.Exercises {
		if rec.Results[i].Exercise != ex.ID {
			return false
		}
	}
	dg, err := digest(s, opt)
	return err == nil && dg == rec.Digest
}

// digest identifies the student's submission content.
func digest(s Student, opt Options) (string, error) {
	if s.Zip {
		return archiveDigest(s.Source)
	}
	files, found, err := locate(s.Source, opt)
	if err != nil {
		return "", err
	}
	return filesDigest(s.Source, files, found)
}

// locate finds the student's file of every exercise ("" when missing),
// and what else the folder holds.
func locate(dir string, opt Options) ([]sandbox.File, Found, error) {
	found, err := opt.Find(dir)
	if err != nil {
		return nil, Found{}, err
	}
	var files []sandbox.File
	for _, ex := range opt.Exercises {
		files = append(files, sandbox.File{Exercise: ex.ID, Path: found.Path(ex.ID)})
	}
	return files, found, nil
}

// gradeStudent grades one student and writes their page and record.
func gradeStudent(ctx context.Context, s Student, opt Options) (*Record, error) {
	begin := time.Now()
	rec := &Record{
		Schema: RecordSchema, Student: s.ID, Source: filepath.Base(s.Source),
		Sandbox: opt.Sandbox.Name(), SandboxNote: opt.SandboxNote, Version: opt.Version, Course: opt.course,
	}
	dir := s.Source
	var err error
	if s.Zip {
		if rec.Digest, err = archiveDigest(s.Source); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Source, err)
		}
		dir = filepath.Join(opt.Out, workDir, s.ID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if xerr := Extract(s.Source, dir, opt.Zip); xerr != nil {
			if !errors.Is(xerr, ErrArchive) {
				return nil, xerr
			}
			for _, ex := range opt.Exercises {
				rec.Results = append(rec.Results, notGraded(ex, opt, s.ID, xerr.Error(), "Hand in a plain .zip archive of your files, without links or huge files."))
			}
			rec.Problem = xerr.Error()
			return rec, finish(rec, begin, opt)
		}
	}
	files, found, err := locate(dir, opt)
	if err != nil {
		return nil, err
	}
	rec.setFound(found, opt.Exercises)
	if err := keepSources(opt.Out, s.ID, dir, files); err != nil {
		return nil, err
	}
	if !s.Zip {
		if rec.Digest, err = filesDigest(dir, files, found); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Source, err)
		}
	}
	rec.Problem, rec.Unreadable = problems(dir, files, opt)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	unit := sandbox.Unit{
		Student: s.ID, Dir: abs, Version: opt.Version,
		TimeoutMS: sandbox.UnitTimeout(opt.Exercises, opt.Course).Milliseconds(),
		Capture:   opt.Captures != "",
	}
	var ids []string
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		unit.Files = append(unit.Files, f)
		ids = append(ids, f.Exercise)
	}
	unit.Course = sandbox.CourseOf(opt.Course, ids...)
	var graded []report.Result
	if len(unit.Files) > 0 {
		graded, err = opt.Sandbox.Grade(ctx, unit)
		if err != nil {
			return nil, fmt.Errorf("grading %s: %w", s.ID, err)
		}
	}
	for i, ex := range opt.Exercises {
		if files[i].Path == "" {
			gopt := graders.Options{Course: opt.Course, Sandbox: opt.Sandbox.Name(), Version: opt.Version}
			rec.Results = append(rec.Results, ex.NotSubmitted(graders.Submission{Name: s.ID}, gopt, "the submission has no "+opt.expected(ex.ID)))
			continue
		}
		rec.Results = append(rec.Results, graded[0])
		graded = graded[1:]
	}
	if err := saveCaptures(rec, opt); err != nil {
		return nil, err
	}
	return rec, finish(rec, begin, opt)
}

// finish tallies the record and writes the student's page, then the record
// (the record last: its presence means the student is done).
func finish(rec *Record, begin time.Time, opt Options) error {
	rec.tally()
	rec.GradedAt = time.Now().UTC().Truncate(time.Millisecond)
	rec.DurationMS = time.Since(begin).Milliseconds()
	if opt.StudentPage != nil {
		var buf bytes.Buffer
		if err := opt.StudentPage(&buf, rec.Results, rec.Found().Notes()); err != nil {
			return fmt.Errorf("rendering the page of %s: %w", rec.Student, err)
		}
		if err := WriteFileAtomic(PagePath(opt.Out, rec.Student), buf.Bytes()); err != nil {
			return err
		}
	}
	data, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	if err := keepPrevious(opt.Out, rec.Student); err != nil {
		return fmt.Errorf("keeping the last grading of %s: %w", rec.Student, err)
	}
	return WriteFileAtomic(RecordPath(opt.Out, rec.Student), data)
}

// expected names the file the course expects for an exercise.
func (opt Options) expected(exercise string) string {
	if opt.Expected != nil {
		return opt.Expected(exercise)
	}
	return "file for exercise " + exercise
}

// problems says why a student's folder cannot be graded properly, "" when
// it can: it holds no exercise file at all, or a source file Python cannot
// read (see pyenv.Undecodable); unreadable lists the exercises of such files.
func problems(dir string, files []sandbox.File, opt Options) (problem string, unreadable []string) {
	var out, looked []string
	found := 0
	for i, f := range files {
		looked = append(looked, opt.expected(opt.Exercises[i].ID))
		if f.Path == "" {
			continue
		}
		found++
		if why := pyenv.Undecodable(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Path); why != "" {
			out = append(out, why)
			unreadable = append(unreadable, f.Exercise)
		}
	}
	if found == 0 {
		out = append(out, "no exercise file in the submission (looked for "+strings.Join(looked, ", ")+")")
	}
	return strings.Join(out, "; "), unreadable
}

// notGraded is the result of an exercise the student's programs could not
// be graded on at all: every check failed with msg and hint, under the
// exercise's settings.
func notGraded(ex *graders.Exercise, opt Options, student, msg, hint string) report.Result {
	gopt := graders.Options{Course: opt.Course, Sandbox: opt.Sandbox.Name(), Version: opt.Version}
	return ex.Unrun(graders.Submission{Name: student}, gopt, report.Fail, msg, hint)
}

// lockOut takes OUT's lock, so that two batches never write one folder.
func lockOut(out string) (func(), error) {
	if err := os.MkdirAll(filepath.Join(out, studentsDir), 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", out, err)
	}
	return outlock.Lock(out)
}

// nopProgress reports nothing.
type nopProgress struct{}

func (nopProgress) Start(int, int)                 {}
func (nopProgress) Graded(Student, *Record, error) {}
func (nopProgress) Finish()                        {}
