// Package interop runs the class interop matrix: every student's client
// against every student's server, for each pair of a client exercise and a
// server exercise of the course that speak to each other, with netgrade's
// references as one more row and one more column. Each cell runs the two
// programs together in the class's sandbox (sandbox.RunPair), with a relay
// between them that records every byte, and says in one line what a student
// would want to know: the message arrived whole and the server logged it,
// or what went wrong, and whose fault it looks like.
//
// It reads a batch's output (each student's files and own grades) and
// writes OUT/interop/: one file per cell (so that an interrupted run
// resumes without redoing finished cells), interop.csv, interop.html and
// summary.json.
package interop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/sandbox"
)

// ExercisePair is a client exercise and a server exercise that speak to
// each other.
type ExercisePair struct {
	Client string `json:"client"`
	Server string `json:"server"`
	Proto  string `json:"proto"`
}

// ID names the pair in file names and anchors: "udp-client--udp-server".
func (p ExercisePair) ID() string { return p.Client + "--" + p.Server }

// String names the pair for people: "udp-client × udp-server".
func (p ExercisePair) String() string { return p.Client + " × " + p.Server }

// Pairs returns the pairs of the course's exercises that speak to each
// other, in course order.
func Pairs() []ExercisePair {
	return []ExercisePair{
		{Client: "udp-client", Server: "udp-server", Proto: "udp"},
		{Client: "tcp-client", Server: "tcp-server", Proto: "tcp"},
		{Client: "tcp-client", Server: "tcp-upper", Proto: "tcp"},
	}
}

// RefKey is the key of netgrade's reference in a matrix's rows and
// columns and in file names; no student ID can hold a tilde.
const RefKey = "~reference"

// RefName is how pages name the reference.
const RefName = "netgrade's reference"

// Student is one student of the class, as the matrix needs them.
type Student struct {
	ID string
	// Dir is the student's folder (an archive unpacked by the caller).
	Dir string
	// Files maps an exercise to the student's file, relative to Dir; an
	// exercise not handed in has none.
	Files map[string]string
	// Own maps an exercise to what the student's own grade says when it
	// failed a check that keeps its program from talking ("" otherwise):
	// the reason behind a grey or red cell.
	Own map[string]string
}

// Options configure a matrix run.
type Options struct {
	// Out is the batch's output folder; the matrix goes to Out/interop.
	Out string
	// Pairs to run (default Pairs()).
	Pairs []ExercisePair
	// Sandbox runs the cells; Env runs them inside it.
	Sandbox sandbox.Sandbox
	Env     Env
	// Jobs is how many cells run at the same time.
	Jobs int
	// Regrade runs every cell again.
	Regrade bool
	// Command gives an exercise's course command template (nil: .py files
	// under python3).
	Command func(exercise string) []string
	// LogLine is the course's udp-server log line template.
	LogLine string
	// TimeoutScale scales every wait of a cell.
	TimeoutScale float64
	// Version is netgrade's version: a cell with a reference is run again
	// under another version.
	Version string
	// Progress, when set, is told about every cell done.
	Progress io.Writer
}

// Cell is one cell of a matrix.
type Cell struct {
	Client string `json:"client"`
	Server string `json:"server"`
	Outcome
	// Own is what the own grade of the side the reason blames says.
	Own string `json:"own_grade,omitempty"`
	// Key identifies what the cell ran (files, message, version): a cell
	// whose key is unchanged is not run again.
	Key string `json:"key"`
	// From says the cell was not run: it takes the outcome of the
	// reference's cell with the side that could not run.
	From string `json:"from,omitempty"`
}

// Matrix is one pair's matrix.
type Matrix struct {
	Pair ExercisePair `json:"pair"`
	// Clients and Servers are the rows and columns: the reference first,
	// then the students who handed the exercise in, by ID.
	Clients []string `json:"clients"`
	Servers []string `json:"servers"`
	// Cells hold every cell, row by row.
	Cells []*Cell `json:"cells"`
	// MissingClients and MissingServers are the students who handed in no
	// file for the exercise.
	MissingClients []string `json:"missing_clients,omitempty"`
	MissingServers []string `json:"missing_servers,omitempty"`
}

// Cell returns the cell of a client and a server.
func (m *Matrix) Cell(client, server string) *Cell {
	for _, c := range m.Cells {
		if c.Client == client && c.Server == server {
			return c
		}
	}
	return nil
}

// Result is what a run of the matrices did.
type Result struct {
	Matrices []*Matrix
	// Cells run, reused from an earlier run, and taken from the reference's
	// cell of a side that could not run.
	Ran, Reused, Copied int
	// Interrupted is true when ctx ended first.
	Interrupted bool
	Wall        time.Duration
}

