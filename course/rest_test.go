package course_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	httpgrader "github.com/netgrade/netgrade/graders/http"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRESTReferenceEveryDocument grades the rest-api reference under each
// document netgrade carries, named in the course's spec text: full marks
// for /api/todos and for /api/books (an integer year, an id field named
// bookId), which proves the checks come from the document and not from
// paths written in netgrade.
func TestRESTReferenceEveryDocument(t *testing.T) {
	ex, err := course.Registry().Get("rest-api")
	require.NoError(t, err)
	for _, doc := range apispec.Builtins() {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			opt := options()
			opt.Course = graders.Settings{Texts: map[string]string{httpgrader.TextSpec: doc}}
			sub := graders.Submission{Name: "reference:rest-api", Command: []string{netgradeBin, "ref", "rest-api"}}
			res := ex.Grade(context.Background(), sub, opt)
			assert.Empty(t, res.IDs(report.Error), explain(res))
			assert.Empty(t, res.IDs(report.Skip), explain(res))
			assert.Equal(t, res.MaxScore, res.Score, explain(res))
			var sent []string
			for _, c := range res.Checks {
				for _, ev := range c.Transcript {
					if ev.Kind == report.EvHTTPRequest && ev.HTTP != nil {
						sent = append(sent, ev.HTTP.Path)
					}
				}
			}
			api, err := apispec.Builtin(doc)
			require.NoError(t, err)
			assert.Contains(t, sent, api.Collection.Path, "the checks ask for the document's collection")
		})
	}
}

// defaultWords are the default document's words (its paths, fields and
// the name of its collection): none may show in a grading under another
// document.
var defaultWords = regexp.MustCompile(`/api/todos|\btodos?\b|\btitle\b|\bdone\b`)

// scaffolding is what holds those words without being a text: a format's
// own markup (HTML's <title>, the JSON field "title" of every check) and
// the <title> of the HTML error pages the program answered, shown escaped
// in transcripts.
var scaffolding = regexp.MustCompile(`(<|&lt;|\\u003c)/?title(>|&gt;|\\u003e)|"title":`)

// TestRESTTextsFromTheDocument grades a task API with many mistakes under
// a course document whose paths, fields and statuses differ from the
// default's (tasks-api.yaml: /tasks, taskId, name, completed, 422, DELETE
// answering 200): every report format says `POST /tasks`, `completed`,
// 422, and none holds a word of the default document in any title,
// requirement, message or hint.
func TestRESTTextsFromTheDocument(t *testing.T) {
	ex, err := course.Registry().Get("rest-api")
	require.NoError(t, err)
	opt := options()
	opt.Course = graders.Settings{Texts: map[string]string{httpgrader.TextSpec: "tasks-api.yaml"}}
	sub, err := graders.FileSubmission(filepath.Join("testdata", "rest", "tasks_mistakes.py"))
	require.NoError(t, err)
	res := ex.Grade(context.Background(), sub, opt)
	require.Empty(t, res.IDs(report.Error), explain(res))
	require.GreaterOrEqual(t, len(res.IDs(report.Fail)), 10, "most checks fail and explain themselves: %s", explain(res))
	for _, c := range res.Checks {
		assert.NotRegexp(t, defaultWords, c.Title+"\n"+c.Requirement+"\n"+c.Hint+"\n"+c.Message+"\n"+c.Expected, c.ID)
	}
	formats := map[string]func(io.Writer, []report.Result) error{
		"text": func(w io.Writer, rs []report.Result) error {
			return render.Text(w, rs, render.TextOptions{TranscriptLines: 1000})
		},
		"json":       render.JSON,
		"junit":      render.JUnit,
		"markdown":   render.Markdown,
		"html":       render.HTML,
		"gradescope": render.Gradescope,
	}
	for name, f := range formats {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, f(&b, []report.Result{res}))
			out := scaffolding.ReplaceAllString(b.String(), "")
			assert.Contains(t, out, "POST /tasks")
			assert.Contains(t, out, "completed")
			assert.Contains(t, out, "422")
			for _, m := range defaultWords.FindAllStringIndex(out, -1) {
				lo, hi := max(0, m[0]-80), min(len(out), m[1]+80)
				t.Errorf("%s report holds %q: …%s…", name, out[m[0]:m[1]], out[lo:hi])
			}
		})
	}
}

// TestRESTRaceUnderHook grades the threaded http.server whose handler
// races on its id counter in three statements (i = next_id[0]; item =
// dict(id=i, **data); next_id[0] = i + 1): concurrent-creates fails, and
// its report says the race hook was active; with the course's race hook
// off, the report says that too.
func TestRESTRaceUnderHook(t *testing.T) {
	ex, err := course.Registry().Get("rest-api")
	require.NoError(t, err)
	sub, err := graders.FileSubmission(filepath.Join("..", "fixtures", "rest-api", "threaded_id_race.py"))
	require.NoError(t, err)
	only := []string{"rest-api/starts", "rest-api/persists", "rest-api/concurrent-creates"}
	for _, hook := range []bool{true, false} {
		t.Run(fmt.Sprintf("hook=%v", hook), func(t *testing.T) {
			opt := options()
			opt.Course = graders.Settings{Only: only, NoRaceHook: !hook}
			res := ex.Grade(context.Background(), sub, opt)
			var cc *report.Check
			for i := range res.Checks {
				if res.Checks[i].ID == "rest-api/concurrent-creates" {
					cc = &res.Checks[i]
				}
			}
			require.NotNil(t, cc, explain(res))
			notes := strings.Join(cc.Notes, "\n")
			if hook {
				assert.Equal(t, report.Fail, cc.Status, explain(res))
				assert.Contains(t, cc.Message, "all got id")
				assert.Contains(t, notes, "race hook was active")
			} else {
				assert.Contains(t, notes, "race hook is off")
			}
		})
	}
}
