package clock

import (
	"fmt"
	"time"

	// The grader judges times in named zones wherever it runs, with or
	// without the system's zone files.
	_ "time/tzdata"
)

// Tolerance is how far a time shown may be from the time it should be: a
// time passes when its hour and minute are right within two minutes.
const Tolerance = 2 * time.Minute

// Zone is a time zone as messages name it: "the time in NAME".
type Zone struct {
	Name string
	Loc  *time.Location
}

// UTC is the zone a page showing UTC shows.
var UTC = Zone{Name: "UTC", Loc: time.UTC}

// Offset returns the fixed zone UTC+h:m as a Zone ("UTC+02:00").
func Offset(seconds int) Zone {
	name := formatOffset(seconds)
	return Zone{Name: name, Loc: time.FixedZone(name, seconds)}
}

func formatOffset(seconds int) string {
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, seconds/3600, seconds%3600/60)
}

// Window is the span of instants the time a page shows may come from: from
// just before the request was sent to just after the response came.
type Window struct {
	From, To time.Time
}

// Mid is the middle of the window.
func (w Window) Mid() time.Time { return w.From.Add(w.To.Sub(w.From) / 2) }

// Expect says what a page must show.
type Expect struct {
	// Want is the zone whose clock the page must show.
	Want Zone
	// Also are other zones whose clock is accepted as well (a check that
	// leaves the season to another accepts Paris's two offsets).
	Also []Zone
	// Others are the zones a wrong time is named by, when it is theirs
	// (UTC, Paris, the program's local zone).
	Others []Zone
	// Tolerance is how far off a time may be; Tolerance when zero.
	Tolerance time.Duration
	// AcceptInstant accepts a time that names its own instant (a Unix
	// timestamp, a date and time with its UTC offset) when that instant
	// is right, whatever zone it is written in.
	AcceptInstant bool
	// What names what is judged in messages: "the page" when empty.
	What string
}

// Verdict is what Judge found.
type Verdict struct {
	// OK is true when a time shown is right, and its date, when shown,
	// is the day's.
	OK bool
	// Found is false when the page shows no time at all.
	Found bool
	// Stamp is the time judged: the one that passed, or the one the
	// message explains.
	Stamp Stamp
	// Zone is the zone Stamp's time is the time in: Want or one of Also
	// when it passed; one of Others, or a UTC offset, when it did not
	// (Loc nil when it is no zone's time).
	Zone Zone
	// DateWrong is true when the time is right but the date shown is not
	// the day's.
	DateWrong bool
	// Want is the clock the page should show (HH:MM at the window's
	// middle, in Want's zone) and WantDate that day.
	Want     string
	WantDate string
	// Message explains a failure in a sentence: what the page shows, whose
	// time that is, and what it should show.
	Message string
}

// Judge judges the times a page shows against the time it should be in a
// zone, within the window of instants the page may come from: it passes
// when one time is right (within the tolerance, whatever format it was
// written in) and the date next to it, when there is one, is that day's.
// A wrong time is named by the zone it is the time in.
func Judge(stamps []Stamp, w Window, e Expect) Verdict {
	if e.Tolerance == 0 {
		e.Tolerance = Tolerance
	}
	if e.What == "" {
		e.What = "the page"
	}
	mid := w.Mid().In(e.Want.Loc)
	v := Verdict{Found: len(stamps) > 0, Want: mid.Format("15:04"), WantDate: mid.Format("Monday 2006-01-02")}
	accepted := append([]Zone{e.Want}, e.Also...)
	var dateWrong *Stamp
	for i, st := range stamps {
		if st.Epoch || (e.AcceptInstant && !st.Instant.IsZero()) {
			if instantIn(st, w, e.Tolerance) {
				v.OK, v.Stamp, v.Zone = true, st, e.Want
				return v
			}
			continue
		}
		for _, z := range accepted {
			if clockDistance(st, z.Loc, w) > e.Tolerance {
				continue
			}
			if dateOK(st, z.Loc, w) {
				v.OK, v.Stamp, v.Zone = true, st, z
				return v
			}
			if dateWrong == nil {
				dateWrong = &stamps[i]
			}
		}
	}
	if !v.Found {
		v.Message = fmt.Sprintf("%s shows no time of day (such as %s); the time in %s is %s", e.What, v.Want, e.Want.Name, v.Want)
		return v
	}
	if dateWrong != nil {
		v.Stamp, v.DateWrong, v.Zone = *dateWrong, true, e.Want
		v.Message = fmt.Sprintf("%s shows %q: the time is right, but the date is not today's; today in %s is %s",
			e.What, v.Stamp.Text, e.Want.Name, v.WantDate)
		return v
	}
	v.Stamp = explained(stamps)
	v.Zone = whose(v.Stamp, w, e)
	v.Message = fmt.Sprintf("%s shows %q, %s; the time in %s is %s", e.What, v.Stamp.Text, v.Zone.describe(v.Stamp, w), e.Want.Name, v.Want)
	return v
}

