package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// renderer writes results in one format; color is true only when the
// destination is a terminal and NO_COLOR is unset.
type renderer func(w io.Writer, results []report.Result, color bool) error

// renderers are the output formats, by --format name.
func renderers() map[string]renderer {
	return map[string]renderer{
		"text": func(w io.Writer, rs []report.Result, color bool) error {
			return render.Text(w, rs, render.TextOptions{Color: color})
		},
		"json": func(w io.Writer, rs []report.Result, _ bool) error {
			return render.JSON(w, rs)
		},
	}
}

// outputFlags are the report flags every grading command takes.
type outputFlags struct {
	formats []string
	out     string
}

func (o *outputFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&o.formats, "format", nil, "report format NAME[:PATH], repeatable; NAME is one of "+strings.Join(formatNames(), ", ")+" (default text)")
	c.Flags().StringVarP(&o.out, "output", "o", "", "write the report to this file instead of standard output (with a single --format)")
}

func formatNames() []string {
	var names []string
	for n := range renderers() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// outputSpec is one parsed --format.
type outputSpec struct {
	name string
	path string
}

// parse checks the flags before any grading starts, so that a typo costs
// nothing.
func (o *outputFlags) parse() ([]outputSpec, error) {
	raw := o.formats
	if len(raw) == 0 {
		raw = []string{"text"}
	}
	rs := renderers()
	var specs []outputSpec
	stdoutUsers := 0
	for _, f := range raw {
		name, path, _ := strings.Cut(f, ":")
		if _, ok := rs[name]; !ok {
			return nil, usageErr("unknown format %q: use one of %s", name, strings.Join(formatNames(), ", "))
		}
		if path == "" && o.out != "" {
			path = o.out
		}
		if path == "" || path == "-" {
			path = ""
			stdoutUsers++
		}
		specs = append(specs, outputSpec{name: name, path: path})
	}
	if o.out != "" && len(raw) > 1 {
		return nil, usageErr("-o names one file; with several --format give each its path as NAME:PATH")
	}
	if stdoutUsers > 1 {
		return nil, usageErr("several formats would go to standard output: give all but one a path (NAME:PATH)")
	}
	return specs, nil
}

// write renders the results in every requested format. Files are written
// whole to a temporary name and renamed, so a reader never sees half a
// report.
func write(specs []outputSpec, results []report.Result, stdout io.Writer) error {
	rs := renderers()
	for _, s := range specs {
		if s.path == "" {
			if err := rs[s.name](stdout, results, colorFor(stdout)); err != nil {
				return internalErr(fmt.Errorf("writing the %s report: %w", s.name, err))
			}
			continue
		}
		var buf bytes.Buffer
		if err := rs[s.name](&buf, results, false); err != nil {
			return internalErr(fmt.Errorf("rendering the %s report: %w", s.name, err))
		}
		if err := writeFileAtomic(s.path, buf.Bytes()); err != nil {
			return internalErr(err)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file and rename.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// colorFor reports whether w is a terminal that wants colour: never under
// NO_COLOR (https://no-color.org) or TERM=dumb.
func colorFor(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
