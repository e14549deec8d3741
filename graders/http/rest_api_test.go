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
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/netgrade/netgrade/reference"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netClient is a restClient over net/http, for judging an in-process
// server without the probe: keep-alive like the probe's client, a fresh
// connection per request for Fresh.
type netClient struct {
	base string
	hc   *nethttp.Client
}

func newNetClient(base string, keepAlive bool) *netClient {
	tr := &nethttp.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1}
	return &netClient{base: base, hc: &nethttp.Client{Transport: tr, Timeout: 5 * time.Second,
		CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}}
}

func (c *netClient) Do(ctx context.Context, method, path string, header nethttp.Header, body []byte) *restExchange {
	ex := &restExchange{Method: method, Path: path, Body: body, RespHeader: nethttp.Header{}}
	req, err := nethttp.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		ex.Err = err
		return ex
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Close = header.Get("Connection") == "close"
	resp, err := c.hc.Do(req)
	if err != nil {
		ex.Err = err
		return ex
	}
	defer resp.Body.Close()
	ex.RespBody, ex.Err = io.ReadAll(resp.Body)
	ex.Status, ex.RespHeader = resp.StatusCode, resp.Header
	return ex
}

func (c *netClient) Fresh() restClient { return newNetClient(c.base, false) }
func (c *netClient) Close()            { c.hc.CloseIdleConnections() }

// judges are the rest-api checks' judging functions, by check name.
var judges = map[string]func(context.Context, *session) error{
	"create": judgeCreate, "read": judgeRead, "list": judgeList, "replace": judgeReplace,
	"delete": judgeDelete, "not-found": judgeNotFound, "method-not-allowed": judgeMethodNotAllowed,
	"validation": judgeValidation, "content-type": judgeContentType, "json": judgeJSON,
	"schema": judgeSchema, "encoding": judgeEncoding, "persists": judgePersists,
	"concurrent-creates": judgeConcurrentCreates, "no-server-error": judgeNoServerError,
}

// verdicts runs every judge against a fresh server each (as the engine
// starts a program per check) and returns the names of the judges that
// failed, and their messages.
func verdicts(t *testing.T, api *apispec.API, handler func() nethttp.Handler) ([]string, string) {
	t.Helper()
	var failed []string
	var msgs strings.Builder
	for name, judge := range judges {
		srv := httptest.NewServer(handler())
		c := newNetClient(srv.URL, true)
		var notes []string
		s := newSession(api, c, func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := judge(ctx, s)
		cancel()
		c.Close()
		srv.Close()
		var f *graders.Failure
		switch {
		case err == nil:
		case errors.As(err, &f):
			failed = append(failed, name)
			fmt.Fprintf(&msgs, "%s: %s\n  expected %s\n  actual %s\n", name, f.Message, f.Expected, f.Actual)
		default:
			failed = append(failed, name+" ("+err.Error()+")")
		}
	}
	sort.Strings(failed)
	return failed, msgs.String()
}

// TestJudgesOnReference: the reference passes every judge, for every
// built-in document.
func TestJudgesOnReference(t *testing.T) {
	for _, doc := range apispec.Builtins() {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			api, err := apispec.Builtin(doc)
			require.NoError(t, err)
			failed, msgs := verdicts(t, api, func() nethttp.Handler { return reference.RESTHandler(api) })
			assert.Empty(t, failed, msgs)
		})
	}
}

// recorder keeps a handler's response so that a mistake can rewrite it.
type recorder struct {
	header nethttp.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() nethttp.Header      { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// response is a recorded response a mistake rewrites.
type response struct {
	req    *nethttp.Request
	status int
	header nethttp.Header
	body   []byte
}

// mistaken serves the reference and lets rewrite change each response,
// and before change each request.
func mistaken(api *apispec.API, before func(*nethttp.Request), rewrite func(*response)) func() nethttp.Handler {
	return func() nethttp.Handler {
		ref := reference.RESTHandler(api)
		return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			if before != nil {
				before(r)
			}
			rec := &recorder{header: nethttp.Header{}, status: 200}
			ref.ServeHTTP(rec, r)
			resp := &response{req: r, status: rec.status, header: rec.header, body: rec.body.Bytes()}
			if rewrite != nil {
				rewrite(resp)
			}
			if resp.status < 0 {
				panic(nethttp.ErrAbortHandler) // the connection closes without an answer
			}
			for k, v := range resp.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
			w.WriteHeader(resp.status)
			w.Write(resp.body)
		})
	}
}

