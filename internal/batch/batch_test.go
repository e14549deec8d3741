package batch_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// A student's machine does not set PYTHONUNBUFFERED; neither do we.
	os.Unsetenv("PYTHONUNBUFFERED")
	os.Exit(m.Run())
}

func TestStudentID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"alice", "alice"},
		{"Nguyễn Văn An", "Nguyễn_Văn_An"},
		{"o'brien", "o_brien"},
		{"Marie-Claire_123_assignsubmission_file_", "Marie-Claire_123_assignsubmission_file"},
		{"a/b\\c", "a_b_c"},
		{"lee+1@example.org", "lee+1@example.org"},
		{"<script>", "script"},
		{"..", ""},
		{"'''", ""},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, batch.StudentID(c.in), "StudentID(%q)", c.in)
	}
}

// write creates files (path: content) under dir.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// zipEntry is one entry of a test archive.
type zipEntry struct {
	name string
	data string
	mode os.FileMode
}

// makeZip writes an archive of entries to path.
func makeZip(t *testing.T, path string, entries ...zipEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = io.WriteString(w, e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"alice/udp-server.py":          "x",
		"Bob Smith/udp-client.py":      "x",
		".hidden/udp-server.py":        "x",
		"__MACOSX/._alice":             "x",
		"notes.txt":                    "not a submission",
		"empty/.keep":                  "",
		"Carol_42_assignsubmission_/f": "x",
	})
	makeZip(t, filepath.Join(dir, "dave.ZIP"), zipEntry{name: "udp-server.py", data: "x"})
	got, err := batch.Discover(dir)
	require.NoError(t, err)
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{"Bob_Smith", "Carol_42_assignsubmission", "alice", "dave", "empty"}, ids)
	for _, s := range got {
		assert.Equal(t, s.ID == "dave", s.Zip, s.ID)
	}

	t.Run("same student twice", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, map[string]string{"alice/udp-server.py": "x"})
		makeZip(t, filepath.Join(dir, "alice.zip"), zipEntry{name: "udp-server.py", data: "x"})
		_, err := batch.Discover(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `both student "alice"`)
	})
	t.Run("not a folder", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(f, nil, 0o644))
		_, err := batch.Discover(f)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is not a folder")
	})
	t.Run("missing", func(t *testing.T) {
		_, err := batch.Discover(filepath.Join(t.TempDir(), "nope"))
		require.Error(t, err)
	})
}

func TestParseShard(t *testing.T) {
	cases := []struct {
		in      string
		want    batch.Shard
		wantErr string
	}{
		{"0/4", batch.Shard{K: 0, N: 4}, ""},
		{"3/4", batch.Shard{K: 3, N: 4}, ""},
		{"0/1", batch.Shard{K: 0, N: 1}, ""},
		{"4/4", batch.Shard{}, "K counts from 0"},
		{"-1/4", batch.Shard{}, "K counts from 0"},
		{"1/0", batch.Shard{}, "K counts from 0"},
		{"1", batch.Shard{}, "give K/N"},
		{"a/b", batch.Shard{}, "give K/N"},
	}
	for _, c := range cases {
		got, err := batch.ParseShard(c.in)
		if c.wantErr != "" {
			require.Error(t, err, c.in)
			assert.Contains(t, err.Error(), c.wantErr)
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got)
	}
}

func TestShardsSplitTheClass(t *testing.T) {
	var students []batch.Student
	for i := range 200 {
		students = append(students, batch.Student{ID: fmt.Sprintf("s%03d", i)})
	}
	const n = 4
	seen := map[string]int{}
	for k := range n {
		part := batch.Shard{K: k, N: n}.Select(students)
		assert.NotEmpty(t, part, "shard %d/%d", k, n)
		assert.Less(t, len(part), len(students)/2, "shards are balanced")
		for _, s := range part {
			seen[s.ID]++
		}
	}
	assert.Len(t, seen, len(students), "every student is in a shard")
	for id, c := range seen {
		assert.Equal(t, 1, c, "%s is in one shard only", id)
	}
	// A student stays in its shard when the class changes.
	fewer := batch.Shard{K: 1, N: n}.Select(students[:50])
	for _, s := range fewer {
		assert.True(t, batch.Shard{K: 1, N: n}.Has(s.ID))
	}
	assert.Len(t, batch.Shard{}.Select(students), len(students), "no shard: everyone")
}

