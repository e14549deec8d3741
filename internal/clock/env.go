package clock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultZone is the zone a graded program runs in unless the course says
// otherwise: neither UTC nor Paris, and without summer time, so that a
// page showing UTC or Paris time where local time is due is caught and
// named.
const DefaultZone = "Asia/Ho_Chi_Minh"

// ParisZone is the zone of /date/paris.
const ParisZone = "Europe/Paris"

// LoadZone loads a zone by its IANA name, as a Zone named by it.
func LoadZone(name string) (Zone, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return Zone{}, fmt.Errorf("time zone %q: %w", name, err)
	}
	return Zone{Name: name, Loc: loc}, nil
}

// TZ returns the environment entry that makes a program's local time the
// zone's: TZ=NAME, which glibc (and so Python's time and datetime) reads
// from the system's zone files.
func TZ(zone string) string { return "TZ=" + zone }

// The dates a program's clock is set to, to see Paris in both seasons:
// mid-January (Paris on UTC+01:00) and mid-July (UTC+02:00), at ten in the
// morning of the program's zone, far from any change of offset.
func Winter(loc *time.Location) time.Time { return time.Date(2026, time.January, 15, 10, 0, 0, 0, loc) }

// Summer is Winter's summer date.
func Summer(loc *time.Location) time.Time { return time.Date(2026, time.July, 15, 10, 0, 0, 0, loc) }

// FaketimeLibPaths are where Debian's (and other distributions') faketime
// package puts the library; FindFaketime also looks under
// /usr/lib/*/faketime/.
var FaketimeLibPaths = []string{
	"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib64/faketime/libfaketime.so.1",
	"/usr/lib/faketime/libfaketime.so.1",
	"/usr/local/lib/faketime/libfaketime.so.1",
}

// ErrNoFaketime is FindFaketime's error when the library is nowhere.
var ErrNoFaketime = errors.New("libfaketime.so.1 not found (Debian's faketime package installs it)")

// Faketime is libfaketime, which runs a program with its clock set to
// another date through LD_PRELOAD.
type Faketime struct {
	// Lib is the path of libfaketime.so.1.
	Lib string
}

// FindFaketime finds libfaketime.so.1: at path when it is given, else in
// the places distributions install it.
func FindFaketime(path string) (Faketime, error) {
	cands := FaketimeLibPaths
	if path != "" {
		cands = []string{path}
	} else if more, err := filepath.Glob("/usr/lib/*/faketime/libfaketime.so.1"); err == nil {
		cands = append(append([]string(nil), cands...), more...)
	}
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return Faketime{Lib: p}, nil
		}
	}
	if path != "" {
		return Faketime{}, fmt.Errorf("%s: %w", path, ErrNoFaketime)
	}
	return Faketime{}, ErrNoFaketime
}

// Env returns the environment entries that start a program's clock at
// `at` (read in the program's own zone, as libfaketime reads it) and let
// it run on from there:
//
//   - LD_PRELOAD loads the library; FAKETIME="@YYYY-MM-DD hh:mm:ss" is a
//     start-at date: the clock starts there and runs at its normal pace;
//   - FAKETIME_DONT_RESET=1: a child the program starts goes on from the
//     parent's clock instead of starting at the date again;
//   - NO_FAKE_STAT=1: file times stay real, so that Python's cached
//     bytecode matches its source.
//
// The monotonic clock is faked too: with FAKETIME_DONT_FAKE_MONOTONIC=1,
// libfaketime 0.9.10 makes Python's time.sleep() fail with EINVAL, while
// faking it only makes a timed wait (Event.wait(timeout),
// queue.get(timeout), join(timeout)) wait too long, which an HTTP server
// does not do. Run the program with WithoutFaketime's environment plus
// these entries and TZ.
func (f Faketime) Env(at time.Time, programZone *time.Location) []string {
	return []string{
		"LD_PRELOAD=" + f.Lib,
		"FAKETIME=@" + at.In(programZone).Format("2006-01-02 15:04:05"),
		"FAKETIME_DONT_RESET=1",
		"NO_FAKE_STAT=1",
	}
}

// WithoutFaketime returns env without the variables that would change how
// libfaketime behaves (FAKETIME*, NO_FAKE_STAT, DONT_FAKE_MONOTONIC), a
// LD_PRELOAD, or a TZ: the grader's own environment must not decide a
// program's clock.
func WithoutFaketime(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "FAKETIME"), name == "NO_FAKE_STAT", name == "DONT_FAKE_MONOTONIC",
			name == "LD_PRELOAD", name == "TZ":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// FakeClock maps the real time to a program's faked clock: it started at
// Start when the program was started (between ExecAt, just before the
// program was executed, and ReadyAt, when it was seen ready: libfaketime
// starts its clock when it is loaded, in between).
type FakeClock struct {
	Start   time.Time
	ExecAt  time.Time
	ReadyAt time.Time
}

// Window maps a real window (from before a request to after its
// response) to the instants of the program's clock it covers.
func (c FakeClock) Window(real Window) Window {
	return Window{From: c.Start.Add(real.From.Sub(c.ReadyAt)), To: c.Start.Add(real.To.Sub(c.ExecAt))}
}
