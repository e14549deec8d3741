package course_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

// TestCourseIsTheOneList checks that everything that lists exercises
// derives from the course: the registry builds (no duplicate IDs, no check
// needing a later one), every exercise has a reference, the default course
// file parses with the texts of each grader, and every fixture folder is an
// exercise of the course.
func TestCourseIsTheOneList(t *testing.T) {
	reg := course.Registry()
	exs := course.Exercises()
	require.Len(t, reg.Exercises(), len(exs))
	for i, e := range exs {
		assert.Equal(t, e.ID(), reg.Exercises()[i].ID, "registry order is course order")
		ref, err := course.Reference(e.ID())
		require.NoError(t, err)
		assert.NotNil(t, ref.Run, e.ID())
		assert.NotEmpty(t, ref.Usage, e.ID())
	}

	c, err := coursefile.Parse(course.DefaultName, course.YAML(), reg)
	require.NoError(t, err)
	require.Equal(t, len(exs), len(c.Exercises))
	for i, e := range exs {
		ce := c.Exercises[i]
		assert.Equal(t, e.ID(), ce.ID)
		assert.Equal(t, e.File, ce.File)
		assert.Equal(t, e.Names(), ce.Files)
		// A text without a default (a course's static folder) is shown
		// commented out: it is not set.
		set := maps.Clone(e.Grader.Texts)
		maps.DeleteFunc(set, func(_, v string) bool { return v == "" })
		if len(set) > 0 || len(ce.Texts) > 0 {
			assert.Equal(t, set, ce.Texts, "the default course's texts are the grader's, %s", e.ID())
		}
	}

	all, err := fixtures.All()
	require.NoError(t, err)
	files := course.Files()
	for _, f := range all {
		_, ok := files[f.Exercise]
		assert.True(t, ok, "fixture folder %s is no exercise of the course", f.Exercise)
	}
	_, err = course.Reference("no-such-exercise")
	assert.ErrorContains(t, err, "no reference implementation")
}

// TestCommandLineFromUsage checks that an exercise's command line is
// written once, in its grader's Usage: the file a student hands in, the
// usage line the reference prints when its arguments do not fit, and the
// hint of the usage check all say it.
func TestCommandLineFromUsage(t *testing.T) {
	for _, e := range course.Exercises() {
		t.Run(e.ID(), func(t *testing.T) {
			file, synopsis, ok := strings.Cut(e.Grader.Usage, " ")
			require.True(t, ok, "Usage %q names the file, then the arguments", e.Grader.Usage)
			assert.Equal(t, e.ID()+".py", file)
			assert.Equal(t, file, e.File)
			ref, err := course.Reference(e.ID())
			require.NoError(t, err)
			assert.True(t, strings.HasSuffix(ref.Usage, synopsis), "the reference's synopsis %q ends with the course's %q", ref.Usage, synopsis)
			if usage := e.Grader.Check("usage"); usage != nil {
				assert.Contains(t, usage.Hint, "'Usage: "+e.Grader.Usage+"'")
			}
			if strings.Contains(synopsis, "[") {
				return // runs without arguments: it would serve
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var out, errOut strings.Builder
			code := ref.Run(ctx, nil, &out, &errOut)
			assert.Equal(t, 1, code)
			assert.Equal(t, "Usage: "+strings.TrimSuffix(file, ".py")+" "+synopsis+"\n", errOut.String())
		})
	}
}

// TestYAMLGolden keeps the default course file that `netgrade course show`
// prints under review: it changes only with the exercises.
func TestYAMLGolden(t *testing.T) {
	golden.Assert(t, string(course.YAML()), "default-course.golden.yaml")
}

// TestFileNamesDocumented keeps docs/formats.md's table of the default
// course's file names in step with the course: every exercise, its name
// and the other names it takes.
func TestFileNamesDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "formats.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(data), "### File names of the default course")
	require.True(t, ok, "docs/formats.md has the section")
	section, _, _ = strings.Cut(section, "\n\n#")
	rows := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		id := strings.Trim(strings.Fields(cells[0])[0], "`")
		var names []string
		for _, c := range cells[1:] {
			for _, n := range strings.Split(c, ",") {
				if n = strings.Trim(strings.TrimSpace(n), "`"); n != "" {
					names = append(names, n)
				}
			}
		}
		rows[id] = names
	}
	exs := course.Exercises()
	require.Len(t, rows, len(exs), "one row per exercise")
	for _, e := range exs {
		assert.Equal(t, e.Names(), rows[e.ID()], e.ID())
	}
}
