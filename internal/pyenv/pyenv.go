// Package pyenv is netgrade's knowledge of Python. It knows the Python
// interpreters of a machine: the real binary behind a python3 shim
// (Interpreters, the Runtime harness starts programs with), and which of
// them can import a module a program failed to import, with what to tell
// the person who can act on it. A student whose python3 on PATH (a pyenv
// build, a virtual environment) lacks Flask often has a Debian
// /usr/bin/python3 that has it: "The grading machine has no flask" would
// send them the wrong way. It reads what Python prints when a program
// dies (LastTraceback, a MemoryError, a missing module) and what stops
// Python from reading a source file at all (Undecodable).
package pyenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// ProbeTimeout bounds one interpreter's answer to "do you have this
// module?": a start of Python and a look in its path, no import.
const ProbeTimeout = 10 * time.Second

// probeCode exits 0 when the module named by argv[1] can be found and 1
// when it cannot, without importing it (an import could run anything).
const probeCode = "import importlib.util,sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"

// moduleName is what a top-level module's name may be.
var moduleName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// versioned is the name of a versioned interpreter: python3.11.
var versioned = regexp.MustCompile(`^python3\.\d+$`)

// noModule finds the module a ModuleNotFoundError names.
var noModule = regexp.MustCompile(`^ModuleNotFoundError: No module named '([^']+)'`)

// MissingModule returns the top-level module a traceback's last line says
// could not be imported ("ModuleNotFoundError: No module named
// 'flask.json'" gives "flask"), or "".
func MissingModule(tracebackLine string) string {
	m := noModule.FindStringSubmatch(tracebackLine)
	if m == nil {
		return ""
	}
	top, _, _ := strings.Cut(m[1], ".")
	if !moduleName.MatchString(top) {
		return ""
	}
	return top
}

// Candidates returns the interpreters worth asking, in the order they are
// offered: Debian's /usr/bin/python3 first (where the distribution's
// python3-flask and python3-fastapi go), then python3 and every python3.X
// on path (a PATH-style list), then the python3.X of /usr/bin and
// /usr/local/bin. Names that lead to one executable are given once, by the
// first name met.
func Candidates(path string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return
		}
		id := identity(p)
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, p)
	}
	add("/usr/bin/python3")
	dirs := filepath.SplitList(path)
	for _, d := range dirs {
		if d != "" {
			add(filepath.Join(d, "python3"))
		}
	}
	for _, d := range append(dirs, "/usr/bin", "/usr/local/bin") {
		if d == "" {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range ents {
			if versioned.MatchString(e.Name()) {
				names = append(names, e.Name())
			}
		}
		// Newest first: python3.12 before python3.9.
		slices.SortFunc(names, func(a, b string) int { return minor(b) - minor(a) })
		for _, n := range names {
			add(filepath.Join(d, n))
		}
	}
	return out
}

// minor is the X of python3.X.
func minor(name string) int {
	n := 0
	for _, r := range strings.TrimPrefix(name, "python3.") {
		n = n*10 + int(r-'0')
	}
	return n
}

// Finder asks a machine's interpreters whether they have a module, once
// per interpreter and module: one Finder serves one grading run, so that
// a class of programs that all lack flask costs a handful of probes. The
// zero value is not usable; use NewFinder.
type Finder struct {
	candidates []string
	mu         sync.Mutex
	// has caches, per module, the probed candidates that have it.
	has map[string][]string
}

// NewFinder returns a Finder over the given candidates (Candidates of the
// PATH when nil).
func NewFinder(candidates []string) *Finder {
	if candidates == nil {
		candidates = Candidates(os.Getenv("PATH"))
	}
	return &Finder{candidates: candidates, has: map[string][]string{}}
}

// Tried returns the interpreters the Finder asks.
func (f *Finder) Tried() []string { return slices.Clone(f.candidates) }

// Having returns the candidate interpreters that can import module, in
// candidate order, leaving out except (an interpreter, by any name of
// its executable: the one that ran the program). A name that is no module
// name has none.
func (f *Finder) Having(ctx context.Context, module, except string) []string {
	if !moduleName.MatchString(module) {
		return nil
	}
	f.mu.Lock()
	have, ok := f.has[module]
	f.mu.Unlock()
	if !ok {
		for _, c := range f.candidates {
			if Has(ctx, c, module) {
				have = append(have, c)
			}
		}
		if ctx.Err() != nil {
			// An interrupted probe proves nothing: ask again next time.
			return filterOut(have, except)
		}
		f.mu.Lock()
		f.has[module] = have
		f.mu.Unlock()
	}
	return filterOut(have, except)
}

// filterOut returns list without the interpreters that are except.
func filterOut(list []string, except string) []string {
	if except == "" {
		return slices.Clone(list)
	}
	var out []string
	for _, p := range list {
		if !Same(p, except) {
			out = append(out, p)
		}
	}
	return out
}

// Same reports whether two names of interpreters lead to one
// interpreter: one executable, in one environment.
func Same(a, b string) bool { return identity(a) == identity(b) }

// identity is what makes an interpreter itself: its executable, and the
// virtual environment it was named in. A virtual environment's python3 is
// a link to the interpreter it was made from, yet it imports from its own
// site-packages (pyvenv.cfg beside its bin/ says so).
func identity(p string) string {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		real = p
	}
	if abs, err := filepath.Abs(p); err == nil {
		root := filepath.Dir(filepath.Dir(abs))
		if _, err := os.Stat(filepath.Join(root, "pyvenv.cfg")); err == nil {
			return real + " in " + root
		}
	}
	return real
}

// Has reports whether the interpreter can import module: it runs
// `INTERPRETER -c 'import importlib.util,sys; sys.exit(...)' MODULE`
// with PYTHON* variables that would change where it looks removed, and a
// deadline. An interpreter that cannot be run has nothing.
func Has(ctx context.Context, interpreter, module string) bool {
	if !moduleName.MatchString(module) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter, "-c", probeCode, module)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PYTHONPATH=") || strings.HasPrefix(kv, "PYTHONHOME=") || strings.HasPrefix(kv, "PYTHONSTARTUP=")
	})
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return false
	}
	return err == nil
}
