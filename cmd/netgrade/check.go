package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/suggest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// watchSettle is how long --watch waits after the last change to a file
// before it regrades: an editor saves a file in several steps (write a
// temporary file, rename it, set its mode), and the grade must see the
// file once it is whole. It delays a regrade; it never decides a verdict.
const watchSettle = 200 * time.Millisecond

// clearScreen moves a terminal's cursor home and clears it.
const clearScreen = "\x1b[H\x1b[2J"

func newCheckCmd() *cobra.Command {
	var out outputFlags
	var crs courseFlag
	var watch, failuresOnly, verbose bool
	c := &cobra.Command{
		Use:   "check [EXERCISE] [DIR]",
		Short: "Check the exercises in your folder (for students)",
		Long: `Check the exercises of your folder (the current one unless DIR is given): netgrade
finds each exercise's file by the name the course gives it (see 'netgrade course
show'; udp-server.py, udp-client.py, tcp-server.py, ...), grades every one it
finds, says which files are missing, and ends with a summary: exercise, score and
the checks that fail. 'netgrade check udp-server' checks one exercise.

For every failing check it tells what was expected, what happened and what to
try, the first failing check first; with --failures-only an exercise that
passes takes one line. With --watch it regrades an exercise each time you save
its file, until you press Ctrl-C.

Exit status: 0 when every exercise found passes, 1 when a check fails, 2 when
nothing could be checked (no file found, bad arguments or course file), 3 when
netgrade itself could not run some checks or was interrupted (not your
program's fault).`,
		Example: `  netgrade check
  netgrade check udp-server
  netgrade check --watch ~/network-exercises
  netgrade check --failures-only
  netgrade check --format junit:report.xml --format text`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			specs, err := out.parse()
			if err != nil {
				return err
			}
			cs, err := crs.load()
			if err != nil {
				return err
			}
			ck, err := newChecker(cs, args)
			if err != nil {
				return err
			}
			ck.specs = specs
			ck.failuresOnly = failuresOnly
			ck.stdout, ck.stderr = c.OutOrStdout(), c.ErrOrStderr()
			if verbose {
				sayMechanisms(ck.stderr)
			}
			if watch {
				return ck.watch(c.Context())
			}
			return ck.once(c.Context())
		},
	}
	out.register(c)
	crs.register(c)
	c.Flags().BoolVarP(&watch, "watch", "w", false, "regrade an exercise each time its file is saved, until Ctrl-C")
	c.Flags().BoolVar(&failuresOnly, "failures-only", false, "show an exercise that passes in one line, only failures in full (also --quiet)")
	c.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "quiet" {
			name = "failures-only"
		}
		return pflag.NormalizedName(name)
	})
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, verboseUsage)
	return c
}

// checker grades a student's folder by the course's file names.
type checker struct {
	course *coursefile.Course
	dir    string
	items  []*checkItem
	// single is true when one exercise was asked for.
	single bool
	opt    graders.Options
	specs  []outputSpec
	// failuresOnly shows a passing exercise in one line.
	failuresOnly bool
	stdout       io.Writer
	stderr       io.Writer
	// found is what the folder held when last looked at.
	found batch.Found
}

// checkItem is one exercise of the course in the folder.
type checkItem struct {
	ex *coursefile.Entry
	// path is the exercise's file as the report shows it (DIR/FILE): the
	// file found, or the course's first name for it when none is.
	path  string
	found bool
	res   *report.Result
}

