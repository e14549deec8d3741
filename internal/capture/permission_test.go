package capture_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/capture"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// asNobody marks the run of this test binary as the unprivileged user.
const asNobody = "NETGRADE_CAPTURE_TEST_AS_NOBODY"

// TestOpenWithoutPermission runs as an unprivileged user (root runs this
// test binary again as nobody): Open refuses with ErrNotPermitted and a
// sentence that says what is missing and how to get it.
func TestOpenWithoutPermission(t *testing.T) {
	if os.Getenv(asNobody) == "1" {
		_, err := capture.Open()
		assert.Assert(t, errors.Is(err, capture.ErrNotPermitted), "%v", err)
		assert.Check(t, is.Contains(err.Error(), "root or CAP_NET_RAW"))
		assert.Check(t, is.Contains(err.Error(), "setcap cap_net_raw+ep"))
		return
	}
	if os.Getuid() != 0 {
		_, err := capture.Open()
		if err == nil {
			t.Skip("SKIPPED: this user may capture (CAP_NET_RAW): the refusal cannot be seen here")
		}
		assert.Assert(t, errors.Is(err, capture.ErrNotPermitted), "%v", err)
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("SKIPPED: setpriv not found (%v): cannot run the tests as another user", err)
	}
	dir := t.TempDir()
	assert.NilError(t, os.Chmod(dir, 0o755))
	self, err := os.Executable()
	assert.NilError(t, err)
	data, err := os.ReadFile(self)
	assert.NilError(t, err)
	bin := filepath.Join(dir, "capture.test")
	assert.NilError(t, os.WriteFile(bin, data, 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		bin, "-test.run", "^TestOpenWithoutPermission$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, asNobody + "=1"}
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "%s", out)
	assert.Assert(t, strings.Contains(string(out), "--- PASS: TestOpenWithoutPermission"), "%s", out)
}