func TestExtract(t *testing.T) {
	lim := batch.ZipLimits{Files: 10, FileBytes: 1000, TotalBytes: 1500}
	big := strings.Repeat("x", 1001)
	cases := []struct {
		name    string
		entries []zipEntry
		want    map[string]string // files expected after extraction
		wantErr string
	}{
		{name: "plain", entries: []zipEntry{{name: "udp-server.py", data: "print(1)"}, {name: "udp-client.py", data: "print(2)"}},
			want: map[string]string{"udp-server.py": "print(1)", "udp-client.py": "print(2)"}},
		{name: "wrapped in a folder", entries: []zipEntry{{name: "alice/", mode: os.ModeDir | 0o755}, {name: "alice/udp-server.py", data: "a"}},
			want: map[string]string{"alice/udp-server.py": "a"}},
		{name: "windows separators", entries: []zipEntry{{name: `alice\udp-server.py`, data: "w"}},
			want: map[string]string{"alice/udp-server.py": "w"}},
		{name: "macOS junk skipped", entries: []zipEntry{{name: "__MACOSX/._udp-server.py", data: "junk"}, {name: "udp-server.py", data: "a"}},
			want: map[string]string{"udp-server.py": "a"}},
		{name: "symbolic link skipped", entries: []zipEntry{{name: "passwd", data: "/etc/passwd", mode: os.ModeSymlink | 0o777}, {name: "udp-server.py", data: "a"}},
			want: map[string]string{"udp-server.py": "a"}},
		{name: "climbs out", entries: []zipEntry{{name: "../evil.py", data: "x"}}, wantErr: "points outside"},
		{name: "climbs out in the middle", entries: []zipEntry{{name: "a/../../evil.py", data: "x"}}, wantErr: "points outside"},
		{name: "absolute", entries: []zipEntry{{name: "/tmp/evil.py", data: "x"}}, wantErr: "points outside"},
		{name: "file too big", entries: []zipEntry{{name: "big.py", data: big}}, wantErr: "more than allowed"},
		{name: "all too big", entries: []zipEntry{{name: "a.py", data: big[:900]}, {name: "b.py", data: big[:900]}}, wantErr: "more than allowed"},
		{name: "too many files", entries: func() []zipEntry {
			var es []zipEntry
			for i := range 11 {
				es = append(es, zipEntry{name: fmt.Sprintf("f%d.py", i), data: "x"})
			}
			return es
		}(), wantErr: "11 entries"},
		{name: "same file twice", entries: []zipEntry{{name: "a.py", data: "1"}, {name: "a.py", data: "2"}}, wantErr: "twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			archive := filepath.Join(root, "student.zip")
			makeZip(t, archive, c.entries...)
			dest := filepath.Join(root, "out")
			require.NoError(t, os.Mkdir(dest, 0o755))
			err := batch.Extract(archive, dest, lim)
			if c.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, batch.ErrArchive)
				assert.Contains(t, err.Error(), c.wantErr)
				_, serr := os.Stat(filepath.Join(root, "evil.py"))
				assert.True(t, errors.Is(serr, os.ErrNotExist), "nothing written outside the folder")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, tree(t, dest))
		})
	}
	t.Run("not a zip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.zip")
		require.NoError(t, os.WriteFile(p, []byte("hello"), 0o644))
		err := batch.Extract(p, t.TempDir(), lim)
		assert.ErrorIs(t, err, batch.ErrArchive)
	})
}

// tree returns the regular files under dir (relative path: content).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		require.True(t, d.Type().IsRegular(), "%s is a regular file", p)
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	return out
}

// fakeSandbox grades without running anything: a file holding "pass"
// passes every check, "fail ID..." fails those checks, "block" waits until
// the grading is cancelled, and "crash" makes the sandbox fail. It counts
// the units it grades, by student.
type fakeSandbox struct {
	mu      sync.Mutex
	graded  map[string]int
	units   map[string]sandbox.Unit
	blocked chan string
}

func newFake() *fakeSandbox {
	return &fakeSandbox{graded: map[string]int{}, units: map[string]sandbox.Unit{}, blocked: make(chan string, 100)}
}

func (f *fakeSandbox) Name() string   { return "fake" }
func (f *fakeSandbox) Isolated() bool { return true }
func (f *fakeSandbox) Close() error   { return nil }

