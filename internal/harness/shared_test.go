package harness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFiles writes files (path relative to dir: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// TestSharedLimitsContainerV1 reads the limits of a docker container on a
// cgroup v1 host, as netgrade sees them inside: each controller mounted
// with the container's cgroup as its root.
func TestSharedLimitsContainerV1(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "sys")
	writeFiles(t, dir, map[string]string{
		"mountinfo": "77 76 0:46 / " + mnt + " rw - tmpfs tmpfs rw\n" +
			"81 77 0:32 /docker/abc " + mnt + "/memory ro,nosuid - cgroup cgroup rw,memory\n" +
			"85 77 0:36 /docker/abc " + mnt + "/pids ro,nosuid - cgroup cgroup rw,pids\n",
		"cgroup":                           "8:pids:/docker/abc\n4:memory:/docker/abc\n0::/docker/abc\n",
		"sys/pids/pids.max":                "256\n",
		"sys/pids/pids.current":            "40\n",
		"sys/pids/pids.events":             "max 0\n",
		"sys/memory/memory.limit_in_bytes": "536870912\n",
		"sys/memory/memory.oom_control":    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
	})
	s := findSharedLimits(filepath.Join(dir, "mountinfo"), filepath.Join(dir, "cgroup"))
	assert.Equal(t, int64(256), s.pids)
	assert.Equal(t, int64(512<<20), s.memory)
	assert.True(t, s.memV1)
	before := s.counters()
	assert.Equal(t, LimitHit{}, s.hit(before), "no limit hit yet")

	writeFiles(t, dir, map[string]string{"sys/pids/pids.events": "max 3\n"})
	assert.Equal(t, LimitHit{Kind: LimitProcesses, Value: 256 - 40 + 1}, s.hit(before),
		"the program may run what the limit left it when it started")
	writeFiles(t, dir, map[string]string{"sys/memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n"})
	assert.Equal(t, LimitHit{Kind: LimitMemory, Value: 512 << 20}, s.hit(before))
}

// TestSharedLimitsV2 reads a cgroup v2 hierarchy: no pids limit ("max"),
// a memory limit, and no limit at all at the root.
func TestSharedLimitsV2(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "cg")
	writeFiles(t, dir, map[string]string{
		"mountinfo":            "25 1 0:23 / " + mnt + " rw - cgroup2 cgroup2 rw\n",
		"cgroup":               "0::/a/b\n",
		"cg/a/b/pids.max":      "max\n",
		"cg/a/b/memory.max":    "1073741824\n",
		"cg/a/b/memory.events": "oom_kill 0\n",
		"root":                 "0::/\n",
	})
	s := findSharedLimits(filepath.Join(dir, "mountinfo"), filepath.Join(dir, "cgroup"))
	assert.Equal(t, int64(0), s.pids, `"max" is no limit`)
	assert.Equal(t, int64(1<<30), s.memory)
	assert.False(t, s.memV1)
	none := findSharedLimits(filepath.Join(dir, "mountinfo"), filepath.Join(dir, "root"))
	assert.Equal(t, sharedLimits{}, none, "the root cgroup has no limit files")
	assert.Equal(t, LimitHit{}, none.hit(none.counters()))
}