// newChecker reads [EXERCISE] [DIR] and lists the course's exercises the
// folder should hold.
func newChecker(cs *coursefile.Course, args []string) (*checker, error) {
	ck := &checker{course: cs, dir: ".", opt: newOptions()}
	var only string
	switch len(args) {
	case 2:
		only, ck.dir = args[0], args[1]
	case 1:
		if cs.Exercise(args[0]) != nil {
			only = args[0]
		} else {
			ck.dir = args[0]
		}
	}
	if only != "" && cs.Exercise(only) == nil {
		return nil, usageErr("the course has no exercise %q%s; its exercises: %s", only, suggest.DidYouMean(only, cs.IDs()), strings.Join(cs.IDs(), ", "))
	}
	st, err := os.Stat(ck.dir)
	switch {
	case err != nil && only == "" && len(args) == 1:
		return nil, usageErr("%q is neither an exercise of the course%s nor a folder; its exercises: %s", ck.dir, suggest.DidYouMean(ck.dir, cs.IDs()), strings.Join(cs.IDs(), ", "))
	case err != nil:
		return nil, usageErr("cannot read the folder %s: %v", ck.dir, err)
	case !st.IsDir():
		return nil, usageErr("%s is not a folder: give the folder that holds your exercise files (to grade one file, use 'netgrade grade EXERCISE FILE')", ck.dir)
	}
	for _, e := range cs.Exercises {
		if only != "" && e.ID != only {
			continue
		}
		ck.items = append(ck.items, &checkItem{ex: e, path: filepath.Join(ck.dir, filepath.FromSlash(e.File))})
	}
	ck.single = only != ""
	return ck, nil
}

// look records which files the folder holds now, found by the course's
// names and patterns as `netgrade batch` finds them (batch.Find).
func (ck *checker) look() {
	found, err := batch.Find(ck.dir, courseRules(ck.course))
	if err != nil {
		fmt.Fprintf(ck.stderr, "netgrade: %v\n", err)
	}
	ck.found = found
	for _, it := range ck.items {
		p := found.Path(it.ex.ID)
		it.found = p != ""
		if !it.found {
			it.res = nil
			it.path = filepath.Join(ck.dir, filepath.FromSlash(it.ex.File))
			continue
		}
		if np := filepath.Join(ck.dir, filepath.FromSlash(p)); np != it.path {
			it.path, it.res = np, nil
		}
	}
}

// notes says what the folder holds beyond the files graded: the other
// candidates of an exercise checked, and (when every exercise is checked)
// the source files no exercise takes.
func (ck *checker) notes() []string {
	f := batch.Found{}
	for _, ff := range ck.found.Files {
		if slices.ContainsFunc(ck.items, func(it *checkItem) bool { return it.ex.ID == ff.Exercise }) {
			f.Files = append(f.Files, ff)
		}
	}
	if !ck.single {
		f.NotGraded = ck.found.NotGraded
	}
	return f.Notes()
}

// gradable reports whether an item can be graded now.
func (it *checkItem) gradable() bool { return it.found && it.ex.Grader != nil }

// gradeAll grades the items' files side by side (graders.GradeSideBySide):
// the exercises' designed waits overlap, so that a folder takes about the
// time of its slowest exercise, not the sum of them all.
func (ck *checker) gradeAll(ctx context.Context, items []*checkItem) {
	var jobs []*graders.Job
	byJob := map[*graders.Job]*checkItem{}
	for _, it := range items {
		sub, err := ck.course.Submission(it.ex, it.path)
		if err != nil {
			// The file went away between look and grade.
			it.found, it.res = false, nil
			continue
		}
		fmt.Fprintf(ck.stderr, "netgrade: checking %s (%s)…\n", it.path, it.ex.ID)
		j := &graders.Job{Exercise: it.ex.Grader, Submission: sub}
		jobs = append(jobs, j)
		byJob[j] = it
	}
	opt := ck.opt
	opt.Course = ck.course
	graders.GradeSideBySide(ctx, jobs, opt, nil)
	// A new advisor per grading: a module installed since the last one
	// (under --watch) is found.
	mods := pyenv.NewAdvisor(ck.opt.Interpreters)
	for _, j := range jobs {
		r := []report.Result{j.Result}
		mods.Local(ctx, r, "netgrade check")
		byJob[j].res = &r[0]
	}
}

