package reference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restClient sends requests to a REST server and validates every response
// against the document, strictly (status documented, Content-Type, schema).
type restClient struct {
	t    *testing.T
	api  *apispec.API
	base string
}

type restReply struct {
	status int
	header http.Header
	body   []byte
	value  any
}

func (c *restClient) do(method, path string, body []byte) restReply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	r := restReply{status: resp.StatusCode, header: resp.Header, body: data}
	if len(data) > 0 {
		assert.Equal(c.t, "application/json", resp.Header.Get("Content-Type"), "%s %s", method, path)
		require.NoError(c.t, json.Unmarshal(data, &r.value), "%s %s: %s", method, path, data)
	}
	if resp.StatusCode != http.StatusMethodNotAllowed {
		// A document silent on 404 (FastAPI documents none) leaves HTTP's
		// usual status for an unknown id.
		ignore := apispec.Ignore{Status: resp.StatusCode == http.StatusNotFound}
		ps, err := c.api.Validate(context.Background(), method, path, resp.StatusCode, resp.Header, data, ignore)
		require.NoError(c.t, err)
		assert.Empty(c.t, ps, "%s %s → %d %s", method, path, resp.StatusCode, data)
	}
	return r
}

// TestRESTAPI drives the reference server of each built-in document
// through everything the rest-api exercise asks, with bodies generated
// from the document, and validates every response against it.
func TestRESTAPI(t *testing.T) {
	for _, name := range apispec.Builtins() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api, err := apispec.Builtin(name)
			require.NoError(t, err)
			srv := httptest.NewServer(newRESTServer(api))
			defer srv.Close()
			c := &restClient{t: t, api: api, base: srv.URL}
			coll := api.Collection
			gen := apispec.NewGenerator(coll.Create, apispec.Seed)

			list := c.do("GET", coll.Path, nil)
			assert.Equal(t, http.StatusOK, list.status)
			assert.Equal(t, []any{}, list.value)

			for _, sent := range []apispec.Body{gen.Full(), gen.Minimal(), gen.NonASCII()} {
				created := c.do("POST", coll.Path, sent.Raw)
				require.Equal(t, api.Success("POST", coll.Path, http.StatusCreated).Documented[0], created.status, "the document's status: %s", created.body)
				item := created.value.(map[string]any)
				id := fmt.Sprint(item[coll.IDField])
				want := apispec.Expected(coll.Create, sent.Value)
				want[coll.IDField] = item[coll.IDField]
				assert.Equal(t, want, item, sent.What)
				assert.Equal(t, api.ItemURL(id), created.header.Get("Location"))
				read := c.do("GET", created.header.Get("Location"), nil)
				assert.Equal(t, http.StatusOK, read.status)
				assert.Equal(t, item, read.value)
			}
			assert.Len(t, c.do("GET", coll.Path, nil).value, 3)

			put := apispec.NewGenerator(coll.Replace, apispec.Seed+1).Full()
			for range 2 {
				replaced := c.do("PUT", api.ItemURL("1"), put.Raw)
				assert.Equal(t, http.StatusOK, replaced.status)
				want := apispec.Expected(coll.Replace, put.Value)
				want[coll.IDField] = replaced.value.(map[string]any)[coll.IDField]
				assert.Equal(t, want, replaced.value)
				assert.Equal(t, replaced.value, c.do("GET", api.ItemURL("1"), nil).value)
			}
			assert.Len(t, c.do("GET", coll.Path, nil).value, 3)

			rejected := api.Rejection("POST", coll.Path).Documented[0]
			for _, bad := range gen.Invalid() {
				assert.Equal(t, rejected, c.do("POST", coll.Path, bad.Raw).status, bad.What)
				assert.Equal(t, api.Rejection("PUT", coll.ItemPath).Documented[0], c.do("PUT", api.ItemURL("1"), bad.Raw).status, bad.What)
			}
			assert.Len(t, c.do("GET", coll.Path, nil).value, 3, "rejected bodies create nothing")

			assert.Equal(t, api.Success("DELETE", coll.ItemPath, http.StatusNoContent).Documented[0], c.do("DELETE", api.ItemURL("2"), nil).status)
			for _, method := range []string{"GET", "DELETE"} {
				assert.Equal(t, http.StatusNotFound, c.do(method, api.ItemURL("2"), nil).status, method)
			}
			assert.Equal(t, http.StatusNotFound, c.do("PUT", api.ItemURL("2"), put.Raw).status)
			assert.Equal(t, http.StatusNotFound, c.do("GET", api.ItemURL("abc"), nil).status)
			assert.Equal(t, http.StatusNotFound, c.do("GET", "/nowhere", nil).status)

			for _, na := range api.NotAllowed() {
				path := strings.ReplaceAll(na.Path, "{"+coll.IDParam+"}", "1")
				r := c.do(na.Method, path, gen.Full().Raw)
				assert.Equal(t, http.StatusMethodNotAllowed, r.status, "%s %s", na.Method, path)
				assert.NotEmpty(t, r.header.Get("Allow"))
			}
		})
	}
}

