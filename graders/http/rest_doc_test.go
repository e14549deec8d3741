package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/netgrade/netgrade/reference"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// todoVariant loads the default document changed by edits (old, new
// pairs of its text).
func todoVariant(t *testing.T, edits ...string) *apispec.API {
	t.Helper()
	def, err := apispec.Default()
	require.NoError(t, err)
	text := string(def.Source())
	for i := 0; i+1 < len(edits); i += 2 {
		require.Contains(t, text, edits[i])
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	api, err := apispec.Load("variant.yaml", []byte(text))
	require.NoError(t, err)
	return api
}

// judgeOne runs one judge against handler and returns its error and notes.
func judgeOne(t *testing.T, api *apispec.API, handler nethttp.Handler, judge func(context.Context, *session) error) (error, []string) {
	t.Helper()
	srv := httptest.NewServer(handler)
	defer srv.Close()
	c := newNetClient(srv.URL, true)
	defer c.Close()
	var mu sync.Mutex
	var notes []string
	s := newSession(api, c, func(f string, a ...any) {
		mu.Lock()
		notes = append(notes, fmt.Sprintf(f, a...))
		mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return judge(ctx, s), notes
}

// TestStatusNotesAreTrue: what create accepts and notes comes from the
// document: under a document whose POST gives 200, a 200 is no deviation
// and gets no note; under the default one (201), a 200 is accepted with a
// note that names 201 as the document's, and a 202 fails naming 201.
func TestStatusNotesAreTrue(t *testing.T) {
	ok200 := todoVariant(t, `        "201":
          description: The created item, with its new id.`, `        "200":
          description: The created item, with its new id.`)
	answer := func(status int) func(*response) {
		return func(r *response) {
			if r.req.Method == nethttp.MethodPost && r.status == nethttp.StatusOK || r.status == nethttp.StatusCreated {
				r.status = status
			}
		}
	}
	err, notes := judgeOne(t, ok200, reference.RESTHandler(ok200), judgeCreate)
	require.NoError(t, err)
	assert.Empty(t, notes, "the document's own status needs no note")

	def, err := apispec.Default()
	require.NoError(t, err)
	err, notes = judgeOne(t, def, mistaken(def, nil, answer(nethttp.StatusOK))(), judgeCreate)
	require.NoError(t, err)
	require.NotEmpty(t, notes)
	assert.Contains(t, notes[0], "the document gives 201 Created, and 200 OK is accepted in its place")

	err, _ = judgeOne(t, def, mistaken(def, nil, answer(nethttp.StatusAccepted))(), judgeCreate)
	var f *graders.Failure
	require.ErrorAs(t, err, &f)
	assert.Contains(t, f.Expected, "201 Created (200 OK is accepted)")
}

// TestDuplicatesNotCounted: when a field cannot vary from body to body
// (a pattern with two values), an API that refuses a second item with the
// same value (409) is not failed by concurrent-creates, and its refusals
// are not counted as rejections in validation; the notes name the field.
func TestDuplicatesNotCounted(t *testing.T) {
	api := todoVariant(t, `        title:
          type: string
          example: buy milk`, `        title:
          type: string
          pattern: "^(red|blue)$"`)
	unique := func() nethttp.Handler {
		var mu sync.Mutex
		seen := map[string]bool{}
		return mistaken(api, nil, func(r *response) {
			if r.req.Method != nethttp.MethodPost || r.status != nethttp.StatusCreated {
				return
			}
			var item map[string]any
			if json.Unmarshal(r.body, &item) != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if title, _ := item["title"].(string); seen[title] {
				r.status, r.body = nethttp.StatusConflict, []byte(`{"error": "a to-do with this title already exists"}`)
			} else {
				seen[title] = true
			}
		})()
	}
	err, notes := judgeOne(t, api, unique(), judgeConcurrentCreates)
	require.NoError(t, err)
	require.NotEmpty(t, notes)
	assert.Contains(t, strings.Join(notes, "\n"), `409 Conflict, a refusal of a duplicate (netgrade could not vary "title"): not counted`)

	// An API that answers 201 to a JSON array (a fault netgrade sees) and
	// refuses a title it has seen with 400 "duplicate": its duplicate
	// refusals are neither counted as rejections of the bodies' faults
	// nor against it; the failure counts only the bodies it judged.
	arrayUnique := func() nethttp.Handler {
		ref := reference.RESTHandler(api)
		var mu sync.Mutex
		seen := map[string]bool{}
		return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			raw, _ := io.ReadAll(r.Body)
			if r.Method == nethttp.MethodPost && bytes.HasPrefix(raw, []byte("[")) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(nethttp.StatusCreated)
				io.WriteString(w, `{"id": 99}`)
				return
			}
			var body map[string]any
			if r.Method == nethttp.MethodPost && json.Unmarshal(raw, &body) == nil {
				title, _ := body["title"].(string)
				mu.Lock()
				dup := title != "" && seen[title]
				seen[title] = true
				mu.Unlock()
				if dup {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(nethttp.StatusBadRequest)
					io.WriteString(w, `{"error": "duplicate title"}`)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			r.ContentLength = int64(len(raw))
			ref.ServeHTTP(w, r)
		})
	}
	sent := 2 * len(apispec.NewGenerator(api.Collection.Create, apispec.Seed).Invalid())
	err, notes = judgeOne(t, api, arrayUnique(), judgeValidation)
	var f *graders.Failure
	require.ErrorAs(t, err, &f)
	var wrong, judged int
	_, scanErr := fmt.Sscanf(f.Message, "%d of %d invalid bodies", &wrong, &judged)
	require.NoError(t, scanErr, f.Message)
	assert.Equal(t, 1, wrong, f.Message)
	assert.Less(t, judged, sent, "the duplicate refusals are not counted as rejections")
	assert.Equal(t, sent-judged, strings.Count(strings.Join(notes, "\n"), "a refusal of a duplicate"), notes)
}

// TestSchemaOncePerField: a date-time written without a zone in every
// answer is one problem, told in words with a valid example and how many
// answers showed it, and the hint is about the date-time, not about ids.
func TestSchemaOncePerField(t *testing.T) {
	api := todoVariant(t, `        done:
          type: boolean
    TodoInput:`, `        done:
          type: boolean
        due:
          type: string
          format: date-time
    TodoInput:`, `        done:
          type: boolean
          default: false
    Error:`, `        done:
          type: boolean
          default: false
        due:
          type: string
          format: date-time
    Error:`)
	noZone := mistaken(api, nil, func(r *response) {
		r.body = mapJSON(r.body, func(v any) any {
			return eachItem(v, func(item map[string]any) {
				if d, ok := item["due"].(string); ok {
					item["due"] = strings.TrimSuffix(d, "Z")
				}
			})
		})
	})
	err, _ := judgeOne(t, api, noZone(), judgeSchema)
	var f *graders.Failure
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1, strings.Count(f.Message, "at .due"), f.Message)
	assert.Contains(t, f.Message, "an RFC 3339 date-time with a zone, e.g. 2024-01-01T09:00:00Z")
	assert.Regexp(t, `\(\d+ times: `, f.Message)
	assert.NotContains(t, f.Message, "0[1-9]", "no regular expression")
	assert.Contains(t, f.Hint, "date-time")
	assert.NotContains(t, f.Hint, "int()")
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

// TestConcurrentCreatesNeedsEvidence: when every client but one is
// refused as a duplicate, concurrent-creates has not seen clients create
// at once: it is not judged (left out of the score), saying why; it does
// not pass.
func TestConcurrentCreatesNeedsEvidence(t *testing.T) {
	api := todoVariant(t, `        title:
          type: string
          example: buy milk`, `        title:
          type: string
          enum: [red]`)
	var mu sync.Mutex
	created := 0
	h := mistaken(api, nil, func(r *response) {
		if r.req.Method != nethttp.MethodPost || r.status != nethttp.StatusCreated {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if created++; created > 1 {
			r.status, r.body = nethttp.StatusConflict, []byte(`{"error": "exists"}`)
		}
	})()
	err, _ := judgeOne(t, api, h, judgeConcurrentCreates)
	require.Error(t, err)
	assert.NotErrorAs(t, err, new(*graders.Failure))
	assert.Contains(t, err.Error(), "could not be judged")
	assert.True(t, strings.HasPrefix(err.Error(), "not judged: "), "left out of the score, not skipped: %v", err)
}
