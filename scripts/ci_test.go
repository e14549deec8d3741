package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pathWithout returns a PATH of one folder holding links to every command
// of this PATH but those whose names start with one of the prefixes: this
// machine with a tool taken away.
func pathWithout(t *testing.T, prefixes ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
	next:
		for _, e := range ents {
			for _, p := range prefixes {
				if strings.HasPrefix(e.Name(), p) {
					continue next
				}
			}
			link := filepath.Join(dir, e.Name())
			if _, err := os.Lstat(link); err == nil {
				continue // the first on PATH wins, as for a lookup
			}
			_ = os.Symlink(filepath.Join(d, e.Name()), link)
		}
	}
	return dir
}

// Without Docker, .ci/run goes on past the sandbox image, does not demand
// Docker of the tests, and fails at its end naming what it could not run.
func TestCIRunWithoutDocker(t *testing.T) {
	for _, tool := range []string{"bash", "make", "dpkg-query"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPED: %s not found on PATH (%v): .ci/run is not tried", tool, err)
		}
	}
	cmd := exec.Command("bash", filepath.Join("..", ".ci", "run"))
	cmd.Env = append(os.Environ(),
		"PATH="+pathWithout(t, "docker"),
		"DOCKER_HOST=unix://"+filepath.Join(t.TempDir(), "no-docker.sock"),
		"CI_STEPS=sandbox_image requirements",
		"NETGRADE_REQUIRE_DOCKER=")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, 1, ee.ExitCode(), "%s", out)
	text := string(out)
	assert.Contains(t, text, "=== ci: requirements", "the run goes on after the image step")
	assert.NotContains(t, text, "NETGRADE_REQUIRE_DOCKER=1", "Docker is not demanded of the tests")
	assert.Contains(t, text, "NETGRADE_REQUIRE_PYTHON=1")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	assert.Equal(t, "ci: NOT RUN: the docker sandbox's tests: no Docker: the docker command is not installed (sudo apt-get install docker.io, then start it: sudo systemctl start docker)", lines[len(lines)-1])

	// A step that does not exist is named, not skipped in silence.
	cmd = exec.Command("bash", filepath.Join("..", ".ci", "run"))
	cmd.Env = append(os.Environ(), "CI_STEPS=fuzz")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "ci: no step fuzz (the steps: toolchain packages sandbox_image requirements lint test)")
	assert.Contains(t, string(out), "ci: FAILED: fuzz")
}