// TestRESTAPIConcurrentCreates creates ten items at once: ten distinct
// ids, ten items listed.
func TestRESTAPIConcurrentCreates(t *testing.T) {
	api, err := apispec.Default()
	require.NoError(t, err)
	srv := httptest.NewServer(newRESTServer(api))
	defer srv.Close()
	gen := apispec.NewGenerator(api.Collection.Create, apispec.Seed)
	bodies := make([][]byte, 10)
	for i := range bodies {
		bodies[i] = gen.Full().Raw
	}
	ids := make([]any, 10)
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Go(func() {
			resp, err := http.Post(srv.URL+api.Collection.Path, "application/json", bytes.NewReader(b))
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			var item map[string]any
			assert.NoError(t, json.NewDecoder(resp.Body).Decode(&item))
			ids[i] = item["id"]
		})
	}
	wg.Wait()
	seen := map[any]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	assert.Len(t, seen, 10)
	c := &restClient{t: t, api: api, base: srv.URL}
	assert.Len(t, c.do("GET", api.Collection.Path, nil).value, 10)
}

// TestRESTAPIArgs runs the program itself: a document chosen by --spec
// or the environment, a port, and usage errors.
func TestRESTAPIArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		path string
		code int
		says string
	}{
		{name: "default document", path: "/api/todos", says: "todo-api.yaml"},
		{name: "flag", args: []string{"--spec", "books-api.yaml"}, path: "/api/books", says: "books-api.yaml"},
		{name: "environment", env: "books-api.yaml", path: "/api/books", says: "books-api.yaml"},
		{name: "two ports", args: []string{"1", "2"}, code: 1, says: "Usage: rest-api [--spec DOCUMENT] [PORT]"},
		{name: "bad port", args: []string{"http"}, code: 1, says: "invalid port"},
		{name: "unknown document", args: []string{"--spec", "nowhere.yaml"}, code: 1, says: "nowhere.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(apispec.SpecEnv, tc.env)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := tc.args
			port := 0
			if tc.code == 0 {
				port = freePort(t)
				args = append(args, strconv.Itoa(port))
			}
			var out, errOut syncBuffer
			done := make(chan int, 1)
			go func() { done <- RESTAPI(ctx, CommandOf("rest-api.py [PORT]", RESTOptions), args, &out, &errOut) }()
			if tc.code != 0 {
				select {
				case code := <-done:
					assert.Equal(t, tc.code, code)
					assert.Contains(t, errOut.String(), tc.says)
				case <-time.After(5 * time.Second):
					t.Fatal("the program did not end on a usage error")
				}
				return
			}
			url := fmt.Sprintf("http://127.0.0.1:%d%s", port, tc.path)
			require.Eventually(t, func() bool {
				resp, err := http.Get(url)
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			}, 5*time.Second, 20*time.Millisecond, "GET %s", url)
			cancel()
			select {
			case code := <-done:
				assert.Equal(t, 0, code, errOut.String())
			case <-time.After(5 * time.Second):
				t.Fatal("the program did not end with its context")
			}
			assert.Contains(t, out.String(), tc.says)
		})
	}
}

// freePort returns a port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for the program's goroutine and the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
