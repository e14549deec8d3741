// Package graders is the engine: the model of an exercise and its checks
// (Exercise, Check, T, Failure, Registry), what a course says of each
// exercise (Course, Settings), and the scheduler that runs the checks
// against a submission and turns what they saw into a report.Result. It
// holds no exercise: they live in its sub-packages, one per chapter of
// the course (graders/sockets, graders/socketserver, graders/http,
// graders/mail), and are listed once in package course.
package graders

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// DefaultCheckTimeout is the watchdog deadline of a check that sets none:
// when it passes, every program the check started is torn down.
const DefaultCheckTimeout = 15 * time.Second

// DefaultParallel is how many checks of one grading run at once: each
// check has its own program and ports, and most of a check's time is spent
// waiting on the program, so a few at once shorten a grading without
// loading the machine.
const DefaultParallel = 4

// watchdogGrace is how long a check's run function gets to return after its
// programs were torn down at the deadline, before netgrade gives up on it.
const watchdogGrace = 3 * time.Second

// Check is one requirement of an exercise, small enough that its failure
// says exactly what is wrong.
type Check struct {
	// ID is stable across versions. A chapter declares it short
	// ("log-format"); NewExercise prefixes it with the exercise's ID
	// ("udp-server/log-format"), which is how results, course files and
	// settings name it.
	ID    string
	Title string
	// Requirement is the text of the requirement, as a student reads it.
	Requirement string
	Category    report.Category
	Points      float64
	// Hint is the default advice shown on failure, naming the course concept.
	Hint string
	// Needs lists checks that must pass for this one to run; when one
	// does not, this check is skipped and says which. Declared short, like
	// ID; left empty, the exercise's Needs (its "starts") applies unless
	// the check is Independent.
	Needs []string
	// Independent marks a check that needs no other check, not even the
	// exercise's default prerequisite: the usage check runs the program
	// without the arguments the starts check gives it.
	Independent bool
	// Timeout is the watchdog deadline (DefaultCheckTimeout when zero).
	Timeout time.Duration
	// OnlyWithText, when set, names a text of the exercise: the check is
	// part of a grading only when the course gives that text a value (a
	// check of static files, for a course whose programs serve some).
	// Otherwise it neither runs nor counts.
	OnlyWithText string
	// Describe, when set, words the check for the course's texts: a check
	// whose requirement names what a text sets (the paths and fields of an
	// API document) returns its title, requirement and hint from them. An
	// empty field of what it returns keeps the static one above.
	Describe func(text func(name string) string) Description
	// Run performs the check. It returns nil on pass, a *Failure when the
	// submission is wrong, Skipf(...) to skip itself, and any other error
	// when netgrade itself could not do its part. t.Context() is the
	// check's context: it ends at the check's deadline.
	Run func(t *T) error
}

// Description is a check's wording under a course's texts.
type Description struct {
	Title, Requirement, Hint string
}

// describe returns c's wording under the options' texts.
func (e *Exercise) describe(c *Check, opt Options) Description {
	d := Description{Title: c.Title, Requirement: c.Requirement, Hint: c.Hint}
	if c.Describe == nil {
		return d
	}
	got := c.Describe(func(name string) string { return e.text(opt, name) })
	if got.Title != "" {
		d.Title = got.Title
	}
	if got.Requirement != "" {
		d.Requirement = got.Requirement
	}
	if got.Hint != "" {
		d.Hint = got.Hint
	}
	return d
}

