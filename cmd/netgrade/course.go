package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/netgrade/netgrade/course"
	httpch "github.com/netgrade/netgrade/graders/http"
	"github.com/netgrade/netgrade/internal/apispec"
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
	c.Flags().StringVar(&f.python, "python", "", "the Python interpreter that runs .py submissions in place of python3 (e.g. /usr/bin/python3, which has Debian's Flask and FastAPI); overrides the course file's python: key")
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
	cmd.AddCommand(newCourseShowCmd(), &cobra.Command{
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
			// The instructor's overrides beside it are read as a batch
			// would read them: a mistake is found now, not after a class
			// was graded.
			bw := newBatchWiring(crs)
			var none overridesFlag
			ovr, err := none.load(f, bw.Registry.Exercises(), bw.Course)
			if err != nil {
				return err
			}
			if ovr.Len() > 0 {
				fmt.Fprintf(w, "%s: valid overrides file (%s)\n", ovr.Source, plural(ovr.Len(), "override"))
			}
			return nil
		},
	})
	return cmd
}

// specCourse is the value of a bare --spec: the course's own document.
const specCourse = "course"

func newCourseShowCmd() *cobra.Command {
	var spec string
	var crs courseFlag
	c := &cobra.Command{
		Use:   "show [--spec[=DOCUMENT]]",
		Short: "Print the built-in course file, or the API document rest-api is graded by",
		Long: `Print the built-in course file, a starting point for your own.

With --spec, print instead the OpenAPI document the rest-api exercise is graded
by: the course's (the built-in course's is ` + apispec.DefaultName + `; with --course FILE,
the one that course names in its spec text), or, with --spec=DOCUMENT, a
document netgrade carries (` + strings.Join(apispec.Builtins(), ", ") + `) or a file. A
student's API must serve what it describes: its paths, bodies and status codes.`,
		Example: `  netgrade course show > course.yaml
  netgrade course show --spec > todo-api.yaml
  netgrade course show --spec=books-api.yaml
  netgrade course show --spec --course course.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			w := c.OutOrStdout()
			if !c.Flags().Changed("spec") {
				if crs.path != "" {
					return usageErr("--course goes with --spec: 'netgrade course show' prints the built-in course; 'netgrade course check FILE' checks yours")
				}
				_, err := w.Write(course.YAML())
				return err
			}
			value := spec
			if value == specCourse {
				cs, err := crs.load()
				if err != nil {
					return err
				}
				value = apispec.DefaultName
				if v, ok := cs.Settings(httpch.RESTAPI().ID).Texts[httpch.TextSpec]; ok {
					value = v
				}
			}
			api, err := apispec.FromSetting(value)
			if err != nil {
				return usageErr("--spec: %v", err)
			}
			_, err = w.Write(api.Source())
			return err
		},
	}
	c.Flags().StringVar(&spec, "spec", "", "print the OpenAPI document rest-api is graded by (the course's), or the document named: "+strings.Join(apispec.Builtins(), ", ")+" or a file")
	c.Flags().Lookup("spec").NoOptDefVal = specCourse
	c.Flags().StringVar(&crs.path, "course", "", "with --spec: the course file whose document to print (default: the built-in course)")
	return c
}
