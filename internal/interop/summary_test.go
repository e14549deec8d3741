package interop_test

import (
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/interop"
	"gotest.tools/v3/assert"
)

// TestSummary counts a student's classmates apart from the reference and
// from themselves, leaves out the cells grey for the other side, and gives
// points in proportion, whole under min_partners.
func TestSummary(t *testing.T) {
	p := interop.Pairs()[0]
	m := &interop.Matrix{Pair: p, Clients: []string{interop.RefKey, "a", "b", "c", "d"}, Servers: []string{interop.RefKey, "a", "b", "c", "d"}}
	cell := func(c, s string, v interop.Verdict, culprit string) {
		m.Cells = append(m.Cells, &interop.Cell{Client: c, Server: s, Outcome: interop.Outcome{Verdict: v, Culprit: culprit}})
	}
	// a's server: green with b, amber with c, and d's client cannot run.
	cell(interop.RefKey, "a", interop.Green, "")
	cell("a", "a", interop.Red, "server")
	cell("b", "a", interop.Green, "")
	cell("c", "a", interop.Amber, "client")
	cell("d", "a", interop.Grey, "client")
	// a's client: green with b and c, red with d.
	cell("a", interop.RefKey, interop.Green, "")
	cell("a", "b", interop.Green, "")
	cell("a", "c", interop.Green, "")
	cell("a", "d", interop.Red, "server")
	sum := interop.Summarize("netns", []*interop.Matrix{m}, &interop.PointsSetting{Points: 2, MinPartners: 2})
	var a interop.StudentSummary
	for _, s := range sum.Pairs[0].Students {
		if s.Student == "a" {
			a = s
		}
	}
	assert.Equal(t, a.ServerUnderstood, 1)
	assert.Equal(t, a.ServerOf, 2, "b and c: not a itself, not the reference, not d's grey client")
	assert.Equal(t, a.ClientUnderstood, 2)
	assert.Equal(t, a.ClientOf, 3)
	assert.Equal(t, a.ServerRef, interop.Green)
	assert.Equal(t, *a.Points, 1.17, "1/2 of the server's point, 2/3 of the client's")
	assert.Equal(t, sum.Pairs[0].Verdicts[interop.Green], 5)

	lines := interop.StudentLines("a", []*interop.Matrix{m})
	assert.Assert(t, strings.HasPrefix(lines[0], "interop (udp-client × udp-server): your udp-server understood 1 of 2 classmates' clients; with the others: 1× "), lines[0])
	assert.Assert(t, strings.HasPrefix(lines[1], "interop (udp-client × udp-server): your udp-client was understood by 2 of 3 classmates' servers"), lines[1])
}
