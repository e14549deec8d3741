package course_test

import (
	"context"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	httpgrader "github.com/netgrade/netgrade/graders/http"
	"github.com/netgrade/netgrade/internal/apispec"
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
			opt.Settings = graders.Settings{Texts: map[string]string{httpgrader.TextSpec: doc}}
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
