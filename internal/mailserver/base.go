package mailserver

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// libraryGrace bounds the wait for a library's sessions to end once their
// pipes are closed (they end at once; the bound only guards a bug).
const libraryGrace = 5 * time.Second

// base is the lifecycle every server shares: the relay in front, the
// library behind, stopped with the start context or by Shutdown.
type base struct {
	relay   *relay
	start   context.Context
	libStop func(ctx context.Context) // closes the library and waits for it
	libWG   sync.WaitGroup            // the library's Serve goroutine

	once sync.Once
	done chan struct{}
}

// tlsFor returns the configurations of a server that offers TLS, or nils.
func tlsFor(cfg Config) (student, library *tls.Config, err error) {
	if !cfg.StartTLS {
		return nil, nil, nil
	}
	student, library, err = tlsConfigs(time.Now())
	if student != nil {
		student.KeyLogWriter = cfg.KeyLog
	}
	return student, library, err
}

// run starts the library's Serve on the relay's pipes and the watcher that
// stops everything when the start context ends.
func (b *base) run(ctx context.Context, serve func(net.Listener) error, stop func(context.Context)) {
	b.start, b.libStop, b.done = ctx, stop, make(chan struct{})
	b.libWG.Add(1)
	go func() {
		defer b.libWG.Done()
		_ = serve(b.relay.pipes) // ends with an error when the pipes close
	}()
	go func() {
		select {
		case <-ctx.Done():
			b.Shutdown(ctx)
		case <-b.done:
		}
	}()
}

// Addr returns the address the server listens on.
func (b *base) Addr() *net.TCPAddr { return b.relay.ln.Addr().(*net.TCPAddr) }

// Port returns the port the server listens on.
func (b *base) Port() int { return b.Addr().Port }

// Done is closed once the server has stopped.
func (b *base) Done() <-chan struct{} { return b.done }

// Shutdown stops accepting, lets the open connections end by themselves
// until ctx (or the start context) is done, then closes them, and returns
// when every goroutine of the server has.
func (b *base) Shutdown(ctx context.Context) error {
	b.once.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(b.start, cancel)
		defer stop()
		b.relay.shutdown(ctx)
		lctx, lcancel := context.WithTimeout(context.Background(), libraryGrace)
		defer lcancel()
		b.libStop(lctx)
		b.libWG.Wait()
		close(b.done)
	})
	<-b.done
	return nil
}

// Dialogue returns the connections, commands and credentials so far.
func (b *base) Dialogue() Dialogue { return b.relay.sess.dialogue() }

// discardLog is a logger that drops the libraries' error messages (a
// connection closed mid-command is how a client ends, not an error).
type discardLog struct{}

func (discardLog) Printf(string, ...any) {}
func (discardLog) Println(...any)        {}
