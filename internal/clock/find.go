// Package clock finds the dates and times a page shows, whatever format a
// student chose (`Friday, June 17 at 21:28`, `17/06/2022 at 21:28:05 CEST
// +0200`, ISO 8601, RFC 1123, `HH:MM` alone, in HTML or in JSON), judges
// them against the time it should be in a zone, and names the zone a wrong
// time belongs to. It also puts a program's clock and zone under control:
// the TZ a program runs with, and libfaketime to run it at a fixed winter
// or summer date.
package clock

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Stamp is one time of day found in a text, with the date shown next to
// it, if any.
type Stamp struct {
	// Text is the stamp as the page shows it, date included.
	Text string
	// Hour (0-23) and Minute; Second is -1 when the page shows none.
	Hour, Minute, Second int
	// Dates are the dates the page shows with the time: none when it
	// shows none, two for a date that reads both ways (05/06/2026).
	Dates []Date
	// Offset is the UTC offset the text names, in seconds east of UTC
	// (`+0200`, `Z`, `GMT`, `CEST`), when HasOffset.
	Offset    int
	HasOffset bool
	// Instant is the moment the stamp names on its own, when it does: a
	// Unix timestamp, or a full date and time with its offset. Zero
	// otherwise.
	Instant time.Time
	// Epoch is true for a Unix timestamp (a number, in JSON).
	Epoch bool
}

// Clock returns the time of day as HH:MM, or HH:MM:SS when the page shows
// seconds.
func (s Stamp) Clock() string {
	if s.Second < 0 {
		return fmt.Sprintf("%02d:%02d", s.Hour, s.Minute)
	}
	return fmt.Sprintf("%02d:%02d:%02d", s.Hour, s.Minute, s.Second)
}

// Date is a calendar date as a page shows it; a part it does not show is
// zero (Weekday -1).
type Date struct {
	Year    int
	Month   time.Month
	Day     int
	Weekday time.Weekday
}

// noWeekday marks a date shown without its weekday.
const noWeekday time.Weekday = -1

// Is reports whether the date shown is the day of t (in t's location):
// every part it shows agrees.
func (d Date) Is(t time.Time) bool {
	y, m, day := t.Date()
	return (d.Year == 0 || d.Year == y) && (d.Month == 0 || d.Month == m) &&
		(d.Day == 0 || d.Day == day) && (d.Weekday == noWeekday || d.Weekday == t.Weekday())
}

func (d Date) String() string {
	var parts []string
	if d.Weekday != noWeekday {
		parts = append(parts, d.Weekday.String())
	}
	switch {
	case d.Year != 0 && d.Month != 0 && d.Day != 0:
		parts = append(parts, fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day))
	case d.Month != 0 && d.Day != 0:
		parts = append(parts, fmt.Sprintf("%s %d", d.Month, d.Day))
	}
	return strings.Join(parts, " ")
}

// The names a page may give months and weekdays: English and French, in
// full and abbreviated.
var (
	monthNames = map[string]time.Month{
		"january": 1, "jan": 1, "janvier": 1, "janv": 1,
		"february": 2, "feb": 2, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "fév": 2,
		"march": 3, "mar": 3, "mars": 3,
		"april": 4, "apr": 4, "avril": 4, "avr": 4,
		"may": 5, "mai": 5,
		"june": 6, "jun": 6, "juin": 6,
		"july": 7, "jul": 7, "juillet": 7, "juil": 7,
		"august": 8, "aug": 8, "août": 8, "aout": 8,
		"september": 9, "sep": 9, "sept": 9, "septembre": 9,
		"october": 10, "oct": 10, "octobre": 10,
		"november": 11, "nov": 11, "novembre": 11,
		"december": 12, "dec": 12, "décembre": 12, "decembre": 12, "déc": 12,
	}
	weekdayNames = map[string]time.Weekday{
		"sunday": 0, "sun": 0, "dimanche": 0, "dim": 0,
		"monday": 1, "mon": 1, "lundi": 1, "lun": 1,
		"tuesday": 2, "tue": 2, "tues": 2, "mardi": 2,
		"wednesday": 3, "wed": 3, "mercredi": 3,
		"thursday": 4, "thu": 4, "thur": 4, "thurs": 4, "jeudi": 4,
		"friday": 5, "fri": 5, "vendredi": 5, "ven": 5,
		"saturday": 6, "sat": 6, "samedi": 6, "sam": 6,
	}
	// zoneAbbrevs are the zone abbreviations a page may print after a
	// time (Python's %Z), with their offsets.
	zoneAbbrevs = map[string]int{
		"UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0,
		"CET": 3600, "WEST": 3600, "BST": 3600,
		"CEST": 7200, "EET": 7200, "EEST": 10800,
		"ICT": 7 * 3600, "+07": 7 * 3600,
	}
)

