package mailserver

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPServer is netgrade's IMAP server: go-imap v2's imapserver and its
// in-memory backend, behind the relay, with one user whose INBOX holds the
// seeded messages. A mailbox opened with EXAMINE is read-only as RFC 3501
// says: a FETCH there never sets \Seen, STORE is refused, EXPUNGE removes
// nothing.
type IMAPServer struct {
	base
	cfg  Config
	user *imapmemserver.User

	sessions sync.WaitGroup

	mu      sync.Mutex
	login   bool
	failed  int
	selects []Select
}

// Select is one SELECT or EXAMINE.
type Select struct {
	Mailbox  string
	ReadOnly bool // EXAMINE
}

// IMAPFacts is what a grader judges of an IMAP session.
type IMAPFacts struct {
	Dialogue
	// LoggedIn is true when a login was accepted; FailedLogins counts the
	// refused ones.
	LoggedIn     bool
	FailedLogins int
	// Selects lists the SELECT and EXAMINE commands, in order.
	Selects []Select
	// Fetches and Stores are the FETCH and STORE command lines (UID ones
	// too), without their tags, in order.
	Fetches, Stores []string
	// Logout is true when the client sent LOGOUT.
	Logout bool
	// StartTLSOffered is true when the server offered STARTTLS.
	StartTLSOffered bool
	// Changes are the differences between the INBOX at the end and the one
	// seeded.
	Changes []Change
}

// StartIMAP starts an IMAP server on 127.0.0.1:cfg.Port whose INBOX holds
// cfg.Mailbox. It stops when ctx ends or on Shutdown.
func StartIMAP(ctx context.Context, cfg Config) (*IMAPServer, error) {
	studentTLS, libTLS, err := tlsFor(cfg)
	if err != nil {
		return nil, err
	}
	cfg = withAccount(cfg)
	s := &IMAPServer{cfg: cfg, user: imapmemserver.NewUser(cfg.User, cfg.Password)}
	if err := s.seed(); err != nil {
		return nil, err
	}
	s.relay, err = newRelay(IMAP, cfg, studentTLS, newIMAPDialect)
	if err != nil {
		return nil, err
	}
	mem := imapmemserver.New()
	mem.AddUser(s.user)
	lib := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			s.sessions.Add(1)
			return &imapSession{Session: mem.NewSession(), s: s}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		Logger:       discardLog{},
		TLSConfig:    libTLS,
		InsecureAuth: true,
	})
	s.run(ctx, lib.Serve, func(ctx context.Context) {
		lib.Close()
		waitGroup(ctx, &s.sessions)
	})
	return s, nil
}

// literal is a message handed to the in-memory backend's Append.
type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

func (s *IMAPServer) seed() error {
	if err := s.user.Create("INBOX", nil); err != nil {
		return fmt.Errorf("creating the INBOX: %w", err)
	}
	for i, m := range s.cfg.Mailbox {
		flags := make([]imap.Flag, len(m.Flags))
		for j, f := range m.Flags {
			flags[j] = imap.Flag(f)
		}
		if _, err := s.user.Append("INBOX", literal{bytes.NewReader(m.Raw), int64(len(m.Raw))}, &imap.AppendOptions{Flags: flags, Time: m.Date}); err != nil {
			return fmt.Errorf("seeding message %d: %w", i+1, err)
		}
	}
	return nil
}

// watchedFlags are the flags the final state is read for.
var watchedFlags = []string{`\Seen`, `\Deleted`, `\Flagged`, `\Answered`, `\Draft`}