// Dir is the folder of the matrix under a batch's output.
func Dir(out string) string { return filepath.Join(out, "interop") }

// Run runs every matrix: first each pair's reference row and column (a
// student's program that cannot run against the reference is grey in its
// whole row or column, from that one cell), then every other cell, Jobs at
// a time. A cell done in an earlier run with the same key is reused.
func Run(ctx context.Context, students []Student, opt Options) (*Result, error) {
	if opt.Sandbox == nil {
		return nil, errors.New("interop: no sandbox given")
	}
	if len(opt.Pairs) == 0 {
		opt.Pairs = Pairs()
	}
	opt.Jobs = max(1, opt.Jobs)
	begin := time.Now()
	res := &Result{}
	for _, p := range opt.Pairs {
		m, err := runPair(ctx, students, p, opt, res)
		if err != nil {
			return nil, err
		}
		res.Matrices = append(res.Matrices, m)
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
	}
	res.Wall = time.Since(begin)
	return res, nil
}

// How a cell was done, for the counts of a run.
const (
	ran = iota
	reused
	copied
)

// plan is a cell to run.
type plan struct {
	cell   *Cell
	pair   sandbox.Pair
	path   string
	client *Student
	server *Student
	p      ExercisePair
}

func runPair(ctx context.Context, students []Student, p ExercisePair, opt Options, res *Result) (*Matrix, error) {
	m := &Matrix{Pair: p, Clients: []string{RefKey}, Servers: []string{RefKey}}
	byID := map[string]*Student{}
	for i := range students {
		s := &students[i]
		byID[s.ID] = s
		if s.Files[p.Client] != "" {
			m.Clients = append(m.Clients, s.ID)
		} else {
			m.MissingClients = append(m.MissingClients, s.ID)
		}
		if s.Files[p.Server] != "" {
			m.Servers = append(m.Servers, s.ID)
		} else {
			m.MissingServers = append(m.MissingServers, s.ID)
		}
	}
	slices.Sort(m.Clients[1:])
	slices.Sort(m.Servers[1:])
	for _, c := range m.Clients {
		for _, s := range m.Servers {
			if c == RefKey && s == RefKey {
				continue // the references against each other prove nothing of a student
			}
			m.Cells = append(m.Cells, &Cell{Client: c, Server: s})
		}
	}
	var first, rest []plan
	for _, cell := range m.Cells {
		pl, err := opt.plan(p, cell, byID)
		if err != nil {
			return nil, err
		}
		if cell.Client == RefKey || cell.Server == RefKey {
			first = append(first, pl)
		} else {
			rest = append(rest, pl)
		}
	}
	total := len(m.Cells)
	done := 0
	var mu sync.Mutex
	tick := func(how int) {
		mu.Lock()
		defer mu.Unlock()
		done++
		switch how {
		case ran:
			res.Ran++
		case reused:
			res.Reused++
		default:
			res.Copied++
		}
		if opt.Progress != nil && (done == total || done%max(1, total/10) == 0) {
			fmt.Fprintf(opt.Progress, "interop: %s: %d of %d cells\n", p, done, total)
		}
	}
	if err := opt.runAll(ctx, first, tick); err != nil {
		return nil, err
	}
	// A side that could not run against the reference cannot run against
	// anyone: its row or column takes the reference's cell.
	greyClients, greyServers := map[string]*Cell{}, map[string]*Cell{}
	for _, pl := range first {
		c := pl.cell
		if c.Verdict != Grey {
			continue
		}
		if c.Server == RefKey && c.Culprit == "client" {
			greyClients[c.Client] = c
		}
		if c.Client == RefKey && c.Culprit == "server" {
			greyServers[c.Server] = c
		}
	}
	var todo []plan
	for _, pl := range rest {
		from := greyClients[pl.cell.Client]
		if from == nil {
			from = greyServers[pl.cell.Server]
		}
		if from != nil {
			key := pl.cell.Key
			*pl.cell = Cell{Client: pl.cell.Client, Server: pl.cell.Server, Key: key,
				Outcome: Outcome{Verdict: Grey, Culprit: from.Culprit, Diagnosis: from.Diagnosis, Reason: from.Reason, Sandbox: from.Sandbox},
				Own:     from.Own, From: from.Client + " × " + from.Server}
			tick(copied)
			continue
		}
		todo = append(todo, pl)
	}
	if err := opt.runAll(ctx, todo, tick); err != nil {
		return nil, err
	}
	return m, nil
}