// alternation returns a regexp alternation of the names, longest first, so
// that "june" is tried before "jun".
func alternation(names map[string]time.Month, weekdays map[string]time.Weekday) string {
	var all []string
	for n := range names {
		all = append(all, regexp.QuoteMeta(n))
	}
	for n := range weekdays {
		all = append(all, regexp.QuoteMeta(n))
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	return strings.Join(all, "|")
}

var (
	monthRE   = alternation(monthNames, nil)
	weekdayRE = alternation(nil, weekdayNames)
	// fullWeekdayRE holds the weekdays' full names only.
	fullWeekdayRE = "sunday|monday|tuesday|wednesday|thursday|friday|saturday|dimanche|lundi|mardi|mercredi|jeudi|vendredi|samedi"
	// The date forms: each regexp's named groups say what it holds.
	dateREs = []*regexp.Regexp{
		// 2026-01-15, 2026/01/15 (ISO 8601, str(datetime)), and the T
		// of 2026-01-15T10:00
		regexp.MustCompile(`(?i)\b(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:\b|T)`),
		// 15/01/2026, 01/15/2026, 15.01.2026, 15-01-26 (day and month
		// either way round)
		regexp.MustCompile(`(?i)\b(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})\b`),
		// Friday, 15 January 2026; Fri, 15 Jan 2026 (RFC 1123); 15 janvier
		regexp.MustCompile(`(?i)(?:\b(?P<w>` + weekdayRE + `)\.?\s?,?\s+)?\b(?P<d>\d{1,2})(?:st|nd|rd|th|er)?\s+(?:of\s+)?(?P<mn>` + monthRE + `)\b\.?,?(?:\s+(?P<y>\d{4})\b)?`),
		// Friday, January 15, 2026; Fri Jan 15 (ctime); June 17
		regexp.MustCompile(`(?i)(?:\b(?P<w>` + weekdayRE + `)\.?\s?,?\s+)?\b(?P<mn>` + monthRE + `)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b,?(?:\s+(?P<y>\d{4})\b)?`),
		// a weekday alone, in full: Friday at 21:28 (an abbreviation
		// alone is too often a word: "mon", "sat")
		regexp.MustCompile(`(?i)\b(?P<w>` + fullWeekdayRE + `)\b`),
	}
	// timeRE is a time of day: 21:28, 21:28:05, 21:28:05.123456, 9:28 pm,
	// 21h28; then an optional zone: Z, +02:00, +0200, CEST, GMT, UTC+2.
	timeRE = regexp.MustCompile(`(?i)(?P<h>\d{1,2})(?P<sep>[:h])(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d{1,9})?)?` +
		`(?:\s?(?P<ampm>[ap])\.?m\b\.?)?` +
		`(?:(?P<z>Z\b)|\s?\(?(?P<abbr>UTC|GMT|CEST|CET|WEST|WET|BST|EEST|EET|ICT)\b\)?)?` +
		`(?:\s?(?:UTC|GMT)?(?P<off>[+-]\d{2}):?(?P<offm>\d{2})?\b)?`)
	// yearAfterRE is the year ctime prints after the time: Fri Jan 15 10:00:00 2026.
	yearAfterRE = regexp.MustCompile(`^\s+(\d{4})\b`)
	tagRE       = regexp.MustCompile(`(?s)<!--.*?-->|<[^>]*>`)
)

// Find returns the times of day a page shows, each with the date shown
// next to it, in the order they come. HTML markup and entities are read as
// the text a browser shows.
func Find(page string) []Stamp {
	text := page
	if strings.Contains(text, "<") && strings.Contains(text, ">") {
		text = html.UnescapeString(tagRE.ReplaceAllString(text, " "))
	}
	// One space for every run of spaces, Unicode's (no-break) ones too.
	text = strings.Join(strings.Fields(text), " ")
	dates := findDates(text)
	var out []Stamp
	for _, m := range timeRE.FindAllStringSubmatchIndex(text, -1) {
		st, ok := parseTime(text, m)
		if !ok {
			continue
		}
		start, end := m[0], m[1]
		if d, ok := pairDate(text, dates, start, end); ok {
			st.Dates = d.dates
			if d.end <= start {
				st.Text = text[d.start:end]
			} else {
				st.Text = text[start:d.end]
			}
			if y := yearAfterRE.FindStringSubmatch(text[end:]); y != nil && len(st.Dates) == 1 && st.Dates[0].Year == 0 && d.end <= start {
				st.Dates[0].Year, _ = strconv.Atoi(y[1])
				st.Text += y[0]
			}
		}
		if st.HasOffset && len(st.Dates) == 1 && st.Dates[0].Year != 0 && st.Dates[0].Month != 0 && st.Dates[0].Day != 0 {
			d := st.Dates[0]
			sec := max(st.Second, 0)
			st.Instant = time.Date(d.Year, d.Month, d.Day, st.Hour, st.Minute, sec, 0, time.FixedZone("", st.Offset))
		}
		out = append(out, st)
	}
	return out
}

// parseTime reads one match of timeRE, refusing what only looks like a
// time: part of an address (127.0.0.1:8888), of a longer number, of a
// date (2026-01-15).
func parseTime(text string, m []int) (Stamp, bool) {
	get := func(name string) string {
		i := timeRE.SubexpIndex(name)
		if m[2*i] < 0 {
			return ""
		}
		return text[m[2*i]:m[2*i+1]]
	}
	start, end := m[0], m[1]
	if start > 0 && strings.ContainsAny(text[start-1:start], "0123456789.:/-") {
		return Stamp{}, false
	}
	// After the minutes (and seconds): no digit, no further :NN.
	tail := text[end:]
	if tail != "" && strings.ContainsAny(tail[:1], "0123456789") {
		return Stamp{}, false
	}
	if strings.HasPrefix(tail, ":") && len(tail) > 1 && tail[1] >= '0' && tail[1] <= '9' {
		return Stamp{}, false
	}
	h, _ := strconv.Atoi(get("h"))
	mi, _ := strconv.Atoi(get("mi"))
	sec := -1
	if s := get("s"); s != "" {
		sec, _ = strconv.Atoi(s)
	}
	if ap := strings.ToLower(get("ampm")); ap != "" {
		if h < 1 || h > 12 {
			return Stamp{}, false
		}
		h %= 12
		if ap == "p" {
			h += 12
		}
	}
	if h > 23 || mi > 59 || sec > 60 {
		return Stamp{}, false
	}
	if strings.EqualFold(get("sep"), "h") && sec >= 0 {
		return Stamp{}, false
	}
	st := Stamp{Hour: h, Minute: mi, Second: sec, Text: text[start:end]}
	switch {
	case get("off") != "":
		oh, _ := strconv.Atoi(get("off"))
		om, _ := strconv.Atoi(get("offm"))
		if oh < 0 || strings.HasPrefix(get("off"), "-") {
			om = -om
		}
		st.Offset, st.HasOffset = oh*3600+om*60, true
	case get("z") != "":
		st.Offset, st.HasOffset = 0, true
	case get("abbr") != "":
		st.Offset, st.HasOffset = zoneAbbrevs[strings.ToUpper(get("abbr"))], true
	}
	return st, true
}

// foundDate is a date found in a text, at [start, end).
type foundDate struct {
	start, end int
	dates      []Date
}

// findDates returns the dates a text shows, the longest match winning where
// two overlap.
func findDates(text string) []foundDate {
	var all []foundDate
	for _, re := range dateREs {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			if ds := readDate(re, text, m); len(ds) > 0 {
				all = append(all, foundDate{m[0], m[1], ds})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].start != all[j].start {
			return all[i].start < all[j].start
		}
		return all[i].end > all[j].end
	})
	var out []foundDate
	for _, d := range all {
		if len(out) > 0 && d.start < out[len(out)-1].end {
			if d.end-d.start > out[len(out)-1].end-out[len(out)-1].start {
				out[len(out)-1] = d
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// readDate reads one date match: the dates it may mean (two for a
// day/month that reads both ways), none when it is not a valid date.
func readDate(re *regexp.Regexp, text string, m []int) []Date {
	get := func(name string) string {
		i := re.SubexpIndex(name)
		if i < 0 || m[2*i] < 0 {
			return ""
		}
		return text[m[2*i]:m[2*i+1]]
	}
	num := func(name string) int {
		n, _ := strconv.Atoi(get(name))
		return n
	}
	base := Date{Weekday: noWeekday}
	if w := get("w"); w != "" {
		base.Weekday = weekdayNames[strings.ToLower(w)]
	}
	if y := get("y"); y != "" {
		base.Year = num("y")
		if len(y) == 2 {
			base.Year += 2000
		}
	}
	var cands []Date
	switch {
	case get("a") != "":
		a, b := num("a"), num("b")
		for _, dm := range [][2]int{{a, b}, {b, a}} {
			d := base
			d.Day, d.Month = dm[0], time.Month(dm[1])
			cands = append(cands, d)
		}
		if a == b {
			cands = cands[:1]
		}
	case get("mn") != "":
		d := base
		d.Day, d.Month = num("d"), monthNames[strings.ToLower(get("mn"))]
		cands = append(cands, d)
	case get("d") != "":
		d := base
		d.Day, d.Month = num("d"), time.Month(num("m"))
		cands = append(cands, d)
	default:
		cands = append(cands, base)
	}
	var out []Date
	for _, d := range cands {
		if d.valid() {
			out = append(out, d)
		}
	}
	return out
}

func (d Date) valid() bool {
	if d.Month == 0 && d.Day == 0 {
		return d.Weekday != noWeekday
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return false
	}
	if d.Year != 0 {
		return d.Year >= 1970 && d.Year < 2200 && time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Day() == d.Day
	}
	return true
}

// Pairing windows: a date goes with a time when at most dateBefore
// characters without a digit come between the date's end and the time
// (`17/06/2022 at 21:28`, `"date": "...", "time": "..."`), or at most
// dateAfter between the time and the date (`21:28, 17/06/2022`).
const (
	dateBefore = 40
	dateAfter  = 20
)

// pairDate finds the date shown with the time at [start, end).
func pairDate(text string, dates []foundDate, start, end int) (foundDate, bool) {
	for i := len(dates) - 1; i >= 0; i-- {
		d := dates[i]
		if d.end <= start && start-d.end <= dateBefore && !strings.ContainsAny(text[d.end:start], "0123456789") {
			return d, true
		}
	}
	for _, d := range dates {
		if d.start >= end && d.start-end <= dateAfter && !strings.ContainsAny(text[end:d.start], "0123456789") {
			return d, true
		}
	}
	return foundDate{}, false
}
