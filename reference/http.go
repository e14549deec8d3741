package reference

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// HTTPDefaultPort is the port the HTTP server listens on when given none,
// as the course's programs hard-code it.
const HTTPDefaultPort = 8888

// httpDateLayout is how the pages show a date and time:
// "Thursday, January 15, 2026 at 11:47:05".
const httpDateLayout = "Monday, January 2, 2006 at 15:04:05"

// HTTPServer is the http-server exercise: `[PORT]` (8888 by default); on
// 127.0.0.1 it serves `/` (an HTML page), `/date` (the local date and
// time), `/date/paris` (the date and time in Paris, Europe/Paris, summer
// and winter time), `/api/date` (the date and time as JSON) and 404 for
// any other path; another method than GET or HEAD on a route gets 405.
// net/http serves every client in its own goroutine, so a client that
// sends nothing blocks no one. Its clock follows a libfaketime start-at
// date in FAKETIME ("@YYYY-MM-DD hh:mm:ss", in the local zone), as a
// Python program run under libfaketime does, which a Go program is not.
func HTTPServer(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	port := HTTPDefaultPort
	switch len(args) {
	case 0:
	case 1:
		p, err := parsePort(args[0])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return usage(stderr, cmd)
		}
		port = p
	default:
		return usage(stderr, cmd)
	}
	now, err := fakedClock(os.Getenv("FAKETIME"), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "http-server: %v; using the real clock\n", err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		fmt.Fprintf(stderr, "http-server: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(stderr, "http-server: %v\n", err)
		return 1
	}
	zone := strings.TrimPrefix(os.Getenv("TZ"), ":")
	if zone == "" {
		zone = "the local zone"
	}
	srv := &http.Server{
		Handler:           httpRoutes(now, zone, paris, stderr),
		ReadHeaderTimeout: 30 * time.Second,
		// Python's http.server refuses a request line over 64 KiB; so
		// does this one (431), and it goes on serving.
		MaxHeaderBytes: 64 << 10,
	}
	fmt.Fprintf(stdout, "Server started http://localhost:%d\n", port)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		fmt.Fprintln(stdout, "Server stopped.")
		return 0
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return 0
		}
		fmt.Fprintf(stderr, "http-server: %v\n", err)
		return 1
	}
}

// fakedClock returns the clock a program gets from libfaketime's FAKETIME:
// a start-at date "@YYYY-MM-DD hh:mm:ss" (in the local zone) starts the
// clock there at start; an empty value gives the real clock; any other
// value is not supported and gives the real clock with an error.
func fakedClock(faketime string, start time.Time) (func() time.Time, error) {
	if faketime == "" {
		return time.Now, nil
	}
	at, ok := strings.CutPrefix(faketime, "@")
	if !ok {
		return time.Now, fmt.Errorf("FAKETIME=%q is not a start-at date", faketime)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", at, time.Local)
	if err != nil {
		return time.Now, fmt.Errorf("FAKETIME=%q: %w", faketime, err)
	}
	offset := t.Sub(start)
	return func() time.Time { return time.Now().Add(offset) }, nil
}

// httpPage is the HTML page of every route.
var httpPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}<p><a href="/">Home</a> · <a href="/date">/date</a> · <a href="/date/paris">/date/paris</a> · <a href="/api/date">/api/date</a></p>
</body>
</html>
`))

// httpRoutes is the server's handler: the four routes on GET (and HEAD),
// 405 for another method on them, 404 for any other path.
func httpRoutes(now func() time.Time, zone string, paris *time.Location, log io.Writer) http.Handler {
	mux := http.NewServeMux()
	page := func(title string, lines ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = httpPage.Execute(w, struct {
				Title string
				Lines []string
			}{title, lines})
		}
	}
	mux.HandleFunc("GET /{$}", page("Welcome", "A small HTTP server: it tells the time here and in Paris."))
	mux.HandleFunc("GET /date", func(w http.ResponseWriter, r *http.Request) {
		t := now().In(time.Local)
		page("Local date and time", "It is "+t.Format(httpDateLayout)+" "+t.Format("MST -0700")+" here ("+zone+").")(w, r)
	})
	mux.HandleFunc("GET /date/paris", func(w http.ResponseWriter, r *http.Request) {
		t := now().In(paris)
		page("Date and time in Paris", "In Paris it is "+t.Format(httpDateLayout)+" "+t.Format("MST -0700")+".")(w, r)
	})
	mux.HandleFunc("GET /api/date", func(w http.ResponseWriter, r *http.Request) {
		t := now().In(time.Local)
		body, _ := json.Marshal(map[string]string{
			"date":     t.Format("2006-01-02"),
			"time":     t.Format("15:04:05"),
			"timezone": zone,
			"iso":      t.Format(time.RFC3339),
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		fmt.Fprintf(log, "%s - - [%s] %q %d -\n", clientHost(r.RemoteAddr), now().Format("02/Jan/2006 15:04:05"), r.Method+" "+r.URL.RequestURI()+" "+r.Proto, rec.status)
	})
}

// statusRecorder keeps the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// clientHost is the host part of a request's remote address.
func clientHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