// expected lists the file names the course gives, for messages.
func (ck *checker) expected() string {
	var names []string
	more := false
	for _, it := range ck.items {
		names = append(names, it.ex.File)
		more = more || len(it.ex.Files) > 1
	}
	if more {
		return strings.Join(names, ", ") + " (or the other names and patterns the course gives)"
	}
	return strings.Join(names, ", ")
}

// unplaced names the source files of the folder no exercise took, for a
// message that says nothing was found ("" when there are none).
func (ck *checker) unplaced() string {
	if len(ck.found.NotGraded) == 0 {
		return ""
	}
	return "; handed in, not graded: " + strings.Join(ck.found.NotGraded, ", ") + " (rename your file, or give its name to the exercise's `file:` in a course file)"
}

// once grades every file found and reports.
func (ck *checker) once(ctx context.Context) error {
	ck.look()
	n := 0
	for _, it := range ck.items {
		if it.gradable() {
			n++
		}
	}
	if n == 0 {
		if ck.single {
			it := ck.items[0]
			if it.found {
				return usageErr("%s: this netgrade has no grader for %s yet", it.path, it.ex.ID)
			}
			return usageErr("no file %s in %s: the course names %s's file %s (see 'netgrade course show')%s", it.ex.File, ck.dir, it.ex.ID, strings.Join(it.ex.Files, " or "), ck.unplaced())
		}
		return usageErr("found no exercise file in %s: netgrade looks for %s (the course's file names; see 'netgrade course show')%s", ck.dir, ck.expected(), ck.unplaced())
	}
	var todo []*checkItem
	for _, it := range ck.items {
		if it.gradable() {
			todo = append(todo, it)
		}
	}
	ck.gradeAll(ctx, todo)
	if ctx.Err() != nil {
		return internalErr(fmt.Errorf("interrupted"))
	}
	results := ck.results()
	if err := ck.report(results, ck.specs); err != nil {
		return err
	}
	if err := ck.finish(results); err != nil {
		return err
	}
	return verdictErr(results)
}

// results returns the results of the graded items, in course order.
func (ck *checker) results() []report.Result {
	var rs []report.Result
	for _, it := range ck.items {
		if it.res != nil {
			rs = append(rs, *it.res)
		}
	}
	return rs
}

// rows returns the summary table's rows.
func (ck *checker) rows() []render.SummaryRow {
	var rows []render.SummaryRow
	for _, it := range ck.items {
		row := render.SummaryRow{Exercise: it.ex.ID, File: it.path, Result: it.res}
		switch {
		case it.res != nil:
		case !it.found:
			row.Missing = true
			row.Note = "missing"
			if it.ex.Grader == nil {
				row.Note = "missing (this netgrade cannot grade it yet)"
			}
		case it.ex.Grader == nil:
			row.Note = "found, but this netgrade has no grader for " + it.ex.ID + " yet"
		default:
			row.Note = "not graded"
		}
		rows = append(rows, row)
	}
	return rows
}

// report writes the results in the requested formats, as a student reads
// them; the text report ends with the summary table.
func (ck *checker) report(results []report.Result, specs []outputSpec) error {
	return writeFor(specs, results, ck.stdout, renderOpts{student: true, summary: ck.rows(), failuresOnly: ck.failuresOnly})
}