// state reads the INBOX: the flags of each message, by UID (the seeded
// messages have UIDs 1, 2, ...).
func (s *IMAPServer) state() (map[imap.UID][]string, error) {
	sess := imapmemserver.NewUserSession(s.user)
	defer sess.Close()
	if _, err := sess.Select("INBOX", &imap.SelectOptions{ReadOnly: true}); err != nil {
		return nil, err
	}
	all, err := sess.Search(imapserver.NumKindUID, &imap.SearchCriteria{}, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	uids, _ := all.All.(imap.UIDSet).Nums()
	out := make(map[imap.UID][]string, len(uids))
	for _, u := range uids {
		out[u] = nil
	}
	for _, f := range watchedFlags {
		res, err := sess.Search(imapserver.NumKindUID, &imap.SearchCriteria{Flag: []imap.Flag{imap.Flag(f)}}, &imap.SearchOptions{})
		if err != nil {
			return nil, err
		}
		with, _ := res.All.(imap.UIDSet).Nums()
		for _, u := range with {
			out[u] = append(out[u], f)
		}
	}
	return out, nil
}

// Facts returns what the server saw so far; after Shutdown, all of it.
func (s *IMAPServer) Facts() IMAPFacts {
	f := IMAPFacts{Dialogue: s.Dialogue(), StartTLSOffered: s.cfg.StartTLS}
	f.Logout = f.Sent("LOGOUT")
	for _, c := range f.Commands {
		switch c.Verb {
		case "FETCH", "UID FETCH":
			f.Fetches = append(f.Fetches, c.Line)
		case "STORE", "UID STORE":
			f.Stores = append(f.Stores, c.Line)
		}
	}
	s.mu.Lock()
	f.LoggedIn, f.FailedLogins, f.Selects = s.login, s.failed, slices.Clone(s.selects)
	s.mu.Unlock()
	st, err := s.state()
	if err != nil {
		return f
	}
	for i, m := range s.cfg.Mailbox {
		flags, ok := st[imap.UID(i+1)]
		if !ok {
			f.Changes = append(f.Changes, Change{N: i + 1, Gone: true})
			continue
		}
		var before []string
		for _, fl := range m.Flags {
			if slices.ContainsFunc(watchedFlags, func(w string) bool { return strings.EqualFold(w, fl) }) {
				before = append(before, fl)
			}
		}
		if added, removed := flagChange(before, flags); len(added)+len(removed) > 0 {
			f.Changes = append(f.Changes, Change{N: i + 1, Added: added, Removed: removed})
		}
	}
	return f
}

// imapSession wraps the in-memory backend's session to record logins and
// SELECT/EXAMINE, and to keep an EXAMINEd mailbox read-only: FETCH peeks,
// STORE is refused, EXPUNGE removes nothing.
type imapSession struct {
	imapserver.Session
	s        *IMAPServer
	readOnly bool
	closed   bool
}

var errReadOnly = &imap.Error{Type: imap.StatusResponseTypeNo, Code: "READ-ONLY", Text: "the mailbox was opened with EXAMINE: it is read-only"}

func (is *imapSession) Login(user, pass string) error {
	err := is.Session.Login(user, pass)
	is.s.mu.Lock()
	if err != nil {
		is.s.failed++
	} else {
		is.s.login = true
	}
	is.s.mu.Unlock()
	return err
}

func (is *imapSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	ro := options != nil && options.ReadOnly
	is.s.mu.Lock()
	is.s.selects = append(is.s.selects, Select{Mailbox: mailbox, ReadOnly: ro})
	is.s.mu.Unlock()
	data, err := is.Session.Select(mailbox, options)
	if err == nil {
		is.readOnly = ro
	}
	return data, err
}

func (is *imapSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if is.readOnly {
		// The response names each section by this same pointer: set Peek
		// in place so that the backend does not set \Seen.
		for _, bs := range options.BodySection {
			bs.Peek = true
		}
		for _, bs := range options.BinarySection {
			bs.Peek = true
		}
	}
	return is.Session.Fetch(w, numSet, options)
}

func (is *imapSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if is.readOnly {
		return errReadOnly
	}
	return is.Session.Store(w, numSet, flags, options)
}

// Expunge does nothing in a read-only mailbox: CLOSE after EXAMINE comes
// here too, and must succeed without removing anything (RFC 3501 6.4.2).
func (is *imapSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if is.readOnly {
		return nil
	}
	return is.Session.Expunge(w, uids)
}

func (is *imapSession) Close() error {
	err := is.Session.Close()
	if !is.closed {
		is.closed = true
		is.s.sessions.Done()
	}
	return err
}
