package clock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zone(t *testing.T, name string) Zone {
	t.Helper()
	z, err := LoadZone(name)
	require.NoError(t, err)
	return z
}

// TestJudge judges pages against the time in a zone, at 2026-01-15
// 04:47:30 UTC: 11:47 in Ho Chi Minh City, 05:47 in Paris (winter, UTC+1).
func TestJudge(t *testing.T) {
	hcm, paris := zone(t, DefaultZone), zone(t, ParisZone)
	at := time.Date(2026, 1, 15, 4, 47, 30, 0, time.UTC)
	w := Window{From: at, To: at.Add(300 * time.Millisecond)}
	local := Expect{Want: hcm, Others: []Zone{UTC, paris}}
	parisBoth := Expect{Want: paris, Also: []Zone{Offset(3600), Offset(7200)}, Others: []Zone{UTC, hcm}}
	api := Expect{Want: hcm, Others: []Zone{UTC, paris}, AcceptInstant: true}
	tests := []struct {
		name      string
		page      string
		json      bool
		expect    Expect
		ok        bool
		zone      string
		dateWrong bool
		message   string
	}{
		{name: "local time, course format", page: "<p>Thursday, January 15 at 11:47</p>", expect: local, ok: true, zone: DefaultZone},
		{name: "local time with seconds", page: "15/01/2026 at 11:47:31", expect: local, ok: true, zone: DefaultZone},
		{name: "within two minutes", page: "11:49", expect: local, ok: true, zone: DefaultZone},
		{name: "three minutes off", page: "11:51", expect: local, zone: "no zone",
			message: `the page shows "11:51", which is no time zone's time now (UTC is 04:47); the time in Asia/Ho_Chi_Minh is 11:47`},
		{name: "UTC on /date", page: "Thursday, January 15 at 04:47", expect: local, zone: "UTC",
			message: `the page shows "Thursday, January 15 at 04:47", which is the time in UTC; the time in Asia/Ho_Chi_Minh is 11:47`},
		{name: "Paris on /date", page: "05:47:12", expect: local, zone: ParisZone},
		{name: "a fixed offset", page: "06:47", expect: local, zone: "UTC+02:00"},
		{name: "right time, wrong day", page: "14/01/2026 at 11:47", expect: local, zone: DefaultZone, dateWrong: true,
			message: `the page shows "14/01/2026 at 11:47": the time is right, but the date is not today's; today in Asia/Ho_Chi_Minh is Thursday 2026-01-15`},
		{name: "right time, wrong weekday", page: "Friday at 11:47", expect: local, zone: DefaultZone, dateWrong: true},
		{name: "a wrong time, then the right one", page: "UTC 04:47, local 11:47", expect: local, ok: true, zone: DefaultZone},
		{name: "no time at all", page: "<h1>Hello</h1>", expect: local, zone: "",
			message: "the page shows no time of day (such as 11:47); the time in Asia/Ho_Chi_Minh is 11:47"},
		{name: "Paris, winter offset", page: "05:47", expect: parisBoth, ok: true, zone: ParisZone},
		{name: "Paris, summer offset accepted", page: "06:47", expect: parisBoth, ok: true, zone: "UTC+02:00"},
		{name: "Paris shows local time", page: "11:47", expect: parisBoth, zone: DefaultZone},
		{name: "JSON, local fields", page: `{"date": "2026-01-15", "time": "11:47:40"}`, json: true, expect: api, ok: true, zone: DefaultZone},
		{name: "JSON, an instant in UTC", page: `{"now": "2026-01-15T04:47:29+00:00"}`, json: true, expect: api, ok: true, zone: DefaultZone},
		{name: "JSON, a Unix timestamp", page: `{"now": 1768452450}`, json: true, expect: api, ok: true, zone: DefaultZone},
		{name: "JSON, a stale timestamp", page: `{"now": 1768400000}`, json: true, expect: api, zone: "a Unix timestamp 2026-01-14T14:13:20Z"},
		{name: "an instant in UTC where local time is due", page: "2026-01-15T04:47:29+00:00", expect: local, zone: "UTC"},
		{name: "JSON, UTC fields", page: `{"hour": 4, "minute": 47}`, json: true, expect: api, zone: "UTC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stamps := Find(tc.page)
			if tc.json {
				var err error
				stamps, err = FindJSON([]byte(tc.page))
				require.NoError(t, err)
			}
			v := Judge(stamps, w, tc.expect)
			assert.Equal(t, tc.ok, v.OK, v.Message)
			assert.Equal(t, tc.zone, v.Zone.Name)
			assert.Equal(t, tc.dateWrong, v.DateWrong)
			assert.Equal(t, "11:47", Judge(nil, w, local).Want)
			if tc.ok {
				assert.Empty(t, v.Message)
			} else {
				assert.NotEmpty(t, v.Message)
			}
			if tc.message != "" {
				assert.Equal(t, tc.message, v.Message)
			}
		})
	}
}

// TestJudgeMidnight judges a time across midnight and the date that goes
// with it.
func TestJudgeMidnight(t *testing.T) {
	hcm := zone(t, DefaultZone)
	at := time.Date(2026, 1, 15, 23, 59, 30, 0, hcm.Loc)
	w := Window{From: at, To: at.Add(time.Second)}
	for _, page := range []string{"00:00", "23:59", "16/01/2026 00:01", "15/01/2026 23:58"} {
		v := Judge(Find(page), w, Expect{Want: hcm})
		assert.True(t, v.OK, "%s: %s", page, v.Message)
	}
	v := Judge(Find("00:03"), w, Expect{Want: hcm})
	assert.False(t, v.OK)
}

// TestFakeClockWindow maps a real window to the faked clock, whose start
// lies between the program's execution and its readiness.
func TestFakeClockWindow(t *testing.T) {
	exec := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	c := FakeClock{Start: Winter(time.UTC), ExecAt: exec, ReadyAt: exec.Add(300 * time.Millisecond)}
	w := c.Window(Window{From: exec.Add(time.Second), To: exec.Add(2 * time.Second)})
	assert.Equal(t, Winter(time.UTC).Add(700*time.Millisecond), w.From)
	assert.Equal(t, Winter(time.UTC).Add(2*time.Second), w.To)
}

// TestSeasons puts Paris on its two offsets at the two dates.
func TestSeasons(t *testing.T) {
	paris := zone(t, ParisZone)
	hcm := zone(t, DefaultZone)
	_, off := Winter(hcm.Loc).In(paris.Loc).Zone()
	assert.Equal(t, 3600, off)
	_, off = Summer(hcm.Loc).In(paris.Loc).Zone()
	assert.Equal(t, 7200, off)
}

// TestJudgeMidnightDate refuses yesterday's date with a time just past
// midnight.
func TestJudgeMidnightDate(t *testing.T) {
	hcm := zone(t, DefaultZone)
	at := time.Date(2026, 1, 15, 23, 59, 30, 0, hcm.Loc)
	w := Window{From: at, To: at.Add(time.Second)}
	v := Judge(Find("15/01/2026 00:01"), w, Expect{Want: hcm})
	assert.False(t, v.OK)
	assert.True(t, v.DateWrong)
}
