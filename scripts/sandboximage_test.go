// Package scripts holds the tests of the project's shell scripts: each
// failure of sandbox-image.sh names its real cause.
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

// toolbox returns a folder holding only the commands the script may use
// besides docker, id and debootstrap (which each case provides, or not),
// as links to this machine's.
func toolbox(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"sh", "grep", "head", "tail", "awk", "mktemp", "rm", "tee", "cat", "tar", "ls"} {
		p, err := exec.LookPath(name)
		require.NoError(t, err, "the test needs %s", name)
		require.NoError(t, os.Symlink(p, filepath.Join(dir, name)))
	}
	return dir
}

// fake writes an executable shell script.
func fake(t *testing.T, dir, name, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

// dockerAnswering is a docker whose engine answers, with no image.
const dockerAnswering = `case "$1" in
info) echo 27.0.1 ;;
image) exit 1 ;;
*) exit 1 ;;
esac`

func TestSandboxImageNamesTheCause(t *testing.T) {
	for _, tc := range []struct {
		name   string
		docker string // "" for none
		uid    string
		deboot string // "" for none
		want   string
	}{
		{"no docker", "", "0", "", "sandbox-image: no Docker: the docker command is not installed (sudo apt-get install docker.io"},
		{"no permission on the socket",
			`echo 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info": dial unix /var/run/docker.sock: connect: permission denied' >&2; exit 1`,
			"1000", "", "sandbox-image: no permission on the Docker socket (unix:///var/run/docker.sock): add yourself to the docker group"},
		{"engine not running",
			`echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1`,
			"0", "", "sandbox-image: the Docker engine is not running: start it"},
		{"no root", dockerAnswering, "1000", "exit 0", "sandbox-image: no root: debootstrap makes the image's root file system and needs root"},
		{"no debootstrap", dockerAnswering, "0", "", "sandbox-image: debootstrap is not installed (sudo apt-get install debootstrap)"},
		{"no mirror", dockerAnswering, "0",
			`echo "I: Retrieving InRelease"; echo "E: Failed getting release file http://deb.invalid/debian/dists/bookworm/Release"; exit 1`,
			"sandbox-image: no mirror: debootstrap could not download bookworm from http://deb.invalid/debian"},
		{"debootstrap fails otherwise", dockerAnswering, "0", `echo "E: no space left on device"; exit 1`,
			"sandbox-image: debootstrap failed (its lines above say why)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := toolbox(t)
			fake(t, bin, "id", "echo "+tc.uid)
			if tc.docker != "" {
				fake(t, bin, "docker", tc.docker)
			}
			if tc.deboot != "" {
				fake(t, bin, "debootstrap", tc.deboot)
			}
			cmd := exec.Command(filepath.Join(bin, "sh"), "sandbox-image.sh", "netgrade-test:none")
			cmd.Env = []string{"PATH=" + bin, "MIRROR=http://deb.invalid/debian", "HOME=" + t.TempDir()}
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "%s", out)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			assert.Contains(t, lines[len(lines)-1], tc.want, "the last line names the cause:\n%s", out)
		})
	}
}
