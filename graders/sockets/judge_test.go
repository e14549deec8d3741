package sockets

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The judging functions of the socket exercises, without Python: each
// table pairs what a program did with the verdict, and names in its
// failure message the mistake a student made. A failure's message is
// matched by a phrase of it.

// failMessage returns err's failure message, "" for nil; anything else
// fails the test.
func failMessage(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var f *graders.Failure
	require.ErrorAs(t, err, &f)
	assert.NotEmpty(t, f.Expected, "a failure says what was expected")
	return f.Message
}

// assertVerdict checks err against want: "" for a pass, else a phrase of
// the failure's message.
func assertVerdict(t *testing.T, want string, err error, what string) {
	t.Helper()
	got := failMessage(t, err)
	if want == "" {
		assert.Empty(t, got, "%s must pass", what)
		return
	}
	assert.Contains(t, got, want, "%s must fail, naming the mistake", what)
}

func TestLogPattern(t *testing.T) {
	tmpl := UDPServer().Texts["log_line"]
	cases := []struct {
		name, msg, line string
		match           bool
	}{
		{"course line", "hello", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "hello"`, true},
		{"regexp characters in the message", "50% off: (a+b)*", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "50% off: (a+b)*"`, true},
		{"dot for comma", "hello", `[2026-01-15 10:00:00.123] client 127.0.0.1 sent "hello"`, false},
		{"no milliseconds", "hello", `[2026-01-15 10:00:00] client 127.0.0.1 sent "hello"`, false},
		{"tuple", "hello", `[2026-01-15 10:00:00,123] client ('127.0.0.1', 5000) sent "hello"`, false},
		{"padded IP", "hello", `[2026-01-15 10:00:00,123] client 127.0.0.1    sent "hello"`, false},
		{"no quotes", "hello", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent hello`, false},
		{"more after it", "hello", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "hello" (5 bytes)`, false},
		{"another IP", "hello", `[2026-01-15 10:00:00,123] client 127.0.0.2 sent "hello"`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.match, logPattern(tmpl, "127.0.0.1", c.msg).MatchString(c.line))
		})
	}
	t.Run("unknown placeholder stays literal", func(t *testing.T) {
		assert.True(t, logPattern("{level} {message}", "127.0.0.1", "hi").MatchString("{level} hi"))
	})
}

func TestExpectedLog(t *testing.T) {
	tmpl := UDPServer().Texts["log_line"]
	assert.Equal(t, `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "hi"`,
		expectedLog(tmpl, "127.0.0.1", "hi", `[2026-01-15 10:00:00,123] client ('127.0.0.1', 1) sent "hi"`),
		"the student's timestamp is reused, so that a diff shows the real difference")
	assert.Equal(t, `[2026-01-15 10:00:00,mmm] client 127.0.0.1 sent "hi"`,
		expectedLog(tmpl, "127.0.0.1", "hi", `2026-01-15 10:00:00 hi`), "a stamp without milliseconds keeps its time and shows where they go")
	assert.Equal(t, `[YYYY-MM-DD HH:MM:SS,mmm] client 127.0.0.1 sent "hi"`,
		expectedLog(tmpl, "127.0.0.1", "hi", `hi`), "no stamp at all: the course's placeholder")
}

