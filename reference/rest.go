package reference

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/apispec"
)

// RESTDefaultPort is the port the REST reference listens on when it is
// given none (the exercise's PORT is optional, as day-two programs often
// fix theirs).
const RESTDefaultPort = 8000

// RESTOptions is the synopsis of the rest-api reference's own option,
// beyond the course's command line: --spec serves another document.
const RESTOptions = "[--spec DOCUMENT]"

// RESTAPI serves the JSON API an OpenAPI document describes, over an
// in-memory collection, on 127.0.0.1:PORT until ctx ends. Everything comes
// from the document: the collection and item paths, the id field, the
// request-body schemas (bodies they reject get 400, their defaults are
// applied), so the one server passes the checks of any document netgrade
// accepts. Arguments: [--spec DOCUMENT] [PORT]; the document defaults to
// $NETGRADE_REST_SPEC (apispec.SpecEnv), then to the default course's todo-api.yaml; a
// DOCUMENT is a built-in name, a file or the document's text.
func RESTAPI(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	specName := fs.String("spec", "", "the API document: a built-in name or a file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		if err != nil {
			fmt.Fprintln(stderr, err)
		}
		return usage(stderr, cmd)
	}
	port := RESTDefaultPort
	if fs.NArg() == 1 {
		p, err := parsePort(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return usage(stderr, cmd)
		}
		port = p
	}
	if *specName == "" {
		*specName = os.Getenv(apispec.SpecEnv)
	}
	api, err := apispec.FromSetting(*specName)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
		return 1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
		return 1
	}
	srv := &http.Server{Handler: newRESTServer(api), ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	defer stop()
	fmt.Fprintf(stdout, "Serving %s (%s) on http://127.0.0.1:%d\n", api.Collection.Path, api.Name, port)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
		return 1
	}
	return 0
}

// restServer is the in-memory collection behind the REST reference.
type restServer struct {
	api *apispec.API

	mu    sync.Mutex
	next  int
	items map[int]map[string]any
}

// RESTHandler returns the reference's handler for a document, with an
// empty collection: for tests that serve it in process.
func RESTHandler(api *apispec.API) http.Handler { return newRESTServer(api) }

func newRESTServer(api *apispec.API) *restServer {
	return &restServer{api: api, items: map[int]map[string]any{}}
}

// ServeHTTP answers every request with JSON: the operations of the
// collection, 404 for a path or an item there is none of, 405 for a
// method the path does not have, 400 for a body the document rejects.
func (s *restServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.api.Collection
	m, err := s.api.Match(r)
	switch {
	case errors.Is(err, apispec.ErrMethod):
		w.Header().Set("Allow", strings.Join(s.api.Methods(s.template(r.URL.Path)), ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path))
		return
	case err != nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("there is nothing at %s", r.URL.Path))
		return
	}
	id := -1
	if m.Path == c.ItemPath {
		n, err := strconv.Atoi(m.Params[c.IDParam])
		if err != nil || n < 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("there is no item %q", m.Params[c.IDParam]))
			return
		}
		id = n
	}
	if err := s.api.ValidateRequest(r.Context(), r, m); err != nil {
		var re *apispec.RequestError
		if errors.As(err, &re) && re.Param != "" {
			writeError(w, http.StatusNotFound, fmt.Sprintf("there is no item %q", m.Params[c.IDParam]))
			return
		}
		writeError(w, s.api.Rejection(r.Method, m.Path).Documented[0], err.Error())
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, s.api.Rejection(r.Method, m.Path).Documented[0], "the body is not a JSON object: "+err.Error())
			return
		}
	}
	switch {
	case m.Path == c.Path && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.list())
	case m.Path == c.Path && r.Method == http.MethodPost:
		item := s.create(body)
		w.Header().Set("Location", s.api.ItemURL(s.idText(item[c.IDField])))
		writeJSON(w, s.api.Success(http.MethodPost, c.Path, http.StatusCreated).Documented[0], item)
	case r.Method == http.MethodGet:
		s.answer(w, s.get(id), id)
	case r.Method == http.MethodPut:
		s.answer(w, s.replace(id, body), id)
	case r.Method == http.MethodDelete:
		item := s.get(id)
		if !s.delete(id) {
			s.answer(w, nil, id)
			return
		}
		// The status the document gives: 204 without a body, or a 200
		// with the item removed.
		if st := s.api.Success(http.MethodDelete, c.ItemPath, http.StatusNoContent).Documented[0]; st != http.StatusNoContent {
			writeJSON(w, st, item)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path))
	}
}

// template returns the path template a path falls under, for Allow.
func (s *restServer) template(path string) string {
	if path == s.api.Collection.Path {
		return path
	}
	return s.api.Collection.ItemPath
}

// answer writes an item, or 404 when there is none.
func (s *restServer) answer(w http.ResponseWriter, item map[string]any, id int) {
	if item == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("there is no item %d", id))
		return
	}
	writeJSON(w, http.StatusOK, item)
}

// idValue is an id as the document types it: a number or a string.
func (s *restServer) idValue(id int) any {
	if s.api.Collection.IDType == "integer" {
		return id
	}
	return strconv.Itoa(id)
}

// idText writes an id for a path.
func (s *restServer) idText(v any) string { return fmt.Sprint(v) }

func (s *restServer) list() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(s.items))
	for id := range s.items {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.items[id])
	}
	return out
}

// item builds the stored item from a validated body (defaults applied).
func (s *restServer) item(id int, body map[string]any) map[string]any {
	item := make(map[string]any, len(body)+1)
	for k, v := range body {
		item[k] = v
	}
	item[s.api.Collection.IDField] = s.idValue(id)
	return item
}

func (s *restServer) create(body map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	item := s.item(s.next, body)
	s.items[s.next] = item
	return item
}

func (s *restServer) get(id int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[id]
}

func (s *restServer) replace(id int, body map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[id]; !ok {
		return nil
	}
	item := s.item(id, body)
	s.items[id] = item
	return item
}

func (s *restServer) delete(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.items[id]
	delete(s.items, id)
	return ok
}

// writeJSON writes a status and a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

// writeError writes an error as {"error": message}.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}
