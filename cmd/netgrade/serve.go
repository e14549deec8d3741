package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/spf13/cobra"
)

// serveDrain is how long netgrade serve lets open connections end by
// themselves after Ctrl-C before it closes them.
const serveDrain = 2 * time.Second

// serveProtocols maps the protocol argument of netgrade serve to the
// exercise whose checks use that server.
var serveProtocols = map[string]string{"smtp": "smtp-client", "pop3": "pop-client", "imap": "imap-client"}

func newServeCmd() *cobra.Command {
	var port int
	var crs courseFlag
	c := &cobra.Command{
		Use:   "serve smtp|pop3|imap",
		Short: "Run the mail server a mail client exercise is graded against, printing the dialogue",
		Long: `Run on 127.0.0.1 the SMTP, POP3 or IMAP server the checks of smtp-client,
pop-client and imap-client run your client against, as they run it: STARTTLS
(STLS for POP3) offered with a self-signed certificate, the POP3 and IMAP
mailbox seeded with the checks' four messages, the course's account, the SMTP
recipient the course has refused. Every line either side sends is printed as
it comes ("C:" your client, "S:" the server; "C~"/"S~" over TLS), passwords
masked. Run your client against it in another terminal, read the conversation,
and stop the server with Ctrl-C. The mailbox starts afresh each time.

The commands under "try it yourself" in a mail client's report start it on the
port the check used.`,
		Example: `  netgrade serve smtp --port 2525
  netgrade serve pop3 --port 1110
  netgrade serve imap`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("netgrade serve needs one protocol: smtp, pop3 or imap")
			}
			if _, ok := serveProtocols[args[0]]; !ok {
				return usageErr("netgrade serve %s: no such protocol; give smtp, pop3 or imap", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if port < 0 || port > 65535 {
				return usageErr("--port %d: a port is a number from 1 to 65535 (0 picks a free one)", port)
			}
			cs, err := crs.load()
			if err != nil {
				return err
			}
			ex, err := course.Registry().Get(serveProtocols[args[0]])
			if err != nil {
				return fmt.Errorf("netgrade serve: %w", err)
			}
			return serveMail(c.Context(), c.OutOrStdout(), args[0], port, ex, cs.Settings(ex.ID))
		},
	}
	c.Flags().IntVar(&port, "port", 0, "the port on 127.0.0.1 to listen on (0 picks a free one, printed)")
	c.Flags().StringVar(&crs.path, "course", "", "course file (YAML) whose texts set the account and the refused recipient; default: the built-in course")
	return c
}

// serveMail runs the server of proto as the checks of ex run it under
// the course's settings, printing its dialogue on w, until ctx is done.
func serveMail(ctx context.Context, w io.Writer, proto string, port int, ex *graders.Exercise, set graders.Settings) error {
	text := func(name string) string {
		if v, ok := set.Texts[name]; ok {
			return v
		}
		return ex.Texts[name]
	}
	pr := &printer{w: w}
	cfg := mailserver.Config{Port: port, StartTLS: true, Recorder: pr}
	var srv mailserver.Server
	var err error
	var account string
	switch proto {
	case "smtp":
		if r := text("refused_to"); r != "" {
			cfg.Refuse = []string{r}
		}
		srv, err = mailserver.StartSMTP(ctx, cfg)
		account = "any user and password; refuses the recipient " + strings.Join(cfg.Refuse, ", ")
	case "pop3":
		cfg.User, cfg.Password, cfg.Mailbox = text("user"), text("password"), mailserver.Seed()
		srv, err = mailserver.StartPOP3(ctx, cfg)
		account = fmt.Sprintf("user %s, password %s; %d messages", cfg.User, cfg.Password, len(cfg.Mailbox))
	case "imap":
		cfg.User, cfg.Password, cfg.Mailbox = text("user"), text("password"), mailserver.Seed()
		srv, err = mailserver.StartIMAP(ctx, cfg)
		account = fmt.Sprintf("user %s, password %s; %d messages in INBOX", cfg.User, cfg.Password, len(cfg.Mailbox))
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return usageErr("port %d is in use on 127.0.0.1 (by another program, or by connections of one stopped a moment ago, for a minute): give another --port", port)
	}
	if err != nil {
		return internalErr(fmt.Errorf("starting the %s server on 127.0.0.1:%d: %w", proto, port, err))
	}
	offer := "STARTTLS"
	if proto == "pop3" {
		offer = "STLS"
	}
	pr.printf("netgrade's %s server listens on %s, offering %s (%s); Ctrl-C stops it\n", proto, srv.Addr(), offer, account)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), serveDrain)
	defer cancel()
	_ = srv.Shutdown(sctx)
	pr.printf("-- stopped\n")
	return nil
}

// printer is a mailserver.Recorder that prints each line as it comes:
// "C:" for the client, "S:" for the server, "~" in place of ":" over TLS,
// "--" for a note; with the connection's number once there are several.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// Line implements mailserver.Recorder.
func (p *printer) Line(l mailserver.Line) {
	who, sep := "S", ":"
	if l.FromClient {
		who = "C"
	}
	if l.TLS {
		sep = "~"
	}
	p.printf("%s%s%s %s\n", connTag(l.Conn), who, sep, sanitizeLine(l.Text))
}

// Note implements mailserver.Recorder.
func (p *printer) Note(_ time.Time, conn int, text string) {
	p.printf("%s-- %s\n", connTag(conn), sanitizeLine(text))
}

// connTag numbers the lines of the second connection on.
func connTag(conn int) string {
	if conn > 1 {
		return fmt.Sprintf("[%d] ", conn)
	}
	return ""
}

// sanitizeLine shows what a client sent as text a terminal prints
// safely: control characters and bytes that are not UTF-8 as escapes.
func sanitizeLine(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
