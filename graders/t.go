package graders

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
)

// Transcript bounds: a check keeps at most maxEvents events, each with at
// most maxEventData bytes of data, so that a program printing without end
// cannot blow up a report.
const (
	maxEvents    = 400
	maxEventData = 4096
)

// T is handed to a check's Run function: it starts the submission, hands
// out ports, and records the transcript (what went over the wire and what
// the program printed, with times relative to the check's start).
type T struct {
	ctx   context.Context
	ex    *Exercise
	check *Check
	sub   Submission
	opt   Options
	begin time.Time

	mu      sync.Mutex
	events  []report.Event
	procs   []*harness.Process
	notices []string
	secrets []string
	wire    wire
}

// Failure is what a check returns when the submission does not meet the
// requirement: what is wrong, expected vs actual, and advice.
type Failure struct {
	Message  string
	Expected string
	Actual   string
	Hint     string
}

func (f *Failure) Error() string { return f.Message }

// Failf returns a Failure with a formatted message.
func Failf(format string, args ...any) *Failure {
	return &Failure{Message: fmt.Sprintf(format, args...)}
}

// Want sets the expected and actual values shown with the failure.
func (f *Failure) Want(expected, actual string) *Failure {
	f.Expected, f.Actual = expected, actual
	return f
}

// WithHint sets the advice shown with the failure, replacing the check's.
func (f *Failure) WithHint(format string, args ...any) *Failure {
	f.Hint = fmt.Sprintf(format, args...)
	return f
}

type skipError struct{ reason string }

func (s *skipError) Error() string { return "skipped: " + s.reason }

// Skipf returns the error that makes a check skip itself, with the reason.
func Skipf(format string, args ...any) error {
	return &skipError{reason: fmt.Sprintf(format, args...)}
}

// notJudged is the outcome of a check that ran but could not judge the
// program: left out of the score, with its reason.
type notJudged struct{ reason string }

func (n *notJudged) Error() string { return "not judged: " + n.reason }

// NotJudgedf returns the error of a check that truly cannot judge the
// program (what it would judge does not show in it): the check is left
// out of the score, neither passed nor failed, and every report says why.
// Never use it for a program that could be judged with more effort, nor
// in place of Skipf (a requirement another check fails for).
func NotJudgedf(format string, args ...any) error {
	return &notJudged{reason: fmt.Sprintf(format, args...)}
}

// Context returns the check's context, done at its deadline.
func (t *T) Context() context.Context { return t.ctx }

// ID returns the check's ID.
func (t *T) ID() string { return t.check.ID }

// Timeout returns the deadline d scaled by the course's timeout scale:
// checks pass every deadline they wait for through it.
func (t *T) Timeout(d time.Duration) time.Duration {
	return t.opt.scale(d)
}

// RaceHook reports whether a check that judges shared state runs Python
// programs under netgrade's race hook: unless the course turns it off.
func (t *T) RaceHook() bool { return !t.opt.settings.NoRaceHook }

// Port returns a free port for this check.
func (t *T) Port() (int, error) {
	port, err := t.opt.Ports.Next()
	t.watchPort(port)
	return port, err
}

// SourceFile returns the path of the submission's source file ("" when
// it has none): what a check compares a program's output with when that
// output must never hold it.
func (t *T) SourceFile() string { return t.sub.File }

// Text returns a text the course fixes (e.g. "start_line"), with the
// course file's value in place of the exercise's default.
func (t *T) Text(name string) string { return t.ex.text(t.opt, name) }

// Start starts the submission with the given placeholder values; a
// placeholder without a value is dropped from the command line. The program
// is stopped when the check ends. A program that cannot be started is the
// submission's failure; a missing interpreter is netgrade's error.
func (t *T) Start(vars map[string]string) (*harness.Process, error) {
	return t.StartEnv(vars, nil)
}

