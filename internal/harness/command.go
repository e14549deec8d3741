package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// placeholder matches {name} in a command template.
var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// Expand fills the placeholders of a command template ({port}, {host},
// {message}, {file}, ...) with vars. A token that is exactly one placeholder
// whose variable is absent is dropped, so that the same template can be run
// "without arguments" for usage checks; other unknown placeholders are left
// as they are.
func Expand(template []string, vars map[string]string) []string {
	out := make([]string, 0, len(template))
	for _, tok := range template {
		if m := placeholder.FindStringSubmatch(tok); m != nil && m[0] == tok {
			if v, ok := vars[m[1]]; ok {
				out = append(out, v)
			}
			continue
		}
		out = append(out, placeholder.ReplaceAllStringFunc(tok, func(p string) string {
			if v, ok := vars[p[1:len(p)-1]]; ok {
				return v
			}
			return p
		}))
	}
	return out
}

// HasPlaceholders reports whether any token of the template holds a placeholder.
func HasPlaceholders(template []string) bool {
	for _, tok := range template {
		if placeholder.MatchString(tok) {
			return true
		}
	}
	return false
}

// FileCommand returns the command template that runs a submission file: a
// .py file (or any file without its run bit) under python3, others directly;
// args (a template such as {port}) follow.
func FileCommand(path string, args []string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("submission file: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("submission file %s is a directory; give the program file itself", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("submission file: %w", err)
	}
	if strings.HasSuffix(path, ".py") || st.Mode()&0o111 == 0 {
		return append([]string{"python3", abs}, args...), nil
	}
	return append([]string{abs}, args...), nil
}

// FileTemplate fills a course's run template with a submission file: a
// token that is exactly {file} becomes file, a token that is exactly {args}
// is replaced by args (no token when there are none), and {file} inside any
// other token is replaced in place. Other placeholders, such as {port} in
// args, are left for Expand, so that a course and a unit runner build the
// same command from the same template.
func FileTemplate(template []string, file string, args []string) []string {
	var out []string
	for _, tok := range template {
		switch tok {
		case "{file}":
			out = append(out, file)
		case "{args}":
			out = append(out, args...)
		default:
			out = append(out, strings.ReplaceAll(tok, "{file}", file))
		}
	}
	return out
}

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
	return base == "python" || base == "python3" || regexp.MustCompile(`^python3\.\d+$`).MatchString(base)
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
