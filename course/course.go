// Package course is the default course, "Network programming with
// Python": the one place that lists the exercises netgrade grades, in
// course order, each with the file a student's folder holds, its grader
// (from the chapter packages under graders/) and its reference
// implementation. The registry, `netgrade ref`, `netgrade list`, the
// default course file and the fixture tests all derive from this list.
package course

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/netgrade/netgrade/graders"
	httpch "github.com/netgrade/netgrade/graders/http"
	"github.com/netgrade/netgrade/graders/mail"
	"github.com/netgrade/netgrade/graders/sockets"
	"github.com/netgrade/netgrade/graders/socketserver"
	"github.com/netgrade/netgrade/reference"
)

// Entry is one exercise of the default course, as the course lists it.
type Entry struct {
	// Grader is the exercise as netgrade grades it.
	Grader *graders.Exercise
	// File is the file of a student's folder that holds the exercise.
	File string
	// Reference is netgrade's reference implementation of the exercise.
	Reference reference.Program
	// Also are the other names and glob patterns the exercise's file may
	// have, tried after File (see OtherNames).
	Also []string
}

// OtherNames are the names, beyond EXERCISE.py, that the default course
// takes for an exercise's file: the same words with another separator
// (udp_server.py, UDP Server.py), and for the ticket seller any file named
// after tickets (selling_ticket.py). Names that could be several exercises
// (server.py, socket_server.py) are left out: `netgrade course guess`
// proposes names for a class from what its files contain.
var OtherNames = map[string][]string{
	"udp-server":    {"udp?server.py"},
	"udp-client":    {"udp?client.py"},
	"tcp-server":    {"tcp?server.py"},
	"tcp-client":    {"tcp?client.py"},
	"tcp-upper":     {"tcp?upper.py"},
	"tcp-waiting":   {"tcp?waiting.py"},
	"tcp-forking":   {"tcp?forking.py"},
	"tcp-threading": {"tcp?threading.py"},
	"tcp-tickets":   {"tcp?tickets.py", "*ticket*.py"},
	"http-server":   {"http?server.py"},
	"rest-api":      {"rest?api.py"},
	"smtp-client":   {"smtp?client.py"},
	"pop-client":    {"pop?client.py", "pop3?client.py"},
	"imap-client":   {"imap?client.py"},
}

// Names returns the exercise's file names and patterns, first first.
func (e Entry) Names() []string { return append([]string{e.File}, e.Also...) }

// ID returns the exercise's ID.
func (e Entry) ID() string { return e.Grader.ID }

// Exercises returns the exercises of the default course, in course order.
// Each call builds them anew: a caller may change what it gets.
func Exercises() []Entry {
	exs := exercises()
	for i := range exs {
		exs[i].Also = slices.Clone(OtherNames[exs[i].ID()])
	}
	return exs
}

func exercises() []Entry {
	return []Entry{
		entry(sockets.UDPServer(), reference.UDPServer, ""),
		entry(sockets.UDPClient(), reference.UDPClient, ""),
		entry(sockets.TCPServer(), reference.TCPServer, ""),
		entry(sockets.TCPClient(), reference.TCPClient, ""),
		entry(socketserver.TCPUpper(), reference.TCPUpper, ""),
		entry(socketserver.TCPWaiting(), reference.TCPWaiting, ""),
		entry(socketserver.TCPForking(), reference.TCPForking, ""),
		entry(socketserver.TCPThreading(), reference.TCPThreading, ""),
		entry(socketserver.TCPTickets(), reference.TCPTickets, ""),
		entry(httpch.HTTPServer(), reference.HTTPServer, ""),
		entry(httpch.RESTAPI(), reference.RESTAPI, reference.RESTOptions),
		entry(mail.SMTPClient(), reference.SMTPClient, ""),
		entry(mail.POPClient(), reference.POPClient, ""),
		entry(mail.IMAPClient(), reference.IMAPClient, ""),
	}
}

// entry returns the exercise of the default course graded by g, with
// main as its reference (options: the reference's own options, if any).
// The file a student hands in and the reference's command line both come
// from g.Usage ("udp-server.py PORT"), the one place it is written.
func entry(g *graders.Exercise, main reference.Main, options string) Entry {
	file, _, _ := strings.Cut(g.Usage, " ")
	return Entry{Grader: g, File: file, Reference: reference.NewProgram(g.Usage, options, main)}
}

// Registry returns the graders of the default course's exercises.
func Registry() *graders.Registry {
	var exs []*graders.Exercise
	for _, e := range Exercises() {
		exs = append(exs, e.Grader)
	}
	return graders.NewRegistry(exs...)
}

// Reference returns the reference implementation of an exercise.
func Reference(id string) (reference.Program, error) {
	var ids []string
	for _, e := range Exercises() {
		if e.ID() == id {
			return e.Reference, nil
		}
		ids = append(ids, e.ID())
	}
	return reference.Program{}, fmt.Errorf("no reference implementation of %q; there are: %s", id, strings.Join(ids, ", "))
}

// Dispatch runs a reference program when args are a reference command line
// ("ref EXERCISE ARGS..." or the forking reference's child command), as a
// program that re-executes itself in netgrade's place needs (tests, the
// flake guard); ok is false for any other command line.
func Dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	return reference.Dispatch(ctx, args, Reference, stdout, stderr)
}

// DefaultName is the source name of the default course in messages.
const DefaultName = "default course"

//go:embed default.yaml
var header []byte

// YAML returns the default course file: the course-wide settings and the
// exercises with their files and the texts they fix (each exercise's
// defaults). It is what `netgrade course show` prints, a starting point for
// one's own.
func YAML() []byte {
	var b bytes.Buffer
	b.Write(header)
	b.WriteString("exercises:\n")
	for i, e := range Exercises() {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  - id: %s\n    file: %s\n", e.ID(), FileYAML(e.Names()))
		if len(e.Grader.Texts) == 0 {
			continue
		}
		names := make([]string, 0, len(e.Grader.Texts))
		for k := range e.Grader.Texts {
			names = append(names, k)
		}
		sort.Strings(names)
		b.WriteString("    texts:\n")
		for _, k := range names {
			if v := e.Grader.Texts[k]; v != "" {
				fmt.Fprintf(&b, "      %s: %s\n", k, yamlString(v))
			} else {
				// No default: the text is not set unless a course sets it.
				fmt.Fprintf(&b, "      # %s: (not set)\n", k)
			}
		}
	}
	return b.Bytes()
}

// FileYAML writes an exercise's names as the value of `file:`: one name
// as it is, several as a flow list with the patterns quoted.
func FileYAML(names []string) string {
	if len(names) == 1 && !strings.ContainsAny(names[0], "*?[{}],:#&!|>'\"%@`") {
		return names[0]
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		if strings.ContainsAny(n, "*?[{}],:#&!|>'\"%@` ") {
			n = yamlString(n)
		}
		quoted[i] = n
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// yamlString quotes s for YAML: single quotes (no escapes) unless s holds
// a single quote, then a double-quoted string with Go's escapes, which are
// YAML's for the characters texts hold.
func yamlString(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

// Files returns the file each exercise's submission is in, by exercise ID.
func Files() map[string]string {
	m := map[string]string{}
	for _, e := range Exercises() {
		m[e.ID()] = e.File
	}
	return m
}
