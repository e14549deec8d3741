package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/report"
)

// sandboxed grades the fixtures of list through `netgrade batch` in a
// sandbox (netns or docker), one student per fixture, as an instructor's
// batch would: the verdicts then come from the programs as they run in
// that sandbox, under the same load.
type sandboxed struct {
	bin   string // a static netgrade
	kind  string
	image string
	dir   string // scratch: the classes and each run's output
	ids   []string
	// classes are graded one batch each: the fixtures graded under the
	// default course, and those that name course texts, one class per set
	// of texts with a course file that sets them.
	classes []*class
	// student is the class folder of each job, by job.
	student map[*job]string
}

// class is one batch of fixtures: a folder of students and the course
// they are graded under ("" for the default).
type class struct {
	dir, course string
}

// newSandboxed builds netgrade and writes the class: one folder per
// fixture of list holding it under the course's file name. The reference
// (netgrade's own Go) is no student; a fixture that needs a framework is
// left out but in docker, whose image has them.
func newSandboxed(dir, kind, image string, ids []string, list []*job, stdout io.Writer) (*sandboxed, []*job, error) {
	s := &sandboxed{kind: kind, image: image, dir: dir, ids: ids, student: map[*job]string{}}
	s.bin = filepath.Join(dir, "netgrade")
	build := exec.Command("go", "build", "-o", s.bin, "github.com/netgrade/netgrade/cmd/netgrade")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("building netgrade: %w\n%s", err, out)
	}
	files := course.Files()
	byTexts := map[string]*class{}
	var kept []*job
	for _, j := range list {
		if j.Reference() {
			continue
		}
		if len(j.Requires) > 0 && kind != "docker" {
			fmt.Fprintf(stdout, "flake: %s needs %s: graded only with -sandbox docker\n", j.ID, strings.Join(j.Requires, ", "))
			continue
		}
		key := textsKey(j)
		c := byTexts[key]
		if c == nil {
			c = &class{dir: filepath.Join(dir, fmt.Sprintf("class-%d", len(s.classes)))}
			if key != "" {
				c.course = c.dir + ".yaml"
				if err := os.WriteFile(c.course, courseYAML(ids, files, j), 0o644); err != nil {
					return nil, nil, err
				}
			}
			byTexts[key] = c
			s.classes = append(s.classes, c)
		}
		name := strings.NewReplacer("/", "--", ".", "-").Replace(j.ID)
		if err := handIn(j.Submission.File, filepath.Join(c.dir, name), files[j.Exercise.ID]); err != nil {
			return nil, nil, fmt.Errorf("fixture %s: %w", j.ID, err)
		}
		s.student[j] = name
		kept = append(kept, j)
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("no fixture of %s can be graded in the %s sandbox", strings.Join(ids, ", "), kind)
	}
	return s, kept, nil
}

// textsKey names the course texts a fixture is graded under: "" for the
// default course.
func textsKey(j *job) string {
	if len(jobTexts(j)) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(jobTexts(j)))
	var b strings.Builder
	b.WriteString(j.Exercise.ID)
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s=%s", k, jobTexts(j)[k])
	}
	return b.String()
}

// courseYAML is a course of the exercises ids that sets j's texts on j's
// exercise.
func courseYAML(ids []string, files map[string]string, j *job) []byte {
	var b strings.Builder
	b.WriteString("name: flake guard\nexercises:\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "  - id: %s\n    file: %s\n", id, files[id])
		if id != j.Exercise.ID {
			continue
		}
		b.WriteString("    texts:\n")
		for _, k := range slices.Sorted(maps.Keys(jobTexts(j))) {
			fmt.Fprintf(&b, "      %s: %s\n", k, strconv.Quote(jobTexts(j)[k]))
		}
	}
	return []byte(b.String())
}

// handIn copies the folder of a fixture's file into folder, as a student
// hands it in: the fixture under the course's file name, the files it
// keeps next to itself as they are.
func handIn(file, folder, courseFile string) error {
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(file), e.Name()))
		if err != nil {
			return err
		}
		name := e.Name()
		if name == filepath.Base(file) {
			name = courseFile
		}
		if err := os.WriteFile(filepath.Join(folder, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// run grades the classes once, n students at a time, and records each
// job's verdicts as gradeRun does.
func (s *sandboxed) run(ctx context.Context, r, n int, list []*job) error {
	byStudent := map[string]*batch.Record{}
	for i, c := range s.classes {
		out := filepath.Join(s.dir, fmt.Sprintf("run-%d-%d", r, i))
		args := []string{"batch", c.dir, "-o", out, "--sandbox", s.kind, "-j", strconv.Itoa(n), "--exercise", strings.Join(s.ids, ",")}
		if c.course != "" {
			args = append(args, "--course", c.course)
		}
		if s.kind == "docker" {
			args = append(args, "--image", s.image)
		}
		cmd := exec.CommandContext(ctx, s.bin, args...)
		b, err := cmd.CombinedOutput()
		// Exit status 4 (a submission that cannot be graded properly) is
		// a verdict like any other, compared from run to run below.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 4) {
			return fmt.Errorf("netgrade %s: %w\n%s", strings.Join(args, " "), err, b)
		}
		recs, err := batch.ReadRecords(out)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			byStudent[rec.Student] = rec
		}
	}
	for _, j := range list {
		rec := byStudent[s.student[j]]
		var res report.Result
		var problem string
		switch {
		case rec == nil:
			problem = "(no record of the student)"
		case rec.Problem != "":
			problem = "(not graded properly: " + rec.Problem + ")"
		}
		if rec != nil {
			if i := slices.IndexFunc(rec.Results, func(x report.Result) bool { return x.Exercise == j.Exercise.ID }); i >= 0 {
				res = rec.Results[i]
			}
		}
		j.record(res, problem)
	}
	return nil
}

// jobTexts are the course texts j is graded under: its own course's, for
// its exercise (none for the default course).
func jobTexts(j *job) map[string]string {
	if j.Course == nil {
		return nil
	}
	return j.Course.Settings(j.Exercise.ID).Texts
}
