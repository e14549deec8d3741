package suggest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClosest(t *testing.T) {
	known := []string{"udp-server", "udp-client", "tcp-server", "tcp-client", "tcp-upper", "tcp-waiting", "tcp-forking", "tcp-threading", "tcp-tickets"}
	tests := []struct {
		word, want string
		ok         bool
	}{
		{"udp-srever", "udp-server", true},
		{"udp_server", "udp-server", true},
		{"UDP-Server", "udp-server", true},
		{"tcp-uper", "tcp-upper", true},
		{"tcp-thread", "tcp-threading", true},
		{"tcp-tiket", "tcp-tickets", true},
		{"http-server", "tcp-server", true},
		{"smtp-client", "", false},
		{"nope", "", false},
		{"x", "", false},
		{"udp-server", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.word, func(t *testing.T) {
			got, ok := Closest(tc.word, known)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, " (did you mean udp-server?)", DidYouMean("udp-srever", known))
	assert.Equal(t, "", DidYouMean("nope", known))
}
