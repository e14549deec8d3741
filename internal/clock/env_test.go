package clock

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needFaketime returns libfaketime; without it the test fails under
// NETGRADE_REQUIRE_FAKETIME=1 and is skipped otherwise.
func needFaketime(t *testing.T) Faketime {
	t.Helper()
	ft, err := FindFaketime("")
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_FAKETIME") == "1" {
			t.Fatalf("libfaketime is required (NETGRADE_REQUIRE_FAKETIME=1): %v", err)
		}
		t.Skipf("SKIPPED: %v: the program's clock cannot be faked here", err)
	}
	return ft
}

// needPython returns the interpreter python3 resolves to (not a launcher
// script, which would run under the faked clock too); without python3 the
// test fails under NETGRADE_REQUIRE_PYTHON=1 and is skipped otherwise.
func needPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1): %v", err)
		}
		t.Skipf("SKIPPED: python3 cannot be run (%v)", err)
	}
	return strings.TrimSpace(string(out))
}

// TestFaketimePython runs Python under libfaketime at the winter and the
// summer date, in the default zone: its local time and its Paris time are
// the faked clock's, Paris on UTC+01:00 in winter and UTC+02:00 in summer,
// and a timer (time.sleep) still works.
func TestFaketimePython(t *testing.T) {
	ft := needFaketime(t)
	py := needPython(t)
	hcm, err := LoadZone(DefaultZone)
	require.NoError(t, err)
	paris, err := LoadZone(ParisZone)
	require.NoError(t, err)
	script := `import datetime, time, zoneinfo
time.sleep(0.05)
print(datetime.datetime.now().strftime("%d/%m/%Y at %H:%M:%S"))
print(datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).isoformat())
`
	env := append(WithoutFaketime(os.Environ()), TZ(DefaultZone))
	env = append(env, "FAKETIME=@1999-01-01 00:00:00", "FAKETIME_DONT_FAKE_MONOTONIC=1") // the grader's own, dropped below
	for _, season := range []struct {
		name   string
		at     time.Time
		offset string
	}{
		{"winter", Winter(hcm.Loc), "+01:00"},
		{"summer", Summer(hcm.Loc), "+02:00"},
	} {
		t.Run(season.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, py, "-c", script)
			cmd.Env = append(WithoutFaketime(env), append(ft.Env(season.at, hcm.Loc), TZ(DefaultZone))...)
			started := time.Now()
			out, err := cmd.CombinedOutput()
			done := time.Now()
			require.NoError(t, err, "%s", out)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Len(t, lines, 2, "%s", out)
			clock := FakeClock{Start: season.at, ExecAt: started, ReadyAt: started}
			w := clock.Window(Window{From: started, To: done})
			v := Judge(Find(lines[0]), w, Expect{Want: hcm})
			assert.True(t, v.OK, "local time: %s", v.Message)
			v = Judge(Find(lines[1]), w, Expect{Want: paris})
			assert.True(t, v.OK, "Paris time: %s", v.Message)
			assert.Contains(t, lines[1], season.offset)
		})
	}
}

// TestFaketimeEnv builds the environment of a faked clock and keeps the
// grader's own settings out of it.
func TestFaketimeEnv(t *testing.T) {
	hcm, err := LoadZone(DefaultZone)
	require.NoError(t, err)
	ft := Faketime{Lib: "/lib/libfaketime.so.1"}
	assert.Equal(t, []string{
		"LD_PRELOAD=/lib/libfaketime.so.1",
		"FAKETIME=@2026-07-15 10:00:00",
		"FAKETIME_DONT_RESET=1",
		"NO_FAKE_STAT=1",
	}, ft.Env(Summer(hcm.Loc).UTC(), hcm.Loc), "the date in the program's zone, whatever zone it is given in")
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"PATH=/bin", "TZ=UTC", "LD_PRELOAD=x.so", "FAKETIME=+1d", "FAKETIME_SHARED=1", "NO_FAKE_STAT=1", "HOME=/root"}, []string{"PATH=/bin", "HOME=/root"}},
		{nil, nil},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, WithoutFaketime(tc.in))
	}
	_, err = FindFaketime("/nonexistent/libfaketime.so.1")
	assert.ErrorIs(t, err, ErrNoFaketime)
	assert.Equal(t, "TZ=Asia/Ho_Chi_Minh", TZ(DefaultZone))
}
