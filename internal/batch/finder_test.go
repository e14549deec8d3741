package batch_test

import (
	"testing"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFind shows how a student's files are found, on folders laid out as
// real students' repositories are: files in sub-folders, two versions of
// one exercise, names of their own, files of no exercise.
func TestFind(t *testing.T) {
	tickets := batch.Rule{Exercise: "tcp-tickets", Patterns: []string{"tcp-tickets.py", "*ticket*.py", "selling*.py"}}
	udp := batch.Rule{Exercise: "udp-server", Patterns: []string{"udp-server.py"}}
	client := batch.Rule{Exercise: "udp-client", Patterns: []string{"udp-client.py", "udp?client.py"}}
	cases := []struct {
		name      string
		rules     []batch.Rule
		files     []string
		want      map[string]string // exercise -> file taken
		tied      map[string][]string
		also      map[string][]string
		notGraded []string
	}{
		{name: "top level", rules: []batch.Rule{udp}, files: []string{"udp-server.py"},
			want: map[string]string{"udp-server": "udp-server.py"}},
		{name: "in a folder", rules: []batch.Rule{udp}, files: []string{"alice/udp-server.py"},
			want: map[string]string{"udp-server": "alice/udp-server.py"}},
		{name: "shallowest wins, the other is also found", rules: []batch.Rule{udp}, files: []string{"net-python/udp-server.py", "udp-server.py"},
			want: map[string]string{"udp-server": "udp-server.py"}, also: map[string][]string{"udp-server": {"net-python/udp-server.py"}}},
		{name: "a tie at one depth is reported", rules: []batch.Rule{udp}, files: []string{"b/udp-server.py", "a/udp-server.py"},
			want: map[string]string{"udp-server": "a/udp-server.py"}, tied: map[string][]string{"udp-server": {"b/udp-server.py"}}, also: map[string][]string{"udp-server": {"b/udp-server.py"}}},
		{name: "first pattern that matches wins", rules: []batch.Rule{tickets}, files: []string{"selling_ticket.py", "python/tcp-tickets.py"},
			want: map[string]string{"tcp-tickets": "python/tcp-tickets.py"}, also: map[string][]string{"tcp-tickets": {"selling_ticket.py"}}},
		{name: "a pattern takes a name of the student's", rules: []batch.Rule{tickets}, files: []string{"python/ticketsellers.py"},
			want: map[string]string{"tcp-tickets": "python/ticketsellers.py"}},
		{name: "two versions tie", rules: []batch.Rule{tickets}, files: []string{"selling-tickets.threading.py", "selling-tickets.forking.py"},
			want: map[string]string{"tcp-tickets": "selling-tickets.forking.py"}, tied: map[string][]string{"tcp-tickets": {"selling-tickets.threading.py"}}, also: map[string][]string{"tcp-tickets": {"selling-tickets.threading.py"}}},
		{name: "case is ignored", rules: []batch.Rule{client}, files: []string{"UDP_Client.py"},
			want: map[string]string{"udp-client": "UDP_Client.py"}},
		{name: "files of no exercise", rules: []batch.Rule{udp, client}, files: []string{"udp-server.py", "python/socket_server.py", "notes.txt", "README.md"},
			want: map[string]string{"udp-server": "udp-server.py", "udp-client": ""}, notGraded: []string{"python/socket_server.py"}},
		{name: "a name another exercise gives is left to it", rules: []batch.Rule{{Exercise: "udp-server", Patterns: []string{"*udp*.py"}}, client}, files: []string{"udp-client.py", "my_udp.py"},
			want: map[string]string{"udp-server": "my_udp.py", "udp-client": "udp-client.py"}},
		{name: "a more precise name of another exercise wins", rules: []batch.Rule{{Exercise: "udp-server", Patterns: []string{"server.py"}}, {Exercise: "tcp-server", Patterns: []string{"tcp/server.py"}}}, files: []string{"tcp/server.py"},
			want: map[string]string{"udp-server": "", "tcp-server": "tcp/server.py"}},
		{name: "each takes its own", rules: []batch.Rule{{Exercise: "udp-server", Patterns: []string{"server.py"}}, {Exercise: "tcp-server", Patterns: []string{"tcp/server.py"}}}, files: []string{"server.py", "tcp/server.py"},
			want: map[string]string{"udp-server": "server.py", "tcp-server": "tcp/server.py"}},
		{name: "a file goes to one exercise", rules: []batch.Rule{{Exercise: "udp-server", Patterns: []string{"*udp*.py"}}, {Exercise: "udp-client", Patterns: []string{"*udp*.py"}}}, files: []string{"udp.py"},
			want: map[string]string{"udp-server": "udp.py", "udp-client": ""}},
		{name: "a pattern with a folder matches at any depth", rules: []batch.Rule{{Exercise: "udp-client", Patterns: []string{"client/main.py"}}}, files: []string{"alice/client/main.py", "alice/server/main.py"},
			want: map[string]string{"udp-client": "alice/client/main.py"}, notGraded: []string{"alice/server/main.py"}},
		{name: "hidden folders, caches and environments skipped", rules: []batch.Rule{udp}, files: []string{".git/udp-server.py", "__pycache__/x.py", "venv/lib/udp-server.py"},
			want: map[string]string{"udp-server": ""}},
		{name: "too deep", rules: []batch.Rule{udp}, files: []string{"a/b/c/d/udp-server.py"},
			want: map[string]string{"udp-server": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for _, f := range c.files {
				files[f] = "x"
			}
			write(t, dir, files)
			got, err := batch.Find(dir, c.rules)
			require.NoError(t, err)
			require.Len(t, got.Files, len(c.rules))
			for _, ff := range got.Files {
				assert.Equal(t, c.want[ff.Exercise], ff.Path, "file of %s", ff.Exercise)
				assert.Equal(t, c.tied[ff.Exercise], ff.Tied, "ties of %s", ff.Exercise)
				assert.Equal(t, c.also[ff.Exercise], ff.AlsoFound, "also found for %s", ff.Exercise)
			}
			assert.Equal(t, c.notGraded, got.NotGraded)
		})
	}
}

// TestFoundNotes shows what a reader is told about a student's files.
func TestFoundNotes(t *testing.T) {
	f := batch.Found{
		Files: []batch.FoundFile{
			{Exercise: "udp-server", Path: "udp-server.py", Pattern: "udp-server.py", AlsoFound: []string{"net-python/udp-server.py"}},
			{Exercise: "tcp-tickets", Path: "a.ticket.py", Pattern: "*ticket*.py", Tied: []string{"b.ticket.py"}, AlsoFound: []string{"b.ticket.py"}},
			{Exercise: "tcp-upper"},
		},
		NotGraded: []string{"python/socket_server.py"},
	}
	assert.Equal(t, []string{
		"udp-server: graded udp-server.py; also found: net-python/udp-server.py",
		`tcp-tickets: a.ticket.py and b.ticket.py both match "*ticket*.py" at the same depth: graded a.ticket.py (name one in the course file to choose)`,
		"tcp-tickets: graded a.ticket.py; also found: b.ticket.py",
		"handed in, not graded: python/socket_server.py",
	}, f.Notes())
}
