package mailserver

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Message is one message of a seeded mailbox, with what a correct client
// shows of it.
type Message struct {
	// Raw is the message as stored, RFC 5322 with CRLF line ends.
	Raw []byte
	// Flags are its IMAP flags at start, e.g. `\Seen`.
	Flags []string
	// Date is its IMAP internal date.
	Date time.Time
	// FromName and FromAddr are the sender's display name, decoded ("" when
	// none), and address; Subject is the subject, decoded.
	FromName, FromAddr, Subject string
	// Encoded is true when the From or Subject header holds RFC 2047
	// encoded-words: a client must decode them.
	Encoded bool
}

// From is the sender as a correct client shows it: `Name <addr>`, or the
// address alone when there is no display name.
func (m Message) From() string {
	if m.FromName == "" {
		return m.FromAddr
	}
	return m.FromName + " <" + m.FromAddr + ">"
}

// FromForms are the ways of showing the sender that are accepted: the
// From above, the display name quoted, the address alone or in angle
// brackets, the display name alone.
func (m Message) FromForms() []string {
	forms := []string{m.From(), m.FromAddr, "<" + m.FromAddr + ">"}
	if m.FromName != "" {
		forms = append(forms, `"`+m.FromName+`" <`+m.FromAddr+`>`, m.FromName)
	}
	return forms
}

// crlf turns a Go text with \n line ends into one with CRLF.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r\n"))
}

// The seeded mailbox's user and password (course settings may replace
// them; the password is one no one types by chance, so that the masker
// finds it anywhere).
const (
	SeedUser     = "student"
	SeedPassword = "tr0ub4dor-kestrel"
)

// withAccount gives a POP3 or IMAP configuration without an account the
// seeded one.
func withAccount(cfg Config) Config {
	if cfg.User == "" {
		cfg.User, cfg.Password = SeedUser, SeedPassword
	}
	return cfg
}

// Seed returns the default INBOX: four messages chosen to catch the usual
// mistakes of a client that lists them. 1 is plain ASCII and already
// \Seen; 2 has an RFC 2047 subject (base64, "Xin chào các bạn") and a
// sender whose display name is encoded too; 3 has a sender without display
// name and body lines that start with a dot, one of them a lone dot (POP3
// must stuff them, the client unstuff them); 4 is multipart, from a quoted
// display name, with a subject in two quoted-printable encoded-words that
// decode to one text.
func Seed() []Message {
	at := func(day, hour, min int) time.Time {
		return time.Date(2026, time.January, day, hour, min, 0, 0, time.FixedZone("CET", 3600))
	}
	return []Message{
		{
			Raw: crlf(`
Return-Path: <alice.martin@example.org>
From: Alice Martin <alice.martin@example.org>
To: Student <student@example.org>
Subject: Meeting on Monday
Date: Mon, 12 Jan 2026 09:15:00 +0100
Message-ID: <1.seed@netgrade.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hi,

The meeting is moved to 10:00, room B12.

Alice
`),
			Flags: []string{`\Seen`}, Date: at(12, 9, 15),
			FromName: "Alice Martin", FromAddr: "alice.martin@example.org", Subject: "Meeting on Monday",
		},
		{
			Raw: crlf(`
Return-Path: <beatrice@example.org>
From: =?utf-8?b?QsOpYXRyaWNlIE5ndXnhu4Vu?= <beatrice@example.org>
To: student@example.org
Subject: =?utf-8?b?WGluIGNow6BvIGPDoWMgYuG6oW4=?=
Date: Tue, 13 Jan 2026 18:02:00 +0100
Message-ID: <2.seed@netgrade.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Xin ch=C3=A0o c=C3=A1c b=E1=BA=A1n,
h=E1=BA=B9n g=E1=BA=B7p l=E1=BA=A1i v=C3=A0o th=E1=BB=A9 Hai.
`),
			Date:     at(13, 18, 2),
			FromName: "Béatrice Nguyễn", FromAddr: "beatrice@example.org", Subject: "Xin chào các bạn",
			Encoded: true,
		},
		{
			Raw: crlf(`
Return-Path: <bob@example.org>
From: bob@example.org
To: student@example.org
Subject: Config files
Date: Wed, 14 Jan 2026 11:30:00 +0100
Message-ID: <3.seed@netgrade.example>

Here are the files to copy:
.htaccess
..hidden
.
The line above is a lone dot.
`),
			Date:     at(14, 11, 30),
			FromAddr: "bob@example.org", Subject: "Config files",
		},
		{
			Raw: crlf(`
Return-Path: <support@example.com>
From: "Support Team" <support@example.com>
To: student@example.org
Subject: =?utf-8?q?R=C3=A9sum=C3=A9_of_the_week?= =?utf-8?q?_=E2=80=94_attached?=
Date: Thu, 15 Jan 2026 16:45:00 +0100
Message-ID: <4.seed@netgrade.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_netgrade_4"

This is a multi-part message in MIME format.

--=_netgrade_4
Content-Type: multipart/alternative; boundary="=_netgrade_4_alt"

--=_netgrade_4_alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

The r=C3=A9sum=C3=A9 of the week is attached.
--=_netgrade_4_alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>The r=C3=A9sum=C3=A9 of the week is attached.</p>
--=_netgrade_4_alt--

--=_netgrade_4
Content-Type: text/csv; charset=us-ascii; name="week.csv"
Content-Disposition: attachment; filename="week.csv"
Content-Transfer-Encoding: base64

ZGF5LGhvdXJzCk1vbiw3ClR1ZSw4Cg==
--=_netgrade_4--
`),
			Date:     at(15, 16, 45),
			FromName: "Support Team", FromAddr: "support@example.com", Subject: "Résumé of the week — attached",
			Encoded: true,
		},
	}
}

// Change is how one seeded message differs at the end of a session.
type Change struct {
	// N is the message's number in the seed, from 1.
	N int
	// Gone is true when the message is no longer in the mailbox (POP3 DELE
	// then QUIT; IMAP EXPUNGE or MOVE).
	Gone bool
	// Added and Removed are the IMAP flags set and cleared.
	Added, Removed []string
}

func (c Change) String() string {
	if c.Gone {
		return fmt.Sprintf("message %d deleted", c.N)
	}
	var parts []string
	if len(c.Added) > 0 {
		parts = append(parts, "flags set: "+strings.Join(c.Added, " "))
	}
	if len(c.Removed) > 0 {
		parts = append(parts, "flags cleared: "+strings.Join(c.Removed, " "))
	}
	return fmt.Sprintf("message %d: %s", c.N, strings.Join(parts, "; "))
}

// SeenSet returns the numbers of the messages that got the \Seen flag.
func SeenSet(changes []Change) []int {
	var out []int
	for _, c := range changes {
		if slices.Contains(c.Added, `\Seen`) {
			out = append(out, c.N)
		}
	}
	return out
}

// Gone returns the numbers of the messages deleted or marked \Deleted.
func Gone(changes []Change) []int {
	var out []int
	for _, c := range changes {
		if c.Gone || slices.Contains(c.Added, `\Deleted`) {
			out = append(out, c.N)
		}
	}
	return out
}

// flagChange compares two flag sets.
func flagChange(before, after []string) (added, removed []string) {
	for _, f := range after {
		if !slices.Contains(before, f) {
			added = append(added, f)
		}
	}
	for _, f := range before {
		if !slices.Contains(after, f) {
			removed = append(removed, f)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}
