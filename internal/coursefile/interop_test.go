package coursefile_test

import (
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/coursefile"
	"gotest.tools/v3/assert"
)

// TestInteropPoints reads the optional setting that turns the class
// interop matrix into points; without it, there is none.
func TestInteropPoints(t *testing.T) {
	body := "exercises:\n  - id: udp-server\n    file: udp-server.py\n"
	c, err := coursefile.Parse("c.yaml", []byte("interop: {points: 2}\n"+body), course.Registry())
	assert.NilError(t, err)
	assert.DeepEqual(t, c.Interop, &coursefile.Interop{Points: 2, MinPartners: 3})
	c, err = coursefile.Parse("c.yaml", []byte("interop:\n  points: 1.5\n  min_partners: 0\n"+body), course.Registry())
	assert.NilError(t, err)
	assert.DeepEqual(t, c.Interop, &coursefile.Interop{Points: 1.5, MinPartners: 0})
	c, err = coursefile.Parse("c.yaml", []byte(body), course.Registry())
	assert.NilError(t, err)
	assert.Assert(t, c.Interop == nil)
}
