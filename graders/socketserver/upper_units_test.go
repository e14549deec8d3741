package socketserver

import (
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The judging functions of tcp-upper and tcp-waiting, without Python: each
// table pairs a server's reply (or printed line) with the verdict of each
// check that looks at it. One mistake, one deduction: a reply with one
// mistake fails the one check whose requirement it breaks.

// assertVerdict checks err against want: "" for a pass, else a phrase of
// the failure's message.
func assertVerdict(t *testing.T, want string, err error, what string) {
	t.Helper()
	if want == "" {
		assert.NoError(t, err, "%s must pass", what)
		return
	}
	var f *graders.Failure
	require.ErrorAs(t, err, &f, "%s must fail", what)
	assert.Contains(t, f.Message, want, "%s must fail, naming the mistake", what)
	assert.NotEmpty(t, f.Expected, "a failure says what was expected")
}

func TestUpperWants(t *testing.T) {
	cases := []struct {
		data string
		want []string
	}{
		{"Hello, World 42", []string{"HELLO, WORLD 42"}},
		{" \tstrip me \r\n", []string{"STRIP ME"}},
		{probe.UTF8Text, []string{"CáC BạN", "CÁC BẠN"}},
		{"é", []string{"é", "É"}},
		{"", []string{""}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, upperWants(c.data), "%q", c.data)
	}
	assert.Equal(t, "x y", upperStrip("\x0b\x0c x y \t\r\n"))
	assert.Equal(t, "ABC é", upperASCII("abc é"))
	assert.Equal(t, "abc É", upperLowerASCII("ABC É"))
}

// upperReplies are the replies of the measured mistakes, per probe.
var upperReplies = []struct {
	name string
	// reply returns what such a server answers to data.
	reply func(data string) string
	// upper, strip, utf8 are the verdicts of the three reply checks.
	upper, strip, utf8 string
}{
	{"course (bytes.upper)", func(d string) string { return upperASCII(upperStrip(d)) }, "", "", ""},
	{"str.upper", func(d string) string { return strings.ToUpper(upperStrip(d)) }, "", "", ""},
	{"data.lower()", func(d string) string { return strings.ToLower(upperStrip(d)) }, "lower-cased", "", ""},
	{"unchanged", func(d string) string { return upperStrip(d) }, "unchanged", "", ""},
	{"not stripped", func(d string) string { return upperASCII(d) }, "", "not stripped", ""},
	{"a newline added", func(d string) string { return upperASCII(upperStrip(d)) + "\n" }, "", "not stripped", ""},
	{"str() of the bytes", func(d string) string { return probe.BytesRepr([]byte(upperASCII(upperStrip(d)))) }, "bytes object", "", ""},
	{"Latin-1 both ways", func(d string) string { return latin1Upper(upperStrip(d)) }, "", "", "not valid UTF-8"},
	{"decoded as Latin-1, encoded as UTF-8", func(d string) string { return strings.ToUpper(latin1(upperStrip(d))) }, "", "", "read as Latin-1"},
	{"decoded with replacement", func(d string) string { return strings.ToUpper(strings.Map(asciiOrFFFD, upperStrip(d))) }, "", "", "replaced"},
}

// latin1 reads the UTF-8 bytes of s as Latin-1.
func latin1(s string) string {
	rs := make([]rune, len(s))
	for i := range len(s) {
		rs[i] = rune(s[i])
	}
	return string(rs)
}

// latin1Upper decodes the UTF-8 of s as Latin-1, upper-cases it and
// encodes it as Latin-1 again, as a server that uses Latin-1 both ways.
func latin1Upper(s string) string {
	text := strings.ToUpper(latin1(s))
	b := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return string(b)
}

func asciiOrFFFD(r rune) rune {
	if r < 0x80 {
		return r
	}
	return '\uFFFD'
}

func TestUpperReplyChecks(t *testing.T) {
	for _, c := range upperReplies {
		t.Run(c.name, func(t *testing.T) {
			assertVerdict(t, c.upper, upperJudge("the client", upperProbe, []byte(c.reply(upperProbe))), "upper")
			assertVerdict(t, c.strip, upperJudgeStrip("the client", upperStripProbe, []byte(c.reply(upperStripProbe))), "strip")
			assertVerdict(t, c.utf8, upperJudgeUTF8("the client", probe.UTF8Text, []byte(c.reply(probe.UTF8Text))), "utf8")
		})
	}
	t.Run("waiting probe", func(t *testing.T) {
		assertVerdict(t, "", upperJudgeUTF8("the client", waitingUTF8Probe, []byte("é")), "bytes.upper() of é")
		assertVerdict(t, "", upperJudgeUTF8("the client", waitingUTF8Probe, []byte("É")), "str.upper() of é")
		assertVerdict(t, "", upperJudge("client B", waitingLateData, []byte("C")), "waits")
		assertVerdict(t, "unchanged", upperJudge("client B", waitingLateData, []byte("c")), "waits")
	})
}

func TestUpperComplete(t *testing.T) {
	done := upperComplete(upperWants(upperProbe))
	cases := []struct {
		got  string
		eof  bool
		done bool
	}{
		{"HELLO, WORLD 42", false, true},
		{"hello, world 42", false, true},
		{"HELLO, WORLD 42\r\n", false, true},
		{"HELLO, WO", false, false},
		{"HELLO, WO", true, true},
		{"", false, false},
		{"b'HELLO, WORLD 42'", false, true},
	}
	for _, c := range cases {
		assert.Equal(t, c.done, done([]byte(c.got), c.eof), "%q (eof %v)", c.got, c.eof)
	}
}

func TestUpperJudgeDataLine(t *testing.T) {
	line := func(text string) harness.Line { return harness.Line{Text: text, Stream: harness.Stdout} }
	repr := probe.BytesRepr([]byte(probe.UTF8Text))
	cases := []struct {
		name  string
		lines []harness.Line
		want  string
	}{
		{"text", []harness.Line{line("127.0.0.1 wrote:"), line(" " + probe.UTF8Text)}, ""},
		{"bytes object", []harness.Line{line("127.0.0.1 wrote:"), line(" " + repr)}, ""},
		{"Latin-1", []harness.Line{line("127.0.0.1 wrote:"), line(" " + probe.Mojibake(probe.UTF8Text))}, "nor as its bytes object"},
		{"no wrote line: format's concern", []harness.Line{line("got " + probe.Mojibake(probe.UTF8Text))}, ""},
		{"the data on stderr: not the line after", []harness.Line{line("127.0.0.1 wrote:"), {Text: "warning", Stream: harness.Stderr}, line(probe.UTF8Text)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertVerdict(t, c.want, upperJudgeDataLine(probe.UTF8Text, c.lines), c.name)
		})
	}
}

func TestWaitingDelays(t *testing.T) {
	chars, bytes := waitingDelays(" é\n")
	assert.Equal(t, 1, chars)
	assert.Equal(t, 2, bytes)
	assert.Equal(t, 2*time.Second+probe.LineTimeout, waitingTimeout("ab"))
	assert.Equal(t, 2*time.Second+probe.LineTimeout, waitingTimeout("é"))
}

func TestWaitingJudgeDelay(t *testing.T) {
	sent := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name, data string
		took, load time.Duration
		want       string
	}{
		{"two seconds for ab", "ab", 2 * time.Second, 0, ""},
		{"a little early, two clocks", "ab", 2*time.Second - 30*time.Millisecond, 0, ""},
		{"late is fine", "ab", 2500 * time.Millisecond, 0, ""},
		{"one second for ab", "ab", time.Second, 0, "too soon"},
		{"no wait", "ab", 10 * time.Millisecond, 0, "too soon"},
		{"é in characters", "é", time.Second, 0, ""},
		{"é too soon", "é", 100 * time.Millisecond, 0, "too soon"},
		// The CPU wait is sampled after the reply and holds the handler's
		// waits after its sendall: a correct wait may look a little short.
		{"two seconds on a loaded machine", "ab", 2*time.Second + 5*time.Millisecond, 60 * time.Millisecond, ""},
		{"one second stretched by load", "ab", 2*time.Second + 5*time.Millisecond, time.Second, "waiting for a CPU"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &upperReply{sentAt: sent, firstAt: sent, doneAt: sent.Add(c.took), loadDelay: c.load}
			assertVerdict(t, c.want, waitingJudgeDelay(c.data, r), c.name)
		})
	}
}

func TestWaitingJudgeShownDelay(t *testing.T) {
	cases := []struct {
		line, want string
	}{
		{"127.0.0.1 waiting for 1 seconds", ""},
		{"127.0.0.1 waiting for 2 seconds", ""},
		{"127.0.0.1 waiting for 2.0 seconds", "waits 2.0 seconds"},
		{"127.0.0.1 waiting for 11 seconds", "waits 11 seconds"},
		{"127.0.0.1 answered", ""}, // no waiting line: format's concern
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			assertVerdict(t, c.want, waitingJudgeShownDelay(waitingUTF8Probe, c.line), c.line)
		})
	}
}