// finish ends one run (check's single run, or one regrade under --watch),
// once however many report calls wrote it, so that nothing is said twice:
// it tells GitHub Actions about the results and, when no text report goes
// to the terminal, names the missing files on stderr.
func (ck *checker) finish(results []report.Result) error {
	if err := githubStep(ck.specs, results, ck.stderr); err != nil {
		return err
	}
	for _, n := range ck.notes() {
		fmt.Fprintf(ck.stderr, "netgrade: %s\n", render.Terminal(n, false))
	}
	for _, s := range ck.specs {
		if s.name == "text" && s.path == "" {
			return nil
		}
	}
	var missing []string
	for _, row := range ck.rows() {
		if row.Missing {
			missing = append(missing, row.File)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(ck.stderr, "netgrade: missing files: %s\n", strings.Join(missing, ", "))
	}
	return nil
}

// watch grades every file found, then regrades an exercise each time its
// file changes, until ctx ends (Ctrl-C).
func (ck *checker) watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return internalErr(fmt.Errorf("watching %s: %w", ck.dir, err))
	}
	defer w.Close()
	// Watch the folders, not the files: editors replace a file by renaming
	// a new one over it, and a file may be created under a name the
	// course's patterns take.
	if err := watchTree(w, ck.dir); err != nil {
		return internalErr(err)
	}
	ck.look()
	var first []*checkItem
	for _, it := range ck.items {
		if it.gradable() {
			first = append(first, it)
		}
	}
	ck.regrade(ctx, first, "")
	pending := map[*checkItem]bool{}
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(ck.stderr, "netgrade: stopped watching.")
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			fmt.Fprintf(ck.stderr, "netgrade: watching %s: %v\n", ck.dir, err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Op&fsnotify.Create != 0 {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					_ = watchTree(w, ev.Name)
				}
			}
			before := map[*checkItem]string{}
			for _, it := range ck.items {
				before[it] = it.path
			}
			ck.look()
			changed := false
			for _, it := range ck.items {
				abs, _ := filepath.Abs(it.path)
				evAbs, _ := filepath.Abs(ev.Name)
				if it.path != before[it] || abs == evAbs {
					pending[it] = true
					changed = true
				}
			}
			if changed {
				settle = time.After(watchSettle)
			}
		case <-settle:
			settle = nil
			var todo []*checkItem
			var names []string
			for _, it := range ck.items {
				if pending[it] {
					todo = append(todo, it)
					names = append(names, it.path)
				}
			}
			clear(pending)
			ck.regrade(ctx, todo, strings.Join(names, ", "))
		}
	}
}

// watchTree watches dir and its folders down to the depth the finder
// searches.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "__pycache__" || strings.Count(filepath.ToSlash(rel), "/") >= 3) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		return nil
	})
}

// regrade grades the items whose files changed and shows their reports
// and the folder's summary: on a terminal the screen is cleared first.
// Report files (--format NAME:PATH) are rewritten with every result.
func (ck *checker) regrade(ctx context.Context, todo []*checkItem, changed string) {
	ck.look()
	var gradable []*checkItem
	for _, it := range todo {
		if it.gradable() {
			gradable = append(gradable, it)
		}
	}
	ck.gradeAll(ctx, gradable)
	var shown []report.Result
	for _, it := range gradable {
		if it.res != nil {
			shown = append(shown, *it.res)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if isTerminal(ck.stdout) {
		fmt.Fprint(ck.stdout, clearScreen)
	} else if changed != "" {
		fmt.Fprintln(ck.stdout, "\n────────────────────────────────────────")
	}
	now := time.Now().Format("15:04:05")
	if changed != "" {
		fmt.Fprintf(ck.stdout, "netgrade check --watch: %s changed at %s\n\n", render.Terminal(changed, false), now)
	} else {
		fmt.Fprintf(ck.stdout, "netgrade check --watch: first check at %s\n\n", now)
	}
	var toStdout, toFiles []outputSpec
	for _, s := range ck.specs {
		if s.path == "" {
			toStdout = append(toStdout, s)
		} else {
			toFiles = append(toFiles, s)
		}
	}
	if err := ck.report(shown, toStdout); err != nil {
		fmt.Fprintf(ck.stderr, "netgrade: %v\n", err)
	}
	if len(toFiles) > 0 {
		if err := ck.report(ck.results(), toFiles); err != nil {
			fmt.Fprintf(ck.stderr, "netgrade: %v\n", err)
		}
	}
	if err := ck.finish(shown); err != nil {
		fmt.Fprintf(ck.stderr, "netgrade: %v\n", err)
	}
	fmt.Fprintf(ck.stdout, "\nWatching %s for changes to %s (Ctrl-C to stop).\n", render.Terminal(ck.dir, false), render.Terminal(ck.expected(), false))
}