// Exercise is a gradable exercise: its checks and how its program is run.
type Exercise struct {
	ID    string
	Title string
	// Usage is the command line the course fixes, e.g. "PROG PORT".
	Usage string
	// Args is the argument template appended to a submission's command
	// when that command has no placeholders of its own.
	Args []string
	// Texts are the texts the course fixes (start line, patterns), by name;
	// a course file may replace them.
	Texts map[string]string
	// TextRules check a course's value of a text when the course file is
	// read, by text name: a value no grading can use (a zone that does not
	// exist, an API document that does not parse) is then named with its
	// line before anything runs, not as netgrade's error in every check.
	TextRules map[string]func(value string) error
	Checks    []*Check
	// Needs is the short ID of the check every other check of the
	// exercise needs unless it names its own Needs or is Independent:
	// usually "starts", named once here instead of in every check.
	Needs string
	// CheckTimeout is the watchdog deadline of a check of this exercise
	// that sets none (DefaultCheckTimeout when zero).
	CheckTimeout time.Duration
	// Sequential makes the checks run one at a time, for exercises whose
	// checks judge timing-sensitive behaviour (concurrency).
	Sequential bool
	// Floor is the time the checks wait by design (mandated delays such as
	// a waiting server's, named negative windows, spacing between probes):
	// with one program start, the least a grading can take. Benchmarks
	// compare grading times with it.
	Floor time.Duration
}

// Check returns the check with the given ID, or nil.
func (e *Exercise) Check(id string) *Check {
	for _, c := range e.Checks {
		if c.ID == id || c.ID == e.ID+"/"+id {
			return c
		}
	}
	return nil
}

// Submission is what is graded: a command template (placeholders {port},
// {host}, {message}... are filled per run) and the name reports show.
type Submission struct {
	// Name identifies the submission in reports (usually its file).
	Name string
	// Command is the command template. When it holds no placeholder, the
	// exercise's Args template is appended.
	Command []string
	// Dir is the working directory of the program.
	Dir string
	// File is the submission's source file, if any, for annotations.
	File string
}

// FileSubmission returns the submission for a program file: a .py file runs
// under python3, an executable directly.
func FileSubmission(path string) (Submission, error) {
	argv, err := harness.FileCommand(path, nil)
	if err != nil {
		return Submission{}, err
	}
	return Submission{Name: path, Command: argv, Dir: filepath.Dir(argv[len(argv)-1]), File: path}, nil
}

// Options tune a grading run: the course's Settings and what the run
// shares between gradings. The zero value is usable.
type Options struct {
	// Course gives the exercise graded its settings (nil: the defaults).
	Course Course
	// settings are Course's settings for the exercise graded, in place
	// once a grading has begun (see forExercise).
	settings Settings
	// Interpreters resolves python3 once per run; shared across gradings.
	Interpreters *pyenv.Interpreters
	// Ports hands out ports; shared across gradings of one run.
	Ports *harness.Ports
	// Parallel is how many checks of one grading run at once
	// (DefaultParallel when zero).
	Parallel int
	// Slots, when set, is shared by gradings run side by side: each of
	// their checks holds one while it runs, and an exercise marked
	// Sequential holds one from its first check to its last (see
	// GradeSideBySide).
	Slots *Slots
	// slotHeld says that the grading's one slot was taken for it before
	// it started (a Sequential exercise's, by GradeSideBySide).
	slotHeld bool
	// Sandbox names the isolation in force, for the report.
	Sandbox string
	// Version is written into results.
	Version string
}

// forExercise returns o with the course's settings for e in place.
func (o Options) forExercise(e *Exercise) Options {
	if o.Course != nil {
		o.settings = o.Course.Settings(e.ID)
	}
	return o
}

func (o *Options) defaults() {
	if o.Interpreters == nil {
		o.Interpreters = pyenv.NewInterpreters()
	}
	if o.Ports == nil {
		o.Ports = harness.NewPorts(uint64(time.Now().UnixNano()) ^ uint64(os.Getpid()))
	}
	if o.Sandbox == "" {
		o.Sandbox = "process"
	}
}

// checkTimeout returns the watchdog deadline of c: the course's deadline
// for it, else its own, else DefaultCheckTimeout, scaled.
func (o *Options) checkTimeout(c *Check) time.Duration {
	timeout := c.Timeout
	if d := o.settings.Check(c.ID).Timeout; d > 0 {
		timeout = d
	}
	if timeout == 0 {
		timeout = DefaultCheckTimeout
	}
	return o.scale(timeout)
}