// StartEnv is Start with env (KEY=VALUE) added to the program's
// environment, a later entry replacing an earlier one of the same name:
// the time zone and the faked clock a program runs under.
func (t *T) StartEnv(vars map[string]string, env []string) (*harness.Process, error) {
	argv := harness.Expand(t.ex.command(t.sub), vars)
	p, err := harness.Start(t.ctx, harness.Spec{Argv: argv, Dir: t.sub.Dir, Env: env}, t.opt.Interpreters)
	if err != nil {
		var se *harness.StartError
		if errors.As(err, &se) && !se.Netgrade {
			return nil, Failf("the program could not be started: %v", err).
				WithHint("Check that the file exists and, if it is not a .py file, that it is executable (chmod +x).")
		}
		return nil, err
	}
	t.mu.Lock()
	t.procs = append(t.procs, p)
	t.mu.Unlock()
	return p, nil
}

// Notice records what the reader of the report should know whatever the
// verdict (a port the program chose, followed) in the check's notes,
// which every report shows, even on a pass.
func (t *T) Notice(format string, args ...any) {
	t.mu.Lock()
	t.notices = append(t.notices, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

// Note records what netgrade observed or did in the transcript.
func (t *T) Note(format string, args ...any) {
	t.record(report.Event{Kind: report.EvNote, Data: fmt.Sprintf(format, args...)}, time.Now())
}

// Sent records bytes netgrade sent to the program.
func (t *T) Sent(proto, from, to string, data []byte) {
	t.record(report.Event{Kind: report.EvSend, Proto: proto, From: from, To: to, Data: Printable(data), Bytes: len(data)}, time.Now())
}

// Received records bytes netgrade received from the program, at time at.
func (t *T) Received(proto, from, to string, data []byte, at time.Time) {
	t.record(report.Event{Kind: report.EvRecv, Proto: proto, From: from, To: to, Data: Printable(data), Bytes: len(data)}, at)
}

// Event records a network event such as a connect or close.
func (t *T) Event(kind report.EventKind, proto, from, to, data string) {
	t.record(report.Event{Kind: kind, Proto: proto, From: from, To: to, Data: data}, time.Now())
}

// Record records a transcript event that happened at time at: an HTTP
// request or response, as a probe saw it.
func (t *T) Record(ev report.Event, at time.Time) { t.record(ev, at) }

func (t *T) record(ev report.Event, at time.Time) {
	ev.TimeMS = ms(at.Sub(t.begin))
	t.watchAddr(ev.From)
	t.watchAddr(ev.To)
	t.mu.Lock()
	t.events = append(t.events, ev)
	t.mu.Unlock()
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// Printable returns b as text: valid UTF-8 as it is, other bytes as \xNN.
func Printable(b []byte) string {
	if len(b) > maxEventData {
		return Printable(b[:maxEventData]) + fmt.Sprintf("… (%d more bytes)", len(b)-maxEventData)
	}
	return report.Printable(b)
}

func (t *T) stopAll() {
	t.mu.Lock()
	procs := append([]*harness.Process(nil), t.procs...)
	t.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Stop()
		}()
	}
	wg.Wait()
}

// mainProcess is the last program the check started: the one whose exit
// status and traceback the report shows.
func (t *T) mainProcess() *harness.Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.procs) == 0 {
		return nil
	}
	return t.procs[len(t.procs)-1]
}

// Mask hides secrets a check hands the program (a password on its command
// line) wherever they appear in the transcript, the command line and the
// program's output included: one '*' per character, so that the length
// shows. Strings shorter than 3 bytes are left alone.
func (t *T) Mask(secrets ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 3 {
			t.secrets = append(t.secrets, s)
		}
	}
}

// mask applies Mask's secrets to a text.
func mask(s string, secrets []string) string {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, strings.Repeat("*", utf8.RuneCountInString(sec)))
		}
	}
	return s
}

