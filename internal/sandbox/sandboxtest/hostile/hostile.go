// Package hostile is a corpus of hostile programs posing as udp-server
// submissions, for the tests of the harness, the sandboxes and batch
// grading: a bounded fork bomb, a memory hog, endless output, a server that
// ignores SIGINT and SIGTERM, a double-forked setsid daemon, output that
// attacks every report format, attempts to write outside the scratch space
// and to reach the host's loopback, a wait on stdin, threads spinning on
// the CPU. Each must get a verdict and leave nothing behind.
//
// A program's header declares it:
//
//	# netgrade-hostile: fork-bomb
//	# limit: processes
//
// then says what it does. "limit" names the limit of the harness
// (harness.LimitMemory, LimitProcesses, LimitOutput) that must stop it,
// where the containment enforces it.
package hostile

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed *.py
var files embed.FS

// DaemonLog is the name of the file, in the program's temporary folder
// (TMPDIR), that the setsid daemon appends to: a "start PID TIME" line
// once, then an "alive PID TIME" line every 100 ms while it lives.
const DaemonLog = "netgrade-hostile-daemon.log"

// Program is one hostile program.
type Program struct {
	// Name is the behaviour, e.g. "fork-bomb".
	Name string
	// File is the file's name in the corpus, e.g. "fork_bomb.py".
	File string
	// Limit is the limit that must stop it, or "".
	Limit string
	// About says what it does.
	About string
	// source is the program text.
	source []byte
}

const (
	marker     = "# netgrade-hostile:"
	limitLine  = "# limit:"
	hostPortPy = "HOST_PORT = 0\n"
)

// All returns every program of the corpus, sorted by name.
func All() ([]Program, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var out []Program
	for _, e := range entries {
		src, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		p, err := parse(e.Name(), src)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the program of a behaviour.
func Get(name string) (Program, error) {
	all, err := All()
	if err != nil {
		return Program{}, err
	}
	for _, p := range all {
		if p.Name == name {
			return p, nil
		}
	}
	return Program{}, fmt.Errorf("no hostile program %q", name)
}

func parse(file string, src []byte) (Program, error) {
	p := Program{File: file, source: src}
	sc := bufio.NewScanner(strings.NewReader(string(src)))
	var about []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			break
		}
		switch {
		case strings.HasPrefix(line, marker):
			p.Name = strings.TrimSpace(strings.TrimPrefix(line, marker))
		case strings.HasPrefix(line, limitLine):
			p.Limit = strings.TrimSpace(strings.TrimPrefix(line, limitLine))
		default:
			about = append(about, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		}
	}
	if p.Name == "" {
		return p, fmt.Errorf("hostile program %s has no %q line", file, marker)
	}
	p.About = strings.Join(about, " ")
	return p, nil
}

// Source returns the program text, with hostPort (a listener on the
// host's loopback that must never be reached) filled in where the program
// uses one; 0 leaves the program's attempt out.
func (p Program) Source(hostPort int) []byte {
	return []byte(strings.Replace(string(p.source), hostPortPy, fmt.Sprintf("HOST_PORT = %d\n", hostPort), 1))
}

// Write writes the program into dir as name (udp-server.py as a student
// hands it in), without the run bit, and returns its path.
func (p Program) Write(dir, name string, hostPort int) (string, error) {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, p.Source(hostPort), 0o644); err != nil {
		return "", fmt.Errorf("writing hostile program %s: %w", p.Name, err)
	}
	return path, nil
}

// EscapePaths returns the files outside its scratch space that the
// write-outside program, written into folder dir, tries to create, as the
// host names them: in dir, beside dir, in home and in /tmp.
func EscapePaths(dir, home string) []string {
	name := filepath.Base(dir)
	return []string{
		filepath.Join(dir, "netgrade-escaped.txt"),
		filepath.Join(filepath.Dir(dir), "netgrade-escaped-"+name+".txt"),
		filepath.Join(home, "netgrade-escaped-"+name+".txt"),
		filepath.Join("/tmp", "netgrade-escaped-"+name+".txt"),
	}
}
