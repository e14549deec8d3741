package sandboxtest

import (
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/stretchr/testify/assert"
)

// TestEachRunsWhatTheMachineHas: without Docker and without namespaces,
// the process variant of a sandbox test still runs; only the variants that
// need what is missing skip.
func TestEachRunsWhatTheMachineHas(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	t.Setenv("NETGRADE_REQUIRE_DOCKER", "")
	t.Setenv("NETGRADE_REQUIRE_NETNS", "")
	var ran []string
	Each(t, filepath.Join(t.TempDir(), "no-netgrade"), func() sandbox.Sandbox { return sandbox.NewProcess(nil, nil) },
		func(t *testing.T, kind string, sb sandbox.Sandbox) {
			ran = append(ran, kind)
		})
	assert.Equal(t, []string{sandbox.Process}, ran)
}