// plan prepares a cell: its key, its file, and the pair the sandbox runs.
func (opt Options) plan(p ExercisePair, cell *Cell, byID map[string]*Student) (plan, error) {
	req := Request{Client: p.Client, Server: p.Server, Proto: p.Proto, Message: Message, TimeoutScale: opt.TimeoutScale}
	if p.Proto == "udp" {
		req.LogLine = opt.LogLine
	}
	pair := sandbox.Pair{Name: cell.Client + " " + p.Client + " × " + cell.Server + " " + p.Server,
		TimeoutMS: Timeout(opt.TimeoutScale).Milliseconds()}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%g\x00%s\x00", p.ID(), Message, req.LogLine, opt.TimeoutScale, opt.Version)
	pl := plan{cell: cell, p: p}
	side := func(id, exercise string) (Side, *Student, error) {
		if id == RefKey {
			fmt.Fprintf(h, "ref\x00")
			return Side{Student: RefName, Ref: true}, nil, nil
		}
		s := byID[id]
		prog := sandbox.PairProgram{Student: id, Dir: s.Dir, Path: s.Files[exercise]}
		if opt.Command != nil {
			prog.Command = opt.Command(exercise)
		}
		file, err := prog.File()
		if err != nil {
			return Side{}, nil, err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return Side{}, nil, fmt.Errorf("reading %s's %s: %w", id, exercise, err)
		}
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", id, prog.Path, len(data))
		h.Write(data)
		pair.Programs = append(pair.Programs, prog)
		return Side{Student: id, Program: len(pair.Programs) - 1}, s, nil
	}
	var err error
	if req.ClientSide, pl.client, err = side(cell.Client, p.Client); err != nil {
		return plan{}, err
	}
	if req.ServerSide, pl.server, err = side(cell.Server, p.Server); err != nil {
		return plan{}, err
	}
	if pair.Request, err = json.Marshal(req); err != nil {
		return plan{}, err
	}
	cell.Key = hex.EncodeToString(h.Sum(nil))[:32]
	pl.pair = pair
	pl.path = filepath.Join(Dir(opt.Out), "cells", p.ID(), fileKey(cell.Client), fileKey(cell.Server)+".json")
	return pl, nil
}

// fileKey is a row or column key as a file name.
func fileKey(k string) string {
	if k == RefKey {
		return "_reference~"
	}
	return k
}

// runAll runs the plans, Jobs at a time, reusing the cells done before.
func (opt Options) runAll(ctx context.Context, plans []plan, tick func(how int)) error {
	queue := make(chan plan)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range min(opt.Jobs, max(1, len(plans))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pl := range queue {
				again, err := opt.runCell(ctx, pl)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						firstErr = errors.Join(firstErr, err)
						mu.Unlock()
					}
					continue
				}
				if again {
					tick(reused)
				} else {
					tick(ran)
				}
			}
		}()
	}
feed:
	for _, pl := range plans {
		select {
		case queue <- pl:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	return firstErr
}

// runCell runs one cell, or reads it back when it was done before with
// the same key, and writes it.
func (opt Options) runCell(ctx context.Context, pl plan) (reused bool, err error) {
	if !opt.Regrade {
		if data, err := os.ReadFile(pl.path); err == nil {
			var old Cell
			if json.Unmarshal(data, &old) == nil && old.Key == pl.cell.Key && old.Verdict != "" {
				*pl.cell = old
				return true, nil
			}
		}
	}
	raw, err := sandbox.RunPair(ctx, opt.Sandbox, pl.pair, opt.Env.Run)
	if err != nil {
		return false, fmt.Errorf("interop cell %s: %w", pl.pair.Name, err)
	}
	var out Outcome
	if err := json.Unmarshal(raw, &out); err != nil {
		return false, fmt.Errorf("interop cell %s: reading its outcome: %w", pl.pair.Name, err)
	}
	pl.cell.Outcome = out
	switch {
	case out.Culprit == "client" && pl.client != nil:
		pl.cell.Own = ownLine(pl.client.Own[pl.p.Client])
	case out.Culprit == "server" && pl.server != nil:
		pl.cell.Own = ownLine(pl.server.Own[pl.p.Server])
	}
	if out.Verdict != Grey && out.Verdict != Red {
		pl.cell.Own = "" // the program ran and talked: its own grade explains nothing here
	}
	data, err := json.MarshalIndent(pl.cell, "", "  ")
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(pl.path), 0o755); err != nil {
		return false, err
	}
	tmp := pl.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return false, err
	}
	return false, os.Rename(tmp, pl.path)
}

// ownLine shortens a student's own failure message for a cell.
func ownLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