func (f *fakeSandbox) Grade(ctx context.Context, u sandbox.Unit) ([]report.Result, error) {
	f.mu.Lock()
	f.graded[u.Student]++
	f.units[u.Student] = u
	f.mu.Unlock()
	var out []report.Result
	for _, file := range u.Files {
		data, err := os.ReadFile(filepath.Join(u.Dir, file.Path))
		if err != nil {
			return nil, err
		}
		words := strings.Fields(string(data))
		switch words[0] {
		case "block":
			f.blocked <- u.Student
			<-ctx.Done()
			return nil, ctx.Err()
		case "crash":
			return nil, errors.New("the sandbox broke")
		}
		netgradeErr := words[0] == "error"
		ex, err := course.Registry().Get(file.Exercise)
		if err != nil {
			return nil, err
		}
		res := report.Result{Schema: report.Schema, Exercise: ex.ID, Submission: u.Student + "/" + file.Path, Command: []string{"fake", file.Path}, Sandbox: "fake"}
		failing := map[string]bool{}
		for _, w := range words[1:] {
			failing[w] = true
		}
		for _, c := range ex.Checks {
			st := report.Pass
			msg := ""
			if failing[c.ID] {
				st, msg = report.Fail, fmt.Sprintf("wrong on port %d", 20000+len(out))
			}
			if netgradeErr {
				st, msg = report.Error, "netgrade could not run this check"
			}
			res.Checks = append(res.Checks, report.Check{ID: c.ID, Title: c.Title, Category: c.Category, Status: st, MaxPoints: c.Points, Message: msg})
		}
		res.Tally()
		out = append(out, res)
	}
	return out, nil
}

func (f *fakeSandbox) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.graded[id]
}

// options returns batch options on the default course with sb.
func options(out string, sb sandbox.Sandbox) batch.Options {
	return batch.Options{
		Out: out, Jobs: 4, Exercises: classExercises(), Sandbox: sb,
		Find: batch.RulesFinder(batch.DefaultRules(classIDs()...)), Expected: func(ex string) string { return ex + ".py" },
		StudentPage: func(w io.Writer, rs []report.Result, _ []string) error {
			_, err := fmt.Fprintf(w, "<p>%d results</p>", len(rs))
			return err
		},
		Version: "test",
	}
}

// fakeClass writes a class for the fake sandbox.
func fakeClass(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"alice/udp-server.py":    "pass",
		"alice/udp-client.py":    "pass",
		"bob/udp-server.py":      "fail udp-server/log-format udp-server/utf8",
		"bob/udp-client.py":      "pass",
		"carol/udp-client.py":    "fail udp-client/exits", // no udp-server.py
		"erin/sub/udp-server.py": "pass",
		"erin/sub/udp-client.py": "fail udp-client/exits",
	})
	makeZip(t, filepath.Join(dir, "dave.zip"),
		zipEntry{name: "dave/udp-server.py", data: "fail udp-server/log-format"},
		zipEntry{name: "dave/udp-client.py", data: "pass"})
	makeZip(t, filepath.Join(dir, "frank.zip"), zipEntry{name: "../udp-server.py", data: "pass"})
	return dir
}

func TestRunGradesEveryStudentAndResumes(t *testing.T) {
	subs := fakeClass(t)
	out := t.TempDir()
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	fake := newFake()
	res, err := batch.Run(context.Background(), students, options(out, fake))
	require.NoError(t, err)
	assert.Equal(t, 6, res.Students)
	assert.Equal(t, 6, res.Graded)
	assert.Zero(t, res.Skipped)
	assert.Empty(t, res.Errors)
	assert.False(t, res.Interrupted)

	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	scores := map[string]string{}
	for _, r := range recs {
		scores[r.Student] = fmt.Sprintf("%g/%g", r.Score, r.MaxScore)
		assert.Len(t, r.Results, 2, r.Student)
		assert.Equal(t, "fake", r.Sandbox)
		assert.FileExists(t, batch.PagePath(out, r.Student), "the student's page")
	}
	assert.Equal(t, map[string]string{
		"alice": "20/20", "bob": "17/20", "carol": "7/20", "dave": "18/20", "erin": "19/20", "frank": "0/20",
	}, scores)
	carol := recs[2]
	require.Equal(t, "carol", carol.Student)
	assert.True(t, carol.Results[0].Missing, "a file not handed in is missing, not failed")
	assert.Equal(t, "skipped: the submission has no udp-server.py", carol.Results[0].Checks[0].Message)
	assert.Equal(t, report.Skip, carol.Results[0].Checks[0].Status)
	assert.Empty(t, carol.Problem, "one missing exercise is no problem of the submission")
	frank := recs[5]
	assert.Contains(t, frank.Results[0].Checks[0].Message, "points outside", "a zip that climbs out is refused and the student told why")
	assert.Contains(t, frank.Problem, "points outside", "and the instructor too")
	assert.NoDirExists(t, filepath.Join(out, ".work"), "unpacked archives are removed")

	t.Run("again: nothing to grade", func(t *testing.T) {
		before := snapshot(t, out)
		res, err := batch.Run(context.Background(), students, options(out, fake))
		require.NoError(t, err)
		assert.Equal(t, 6, res.Skipped)
		assert.Zero(t, res.Graded)
		assert.Equal(t, before, snapshot(t, out), "student files untouched")
		assert.Equal(t, 1, fake.count("alice"))
	})
	t.Run("a changed submission is graded again", func(t *testing.T) {
		write(t, subs, map[string]string{"bob/udp-server.py": "pass"})
		res, err := batch.Run(context.Background(), students, options(out, fake))
		require.NoError(t, err)
		assert.Equal(t, 1, res.Graded)
		assert.Equal(t, 2, fake.count("bob"))
		assert.Equal(t, 1, fake.count("alice"))
		rec, err := batch.ReadRecord(batch.RecordPath(out, "bob"))
		require.NoError(t, err)
		assert.Equal(t, 20.0, rec.Score)
	})
	t.Run("regrade", func(t *testing.T) {
		opt := options(out, fake)
		opt.Regrade = true
		res, err := batch.Run(context.Background(), students, opt)
		require.NoError(t, err)
		assert.Equal(t, 6, res.Graded)
		assert.Equal(t, 2, fake.count("alice"))
	})
}

