// Package report holds netgrade's result model: what a grading found, as
// data. Every output format (text, JSON, JUnit, ...) is a view of these
// values and computes nothing of its own; the JSON encoding of Result is the
// documented contract other tools read (schema 1).
package report

import (
	"slices"
	"time"
)

// Schema is the version of the result JSON. Fields may be added within a
// version; none may be renamed or dropped.
const Schema = 1

// Status is the verdict of one check.
type Status string

// The four statuses. Error is netgrade's own failure and is never charged
// to the student; Fail is the submission's.
const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Skip  Status = "skip"
	Error Status = "error"
)

// Category is one of DESIGN's fixed vocabulary of check categories.
type Category string

// The check categories.
const (
	Start       Category = "start"
	Format      Category = "format"
	Protocol    Category = "protocol"
	Encoding    Category = "encoding"
	Lifecycle   Category = "lifecycle"
	Concurrency Category = "concurrency"
	Usage       Category = "usage"
	Robustness  Category = "robustness"
	// Security covers what one hostile or careless client can do to the
	// others: denial of service by a slow client, path traversal,
	// credentials sent in clear.
	Security Category = "security"
)

// Categories lists the categories in the order reports show them.
var Categories = []Category{Start, Format, Protocol, Encoding, Lifecycle, Concurrency, Usage, Robustness, Security}

// Result is the grading of one submission on one exercise.
type Result struct {
	Schema     int    `json:"schema"`
	Exercise   string `json:"exercise"`
	Title      string `json:"title,omitempty"`
	Submission string `json:"submission"`
	// File is the submission's source file as the user named it, when the
	// submission is a file; annotations point at it.
	File       string    `json:"file,omitempty"`
	Command    []string  `json:"command,omitempty"`
	Score      float64   `json:"score"`
	MaxScore   float64   `json:"max_score"`
	Checks     []Check   `json:"checks"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	// Sandbox names the isolation the programs ran under ("process", ...).
	Sandbox string `json:"sandbox,omitempty"`
	// Containment says how the programs were held together and limited
	// where they ran (a cgroup of their own, or netgrade as their
	// subreaper; their memory, process and output limits).
	Containment string `json:"containment,omitempty"`
	// Version is the netgrade version that produced the result.
	Version string `json:"netgrade_version,omitempty"`
	// Missing is set when the submission holds no file for the exercise:
	// nothing was run (every check is skipped) and it scores 0, which a
	// report shows as "not handed in", not as failed checks.
	Missing bool `json:"missing,omitempty"`
	// CaptureNote says why the checks have no capture when one was asked
	// for (--capture) and could not be made here.
	CaptureNote string `json:"capture_note,omitempty"`
}

// Check is the verdict of one check.
type Check struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Category    Category `json:"category"`
	Requirement string   `json:"requirement,omitempty"`
	Status      Status   `json:"status"`
	Points      float64  `json:"points"`
	MaxPoints   float64  `json:"max_points"`
	// Message says what is wrong (fail), why it was skipped (skip) or what
	// went wrong in netgrade (error). Empty on pass.
	Message  string `json:"message,omitempty"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Hint is the student-facing advice, naming the course concept.
	Hint string `json:"hint,omitempty"`
	// SkippedBecause names the prerequisite check whose failure skipped this one.
	SkippedBecause string `json:"skipped_because,omitempty"`
	// NotJudged marks a skipped check that ran but could not judge the
	// program (what it judges does not show in it; Message says why): it
	// is left out of the score, its points out of max_score, as an
	// error's are. Status stays "skip", so that readers of the four
	// statuses keep working; it is never set on another status.
	NotJudged bool `json:"not_judged,omitempty"`
	// Exit says how the program ended, e.g. "exited with status 1".
	Exit string `json:"exit,omitempty"`
	// Traceback is the last line of a Python traceback the program printed.
	Traceback string `json:"traceback,omitempty"`
	// Notes are what the reader should know whatever the verdict, shown
	// even when the check passes: "the program listens on 8888, not on the
	// port it was given: netgrade follows it".
	Notes      []string `json:"notes,omitempty"`
	Transcript []Event  `json:"transcript,omitempty"`
	// Try is how to see the failure by hand with the course's tools (see
	// try.go); only on a failed check a student may read.
	Try        *Try  `json:"try,omitempty"`
	DurationMS int64 `json:"duration_ms"`
	// Capture is the path of the check's pcapng capture (--capture),
	// relative to the report that names it.
	Capture string `json:"capture,omitempty"`
	// Pcapng is the capture itself between the grading and the file it is
	// saved to (a sandbox's unit runner hands it over in its stream);
	// empty in every report.
	Pcapng []byte `json:"pcapng,omitempty"`
	// Wire is what the check's traffic teaches (frame sizes, TCP's
	// frames, what an eavesdropper reads).
	Wire *Wire `json:"wire,omitempty"`
	// Visibility says who may read this check's name and details; the
	// course sets it. Empty means visible.
	Visibility Visibility `json:"visibility,omitempty"`
}

// Visibility is who may read a check's name and details. Hidden checks
// count in the score; their name and message never reach a student-facing
// report (Gradescope's own visibility values).
type Visibility string

// The visibilities a course may give a check.
const (
	Visible      Visibility = "visible"
	Hidden       Visibility = "hidden"
	AfterDueDate Visibility = "after_due_date"
)

// Visibilities lists the valid visibilities.
var Visibilities = []Visibility{Visible, Hidden, AfterDueDate}

// StudentVisible reports whether a student may read the check's name and
// details now: netgrade does not know the due date, so a check shown only
// after it stays hidden in every report netgrade writes for a student
// (Gradescope, which knows the date, gets the visibility itself).
func (c Check) StudentVisible() bool {
	return c.Visibility == "" || c.Visibility == Visible
}

