package main

import (
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/render"
)

// batchWiring is what `netgrade batch` and `netgrade merge` take from the
// course: its exercises and check settings, how a student's file of each
// exercise is found, and how a student's own page is written.
type batchWiring struct {
	Registry *graders.Registry
	// Course gives each exercise its check settings and run command.
	Course      graders.Course
	Find        batch.Finder
	Expected    func(exercise string) string
	StudentPage batch.PageFunc
}

// newBatchWiring returns the wiring of a course: its exercises that
// netgrade can grade, in course order, each with its check settings and run
// command; a student's file found by the course's file name; and the
// per-submission HTML report as the student's own page.
func newBatchWiring(c *coursefile.Course) batchWiring {
	var exs []*graders.Exercise
	for _, e := range c.Exercises {
		if e.Grader != nil {
			exs = append(exs, e.Grader)
		}
	}
	fileOf := func(ex string) string {
		if e := c.Exercise(ex); e != nil && len(e.Files) > 0 {
			return strings.Join(e.Files, " or ")
		}
		return ex + ".py"
	}
	return batchWiring{
		Registry:    graders.NewRegistry(exs...),
		Course:      c,
		Find:        batch.RulesFinder(courseRules(c)),
		Expected:    fileOf,
		StudentPage: render.HTMLNotes,
	}
}

// courseRules are the course's file names and patterns, per exercise, in
// course order: the one finder of `check`, `batch` and `course guess`.
func courseRules(c *coursefile.Course) []batch.Rule {
	var rules []batch.Rule
	for _, e := range c.Exercises {
		rules = append(rules, batch.Rule{Exercise: e.ID, Patterns: e.Files})
	}
	return rules
}
