// Package racehook is netgrade's Python start-up hook that makes races in
// shared state show every time they can happen, instead of once in a while.
//
// A read-modify-write of a counter without a lock loses an update only when
// another process or thread runs between the read and the write: a window
// of microseconds, which twenty clients arriving together rarely hit. The
// hook, a sitecustomize module that Python imports at start-up from a
// directory netgrade puts first on PYTHONPATH (the program's own files are
// untouched), widens those windows without changing what a correct program
// computes:
//
//   - the interpreter switches threads as often as it can
//     (sys.setswitchinterval at its minimum);
//   - a fixed delay follows each read from, and precedes each write to, a
//     regular file, and surrounds each fcntl.flock, fcntl.lockf or
//     os.lockf that takes a lock;
//   - while more than one thread runs, a fixed delay precedes each store to
//     shared state (a global, an attribute, an item, a closure variable) in
//     the program's own code.
//
// A read-then-lock or an unlocked read-modify-write is then interleaved by
// clients that arrive together, and a correctly locked one is only slower.
// The hook does nothing unless its environment variable is set, and it
// imports any other sitecustomize module the path holds, as Python would
// have. Each process that loads it leaves a mark, so that a report can say
// whether it was active.
package racehook

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// script is the hook: Python's site module imports it as sitecustomize.
//
//go:embed sitecustomize.py
var script []byte

// The environment variables the hook reads.
const (
	// EnvHook turns the hook on when it is "1".
	EnvHook = "NETGRADE_RACE_HOOK"
	// EnvFileDelay is the delay around file reads, writes and locks, in
	// milliseconds.
	EnvFileDelay = "NETGRADE_RACE_FILE_DELAY_MS"
	// EnvStoreDelay is the delay before a store to shared state while other
	// threads run, in milliseconds.
	EnvStoreDelay = "NETGRADE_RACE_STORE_DELAY_MS"
	// EnvMarks names the directory where each process that loads the hook
	// leaves a file named after its PID.
	EnvMarks = "NETGRADE_RACE_MARKS"
)

// ScriptName is the name the hook is written under: the module Python's
// site imports at start-up.
const ScriptName = "sitecustomize.py"

// marksDir is the directory, inside the hook's, where processes leave
// their marks.
const marksDir = "marks"

// The default delays. Twenty clients that connect together are accepted a
// few milliseconds apart, forked children and started threads more so on a
// loaded machine: a window of several times 20 ms between a read and its
// write is overlapped by the next client every time, and a correct seller
// that serialises its clients under a lock pays about three file delays
// (or one store delay) per client.
const (
	DefaultFileDelay  = 20 * time.Millisecond
	DefaultStoreDelay = 20 * time.Millisecond
)

// Config says how wide the hook makes the windows. A zero delay turns that
// part off.
type Config struct {
	// FileDelay follows each read from a regular file, precedes each write
	// to one, and precedes and follows each lock taken on one.
	FileDelay time.Duration
	// StoreDelay precedes each store to shared state in the program's own
	// code while more than one thread runs.
	StoreDelay time.Duration
}

// DefaultConfig returns the delays netgrade grades with.
func DefaultConfig() Config {
	return Config{FileDelay: DefaultFileDelay, StoreDelay: DefaultStoreDelay}
}

// Hook is the hook installed in a directory, for the programs of one
// check: its environment turns it on, and its marks say which processes
// loaded it.
type Hook struct {
	dir string
	cfg Config
}

