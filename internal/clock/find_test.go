package clock

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brief is a stamp in a few words: its clock, the dates it may mean, its
// offset when it names one, and "@instant" when it names its instant.
func brief(st Stamp) string {
	var dates []string
	for _, d := range st.Dates {
		dates = append(dates, d.String())
	}
	s := st.Clock()
	if len(dates) > 0 {
		s += " [" + strings.Join(dates, " | ") + "]"
	}
	if st.HasOffset {
		s += " " + formatOffset(st.Offset)
	}
	if !st.Instant.IsZero() {
		s += " @" + st.Instant.UTC().Format("2006-01-02T15:04:05Z")
	}
	return s
}

// TestFind finds the times students print, in every format seen, with
// the date next to them, and nothing in what only looks like a time.
func TestFind(t *testing.T) {
	tests := []struct {
		page string
		want []string
	}{
		// The formats of the course's students.
		{"Friday, June 17 at 21:28", []string{"21:28 [Friday June 17]"}},
		{"Fri, Jun 17 at 17:47", []string{"17:47 [Friday June 17]"}},
		{"17/06/2022 at 21:28:05", []string{"21:28:05 [2022-06-17]"}},
		{"17/06/2022 at 21:28:05 CEST +0200", []string{"21:28:05 [2022-06-17] UTC+02:00 @2022-06-17T19:28:05Z"}},
		// ISO 8601, str(datetime), RFC 1123, ctime, %x %X.
		{"2022-06-17T21:28:05.123456+02:00", []string{"21:28:05 [2022-06-17] UTC+02:00 @2022-06-17T19:28:05Z"}},
		{"2022-06-17T19:28:05Z", []string{"19:28:05 [2022-06-17] UTC+00:00 @2022-06-17T19:28:05Z"}},
		{"2022-06-17 21:28:05.123456", []string{"21:28:05 [2022-06-17]"}},
		{"Fri, 17 Jun 2022 19:28:05 GMT", []string{"19:28:05 [Friday 2022-06-17] UTC+00:00 @2022-06-17T19:28:05Z"}},
		{"Fri Jun 17 21:28:05 2022", []string{"21:28:05 [Friday 2022-06-17]"}},
		{"06/17/22 21:28:05", []string{"21:28:05 [2022-06-17]"}},
		// A day and month that read both ways.
		{"05/06/2022 09:03", []string{"09:03 [2022-06-05 | 2022-05-06]"}},
		// HH:MM alone, 12-hour clocks, French, zones by name.
		{"21:28", []string{"21:28"}},
		{"It is 9:28 pm", []string{"21:28"}},
		{"12:05 AM", []string{"00:05"}},
		{"mardi 3 février 2026, 21h28", []string{"21:28 [Tuesday 2026-02-03]"}},
		{"Heure de Paris : 15 janvier 2026 à 05:47", []string{"05:47 [2026-01-15]"}},
		{"Time: 21:28:05+07 (ICT)", []string{"21:28:05 UTC+07:00"}},
		{"21:28 UTC", []string{"21:28 UTC+00:00"}},
		// In HTML: tags and entities are read as a browser shows them.
		{"<html><body><h1>Date</h1><p>Today is <b>Thursday</b>, 15&nbsp;January&nbsp;2026</p><p>at 11:47</p></body></html>",
			[]string{"11:47 [Thursday 2026-01-15]"}},
		{"<p>Date: 15/01/2026</p>\n<p>Time: 11:47:05</p>", []string{"11:47:05 [2026-01-15]"}},
		// Several times.
		{"Hanoi 11:47, Paris 05:47", []string{"11:47", "05:47"}},
		// What only looks like a time.
		{"server at http://127.0.0.1:8888/ and 10.0.0.1:80", nil},
		{"ratio 1:2, score 123:45, 24:00, 12:60", nil},
		{"mon heure : lundi", nil},
		{"Il est 10:00 cette fois", []string{"10:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.page, func(t *testing.T) {
			var got []string
			for _, st := range Find(tc.page) {
				got = append(got, brief(st))
				assert.NotEmpty(t, st.Text)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestStampText keeps the text of a stamp as the page shows it, date
// included, for messages.
func TestStampText(t *testing.T) {
	sts := Find("<p>Now: Friday, June 17 at 21:28</p>")
	require.Len(t, sts, 1)
	assert.Equal(t, "Friday, June 17 at 21:28", sts[0].Text)
}

// TestFindJSON finds times however a JSON document holds them, and
// refuses what is not JSON (an HTML page with JSON inside).
func TestFindJSON(t *testing.T) {
	tests := []struct {
		doc  string
		want []string
		err  bool
	}{
		{`{"date": "2026-01-15", "time": "11:47:05"}`, []string{"11:47:05 [2026-01-15]"}, false},
		{`{"date": "15/01/2026", "zone": "Asia/Ho_Chi_Minh", "time": "11:47"}`, []string{"11:47 [2026-01-15]"}, false},
		{`{"now": "2026-01-15T11:47:05.123+07:00"}`, []string{"11:47:05 [2026-01-15] UTC+07:00 @2026-01-15T04:47:05Z"}, false},
		{`{"timestamp": 1768452425}`, []string{"04:47:05 @2026-01-15T04:47:05Z"}, false},
		{`{"ms": 1768452425123}`, []string{"04:47:05 @2026-01-15T04:47:05Z"}, false},
		{`{"hour": 11, "minute": 47, "day": 15, "month": 1, "year": 2026}`, []string{"11:47 [2026-01-15]"}, false},
		{`{"heure": "11", "minute": "47"}`, []string{"11:47"}, false},
		{`[2026, 1, 15, 11, 47, 5, 3, 15, 0]`, []string{"11:47:05 [2026-01-15]"}, false},
		{`{"a": {"b": ["x", {"time": "11:47"}]}, "n": 3}`, []string{"11:47"}, false},
		{`["Thursday, January 15, 2026", "11:47"]`, []string{"11:47 [Thursday 2026-01-15]"}, false},
		{`{"count": 3, "port": 8888}`, nil, false},
		{`<p>Now in json file: {"time": "11:47"}</p>`, nil, true},
		{`{"time": "11:47"} {"again": 1}`, nil, true},
		{`{'time': '11:47'}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.doc, func(t *testing.T) {
			sts, err := FindJSON([]byte(tc.doc))
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, st := range sts {
				got = append(got, brief(st))
			}
			assert.Equal(t, tc.want, got, fmt.Sprint(sts))
		})
	}
}
