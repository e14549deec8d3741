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

// Exercise is one exercise of the default course.
type Exercise struct {
	// Grader is the exercise as netgrade grades it.
	Grader *graders.Exercise
	// File is the file of a student's folder that holds the exercise.
	File string
	// Reference is netgrade's reference implementation of the exercise.
	Reference reference.Program
}

// ID returns the exercise's ID.
func (e Exercise) ID() string { return e.Grader.ID }

// Exercises returns the exercises of the default course, in course order.
// Each call builds them anew: a caller may change what it gets.
func Exercises() []Exercise {
	return []Exercise{
		{sockets.UDPServer(), "udp-server.py", reference.Program{Usage: "PORT", Run: reference.UDPServer}},
		{sockets.UDPClient(), "udp-client.py", reference.Program{Usage: "HOST PORT MESSAGE", Run: reference.UDPClient}},
		{sockets.TCPServer(), "tcp-server.py", reference.Program{Usage: "PORT", Run: reference.TCPServer}},
		{sockets.TCPClient(), "tcp-client.py", reference.Program{Usage: "HOST PORT MESSAGE", Run: reference.TCPClient}},
		{socketserver.TCPUpper(), "tcp-upper.py", reference.Program{Usage: "PORT", Run: reference.TCPUpper}},
		{socketserver.TCPWaiting(), "tcp-waiting.py", reference.Program{Usage: "PORT", Run: reference.TCPWaiting}},
		{socketserver.TCPForking(), "tcp-forking.py", reference.Program{Usage: "PORT", Run: reference.TCPForking}},
		{socketserver.TCPThreading(), "tcp-threading.py", reference.Program{Usage: "PORT", Run: reference.TCPThreading}},
		{socketserver.TCPTickets(), "tcp-tickets.py", reference.Program{Usage: "PORT", Run: reference.TCPTickets}},
		{httpch.HTTPServer(), "http-server.py", reference.Program{Usage: "[PORT]", Run: reference.HTTPServer}},
		{httpch.RESTAPI(), "rest-api.py", reference.Program{Usage: "[--spec DOCUMENT] [PORT]", Run: reference.RESTAPI}},
		{mail.SMTPClient(), "smtp-client.py", reference.Program{Usage: "HOST PORT FROM TO SUBJECT MESSAGE", Run: reference.SMTPClient}},
		{mail.POPClient(), "pop-client.py", reference.Program{Usage: "HOST PORT USER PASSWORD", Run: reference.POPClient}},
		{mail.IMAPClient(), "imap-client.py", reference.Program{Usage: "HOST PORT USER PASSWORD", Run: reference.IMAPClient}},
	}
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
		fmt.Fprintf(&b, "  - id: %s\n    file: %s\n", e.ID(), e.File)
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