// snapshot returns the contents of the student files under out.
func snapshot(t *testing.T, out string) map[string]string {
	t.Helper()
	return tree(t, filepath.Join(out, "students"))
}

func TestRunPerExerciseSettings(t *testing.T) {
	subs := fakeClass(t)
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	out := t.TempDir()
	fake := newFake()
	opt := options(out, fake)
	five := 5.0
	opt.Course = sandbox.Course{
		"udp-server": {
			Settings: graders.Settings{Checks: map[string]graders.CheckSettings{"udp-server/starts": {Points: &five}}},
			Command:  []string{"python3", "-X", "utf8", "{file}", "{args}"},
		},
		"udp-client": {Settings: graders.Settings{Checks: map[string]graders.CheckSettings{"udp-client/no-stdin": {Disabled: true}}}},
	}
	_, err = batch.Run(context.Background(), students, opt)
	require.NoError(t, err)
	u := fake.units["alice"]
	require.Len(t, u.Files, 2)
	assert.Equal(t, []string{"python3", "-X", "utf8", "{file}", "{args}"}, u.Course.Command(u.Files[0].Exercise))
	assert.Equal(t, 5.0, *u.Course.Settings(u.Files[0].Exercise).Check("udp-server/starts").Points)
	assert.True(t, u.Course.Settings(u.Files[1].Exercise).Check("udp-client/no-stdin").Disabled)
	carol, err := batch.ReadRecord(batch.RecordPath(out, "carol"))
	require.NoError(t, err)
	assert.Equal(t, 15.0, carol.Results[0].MaxScore, "the missing udp-server.py is scored with the course's points")
}

func TestRunSkipsAnOutputInsideTheSubmissions(t *testing.T) {
	subs := fakeClass(t)
	out := filepath.Join(subs, "results")
	require.NoError(t, os.Mkdir(out, 0o755))
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	res, err := batch.Run(context.Background(), students, options(out, newFake()))
	require.NoError(t, err)
	assert.Equal(t, 6, res.Students, "the output folder is not taken for a student")
	assert.NoFileExists(t, batch.RecordPath(out, "results"))
}

func TestRunInterruptedKeepsWhatIsDone(t *testing.T) {
	subs := t.TempDir()
	var files = map[string]string{}
	for i := range 8 {
		content := "pass"
		if i >= 5 {
			content = "block"
		}
		files[fmt.Sprintf("s%d/udp-server.py", i)] = content
		files[fmt.Sprintf("s%d/udp-client.py", i)] = "pass"
	}
	write(t, subs, files)
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	out := t.TempDir()
	fake := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	opt := options(out, fake)
	opt.Jobs = 8
	go func() {
		// Cancel once every blocking student is being graded.
		for range 3 {
			<-fake.blocked
		}
		cancel()
	}()
	res, err := batch.Run(ctx, students, opt)
	require.NoError(t, err)
	assert.True(t, res.Interrupted)
	assert.Equal(t, 5, res.Graded)
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	require.Len(t, recs, 5, "the students done are kept, the others have no file")
	for _, r := range recs {
		assert.True(t, r.Complete())
	}
	entries, err := os.ReadDir(filepath.Join(out, "students"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.Contains(e.Name(), ".tmp-"), "no temporary file left: %s", e.Name())
	}

	// Run again with the blocking students fixed: only they are graded.
	for i := 5; i < 8; i++ {
		write(t, subs, map[string]string{fmt.Sprintf("s%d/udp-server.py", i): "pass"})
	}
	res, err = batch.Run(context.Background(), students, options(out, fake))
	require.NoError(t, err)
	assert.Equal(t, 5, res.Skipped)
	assert.Equal(t, 3, res.Graded)
	for i := range 8 {
		want := 1
		if i >= 5 {
			want = 2 // once interrupted, once done
		}
		assert.Equal(t, want, fake.count(fmt.Sprintf("s%d", i)), "s%d", i)
	}
	recs, err = batch.ReadRecords(out)
	require.NoError(t, err)
	assert.Len(t, recs, 8)
}