// Deadlines returns the watchdog deadlines of the checks opt selects, in
// order: the most a grading of e under opt can take, check by check, which
// bounds a sandboxed grading from outside.
func (e *Exercise) Deadlines(opt Options) []time.Duration {
	opt = opt.forExercise(e)
	var ds []time.Duration
	for _, c := range e.selected(opt) {
		ds = append(ds, opt.checkTimeout(c))
	}
	return ds
}

// scale returns d multiplied by the course's timeout scale.
func (o *Options) scale(d time.Duration) time.Duration { return o.settings.scale(d) }

// command returns the submission's command template for this exercise.
func (e *Exercise) command(sub Submission) []string {
	if harness.HasPlaceholders(sub.Command) {
		return sub.Command
	}
	return append(append([]string(nil), sub.Command...), e.Args...)
}

// Grade runs every check of the exercise against the submission, in order,
// and returns the result. It never panics on a bad submission: whatever the
// program does ends up as a check verdict.
func (e *Exercise) Grade(ctx context.Context, sub Submission, opt Options) report.Result {
	opt = opt.forExercise(e)
	opt.defaults()
	res := report.Result{
		Schema:     report.Schema,
		Exercise:   e.ID,
		Title:      e.Title,
		Submission: sub.Name,
		File:       sub.File,
		Command:    e.command(sub),
		StartedAt:  time.Now().UTC().Truncate(time.Millisecond),
		Sandbox:    opt.Sandbox,
		Version:    opt.Version,
		// Where the programs run: in this process, or in the unit runner
		// inside a sandbox.
		Containment: harness.Probe().String(),
	}
	begin := time.Now()
	res.Checks = e.schedule(ctx, e.selected(opt), sub, opt)
	res.DurationMS = time.Since(begin).Milliseconds()
	res.Tally()
	return res
}

// schedule runs the checks and returns their verdicts in declared order.
// A check starts once every check it needs has finished; up to
// opt.Parallel checks run at once (each on its own program and ports), or
// one at a time for an exercise marked Sequential.
func (e *Exercise) schedule(ctx context.Context, checks []*Check, sub Submission, opt Options) []report.Check {
	parallel := opt.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	slots := opt.Slots
	if e.Sequential {
		parallel = 1
		// Its checks run one after the other, each right after the one
		// before: the exercise holds one slot throughout, so that the
		// checks of the exercises beside it never come in between.
		if !opt.slotHeld && slots.acquire(ctx) {
			defer slots.release()
		}
		slots = nil
	}
	results := make([]report.Check, len(checks))
	done := make([]chan struct{}, len(checks))
	index := make(map[string]int, len(checks))
	for i, c := range checks {
		done[i] = make(chan struct{})
		index[c.ID] = i
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, c := range checks {
		// Wait for prerequisites in declared order, so that with one slot
		// the checks run exactly in the order they are declared. A result
		// is written before its channel closes: once it is closed, the
		// prerequisite's status can be read.
		needs := map[string]report.Status{}
		for _, n := range c.Needs {
			if j, ok := index[n]; ok {
				<-done[j]
				needs[n] = results[j].Status
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if slots.acquire(ctx) {
				defer slots.release()
			}
			results[i] = e.runCheck(ctx, c, sub, opt, needs)
			close(done[i])
		})
	}
	wg.Wait()
	return results
}

// Job is one submission to grade with its exercise; GradeAll stores the
// result in it.
type Job struct {
	Exercise   *Exercise
	Submission Submission
	// Course, when set, replaces the options' course for this job: a
	// sample's own texts.
	Course Course
	Result report.Result
}

// options returns opt with the job's own course in place of opt's, when
// it has one.
func (j *Job) options(opt Options) Options {
	if j.Course != nil {
		opt.Course = j.Course
	}
	return opt
}

// GradeAll grades every job, n at a time, with one set of options: the
// ports and the resolved interpreters are shared as in one grading run.
func GradeAll(ctx context.Context, jobs []*Job, n int, opt Options) {
	sem := make(chan struct{}, max(1, n))
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			j.Result = j.Exercise.Grade(ctx, j.Submission, j.options(opt))
		})
	}
	wg.Wait()
}