// EventKind says what a transcript event is.
type EventKind string

// Transcript event kinds.
const (
	EvStart   EventKind = "start"   // the program was started (Data: command line)
	EvStdout  EventKind = "stdout"  // the program printed a line on stdout
	EvStderr  EventKind = "stderr"  // the program printed a line on stderr
	EvSend    EventKind = "send"    // netgrade sent bytes to the program
	EvRecv    EventKind = "recv"    // netgrade received bytes from the program
	EvConnect EventKind = "connect" // a connection was opened
	EvClose   EventKind = "close"   // a connection was closed
	EvExit    EventKind = "exit"    // the program ended
	EvNote    EventKind = "note"    // what netgrade observed or did
	// EvHTTPRequest is an HTTP request netgrade sent (HTTP: method, path,
	// version, headers; Data: the body excerpt; Bytes: the body's length).
	EvHTTPRequest EventKind = "http-request"
	// EvHTTPResponse is the HTTP response the program sent back (HTTP:
	// version, status, reason, headers, problems; Data: the body excerpt;
	// Bytes: the body's length).
	EvHTTPResponse EventKind = "http-response"
)

// Event is one entry of a check's transcript, at a time relative to the
// check's start.
type Event struct {
	TimeMS float64   `json:"t_ms"`
	Kind   EventKind `json:"kind"`
	// Proto is "udp" or "tcp" for network events.
	Proto string `json:"proto,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	// Data is the text of the event. Bytes that are not valid UTF-8 are
	// written as \xNN escapes; Bytes is the length on the wire.
	Data  string `json:"data,omitempty"`
	Bytes int    `json:"bytes,omitempty"`
	// FromStop marks output the program printed because netgrade stopped
	// it (Python's KeyboardInterrupt traceback after netgrade's SIGINT):
	// not the program's doing, so the human-readable reports leave it out;
	// the JSON keeps it.
	FromStop bool `json:"from_stop,omitempty"`
	// HTTP is the message of an http-request or http-response event.
	HTTP *HTTPMessage `json:"http,omitempty"`
	// Argv is a start event's command line, one argument an entry.
	Argv []string `json:"argv,omitempty"`
	// Env is what a start event's check added to the program's
	// environment (KEY=VALUE): its time zone, its faked clock.
	Env []string `json:"env,omitempty"`
}

// HTTPMessage is what an HTTP request or response event shows, as
// `curl -v` would: its first line, its headers in the order sent, and
// (in the event's Data) an excerpt of its body. Text the program sent is
// kept as it came, with bytes that are not valid UTF-8 as \xNN escapes.
type HTTPMessage struct {
	// Line is the request or status line as it went over the wire, when
	// it is not the one Method, Path and Version (or Version, Status and
	// Reason) make: a malformed request netgrade sent on purpose, or a
	// response without a status line.
	Line string `json:"line,omitempty"`
	// Method and Path are the request's (empty on a response).
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Version is "HTTP/1.1", "HTTP/1.0", ... as the message said.
	Version string `json:"version,omitempty"`
	// Status and Reason are the response's (zero on a request).
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Headers are the header fields in the order they came.
	Headers []Header `json:"headers,omitempty"`
	// Truncated is true when Data holds only the start of the body.
	Truncated bool `json:"truncated,omitempty"`
	// Problems are what is wrong on the wire with a response (its line
	// ends, its framing, ...), each a sentence.
	Problems []string `json:"problems,omitempty"`
}

// Header is one header field of an HTTP message.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Failed reports whether the check counts against the student.
func (c Check) Failed() bool { return c.Status == Fail }

// Scored reports whether the check counts in the score: every check but
// an errored one (netgrade's failure) and one not judged.
func (c Check) Scored() bool { return c.Status != Error && !c.Unjudged() }

// Unjudged reports whether the check ran but could not judge the program
// (a skip marked NotJudged): left out of the score.
func (c Check) Unjudged() bool { return c.Status == Skip && c.NotJudged }

// CountUnjudged returns how many checks were not judged.
func (r Result) CountUnjudged() int {
	n := 0
	for _, c := range r.Checks {
		if c.Unjudged() {
			n++
		}
	}
	return n
}

// Passed reports whether every check of r passed, leaving out the checks
// that could not judge the program (they are not the student's to fix).
func (r Result) Passed() bool {
	for _, c := range r.Checks {
		if c.Status != Pass && !c.Unjudged() {
			return false
		}
	}
	return true
}

// HasErrors reports whether netgrade itself failed on any check.
func (r Result) HasErrors() bool {
	for _, c := range r.Checks {
		if c.Status == Error {
			return true
		}
	}
	return false
}

// Count returns how many checks have status s.
func (r Result) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// IDs returns the sorted IDs of the checks with status s (nil if none).
func (r Result) IDs(s Status) []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == s {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// Tally sets Score and MaxScore from the checks: the points of passed
// checks over the points of all checks but errored ones, which are never
// charged to the student, and ones not judged, which are left out.
func (r *Result) Tally() {
	r.Score, r.MaxScore = 0, 0
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Status == Pass {
			c.Points = c.MaxPoints
		} else {
			c.Points = 0
		}
		if !c.Scored() {
			continue
		}
		r.Score += c.Points
		r.MaxScore += c.MaxPoints
	}
}

// Total returns the summed score and maximum of several results (a
// student's folder): the one total every report shows.
func Total(results []Result) (score, maxScore float64) {
	for _, r := range results {
		score += r.Score
		maxScore += r.MaxScore
	}
	return score, maxScore
}