// transcript merges the recorded events with the programs' output, in time
// order, bounded to maxEvents, secrets masked.
func (t *T) transcript() []report.Event {
	t.mu.Lock()
	evs := append([]report.Event(nil), t.events...)
	procs := append([]*harness.Process(nil), t.procs...)
	secrets := append([]string(nil), t.secrets...)
	t.mu.Unlock()
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, p := range procs {
		evs = append(evs, report.Event{TimeMS: ms(p.Started().Sub(t.begin)), Kind: report.EvStart, Data: strings.Join(p.Argv(), " "), Argv: p.Argv(), Env: p.Env()})
		lines := p.Output().Lines()
		byStop := stopTraceback(lines, p.StopRequested())
		ex := p.Exit()
		for i, l := range lines {
			k := report.EvStdout
			if l.Stream == harness.Stderr {
				k = report.EvStderr
			}
			text := l.Text
			if len(text) > maxEventData {
				text = text[:maxEventData] + "…"
			}
			evs = append(evs, report.Event{TimeMS: ms(lineTime(l, ex).Sub(t.begin)), Kind: k, Data: Printable([]byte(text)), FromStop: byStop[i]})
		}
		if at := p.StopRequested(); !at.IsZero() {
			evs = append(evs, report.Event{TimeMS: ms(at.Sub(t.begin)), Kind: report.EvNote, Data: "netgrade stops the program (SIGINT to its process group)"})
		}
		if ex.Exited {
			evs = append(evs, report.Event{TimeMS: ms(ex.Time.Sub(t.begin)), Kind: report.EvExit, Data: ex.String()})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TimeMS < evs[j].TimeMS })
	if len(evs) > maxEvents {
		head, tail := evs[:maxEvents/2], evs[len(evs)-maxEvents/2:]
		cut := len(evs) - maxEvents
		evs = append(append(append([]report.Event(nil), head...),
			report.Event{TimeMS: tail[0].TimeMS, Kind: report.EvNote, Data: fmt.Sprintf("… %d events left out …", cut)}), tail...)
	}
	for i := range evs {
		evs[i].Data = mask(evs[i].Data, secrets)
		for j := range evs[i].Argv {
			evs[i].Argv[j] = mask(evs[i].Argv[j], secrets)
		}
	}
	return evs
}

// lineTime is when a line of a program's output is placed in the
// transcript: when it was read, but never after the program's exit, since
// what a program wrote came before its end (a busy machine's reader may
// read the last lines after the exit was seen). The exit event follows the
// lines, so a traceback is never shown after the exit it caused.
func lineTime(l harness.Line, ex harness.ExitStatus) time.Time {
	if ex.Exited && l.Time.After(ex.Time) {
		return ex.Time
	}
	return l.Time
}

// stopTraceback returns which of lines form the KeyboardInterrupt
// traceback a program printed after netgrade signalled it to stop at
// stopAt (zero: never): what netgrade's SIGINT made Python print, not the
// program's own output.
func stopTraceback(lines []harness.Line, stopAt time.Time) map[int]bool {
	if stopAt.IsZero() {
		return nil
	}
	marked := map[int]bool{}
	start := -1
	for i, l := range lines {
		if l.Stream != harness.Stderr || l.Time.Before(stopAt) {
			continue
		}
		switch {
		case strings.HasPrefix(l.Text, "Traceback (most recent call last):"):
			start = i
		case start >= 0 && l.Text == "KeyboardInterrupt":
			for j := start; j <= i; j++ {
				if lines[j].Stream == harness.Stderr {
					marked[j] = true
				}
			}
			start = -1
		}
	}
	return marked
}

// Begin returns when the check started: transcript times are relative to it.
func (t *T) Begin() time.Time { return t.begin }

// NewT returns a T of exercise ex under the course's settings s, outside a
// grading: for unit tests of judging functions that read the course's texts
// and deadlines. It starts no program until asked.
func NewT(ctx context.Context, ex *Exercise, s Settings) *T {
	return &T{ctx: ctx, ex: ex, opt: Options{settings: s}, begin: time.Now()}
}