// selected returns the checks the options leave to run, in order.
func (e *Exercise) selected(opt Options) []*Check {
	only := map[string]bool{}
	for _, id := range opt.settings.Only {
		only[id] = true
	}
	var out []*Check
	for _, c := range e.Checks {
		if opt.settings.Check(c.ID).Disabled || (len(only) > 0 && !only[c.ID]) {
			continue
		}
		if c.OnlyWithText != "" && e.text(opt, c.OnlyWithText) == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

// text returns the value of the exercise's text name under opt: the
// course's, else the exercise's default.
func (e *Exercise) text(opt Options, name string) string {
	if v, ok := opt.settings.Texts[name]; ok {
		return v
	}
	return e.Texts[name]
}

// NotSubmitted returns the result of a submission that lacks the exercise
// (its file was not handed in): marked Missing, every check skipped for
// reason, scored 0 of the exercise's points.
func (e *Exercise) NotSubmitted(sub Submission, opt Options, reason string) report.Result {
	res := e.Unrun(sub, opt, report.Skip, "skipped: "+reason, "")
	res.Missing = true
	return res
}

// Unrun returns the result of a submission none of whose checks could run:
// every check the options select gets status (report.Skip for a file not
// handed in, report.Fail for programs that cannot be run at all), with
// message and hint, under the options' points and visibility.
func (e *Exercise) Unrun(sub Submission, opt Options, status report.Status, message, hint string) report.Result {
	opt = opt.forExercise(e)
	opt.defaults()
	res := report.Result{
		Schema:     report.Schema,
		Exercise:   e.ID,
		Title:      e.Title,
		Submission: sub.Name,
		File:       sub.File,
		StartedAt:  time.Now().UTC().Truncate(time.Millisecond),
		Sandbox:    opt.Sandbox,
		Version:    opt.Version,
	}
	for _, c := range e.selected(opt) {
		rc := e.header(c, opt)
		rc.Status, rc.Message, rc.Hint = status, message, hint
		res.Checks = append(res.Checks, rc)
	}
	res.Tally()
	return res
}

// header returns the verdict of c before it runs: what the check is, its
// points and visibility under the options.
func (e *Exercise) header(c *Check, opt Options) report.Check {
	d := e.describe(c, opt)
	rc := report.Check{
		ID: c.ID, Title: d.Title, Category: c.Category, Requirement: d.Requirement,
		MaxPoints: c.Points, Visibility: opt.settings.Check(c.ID).Visibility,
	}
	if p := opt.settings.Check(c.ID).Points; p != nil {
		rc.MaxPoints = *p
	}
	return rc
}

// runCheck runs one check, or skips it when a prerequisite did not pass,
// and runs it again on a fresh port when another process took its port.
func (e *Exercise) runCheck(ctx context.Context, c *Check, sub Submission, opt Options, status map[string]report.Status) report.Check {
	rc := e.header(c, opt)
	for _, need := range c.Needs {
		if st, ok := status[need]; ok && st != report.Pass {
			rc.Status = report.Skip
			rc.SkippedBecause = need
			rc.Message = fmt.Sprintf("skipped: it needs %s, which did not pass (%s)", need, st)
			return rc
		}
	}
	timeout := opt.checkTimeout(c)
	var t *T
	var err error
	alone := false
	for attempt := 1; ; attempt++ {
		t, err = e.attempt(ctx, c, sub, opt, timeout, alone)
		if errors.Is(err, ErrRunAlone) && !alone && ctx.Err() == nil {
			alone = true
			continue
		}
		if !errors.Is(err, ErrPortTaken) || attempt == portAttempts || ctx.Err() != nil {
			break
		}
	}
	rc.DurationMS = time.Since(t.begin).Milliseconds()
	t.finish(&rc, err)
	return rc
}

// portAttempts is how many times a check is run when another process took
// the port netgrade had picked for it (netgrade's problem, not the
// submission's).
const portAttempts = 3

// ErrPortTaken is returned (wrapped) by a check whose port was taken by a
// process outside the grading between its choice and its use: the engine
// runs the check again on a fresh port.
var ErrPortTaken = errors.New("the port netgrade picked was taken by another process")

// ErrRunAlone is returned (wrapped) by a check whose program binds a port
// of its own choosing (a hard-coded 8888) and found it taken: by another
// program of the same grading run, netgrade's doing, not the submission's.
// The engine runs the check again while no other check of the run runs;
// when it still fails so, another program of the machine holds the port,
// and the check ends in netgrade's error, never charged.
var ErrRunAlone = errors.New("the program's own port is held by another program")

// attempt runs a check once, under its watchdog, and returns its T and
// outcome; alone, while no other check of the run runs (see ErrRunAlone).
func (e *Exercise) attempt(ctx context.Context, c *Check, sub Submission, opt Options, timeout time.Duration, alone bool) (*T, error) {
	release := opt.Ports.Shared
	if alone {
		release = opt.Ports.Alone
	}
	defer release()()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := &T{ctx: cctx, ex: e, check: c, sub: sub, opt: opt, begin: time.Now()}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("netgrade bug: check %s panicked: %v", c.ID, r)
			}
		}()
		done <- c.Run(t)
	}()
	var err error
	select {
	case err = <-done:
	case <-cctx.Done():
		// Watchdog: tear the programs down so the check's waits return.
		t.stopAll()
		select {
		case err = <-done:
		case <-time.After(watchdogGrace):
			err = fmt.Errorf("netgrade bug: check %s did not return %s after its deadline", c.ID, watchdogGrace)
		}
		// Whatever the check made of its programs' sudden end, the truth
		// is that the exchange did not finish in time.
		var f *Failure
		if ctx.Err() == nil && (err == nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &f)) {
			err = Failf("the check did not finish within %s: the program never completed the exchange", timeout)
		}
	}
	t.stopAll()
	return t, err
}

