package mail

import (
	"strings"
	"testing"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/reference"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference prints the texts the checks expect by default.
func TestDefaultTextsAreTheReferences(t *testing.T) {
	assert.Equal(t, reference.MailCountText, DefaultCountLine)
	assert.Equal(t, reference.MailMessageText, DefaultMessageLine)
}

// listing is what a correct client prints for the seed.
var listing = []string{
	"4 messages",
	"1: Alice Martin <alice.martin@example.org> | Meeting on Monday",
	"2: Béatrice Nguyễn <beatrice@example.org> | Xin chào các bạn",
	"3: bob@example.org | Config files",
	"4: Support Team <support@example.com> | Résumé of the week — attached",
}

// with returns listing with line i replaced (or removed when s is "").
func with(i int, s string) []string {
	out := append([]string(nil), listing...)
	if s == "" {
		return append(out[:i], out[i+1:]...)
	}
	out[i] = s
	return out
}

func newT(t *testing.T, texts map[string]string) *graders.T {
	return graders.NewT(t.Context(), POPClient(), graders.Settings{Texts: texts})
}

// judged runs a judging function and returns "" on pass, else the
// failure's message.
func judged(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestJudgeCount(t *testing.T) {
	for _, tc := range []struct {
		first, fails string
	}{
		{"4 messages", ""},
		{"4", ""},
		{"You have 4 messages", ""},
		{"Messages: 4", ""},
		{"3 messages", "says 3, but the mailbox holds 4"},
		{"(4, 2150)", "several numbers (4, 2150)"},
		{"Messages:", "holds no number"},
	} {
		t.Run(tc.first, func(t *testing.T) {
			msg := judged(judgeCount(newT(t, nil), []string{tc.first, "1: a | b"}, 4))
			if tc.fails == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, tc.fails)
		})
	}
	assert.Contains(t, judged(judgeCount(newT(t, nil), nil, 4)), "printed nothing")
}

func TestJudgeList(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		fails string
	}{
		{"reference", listing, ""},
		{"quoted display name", with(4, `4: "Support Team" <support@example.com> | Résumé of the week — attached`), ""},
		{"name alone", with(1, "1: Alice Martin | Meeting on Monday"), ""},
		{"address alone", with(1, "1: alice.martin@example.org | Meeting on Monday"), ""},
		{"address in brackets", with(3, "3: <bob@example.org> | Config files"), ""},
		{"spaces", with(1, "  1 :Alice Martin <alice.martin@example.org>|   Meeting on Monday  "), ""},
		{"encoded ones raw: decoded's business", with(2, "2: =?utf-8?b?QsOpYXRyaWNlIE5ndXnhu4Vu?= <beatrice@example.org> | =?utf-8?b?WGluIGNow6BvIGPDoWMgYuG6oW4=?="), ""},
		{"other lines", append([]string{"Connecting..."}, listing...), ""},
		{"a line missing", with(3, ""), "no line for message 3"},
		{"out of order", []string{listing[0], listing[2], listing[1], listing[3], listing[4]}, "the line of message 2 comes before"},
		{"wrong subject", with(3, "3: bob@example.org | Config"), `message 3: the subject is shown as "Config"`},
		{"bytes", with(1, "1: b'Alice Martin <alice.martin@example.org>' | b'Meeting on Monday'"), "message 1: the sender is shown as"},
		{"twice", append(listing, listing[1:]...), "more message lines than messages"},
		{"other form", []string{"4 messages", "Message 1", "  From: Alice Martin <alice.martin@example.org>", "  Subject: Meeting on Monday"}, "no line for message 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := judged(judgeList(newT(t, nil), tc.lines, mailserver.Seed()))
			if tc.fails == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, tc.fails)
		})
	}
}

func TestJudgeListCourseTemplate(t *testing.T) {
	tt := newT(t, map[string]string{textMessageLine: "Message {n} from {from}: {subject}"})
	lines := []string{"4 messages"}
	for i, m := range mailserver.Seed() {
		lines = append(lines, strings.NewReplacer("{n}", string(rune('1'+i)), "{from}", m.From(), "{subject}", m.Subject).Replace("Message {n} from {from}: {subject}"))
	}
	assert.NoError(t, judgeList(tt, lines, mailserver.Seed()))
	assert.Error(t, judgeList(tt, listing, mailserver.Seed()), "the default form is not the course's")
}

func TestJudgeDecoded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		fails string
	}{
		{"reference", listing, ""},
		{"name alone", with(2, "2: Béatrice Nguyễn | Xin chào các bạn"), ""},
		{"on lines of their own: list's business", []string{"4 messages", "From: Béatrice Nguyễn <beatrice@example.org>", "Subject: Xin chào các bạn", "From: Support Team <support@example.com>", "Subject: Résumé of the week — attached"}, ""},
		{"raw", with(2, "2: =?utf-8?b?QsOpYXRyaWNlIE5ndXnhu4Vu?= <beatrice@example.org> | =?utf-8?b?WGluIGNow6BvIGPDoWMgYuG6oW4=?="), "encoded-word as it is: =?utf-8?b?QsOpYXRyaWNlIE5ndXnhu4Vu?="},
		{"bytes", with(2, `2: b'B\xc3\xa9atrice Nguy\xe1\xbb\x85n' | b'Xin ch\xc3\xa0o c\xc3\xa1c b\xe1\xba\xa1n'`), `message 2's subject "Xin chào các bạn"`},
		{"first word only", with(4, "4: Support Team <support@example.com> | Résumé of the week"), `message 4's subject`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := judged(judgeDecoded(newT(t, nil), tc.lines, strings.Join(tc.lines, "\n"), mailserver.Seed()))
			if tc.fails == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, tc.fails)
		})
	}
}

func TestMailText(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want, fails string
	}{
		{"plain, no MIME", "From: a@b\r\n\r\nShall we meet?\r\n", "Shall we meet?\r\n", ""},
		{"8bit UTF-8", "Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nXin chào\r\n", "Xin chào\r\n", ""},
		{"quoted-printable", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nXin ch=C3=A0o\r\n", "Xin chào\r\n", ""},
		{"base64", "Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\nWGluIGNow6Bv\r\n", "Xin chào", ""},
		{"latin-1", "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nch=E0o\r\n", "chào\r\n", ""},
		{"multipart: first text/plain", "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe text\r\n--b--\r\n", "the text", ""},
		{"8 bits, no charset", "From: a@b\r\n\r\nXin chào\r\n", "", "declares no charset"},
		{"8 bits, us-ascii", "Content-Type: text/plain; charset=us-ascii\r\n\r\nXin chào\r\n", "", "declares charset us-ascii"},
		{"no text", "Content-Type: image/png\r\n\r\nxx", "", "no text/plain part"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := parseMail([]byte(tc.raw))
			require.NoError(t, err)
			got, err := mailText(msg)
			if tc.fails != "" {
				assert.ErrorContains(t, err, tc.fails)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestShowClear(t *testing.T) {
	var lines []mailserver.Line
	for i := range 40 {
		lines = append(lines, mailserver.Line{FromClient: i%2 == 0, Text: string(rune('a' + i%26))})
	}
	out := strings.Split(showClear(lines), "\n")
	assert.Len(t, out, 31)
	assert.Equal(t, "C: a", out[0])
	assert.Equal(t, "… 10 lines …", out[15])
	assert.Equal(t, "S: n", out[30])
}
