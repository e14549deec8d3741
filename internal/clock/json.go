package clock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// FindJSON returns the times a JSON document holds, however it holds them:
// in strings ("2026-01-15T10:00:00+07:00", "10:00"; a date and a time in
// two fields go together), as numbers in an object ({"hour": 10,
// "minute": 0}, with "year", "month", "day" if there), as a time tuple
// ([2026, 1, 15, 10, 0, 0, ...]), or as a Unix timestamp (seconds or
// milliseconds). It fails when data is not JSON.
func FindJSON(data []byte) ([]Stamp, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not JSON: more follows the document")
	}
	flat, epochs, err := flatten(data)
	if err != nil {
		return nil, err
	}
	out := Find(flat)
	out = append(out, epochs...)
	walk(doc, func(v any) {
		if st, ok := fieldsStamp(v); ok {
			out = append(out, st)
		}
		if st, ok := tupleStamp(v); ok {
			out = append(out, st)
		}
	})
	return out, nil
}

// flatten writes the document's scalars as "key: value" lines in the order
// they come, so that a date and a time in neighbouring fields read as
// text does, and collects the numbers that are Unix timestamps.
func flatten(data []byte) (string, []Stamp, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var b strings.Builder
	var epochs []Stamp
	// One frame per open object or array; in an object, keys and values
	// alternate.
	type frame struct{ object, wantKey bool }
	var stack []frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	key := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("not JSON: %w", err)
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			key, _ = tok.(string)
			stack[n-1].wantKey = false
			continue
		}
		switch v := tok.(type) {
		case string:
			fmt.Fprintf(&b, "%s: %s\n", key, v)
		case json.Number:
			fmt.Fprintf(&b, "%s: %s\n", key, v)
			if st, ok := epochStamp(key, v); ok {
				epochs = append(epochs, st)
			}
		}
		valueDone()
	}
	return b.String(), epochs, nil
}

// epochStamp reads a number as a Unix timestamp: seconds from 2001 to
// 2286, or the same in milliseconds.
func epochStamp(key string, n json.Number) (Stamp, bool) {
	f, err := n.Float64()
	if err != nil {
		return Stamp{}, false
	}
	var t time.Time
	switch {
	case f >= 1e9 && f < 1e10:
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(frac*1e9))
	case f >= 1e12 && f < 1e13:
		t = time.UnixMilli(int64(f))
	default:
		return Stamp{}, false
	}
	u := t.UTC()
	text := string(n)
	if key != "" {
		text = key + ": " + text
	}
	return Stamp{Text: text, Hour: u.Hour(), Minute: u.Minute(), Second: u.Second(), Instant: t, Epoch: true}, true
}

// The keys a student may give the parts of a time in a JSON object.
var (
	hourKeys   = []string{"hour", "hours", "heure", "heures", "h"}
	minuteKeys = []string{"minute", "minutes", "min", "mn", "m"}
	secondKeys = []string{"second", "seconds", "sec", "s", "seconde", "secondes"}
	yearKeys   = []string{"year", "annee", "année", "y"}
	monthKeys  = []string{"month", "mois"}
	dayKeys    = []string{"day", "jour", "d"}
)

// fieldsStamp reads an object holding a time in number fields.
func fieldsStamp(v any) (Stamp, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Stamp{}, false
	}
	num := func(keys []string) (int, bool) {
		for k, val := range obj {
			for _, want := range keys {
				if strings.EqualFold(k, want) {
					if n, ok := intValue(val); ok {
						return n, true
					}
				}
			}
		}
		return 0, false
	}
	h, okh := num(hourKeys)
	m, okm := num(minuteKeys)
	if !okh || !okm || h > 23 || h < 0 || m < 0 || m > 59 {
		return Stamp{}, false
	}
	st := Stamp{Hour: h, Minute: m, Second: -1}
	if s, ok := num(secondKeys); ok && s >= 0 && s <= 60 {
		st.Second = s
	}
	st.Text = "hour " + fmt.Sprint(h) + ", minute " + fmt.Sprint(m)
	d := Date{Weekday: noWeekday}
	d.Year, _ = num(yearKeys)
	mo, _ := num(monthKeys)
	d.Month = time.Month(mo)
	d.Day, _ = num(dayKeys)
	if (d.Month != 0 || d.Day != 0) && d.valid() {
		st.Dates = []Date{d}
		st.Text += ", date " + d.String()
	}
	return st, true
}

// tupleStamp reads a time tuple: [year, month, day, hour, minute, ...].
func tupleStamp(v any) (Stamp, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr) < 5 {
		return Stamp{}, false
	}
	var n [6]int
	for i := 0; i < len(n) && i < len(arr); i++ {
		x, ok := intValue(arr[i])
		if !ok {
			return Stamp{}, false
		}
		n[i] = x
	}
	d := Date{Year: n[0], Month: time.Month(n[1]), Day: n[2], Weekday: noWeekday}
	if !d.valid() || n[3] < 0 || n[3] > 23 || n[4] < 0 || n[4] > 59 {
		return Stamp{}, false
	}
	st := Stamp{Hour: n[3], Minute: n[4], Second: -1, Dates: []Date{d}}
	if len(arr) >= 6 && n[5] >= 0 && n[5] <= 60 {
		st.Second = n[5]
	}
	st.Text = fmt.Sprint(arr[:min(len(arr), 6)])
	return st, true
}

func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return int(i), err == nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		return i, err == nil
	}
	return 0, false
}

// walk calls f on v and every value inside it.
func walk(v any, f func(any)) {
	f(v)
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			walk(e, f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}