// finish turns the run's outcome and the observations into the verdict.
func (t *T) finish(rc *report.Check, err error) {
	var f *Failure
	var s *skipError
	var nj *notJudged
	switch {
	case err == nil:
		rc.Status = report.Pass
	case errors.As(err, &f):
		rc.Status = report.Fail
		rc.Message, rc.Expected, rc.Actual, rc.Hint = f.Message, f.Expected, f.Actual, f.Hint
	case errors.As(err, &s):
		rc.Status = report.Skip
		rc.Message = "skipped: " + s.reason
	case errors.As(err, &nj):
		rc.Status = report.Skip
		rc.NotJudged = true
		rc.Message = "not judged: " + nj.reason
	case t.ctx.Err() != nil && errors.Is(err, context.Canceled):
		rc.Status = report.Error
		rc.Message = "grading was interrupted"
	default:
		rc.Status = report.Error
		rc.Message = "netgrade could not run this check: " + err.Error()
	}
	main := t.mainProcess()
	var tb *pyenv.Traceback
	if main != nil {
		tb = pyenv.LastTraceback(main.Output().Lines())
	}
	if rc.Status == report.Pass && tb.IsSyntax() {
		// A program Python cannot compile never ran a line: whatever the
		// check saw (nothing read from stdin, nothing sent), it earns no
		// point.
		rc.Status = report.Fail
		rc.Message = "the program does not start: Python cannot compile it"
	}
	if rc.Status != report.Pass && main != nil {
		if ex := main.Exit(); ex.Exited {
			rc.Exit = ex.String()
			if h := limitHint(ex.Limit); rc.Status == report.Fail && h != "" {
				rc.Hint = strings.TrimSpace(h + " " + rc.Hint)
			}
		}
		if tb != nil && tb.Exception != "KeyboardInterrupt" {
			rc.Traceback = tb.Line
			if rc.Status == report.Fail {
				if h := diagnose(tb); h != "" && !strings.Contains(rc.Hint, h) {
					rc.Hint = strings.TrimSpace(h + " " + rc.Hint)
				}
			}
		}
	}
	if rc.Status == report.Fail && rc.Hint == "" {
		rc.Hint = t.ex.describe(t.check, t.opt).Hint
	}
	rc.Transcript = t.transcript()
	t.mu.Lock()
	rc.Notes = append([]string(nil), t.notices...)
	t.mu.Unlock()
}