func TestJudgeLog(t *testing.T) {
	ex := UDPServer()
	tt := graders.NewT(context.Background(), ex, graders.Settings{})
	cases := []struct {
		name, line, want string
	}{
		{"course line", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "hello"`, ""},
		{"bytes object: decoding is utf8's concern", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "b'hello'"`, ""},
		{"tuple", `[2026-01-15 10:00:00,123] client ('127.0.0.1', 5000) sent "hello"`, "(host, port) tuple"},
		{"padded", `[2026-01-15 10:00:00,123] client 127.0.0.1       sent "hello"`, "padded with spaces"},
		{"no quotes", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent hello`, "not between double quotes"},
		{"no stamp", `client 127.0.0.1 sent "hello"`, "no timestamp"},
		{"another message", `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "bye"`, "does not hold the message"},
		{"dot before the milliseconds", `[2026-01-15 10:00:00.123] client 127.0.0.1 sent "hello"`, "the course writes a comma"},
		{"other layout", `2026-01-15 10:00:00,123 - 127.0.0.1 - "hello"`, "not in the course's format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertVerdict(t, c.want, judgeLog(tt, c.line, "hello"), c.line)
		})
	}
	t.Run("the course's own pattern", func(t *testing.T) {
		tt := graders.NewT(context.Background(), ex, graders.Settings{Texts: map[string]string{"log_line": "{asctime} {ip}: {message}"}})
		assert.NoError(t, judgeLog(tt, "2026-01-15 10:00:00,123 127.0.0.1: hello", "hello"))
		assert.Error(t, judgeLog(tt, `[2026-01-15 10:00:00,123] client 127.0.0.1 sent "hello"`, "hello"))
	})
}

func TestJudgeHolds(t *testing.T) {
	cases := []struct {
		name, line, msg string
		reprOK          bool
		want            string
	}{
		{"verbatim", `[…] client 127.0.0.1 sent "50% off: %Y {0}"`, "50% off: %Y {0}", true, ""},
		{"strftime ate it", `[…] client 127.0.0.1 sent "50% off: 2026 {0}"`, "50% off: %Y {0}", true, "does not hold the message"},
		{"bytes object, verbatim", `sent "b'50% off'"`, "50% off", true, ""},
		{"bytes object, utf8", `sent "b'c\xc3\xa1c b\xe1\xba\xa1n'"`, probe.UTF8Text, false, "bytes object"},
		{"decoded, utf8", `sent "các bạn"`, probe.UTF8Text, false, ""},
		{"Latin-1, utf8", `sent "cÃ¡c báº¡n"`, probe.UTF8Text, false, "Latin-1"},
		{"replaced, utf8", `sent "c\ufffd\ufffdc b\ufffd\ufffd\ufffdn"`, probe.UTF8Text, false, "does not hold the message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line := c.line
			if c.name == "bytes object, utf8" {
				line = `sent "` + probe.BytesRepr([]byte(probe.UTF8Text)) + `"`
			}
			assertVerdict(t, c.want, judgeHolds(line, c.msg, c.reprOK), line)
		})
	}
}

func TestStampOf(t *testing.T) {
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04:05.000000", s, time.Local)
		require.NoError(t, err)
		return ts
	}
	cases := []struct {
		line string
		ok   bool
		want time.Time
		raw  string
		prec time.Duration
	}{
		{`[2026-01-15 10:00:00,123] client`, true, at("2026-01-15 10:00:00.123000"), "2026-01-15 10:00:00,123", time.Millisecond},
		{`[2026-01-15 10:00:00.123456] client`, true, at("2026-01-15 10:00:00.123456"), "2026-01-15 10:00:00.123456", time.Microsecond},
		{`2026-01-15T10:00:00.5 client`, true, at("2026-01-15 10:00:00.000000"), "2026-01-15T10:00:00", time.Second}, // one digit: read to the second
		{`[2026-01-15 10:00:00] client`, true, at("2026-01-15 10:00:00.000000"), "2026-01-15 10:00:00", time.Second},
		{`[2026-01-15T10:00:00,999] client`, true, at("2026-01-15 10:00:00.999000"), "2026-01-15T10:00:00,999", time.Millisecond},
		{`client 127.0.0.1 sent "hello"`, false, time.Time{}, "", 0},
		{`[2026-13-45 10:00:00,123] client`, false, time.Time{}, "2026-13-45 10:00:00,123", time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			ts, raw, ok := stampOf(c.line)
			assert.Equal(t, c.ok, ok)
			if c.raw != "" {
				assert.Equal(t, c.raw, raw)
				assert.Equal(t, c.prec, stampPrecision(raw))
			}
			if c.ok {
				assert.True(t, c.want.Equal(ts), "got %s", ts)
			}
		})
	}
}

func TestJudgeStamp(t *testing.T) {
	sent := time.Date(2026, 1, 15, 10, 0, 0, 123_456_789, time.Local)
	stamp := func(d time.Duration) string {
		return "[" + sent.Add(d).Format(asctimeLayout) + "] client 127.0.0.1 sent \"tick\""
	}
	cases := []struct {
		name, line, want string
	}{
		{"at receipt", stamp(2 * time.Millisecond), ""},
		{"same millisecond as the send", stamp(0), ""},
		{"a second later, under load", stamp(time.Second), ""},
		{"taken before the send (start-up, or top of the loop)", stamp(-30 * time.Millisecond), "before it was sent"},
		{"hours away (UTC instead of local time)", stamp(-3 * time.Hour), "before it was sent"},
		{"too late", stamp(3 * time.Second), "away"},
		{"seconds only, same second", "[2026-01-15 10:00:00] client", ""},
		{"seconds only, the second before", "[2026-01-15 09:59:59] client", "before it was sent"},
		{"no stamp", `client 127.0.0.1 sent "tick"`, "no timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := judgeStamp("tick", c.line, sent)
			assertVerdict(t, c.want, err, c.line)
		})
	}
}

func TestLooseText(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"UTF-8", []byte("các bạn"), "các bạn"},
		{"UTF-16 little-endian with its mark", []byte("\xff\xfeh\x00i\x00"), "hi"},
		{"UTF-16 big-endian with its mark", []byte("\xfe\xff\x00h\x00i"), "hi"},
		{"Latin-1", []byte("caf\xe9"), "café"},
		{"odd length after a mark", []byte("\xff\xfeh"), "ÿþh"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, looseText(c.data))
		})
	}
}

// datagrams makes the datagrams a run received.
func datagrams(data ...string) []probe.Datagram {
	out := make([]probe.Datagram, len(data))
	for i, d := range data {
		out[i] = probe.Datagram{From: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000 + i}, Data: []byte(d)}
	}
	return out
}

func TestJudgeExactlyMessage(t *testing.T) {
	cases := []struct {
		name string
		got  []probe.Datagram
		want string
	}{
		{"the message", datagrams("hello"), ""},
		{"UTF-16: the encoding is utf8's concern", datagrams("\xff\xfeh\x00e\x00l\x00l\x00o\x00"), ""},
		{"a newline after it", datagrams("hello\n"), "something around it"},
		{"two datagrams", datagrams("hello", "\n"), "2 datagrams"},
		{"nothing", nil, "no datagram"},
		{"another message", datagrams("hell"), "does not hold exactly the message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertVerdict(t, c.want, judgeExactlyMessage(c.got, "hello"), c.name)
		})
	}
}

func TestJudgeWhole(t *testing.T) {
	cases := []struct {
		name string
		got  []probe.Datagram
		want string
	}{
		{"whole", datagrams(spacesProbe), ""},
		{"whole with a newline: exactness is sends-message's", datagrams(spacesProbe + "\n"), ""},
		{"whole, in UTF-16: encoding is utf8's", datagrams("\xff\xfe" + utf16le(spacesProbe)), ""},
		{"whole, then a marker datagram", datagrams(spacesProbe, "END"), ""},
		{"first word", datagrams("hello"), "only the first word"},
		{"split over datagrams", datagrams("hello big", "world, 50% off"), "no datagram holds the whole message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertVerdict(t, c.want, judgeWhole(c.got, spacesProbe), c.name)
		})
	}
}

// utf16le encodes ASCII s as UTF-16, little-endian, without a mark.
func utf16le(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := range len(s) {
		b = append(b, s[i], 0)
	}
	return string(b)
}

func TestJudgeSentUTF8(t *testing.T) {
	cases := []struct {
		name, sent, want string
	}{
		{"UTF-8", probe.UTF8Text, ""},
		{"UTF-8 and a newline", probe.UTF8Text + "\n", ""},
		{"the first word: wholeness is spaces'", "các", ""},
		{"Latin-1 with replacement", "c?c b?n", "not sent as UTF-8"},
		{"ASCII, letters dropped", "cc bn", "not sent as UTF-8"},
		{"Latin-1 bytes", "c\xe1c", "not sent as UTF-8"},
		{"UTF-16", "\xff\xfec\x00\xe1\x00c\x00", "not sent as UTF-8"},
		{"nothing", "", "not sent as UTF-8"},
		{"an ASCII piece of the message", "c", "not sent as UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertVerdict(t, c.want, judgeSentUTF8([]byte(c.sent), probe.UTF8Text), c.name)
		})
	}
	t.Run("any of the datagrams", func(t *testing.T) {
		assert.NoError(t, judgeDatagramsUTF8(datagrams("c?c", probe.UTF8Text), probe.UTF8Text))
		assert.Error(t, judgeDatagramsUTF8(datagrams("c?c"), probe.UTF8Text))
		assert.Error(t, judgeDatagramsUTF8(nil, probe.UTF8Text))
	})
}

func TestTCPClientMessageDone(t *testing.T) {
	cases := []struct {
		got  string
		done bool
	}{
		{"hello", true},
		{"hello\n", true},
		{"hello\r\n", true},
		{"hel", false},
		{"", false},
		{"hello, and much more", true},
	}
	for _, c := range cases {
		assert.Equal(t, c.done, tcpClientMessageDone([]byte(c.got), "hello"), "%q", c.got)
	}
}

func TestTCPServerJudgePrinted(t *testing.T) {
	repr := probe.BytesRepr([]byte(tcpServerProbe))
	assertVerdict(t, "", tcpServerJudgePrinted(tcpServerProbe, "Received: "+tcpServerProbe), "text")
	assertVerdict(t, "bytes object", tcpServerJudgePrinted(tcpServerProbe, "Received: "+repr), "the bytes object")
}

func TestMisdecoded(t *testing.T) {
	cases := []struct {
		name, printed string
		want          string // the form found, "" for none
	}{
		{"UTF-8", "Client: " + probe.UTF8Text, ""},
		{"bytes object", "Client: " + probe.BytesRepr([]byte(probe.UTF8Text)), ""},
		{"Latin-1", "Client: " + probe.Mojibake(probe.UTF8Text), probe.Mojibake(probe.UTF8Text)},
		{"ASCII with errors='replace'", "Client: c��c b���n", "c��c b���n"},
		{"ASCII encoding with errors='replace'", "c?c b?n", "c?c b?n"},
		{"ASCII with errors='ignore'", "got cc bn", "cc bn"},
		{"something else", "Connection from 127.0.0.1", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form, ok := misdecoded(probe.UTF8Text, c.printed)
			assert.Equal(t, c.want != "", ok)
			assert.Equal(t, c.want, form)
		})
	}
	_, ok := misdecoded("hello", "hello")
	assert.False(t, ok, "ASCII has no other decoding")
}