// describe says whose time a stamp is, for a message.
func (z Zone) describe(st Stamp, w Window) string {
	if z.Loc == nil {
		return fmt.Sprintf("which is no time zone's time now (UTC is %s)", w.Mid().UTC().Format("15:04"))
	}
	return "which is the time in " + z.Name
}

// explained picks the time a failure message explains: the first one
// shown with a date, or the first one.
func explained(stamps []Stamp) Stamp {
	for _, st := range stamps {
		if len(st.Dates) > 0 && !st.Epoch {
			return st
		}
	}
	for _, st := range stamps {
		if !st.Epoch {
			return st
		}
	}
	return stamps[0]
}

// whose names the zone a wrong time is the time in: one of Others, or the
// UTC offset it would be (a whole quarter of an hour from UTC, within the
// tolerance); a zone without Loc when it is none.
func whose(st Stamp, w Window, e Expect) Zone {
	if st.Epoch {
		return Zone{Name: "a Unix timestamp " + st.Instant.UTC().Format(time.RFC3339)}
	}
	for _, z := range e.Others {
		if clockDistance(st, z.Loc, w) <= e.Tolerance {
			return z
		}
	}
	for q := -12 * 4; q <= 14*4; q++ {
		off := Offset(q * 15 * 60)
		if clockDistance(st, off.Loc, w) <= e.Tolerance {
			return off
		}
	}
	return Zone{Name: "no zone"}
}

// instantIn reports whether a stamp that names its own instant falls in
// the window, within the tolerance (a minute more when it shows no
// seconds).
func instantIn(st Stamp, w Window, tol time.Duration) bool {
	t := st.Instant
	from, to := w.From.Add(-tol), w.To.Add(tol)
	if st.Second < 0 {
		from = from.Add(-time.Minute)
	}
	return !t.Before(from) && !t.After(to)
}

// clockDistance is how far the stamp's time of day is from the clock of
// loc during the window, across midnight. A time shown without seconds
// stands for its whole minute.
func clockDistance(st Stamp, loc *time.Location, w Window) time.Duration {
	const day = 24 * 3600
	secs := func(t time.Time) int { return t.Hour()*3600 + t.Minute()*60 + t.Second() }
	a := secs(w.From.In(loc))
	b := a + int(w.To.Sub(w.From).Seconds()+0.999)
	lo := st.Hour*3600 + st.Minute*60
	hi := lo
	if st.Second >= 0 {
		lo += st.Second
		hi = lo
	} else {
		hi += 59
	}
	best := day
	for _, k := range []int{-day, 0, day} {
		l, h := lo+k, hi+k
		var d int
		switch {
		case h < a:
			d = a - h
		case l > b:
			d = l - b
		}
		best = min(best, d)
	}
	return time.Duration(best) * time.Second
}

// dateOK reports whether a date shown with a stamp (if any) is the day of
// the instant the stamp's time stands for: the instant nearest the window
// whose clock in loc reads that time.
func dateOK(st Stamp, loc *time.Location, w Window) bool {
	if len(st.Dates) == 0 {
		return true
	}
	day := shownInstant(st, loc, w)
	for _, d := range st.Dates {
		if d.Is(day) {
			return true
		}
	}
	return false
}

// shownInstant is the instant nearest the window's middle whose clock in
// loc reads the stamp's time.
func shownInstant(st Stamp, loc *time.Location, w Window) time.Time {
	mid := w.Mid().In(loc)
	y, m, d := mid.Date()
	best := time.Time{}
	for k := -1; k <= 1; k++ {
		t := time.Date(y, m, d+k, st.Hour, st.Minute, max(st.Second, 0), 0, loc)
		if best.IsZero() || absDur(t.Sub(mid)) < absDur(best.Sub(mid)) {
			best = t
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