// pythonRepr writes a JSON value as Python's str() does.
func pythonRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pythonRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, pythonRepr(k)+": "+pythonRepr(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// mapJSON rewrites a JSON body through f; other bodies are left alone.
func mapJSON(body []byte, f func(any) any) []byte {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return body
	}
	out, _ := json.Marshal(f(v))
	return out
}

// eachItem applies f to the item objects of a body (an item or a list).
func eachItem(v any, f func(map[string]any)) any {
	switch x := v.(type) {
	case map[string]any:
		f(x)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				f(m)
			}
		}
	}
	return v
}

// TestJudgesOneMistakeOneDeduction serves the reference with one mistake
// at a time, as students make them, and asserts that exactly the judge of
// that requirement fails: each judge tolerates what the others judge.
func TestJudgesOneMistakeOneDeduction(t *testing.T) {
	api, err := apispec.Default()
	require.NoError(t, err)
	coll := api.Collection
	isItem := func(r *nethttp.Request) bool { return strings.HasPrefix(r.URL.Path, coll.Path+"/") }
	for _, tc := range []struct {
		name    string
		before  func(*nethttp.Request)
		rewrite func(*response)
		fails   []string
	}{
		{name: "text/html everywhere", rewrite: func(r *response) {
			if len(r.body) > 0 {
				r.header.Set("Content-Type", "text/html")
			}
		}, fails: []string{"content-type"}},
		{name: "Python repr instead of JSON", rewrite: func(r *response) {
			var v any
			if json.Unmarshal(r.body, &v) == nil {
				r.body = []byte(pythonRepr(v))
			}
		}, fails: []string{"json"}},
		{name: "ids as strings", rewrite: func(r *response) {
			r.body = mapJSON(r.body, func(v any) any {
				return eachItem(v, func(m map[string]any) {
					if id, ok := m[coll.IDField]; ok {
						m[coll.IDField] = idText(id)
					}
				})
			})
		}, fails: []string{"schema"}},
		{name: "POST answers 200 and the fields without the id", rewrite: func(r *response) {
			if r.req.Method == nethttp.MethodPost && r.status == nethttp.StatusCreated {
				r.status = nethttp.StatusOK
				r.header.Del("Location")
				r.body = mapJSON(r.body, func(v any) any { return eachItem(v, func(m map[string]any) { delete(m, coll.IDField) }) })
			}
		}, fails: []string{"create"}},
		{name: "404 where 405 is due", rewrite: func(r *response) {
			if r.status == nethttp.StatusMethodNotAllowed {
				r.status = nethttp.StatusNotFound
			}
		}, fails: []string{"method-not-allowed"}},
		{name: "GET of an unknown id is a 500", rewrite: func(r *response) {
			if _, err := strconv.Atoi(strings.TrimPrefix(r.req.URL.Path, coll.Path+"/")); err == nil && r.req.Method == nethttp.MethodGet && r.status == nethttp.StatusNotFound {
				r.status, r.body = nethttp.StatusInternalServerError, []byte("Internal Server Error")
				r.header.Set("Content-Type", "text/plain")
			}
		}, fails: []string{"not-found"}},
		{name: "a 400 is a dropped connection", rewrite: func(r *response) {
			if r.status == nethttp.StatusBadRequest && r.req.Header.Get("Content-Type") == "application/json" {
				r.status = -1
			}
		}, fails: []string{"validation"}},
		{name: "a non-numeric id drops the connection", rewrite: func(r *response) {
			if strings.HasSuffix(r.req.URL.Path, "/abc") {
				r.status = -1
			}
		}, fails: []string{"no-server-error"}},
		{name: "errors without a body", rewrite: func(r *response) {
			if r.status >= 400 {
				r.body = nil
				r.header.Del("Content-Type")
			}
		}, fails: []string{"json"}},
		{name: "the body decoded as Latin-1", before: func(r *nethttp.Request) {
			data, _ := io.ReadAll(r.Body)
			var latin []rune
			for _, b := range data {
				latin = append(latin, rune(b))
			}
			r.Body = io.NopCloser(strings.NewReader(string(latin)))
			r.ContentLength = int64(len(string(latin)))
		}, fails: []string{"encoding"}},
		{name: "the list leaves out the first item", rewrite: func(r *response) {
			if r.req.Method == nethttp.MethodGet && r.req.URL.Path == coll.Path {
				r.body = mapJSON(r.body, func(v any) any {
					if l, ok := v.([]any); ok && len(l) > 0 {
						return l[1:]
					}
					return v
				})
			}
		}, fails: []string{"list"}},
		{name: "GET of an item leaves out its id", rewrite: func(r *response) {
			if r.req.Method == nethttp.MethodGet && isItem(r.req) {
				r.body = mapJSON(r.body, func(v any) any { return eachItem(v, func(m map[string]any) { delete(m, coll.IDField) }) })
			}
		}, fails: []string{"read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			failed, msgs := verdicts(t, api, mistaken(api, tc.before, tc.rewrite))
			assert.Equal(t, tc.fails, failed, msgs)
		})
	}
}