// Install writes the hook into dir, which it creates if needed; dir should
// be the check's own (a temporary directory), since the marks of every
// program started with the hook's environment collect there.
func Install(dir string, cfg Config) (*Hook, error) {
	if cfg.FileDelay < 0 || cfg.StoreDelay < 0 {
		return nil, fmt.Errorf("race hook: negative delay (%s, %s)", cfg.FileDelay, cfg.StoreDelay)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("race hook: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(abs, marksDir), 0o755); err != nil {
		return nil, fmt.Errorf("race hook: %w", err)
	}
	if err := os.WriteFile(filepath.Join(abs, ScriptName), script, 0o644); err != nil {
		return nil, fmt.Errorf("race hook: %w", err)
	}
	return &Hook{dir: abs, cfg: cfg}, nil
}

// Dir returns the directory that holds the hook: the one a program's
// PYTHONPATH must start with.
func (h *Hook) Dir() string { return h.dir }

// Config returns the delays the hook was installed with.
func (h *Hook) Config() Config { return h.cfg }

// Env returns env, a program's extra environment (KEY=VALUE), with the
// hook's directory put first on its PYTHONPATH and the variables that turn
// the hook on: what a program's start must add to load it.
func (h *Hook) Env(env []string) []string {
	out := make([]string, 0, len(env)+5)
	path := h.dir
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PYTHONPATH":
			if v != "" {
				path += string(os.PathListSeparator) + v
			}
		case EnvHook, EnvFileDelay, EnvStoreDelay, EnvMarks:
		default:
			out = append(out, kv)
		}
	}
	return append(out,
		"PYTHONPATH="+path,
		EnvHook+"=1",
		EnvFileDelay+"="+millis(h.cfg.FileDelay),
		EnvStoreDelay+"="+millis(h.cfg.StoreDelay),
		EnvMarks+"="+filepath.Join(h.dir, marksDir),
	)
}

// millis writes d in milliseconds, as the hook reads it.
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// Load is one process that loaded the hook.
type Load struct {
	PID int
	// Parts names what the hook set up in it: "switchinterval", "files",
	// "locks", "stores" (a part that failed, or whose delay is zero, is
	// missing).
	Parts []string
}

// Loaded returns the processes that have loaded the hook so far, by PID.
// A process forked from one that loaded it is not listed: it inherits the
// hook without loading it again.
func (h *Hook) Loaded() ([]Load, error) {
	entries, err := os.ReadDir(filepath.Join(h.dir, marksDir))
	if err != nil {
		return nil, fmt.Errorf("race hook: reading its marks: %w", err)
	}
	var loads []Load
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(h.dir, marksDir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("race hook: reading its marks: %w", err)
		}
		loads = append(loads, Load{PID: pid, Parts: strings.Fields(string(b))})
	}
	slices.SortFunc(loads, func(a, b Load) int { return a.PID - b.PID })
	return loads, nil
}

// Describe says, for a report, whether the hook was active and how: what a
// check that ran its program with the hook notes in its transcript.
func (h *Hook) Describe() string {
	loads, err := h.Loaded()
	if err != nil {
		return fmt.Sprintf("netgrade's race hook: %v", err)
	}
	if len(loads) == 0 {
		return "netgrade's race hook was not loaded (not a Python program, or one started without PYTHONPATH, e.g. with -E or -I): races were not widened"
	}
	first := loads[0]
	return fmt.Sprintf("netgrade's race hook was active (%s; file delay %s, store delay %s) in %d process%s (first: PID %d): races in shared state were widened so that they show every time",
		strings.Join(first.Parts, ", "), h.cfg.FileDelay, h.cfg.StoreDelay, len(loads), plural(len(loads)), first.PID)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// Check is what a check that judges shared state offers the hook: the
// course's switch, and the report's notes.
type Check interface {
	// RaceHook reports whether the course runs programs under the hook.
	RaceHook() bool
	// Notice adds a note to the check's report.
	Notice(format string, args ...any)
}

// ForCheck installs the hook for one check in a temporary directory of
// its own, unless the course turns it off, and returns the environment
// that loads it in the programs the check starts and a function that
// notes in the check's report whether the hook was active (or that it was
// off) and removes it.
func ForCheck(c Check) (env []string, done func(), err error) {
	if !c.RaceHook() {
		c.Notice("netgrade's race hook is off (run.race_hook: false in the course): races in shared state show only when the scheduler happens to interleave clients")
		return nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "netgrade-racehook-")
	if err != nil {
		return nil, nil, fmt.Errorf("installing the race hook: %w", err)
	}
	hook, err := Install(dir, DefaultConfig())
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("installing the race hook: %w", err)
	}
	return hook.Env(nil), func() {
		c.Notice("%s", hook.Describe())
		os.RemoveAll(dir)
	}, nil
}
