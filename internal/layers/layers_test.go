package layers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// module is the module path every package below is named under.
const module = "github.com/netgrade/netgrade/"

// layers are netgrade's packages, from the top (cmd) down. A package may
// import the packages of the layers below its own, and none of its own
// layer or above. Every package of the module is in one layer: a new
// package is placed here, where docs/architecture.md draws it.
var layers = [][]string{
	{"cmd/netgrade", "tools/flake", "tools/testsum", "scripts", "internal/layers"},
	{"course", "internal/batch/batchtest", "internal/batch/e2e", "internal/sandbox/sandboxtest", "internal/clitest"},
	{"internal/batch", "internal/interop"},
	{"internal/sandbox", "internal/samples", "internal/coursefile", "internal/overrides"},
	// The chapters of the course, one package each.
	{"graders/sockets", "graders/socketserver", "graders/http", "graders/mail"},
	// The checks every chapter shares (starts, usage, silent client).
	{"graders/checks"},
	{"graders/probe", "graders/probe/mailprobe"},
	{"graders", "graders/gradertest", "reference", "internal/capture/capturetest"},
	// A failed check's "try it yourself", made by the engine.
	{"internal/repro"},
	{"internal/pyenv", "internal/httpwire", "internal/mailserver", "internal/clock", "internal/render",
		"internal/racehook", "internal/apispec", "internal/suggest", "internal/guess", "internal/cost", "internal/similarity", "fixtures",
		"internal/capture"},
	{"internal/harness"},
	{"internal/observe"},
	{"internal/proctree", "internal/sandbox/sandboxtest/hostile"},
	{"internal/poll", "internal/sockdiag", "internal/report", "internal/outlock"},
}

// imports returns the module's packages, each with the module packages it
// imports, as go list -deps reads them (tests left out).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list -deps: %v: %s", err, ee.Stderr)
	}
	assert.NilError(t, err, "go list -deps")
	got := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue
		}
		var deps []string
		for _, d := range fields[1:] {
			if strings.HasPrefix(d, module) {
				deps = append(deps, strings.TrimPrefix(d, module))
			}
		}
		got[strings.TrimPrefix(fields[0], module)] = deps
	}
	return got
}

// TestImportsGoOnlyDownward: every package is in a layer, and imports only
// packages of the layers below its own.
func TestImportsGoOnlyDownward(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layerOf[p] = i
		}
	}
	pkgs := imports(t)
	assert.Assert(t, len(pkgs) > 20, "go list found only %d packages of the module", len(pkgs))
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		lp, ok := layerOf[p]
		if !ok {
			t.Errorf("%s is in no layer: place it in layers, where docs/architecture.md draws it", p)
			continue
		}
		for _, d := range pkgs[p] {
			ld, ok := layerOf[d]
			switch {
			case !ok:
				// Reported as a package of its own.
			case ld == lp:
				t.Errorf("%s imports %s, of its own layer (%s)", p, d, strings.Join(layers[lp], ", "))
			case ld < lp:
				t.Errorf("%s imports %s, which is above it", p, d)
			}
		}
	}
}

// TestLayersNameRealPackages: a package removed or renamed leaves no
// stale entry behind.
func TestLayersNameRealPackages(t *testing.T) {
	pkgs := imports(t)
	for _, l := range layers {
		for _, p := range l {
			_, ok := pkgs[p]
			assert.Check(t, ok, fmt.Sprintf("layers names %s, which go list does not find", p))
		}
	}
}
