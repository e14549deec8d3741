package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/spf13/cobra"
)

// courseFlag is the --course flag every grading command takes.
type courseFlag struct {
	path   string
	python string
}

func (f *courseFlag) register(c *cobra.Command) {
	c.Flags().StringVar(&f.path, "course", "", "course file (YAML) to grade by; default: the built-in course ('netgrade course show')")
	c.Flags().StringVar(&f.python, "python", "", "the Python interpreter that runs .py submissions in place of python3 (e.g. /usr/bin/python3, which has Flask); overrides the course's `python:`")
}

// load reads the course; a bad course file is a usage error (exit 2) that
// names the file, line and column of every mistake, and a missing one says
// so.
func (f *courseFlag) load() (*coursefile.Course, error) {
	c, err := f.read()
	if err != nil {
		return nil, err
	}
	if f.python != "" {
		if _, err := exec.LookPath(f.python); err != nil {
			return nil, usageErr("--python %s: no such interpreter (%v); give the path of a Python 3 interpreter", f.python, err)
		}
		c.SetPython(f.python)
	}
	return c, nil
}

// read reads the course file, or the built-in course without one.
func (f *courseFlag) read() (*coursefile.Course, error) {
	if f.path == "" {
		c, err := coursefile.Parse(course.DefaultName, course.YAML(), course.Registry())
		if err != nil {
			return nil, internalErr(fmt.Errorf("the built-in course is not valid: %w", err))
		}
		return c, nil
	}
	c, err := coursefile.Load(f.path, course.Registry())
	var mistakes coursefile.Errors
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &mistakes):
		return nil, courseErr("the course file is not valid:\n%v", err)
	default:
		return nil, courseErr("%v", err)
	}
}

func newCourseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "course",
		Short: "Show the built-in course file, or check one of your own",
		Long: `A course file (YAML) says which exercises are graded and which file of a
student's folder is which exercise, how a file is run, the points, visibility
and deadlines of checks, and the texts the course fixes. 'netgrade course show'
prints the built-in course, a starting point for your own; give yours to any
grading command with --course FILE.`,
	}
	cmd.AddCommand(newCourseGuessCmd())
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the built-in course file",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := c.OutOrStdout().Write(course.YAML())
			return err
		},
	}, &cobra.Command{
		Use:   "check FILE",
		Short: "Check a course file and list what it grades",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f := courseFlag{path: args[0]}
			crs, err := f.load()
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "%s: valid course file", args[0])
			if crs.Name != "" {
				fmt.Fprintf(w, " (%s)", crs.Name)
			}
			fmt.Fprintln(w)
			for _, e := range crs.Exercises {
				note := ""
				if e.Grader == nil {
					note = "  (no grader for it in this netgrade: it is listed, never graded)"
				}
				fmt.Fprintf(w, "  %-14s %s%s\n", e.ID, strings.Join(e.Files, " or "), note)
			}
			return nil
		},
	})
	return cmd
}