func TestRunReportsSandboxErrors(t *testing.T) {
	subs := t.TempDir()
	write(t, subs, map[string]string{
		"ok/udp-server.py": "pass", "ok/udp-client.py": "pass",
		"bad/udp-server.py": "crash", "bad/udp-client.py": "pass",
		"erred/udp-server.py": "error", "erred/udp-client.py": "pass",
	})
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	out := t.TempDir()
	fake := newFake()
	res, err := batch.Run(context.Background(), students, options(out, fake))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Graded)
	require.Contains(t, res.Errors, "bad")
	assert.Contains(t, res.Errors["bad"].Error(), "the sandbox broke")
	assert.NoFileExists(t, batch.RecordPath(out, "bad"), "a student netgrade could not grade is not recorded, so the next run retries")
	assert.Equal(t, []string{"erred"}, res.Incomplete)
	assert.FileExists(t, batch.RecordPath(out, "erred"), "a grading with netgrade errors is recorded, and says so")

	res, err = batch.Run(context.Background(), students, options(out, fake))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Skipped, "only the complete grading is kept")
	assert.Equal(t, 2, fake.count("erred"), "a grading with netgrade errors is tried again")
	assert.Equal(t, 1, fake.count("ok"))
}

func TestRunRefusesASecondBatchOnOneFolder(t *testing.T) {
	subs := t.TempDir()
	write(t, subs, map[string]string{"s/udp-server.py": "block", "s/udp-client.py": "pass"})
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	out := t.TempDir()
	fake := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = batch.Run(ctx, students, options(out, fake))
	}()
	<-fake.blocked
	_, err = batch.Run(context.Background(), students, options(out, newFake()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another netgrade (PID ")
	assert.Contains(t, err.Error(), "is writing "+out)
	cancel()
	<-done
}

func TestMerge(t *testing.T) {
	subs := fakeClass(t)
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	var outs []string
	for k := range 3 {
		out := filepath.Join(t.TempDir(), fmt.Sprintf("shard-%d", k))
		_, err := batch.Run(context.Background(), batch.Shard{K: k, N: 3}.Select(students), options(out, newFake()))
		require.NoError(t, err)
		outs = append(outs, out)
	}
	whole := filepath.Join(t.TempDir(), "whole")
	_, err = batch.Run(context.Background(), students, options(whole, newFake()))
	require.NoError(t, err)

	merged := filepath.Join(t.TempDir(), "merged")
	m, err := batch.Merge(outs, merged)
	require.NoError(t, err)
	assert.Equal(t, len(students), m.Students)
	assert.Empty(t, m.Duplicates)
	_, err = batch.WriteClassFiles(merged, classExercises(), batch.ReportMeta{Version: "test"})
	require.NoError(t, err)
	_, err = batch.WriteClassFiles(whole, classExercises(), batch.ReportMeta{Version: "test"})
	require.NoError(t, err)
	for _, f := range []string{"grades.csv", "summary.json"} {
		a, err := os.ReadFile(filepath.Join(merged, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(whole, f))
		require.NoError(t, err)
		assert.Equal(t, string(b), string(a), "%s of the merged shards is that of the whole class", f)
	}
	for _, s := range students {
		assert.FileExists(t, batch.PagePath(merged, s.ID))
	}

	t.Run("a student in two outputs keeps the latest grading", func(t *testing.T) {
		later := filepath.Join(t.TempDir(), "later")
		time.Sleep(2 * time.Millisecond) // graded_at has millisecond resolution
		_, err := batch.Run(context.Background(), students[:1], options(later, newFake()))
		require.NoError(t, err)
		m, err := batch.Merge([]string{later}, merged)
		require.NoError(t, err)
		assert.Equal(t, []string{students[0].ID}, m.Duplicates)
		a, _ := os.ReadFile(batch.RecordPath(merged, students[0].ID))
		b, _ := os.ReadFile(batch.RecordPath(later, students[0].ID))
		assert.Equal(t, string(b), string(a))
	})
	t.Run("not a batch output", func(t *testing.T) {
		_, err := batch.Merge([]string{t.TempDir()}, merged)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a netgrade batch output")
	})
}
