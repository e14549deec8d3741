package http

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/clock"
	"github.com/netgrade/netgrade/internal/httpwire"
)

// textStatic is the course text naming the folder of static files the
// program serves, relative to the student's folder ("public"); empty (the
// default) for a course whose servers serve none: path-traversal then
// neither runs nor counts.
const textStatic = "static"

// staticRule is the course-file rule of textStatic: a folder inside the
// student's folder, below the program, so that the program's own file is
// above it.
func staticRule(v string) error {
	clean := path.Clean(filepath.ToSlash(v))
	switch {
	case path.IsAbs(clean), filepath.IsAbs(v):
		return fmt.Errorf("%q is an absolute path: name the folder inside the student's folder, e.g. public", v)
	case clean == ".":
		return fmt.Errorf("%q is the student's folder itself: name the folder of static files inside it, e.g. public", v)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return fmt.Errorf("%q leaves the student's folder: name a folder inside it, e.g. public", v)
	}
	return nil
}

// traversals are the forms of "one folder up" a path-traversal attempt
// uses: plain, with the dots percent-encoded, and with the slash
// percent-encoded (which a server that decodes the path after splitting
// it lets through).
var traversals = []struct{ up, name string }{
	{"../", "`../`"},
	{"%2e%2e/", "`%2e%2e/` (the dots percent-encoded)"},
	{"..%2f", "`..%2f` (the slash percent-encoded)"},
	{"%2e%2e%2f", "`%2e%2e%2f` (all of it percent-encoded)"},
}

// httpCheckPathTraversal asks the program, for each form of traversal, for
// its own source file through its static folder: the file sits above that
// folder, netgrade knows it byte for byte, and nothing is written into the
// student's folder (which the docker sandbox mounts read-only). A response
// holding it is a server that serves any file its user may read.
func httpCheckPathTraversal(t *graders.T) error {
	static := t.Text(textStatic)
	src := t.SourceFile()
	if src == "" {
		return graders.Skipf("the submission has no source file to look for")
	}
	canary, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading the program's own file, which path-traversal asks the server for: %w", err)
	}
	canary = bytes.TrimSpace(canary)
	if len(canary) == 0 {
		return graders.Skipf("the program's file is empty: there is nothing to recognise")
	}
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	// From a file of the static folder, one level up per folder of its
	// path reaches the student's folder, where the program is.
	depth := len(strings.Split(path.Clean(filepath.ToSlash(static)), "/"))
	base := filepath.Base(src)
	t.Note("the course's static folder is %s/; the program's own file, %s, is %d folder(s) above it", static, base, depth)
	for _, tr := range traversals {
		target := "/" + strings.Repeat(tr.up, depth) + base
		x := p.Do(httpwire.Request{Method: "GET", Path: target})
		if x.Response != nil && bytes.Contains(x.Response.Body, canary) {
			return graders.Failf("`GET %s` answered the program's own source file: the server serves any file its user may read, through %s in the path", target, tr.name).
				Want("404 Not Found (or 400, 403): nothing outside "+static+"/", probe.Curl(x)).
				WithHint(`Resolve the path and check it stays inside the folder before opening anything: full = os.path.realpath(os.path.join(ROOT, urllib.parse.unquote(path).lstrip("/"))); if os.path.commonpath([full, ROOT]) != ROOT: self.send_error(404). http.server's SimpleHTTPRequestHandler(directory=ROOT) does this for you.`)
		}
		if x.Err != nil && !errors.Is(x.Err, httpwire.ErrNoReply) && !closedOrReset(x) {
			t.Note("%s: %v", target, x.Err)
		}
	}
	return p.StillServes("after the path-traversal attempts")
}
