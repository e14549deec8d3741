// Package scripts holds the shell scripts of the build; its tests check
// what they promise.
package scripts

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imagePackages reads sandbox-packages.txt: each package with its modules.
func imagePackages(t *testing.T) (pkgs []string, modules []string) {
	t.Helper()
	data, err := os.ReadFile("sandbox-packages.txt")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkgs = append(pkgs, f[0])
		modules = append(modules, f[1:]...)
	}
	require.NotEmpty(t, pkgs)
	return pkgs, modules
}

// aptInstall finds the packages of `apt-get install` lines.
var aptInstall = regexp.MustCompile(`apt-get install\s+([^#\n]+)`)

// TestImageHoldsWhatTheREADMEInstalls: every package the README's install
// section tells students to install is in the sandbox image's list, so that
// a program that runs on a student's machine runs in the class's sandbox.
func TestImageHoldsWhatTheREADMEInstalls(t *testing.T) {
	pkgs, _ := imagePackages(t)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	// The install section: what students install to run their programs.
	_, install, ok := strings.Cut(string(readme), "\n## Install\n")
	require.True(t, ok, "README.md has an install section")
	install, _, _ = strings.Cut(install, "\n## ")
	var wanted []string
	for _, m := range aptInstall.FindAllStringSubmatch(install, -1) {
		for _, p := range strings.Fields(m[1]) {
			if !strings.HasPrefix(p, "-") && !strings.HasPrefix(p, "(") {
				wanted = append(wanted, p)
			}
		}
	}
	require.Contains(t, wanted, "python3-tz", "the README's install section is read")
	for _, p := range wanted {
		assert.Contains(t, pkgs, p, "the README installs %s: the sandbox image must hold it (scripts/sandbox-packages.txt)", p)
	}
}

// TestImageHasThePackages: the image `make sandbox-image` builds holds
// every package of the list, and Python imports every module they give.
// Without Docker or the image it skips, loudly (fails with
// NETGRADE_REQUIRE_DOCKER=1).
func TestImageHasThePackages(t *testing.T) {
	pkgs, modules := imagePackages(t)
	image := sandboxtest.Image()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := exec.LookPath("docker")
	if err == nil {
		if out, ierr := exec.CommandContext(ctx, "docker", "image", "inspect", image).CombinedOutput(); ierr != nil {
			err = fmt.Errorf("no image %s (make sandbox-image builds it): %v: %s", image, ierr, bytes.TrimSpace(out))
		}
	}
	sandboxtest.Require(t, "docker", err)
	script := fmt.Sprintf("dpkg-query -W -f='${Package} ${Status}\\n' %s && python3 -c 'import %s'",
		strings.Join(pkgs, " "), strings.Join(modules, ", "))
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", image, "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "the image %s lacks some of %s (run make sandbox-image to rebuild it): %s", image, strings.Join(pkgs, ", "), out)
	for _, p := range pkgs {
		assert.Contains(t, string(out), p+" install ok installed", "%s in %s", p, image)
	}
}
