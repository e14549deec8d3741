//go:build !linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
)

// errNoNamespaces is why the netns sandbox is unavailable off Linux.
var errNoNamespaces = errors.New("network namespaces exist only on Linux")

// NewNetns returns the netns sandbox; off Linux it cannot grade.
func NewNetns(bin, python string) Sandbox { return nil }

// NetnsAvailable reports that namespaces are unavailable off Linux.
func NetnsAvailable(ctx context.Context, bin string) error { return errNoNamespaces }

// InitOptions say what the unit runner does as PID 1 of its namespace.
type InitOptions struct {
	Setup bool
	Probe bool
	Args  []string
}

// Init does nothing off Linux: the unit is graded in this process.
func Init(opt InitOptions, stdout io.Writer) (handled bool, code int) { return false, 0 }

// ServePairs cannot serve pairs off Linux: it says so on out, and the
// parent runs each pair in a runner of its own.
func ServePairs(ctx context.Context, in io.Reader, out io.Writer, f PairFunc) error {
	return json.NewEncoder(out).Encode(pairLine{NoPool: errNoNamespaces.Error()})
}