// TestJudgeDeleteThatKeeps: a DELETE that answers 204 and deletes nothing
// fails delete alone.
func TestJudgeDeleteThatKeeps(t *testing.T) {
	api, err := apispec.Default()
	require.NoError(t, err)
	handler := func() nethttp.Handler {
		ref := reference.RESTHandler(api)
		return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			if r.Method == nethttp.MethodDelete && strings.HasPrefix(r.URL.Path, api.Collection.Path+"/") {
				get, _ := nethttp.NewRequest(nethttp.MethodGet, r.URL.String(), nil)
				rec := httptest.NewRecorder()
				ref.ServeHTTP(rec, get)
				if rec.Code == nethttp.StatusOK {
					w.WriteHeader(nethttp.StatusNoContent)
					return
				}
			}
			ref.ServeHTTP(w, r)
		})
	}
	failed, msgs := verdicts(t, api, handler)
	assert.Equal(t, []string{"delete"}, failed, msgs)
}

// TestHelpers covers the small judging helpers.
func TestHelpers(t *testing.T) {
	assert.Equal(t, "3", idText(3.0))
	assert.Equal(t, "abc", idText("abc"))
	assert.True(t, sameID(1.0, "1"))
	assert.Equal(t, "cÃ¡c báº¡n", latin1("các bạn"))
	assert.Equal(t, []string{`"done" is missing (wanted false)`, `"title" is "b", not "a"`},
		differences(map[string]any{"id": 1.0, "title": "a", "done": false}, map[string]any{"id": 2.0, "title": "b"}, "id"))
	assert.Equal(t, "a; b; and 2 more", capped([]string{"a", "b", "c", "d"}, 2))
	assert.Equal(t, "a; b", capped([]string{"a", "b"}, 2))

	api, err := apispec.Default()
	require.NoError(t, err)
	s := newSession(api, nil, nil)
	for loc, want := range map[string]string{
		"/api/todos/3": "3", "http://127.0.0.1:8000/api/todos/12": "12", "/api/todos/": "", "/elsewhere/3": "", "/api/todos/3/x": "", "": "",
	} {
		ex := &restExchange{RespHeader: nethttp.Header{"Location": {loc}}}
		assert.Equal(t, want, s.idFromLocation(ex), loc)
	}
	var g grouped
	assert.True(t, g.empty())
	g.add("HTML", &restExchange{Method: "GET", Path: "/a", Status: 404})
	g.add("empty", &restExchange{Method: "PUT", Path: "/b", Status: 405})
	g.add("HTML", &restExchange{Method: "GET", Path: "/c", Status: 404})
	assert.Equal(t, "HTML: GET /a → 404 Not Found, GET /c → 404 Not Found; empty: PUT /b → 405 Method Not Allowed", g.String())
	assert.Equal(t, "/a", g.first.Path)
}

// TestExerciseFromDocument: the exercise's checks, texts and prerequisites.
func TestExerciseFromDocument(t *testing.T) {
	ex := RESTAPI()
	require.NotNil(t, ex.Check("starts"))
	assert.Equal(t, apispec.DefaultName, ex.Texts[TextSpec])
	names := map[string]bool{"starts": true}
	for name := range judges {
		names[name] = true
		c := ex.Check(name)
		require.NotNil(t, c, name)
		assert.Contains(t, c.Needs, restID("starts"))
		assert.NotEmpty(t, c.Hint)
		assert.NotEmpty(t, c.Requirement)
	}
	assert.Len(t, ex.Checks, len(names), "every check has a judge")
	assert.Contains(t, ex.Check("concurrent-creates").Needs, restID("persists"))
}
