package pyenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
)

// Interpreters resolves interpreter names such as python3 to the real
// executable once, so that a pyenv-style shim (about 100 ms a launch) is paid
// for once per grading run and not once per program start.
type Interpreters struct {
	mu    sync.Mutex
	cache map[string]string
}

// NewInterpreters returns an empty resolver cache.
func NewInterpreters() *Interpreters {
	return &Interpreters{cache: map[string]string{}}
}

// isPython reports whether an argv[0] names a Python interpreter by name.
func isPython(name string) bool {
	base := filepath.Base(name)
	return base == "python" || base == "python3" || versioned.MatchString(base)
}

// Resolve returns the executable to run for name: for a Python interpreter
// the path of the real binary (sys.executable), otherwise name itself as
// found on PATH.
func (in *Interpreters) Resolve(ctx context.Context, name string) (string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if p, ok := in.cache[name]; ok {
		return p, nil
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if isPython(name) {
			return "", fmt.Errorf("no Python interpreter %q on PATH: install python3 or put it on PATH: %w", name, err)
		}
		return "", fmt.Errorf("cannot run %q: %w", name, err)
	}
	if isPython(name) {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, path, "-c", "import sys; print(sys.executable)").Output()
		if err == nil {
			if real := strings.TrimSpace(string(out)); real != "" {
				if _, serr := os.Stat(real); serr == nil {
					path = real
				}
			}
		}
	}
	in.cache[name] = path
	return path, nil
}

// Executable is Resolve for the harness (harness.Runtime): argv[0] naming
// a Python interpreter is resolved to the real binary, any other name is
// left for the kernel to find on PATH. A nil Interpreters resolves
// nothing.
func (in *Interpreters) Executable(ctx context.Context, argv0 string) (string, error) {
	if in == nil || !isPython(argv0) {
		return argv0, nil
	}
	return in.Resolve(ctx, argv0)
}

// OutOfMemory reports whether what a program printed on stderr ends in a
// Python MemoryError: how a failed allocation shows when the memory limit
// is enforced per process (RLIMIT_DATA) and the kernel kills nothing
// (harness.Runtime).
func (in *Interpreters) OutOfMemory(stderr []harness.Line) bool {
	tb := LastTraceback(stderr)
	return tb != nil && tb.Exception == "MemoryError"
}

// The Python runtime is what harness asks about the programs it starts.
var _ harness.Runtime = (*Interpreters)(nil)