// limitHint returns advice for a program that ran into one of netgrade's
// limits, naming the limit and its value.
func limitHint(l harness.LimitHit) string {
	var advice string
	switch l.Kind {
	case harness.LimitProcesses:
		advice = "A server of this course needs a few processes at most: look for a fork() or a new thread in a loop that never ends."
	case harness.LimitMemory:
		advice = "Look for data that grows without end: a list appended to in a loop, or a whole stream read at once."
	case harness.LimitOutput:
		advice = "Look for a print in a loop that never waits, for example on a socket that was closed."
	default:
		return ""
	}
	return "Your program ran into a limit: " + l.String() + ". " + advice
}

// diagnose returns advice for a Python exception students commonly hit.
func diagnose(tb *pyenv.Traceback) string {
	line := tb.Line
	switch {
	case tb.Exception == "EOFError":
		return "The program reads standard input (input()), which is closed when it is graded: take the values from the command line with sys.argv instead."
	case tb.IsSyntax():
		return fmt.Sprintf("Python cannot compile the file (%s): run `python3 FILE` yourself and fix the line it names.", tb.Exception)
	case tb.Exception == "IndexError" && strings.Contains(line, "list index out of range"):
		return "An index is out of range: if it is sys.argv, check how many arguments the program is given and in which order."
	case tb.Exception == "ValueError" && strings.Contains(line, "invalid literal for int()"):
		return "int() was given something that is not a number: check which of sys.argv is the port."
	case strings.Contains(line, "Address already in use"):
		return "The address is already in use: the program probably binds a fixed port instead of the one on its command line."
	case tb.Exception == "UnicodeDecodeError":
		return "Decoding bytes as UTF-8 failed: catch UnicodeDecodeError (or decode with errors='replace') so that odd bytes do not stop the program."
	case tb.Exception == "BrokenPipeError" || tb.Exception == "ConnectionResetError":
		return "The other side closed the connection: recv() returning b'' means the client has gone; stop using that socket."
	}
	return ""
}

// Worth sets the check's points and returns it: for an exercise that
// weighs a shared check differently.
func (c *Check) Worth(points float64) *Check {
	c.Points = points
	return c
}

// NewExercise completes an exercise as its chapter declares it and returns
// it: every check's short ID ("log-format") and the short IDs of its Needs
// get the exercise's prefix ("udp-server/log-format"); a check that names
// no prerequisite and is not Independent gets the exercise's Needs; a
// check without a Timeout gets the exercise's CheckTimeout. A chapter
// thus types each ID once, without its exercise, and the exercise's
// default prerequisite once. It panics on an ID already prefixed or an
// Independent check with Needs: programming errors the tests catch.
func NewExercise(e *Exercise) *Exercise {
	full := func(id string) string {
		if id == "" || strings.Contains(id, "/") {
			panic(fmt.Sprintf("exercise %s: check ID %q must be declared short, without the exercise", e.ID, id))
		}
		return e.ID + "/" + id
	}
	for _, c := range e.Checks {
		short := c.ID
		c.ID = full(short)
		switch {
		case c.Independent && len(c.Needs) > 0:
			panic(fmt.Sprintf("check %s is Independent but needs %v", c.ID, c.Needs))
		case len(c.Needs) == 0 && !c.Independent && e.Needs != "" && short != e.Needs:
			c.Needs = []string{e.Needs}
		}
		needs := make([]string, len(c.Needs))
		for i, n := range c.Needs {
			needs[i] = full(n)
		}
		c.Needs = needs
		if c.Timeout == 0 {
			c.Timeout = e.CheckTimeout
		}
	}
	return e
}
