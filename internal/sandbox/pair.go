package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// Pair is a unit that holds the programs of two students (or one student's
// and a reference run inside the runner) that must run together, as a
// cell of the class interop matrix does: a client of one student against a
// server of another. The sandbox runs it as it runs a Unit (the same
// namespaces, the same container limits), with each program's folder
// visible to the pair runner, and hands back what the runner's PairFunc
// returned.
type Pair struct {
	// Name names the pair in messages (e.g. "ana udp-client × bo udp-server").
	Name string `json:"name"`
	// Programs are the student files of the pair, as the runner sees them;
	// the request refers to them by index.
	Programs []PairProgram `json:"programs,omitempty"`
	// Python is the interpreter of .py files; empty resolves python3 on the
	// runner's PATH (as in a container).
	Python string `json:"python,omitempty"`
	// Sandbox is the name of the isolation in force, set by the sandbox.
	Sandbox string `json:"sandbox"`
	// TimeoutMS bounds the pair; the sandbox kills it some time after.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Request is what the pair runner is asked to do, opaque to the
	// sandbox.
	Request json.RawMessage `json:"request"`
}

// PairProgram is one student file of a pair.
type PairProgram struct {
	// Student owns the file.
	Student string `json:"student"`
	// Dir is the student's folder, as the runner sees it.
	Dir string `json:"dir"`
	// Path is the file, relative to Dir.
	Path string `json:"path"`
	// Command, when set, is the course's command template for the file (see
	// File.Command).
	Command []string `json:"command,omitempty"`
}

// File returns the program's file as the runner sees it, refusing a path
// that leaves its folder.
func (p PairProgram) File() (string, error) {
	rel := filepath.FromSlash(p.Path)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("file %q of %s is not inside its folder", p.Path, p.Student)
	}
	return filepath.Join(p.Dir, rel), nil
}

// Timeout returns the pair's time bound.
func (p Pair) Timeout() time.Duration { return time.Duration(p.TimeoutMS) * time.Millisecond }

// pairFlag is the flag of the unit runner (`netgrade unit`) that makes it
// the pair runner.
const pairFlag = "--pair"

// serveFlag is the flag of the pair runner that makes it serve many
// pairs, one JSON line each on its standard input, until that ends
// (ServePairs): the netns sandbox's pool of runners.
const serveFlag = "--serve"

// pairGOGC is the garbage collector's setting of the pair runner, which
// the sandbox starts for every cell of an interop matrix: netgrade's
// package inits allocate about 4 MB, which at the default GOGC=100 costs a
// collection at every start (about 5 ms of CPU, a fifth of the start); a
// cell's heap stays small, so the runner may collect later.
const pairGOGC = "GOGC=400"

// pairEnv returns env with pairGOGC, unless env sets GOGC already.
func pairEnv(env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOGC=") {
			return env
		}
	}
	return append(env, pairGOGC)
}

// PairFunc runs a pair inside the sandbox and returns its outcome (JSON).
// An error is netgrade's, never a student's.
type PairFunc func(ctx context.Context, p Pair) (json.RawMessage, error)

// pairLine is one line of the pair runner's output stream: the outcome,
// or an error, then done. A runner that serves many pairs (serveFlag)
// first says that it does (Serving), or why it cannot (NoPool), then
// writes such a stream for each pair, after a retire line when it serves
// no more.
type pairLine struct {
	Outcome json.RawMessage `json:"outcome,omitempty"`
	Error   string          `json:"error,omitempty"`
	Done    bool            `json:"done,omitempty"`
	Serving bool            `json:"serving,omitempty"`
	NoPool  string          `json:"no_pool,omitempty"`
	// Retire, before a pair's stream, says why the runner serves no more
	// pairs after this one.
	Retire string `json:"retire,omitempty"`
}

// ParsePair decodes a pair as the pair runner receives it.
func ParsePair(data []byte) (Pair, error) {
	var p Pair
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Pair{}, fmt.Errorf("reading the pair to run: %w", err)
	}
	if len(p.Request) == 0 {
		return Pair{}, errors.New("the pair to run has no request")
	}
	return p, nil
}

// ServePair is the pair runner's main: it runs f on the pair and writes the
// outcome, then a done line, to w (an error goes to the stream too, so that
// the parent can say what failed).
func ServePair(ctx context.Context, p Pair, f PairFunc, w io.Writer) error {
	if p.Timeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout())
		defer cancel()
	}
	enc := json.NewEncoder(w)
	out, err := f(ctx, p)
	if err != nil {
		_ = enc.Encode(pairLine{Error: err.Error()})
		return err
	}
	if err := enc.Encode(pairLine{Outcome: out}); err != nil {
		return err
	}
	return enc.Encode(pairLine{Done: true})
}

// readPairStream reads a pair runner's output: the outcome, then done.
func readPairStream(r io.Reader) (json.RawMessage, error) {
	out, _, err := decodePairStream(json.NewDecoder(r))
	return out, err
}

// decodePairStream reads one pair's outcome stream from dec, up to its
// done line and no further (a runner that serves many pairs writes the
// next one's after it), and says why the runner retires, if it does.
func decodePairStream(dec *json.Decoder) (out json.RawMessage, retire string, err error) {
	for {
		var l pairLine
		if err := dec.Decode(&l); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, retire, errIncomplete
			}
			return nil, retire, fmt.Errorf("reading the pair runner's output: %w", err)
		}
		switch {
		case l.Error != "":
			return nil, retire, fmt.Errorf("pair runner: %s", l.Error)
		case l.Retire != "":
			retire = l.Retire
		case l.Outcome != nil:
			out = l.Outcome
		case l.Done:
			if out == nil {
				return nil, retire, errors.New("the pair runner ended without an outcome")
			}
			return out, retire, nil
		}
	}
}

// pairRunner is a sandbox that runs pairs in a runner of its own (netns,
// docker).
type pairRunner interface {
	runPair(ctx context.Context, p Pair) (json.RawMessage, error)
}

// RunPair runs a pair in the sandbox sb: in netgrade itself for the process
// sandbox (local is called directly), in new namespaces for netns and in a
// container for docker, where netgrade's pair runner (`netgrade unit
// --pair`) calls its own PairFunc. When ctx is cancelled, RunPair returns
// ctx's error and leaves nothing running.
func RunPair(ctx context.Context, sb Sandbox, p Pair, local PairFunc) (json.RawMessage, error) {
	if w, ok := sb.(interface{ Unwrap() Sandbox }); ok {
		return RunPair(ctx, w.Unwrap(), p, local)
	}
	switch s := sb.(type) {
	case *processSandbox:
		// No time bound here: a cell that must run alone (a program with
		// a port of its own choosing) first waits for the others, and
		// every wait of the cell itself has its own deadline.
		p.Sandbox = Process
		out, err := local(ctx, p)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return out, err
	case pairRunner:
		return s.runPair(ctx, p)
	}
	return nil, fmt.Errorf("the %s sandbox cannot run pairs of programs", sb.Name())
}
