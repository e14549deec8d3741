package socketserver

import (
	"regexp"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTicketsNumber(t *testing.T) {
	re := regexp.MustCompile(DefaultTicketPattern)
	cases := []struct {
		reply         string
		want          int
		formed, found bool
	}{
		{"Your ticket number is 3\n", 3, true, true},
		{"ticket number 17", 17, true, true},
		{"Ticket number: 42\r\n", 42, true, true},
		{"TICKET NUMBER IS 0", 0, true, true},
		{"Your ticket number is {ticketcount}\n", 0, false, false},
		// The whole reply, as a client reads it: the number in the
		// course's form wherever it is.
		{"Preparing a ticket, please wait for 2 seconds\nYour ticket number is 7\n", 7, true, true},
		{"Welcome!\nPlease wait...\nYour ticket number is 12\nGoodbye.\n", 12, true, true},
		// Another form: the last integer (a wait time comes before it).
		{"Your ticket is 3\n", 3, false, true},
		{"Please wait 2 seconds\n8\n", 8, false, true},
		{"3", 3, false, true},
		{"Billet n° 12\n", 12, false, true},
		{"", 0, false, false},
		{"ticket number 99999999999999999999999", 0, false, false}, // no int: no number
	}
	for _, c := range cases {
		n, formed, found := ticketsNumber(re, []byte(c.reply))
		assert.Equal(t, c.found, found, "%q: a number found", c.reply)
		assert.Equal(t, c.formed, formed, "%q: in the course's form", c.reply)
		assert.Equal(t, c.want, n, "%q", c.reply)
	}
}

// TestTicketsJudged: a reply is read on until it holds the number in the
// course's form, whole (followed by something); a number in another form
// never ends it (it may be a "please wait for 2 seconds").
func TestTicketsJudged(t *testing.T) {
	re := regexp.MustCompile(DefaultTicketPattern)
	cases := []struct {
		data string
		want int
	}{
		{"", 0},
		{"Preparing a ticket, please wait for 2 seconds\n", 0},
		{"Your ticket number is 1", 0}, // may be cut: 12 to come
		{"Your ticket number is 12\n", len("Your ticket number is 12\n")},
		{"Welcome\nYour ticket number is 3. Goodbye.\n", len("Welcome\nYour ticket number is 3.")},
		{"7\n", 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ticketsJudged(re, []byte(c.data)), "%q", c.data)
	}
}

func TestTicketsPatternFromCourse(t *testing.T) {
	ex := TCPTickets()
	cases := []struct {
		pattern string
		err     string
	}{
		{"", ""}, // the default
		{`billet (\d+)`, ""},
		{`ticket (\d+`, "not a valid regular expression"},
		{`ticket \d+`, "has no group"},
	}
	for _, c := range cases {
		var set graders.Settings
		if c.pattern != "" {
			set.Texts = map[string]string{"ticket_pattern": c.pattern}
		}
		re, err := ticketsPattern(graders.NewT(t.Context(), ex, set))
		if c.err == "" {
			require.NoError(t, err, c.pattern)
			assert.NotNil(t, re)
		} else {
			assert.ErrorContains(t, err, c.err, c.pattern)
		}
	}
}

func TestTicketsOverlap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	cases := []struct {
		name string
		ends []time.Time
		span time.Duration
		want int
	}{
		{"one after the other, a second apart", at(1000, 2000, 3000, 4000, 5000), 500 * time.Millisecond, 1},
		{"one after the other, jitter above half the span", at(1000, 1990, 3010, 3999), 500 * time.Millisecond, 1},
		{"all together", at(1000, 1001, 1003, 1002, 1010), 500 * time.Millisecond, 5},
		{"two waves (SYN retried)", at(1000, 1002, 1004, 2001, 2002), 500 * time.Millisecond, 3},
		{"touching spans overlap", at(1000, 1500), 500 * time.Millisecond, 2},
		{"none", nil, time.Second, 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ticketsOverlap(c.ends, c.span), c.name)
	}
}

func TestTicketsDupsGapsAndSummary(t *testing.T) {
	cases := []struct {
		nums    []int
		dups    []int
		gaps    []int
		summary string
	}{
		{[]int{1, 2, 3, 4}, nil, nil, "1-4"},
		{[]int{0, 0, 0, 1, 1, 2}, []int{0, 1}, nil, "0×3, 1×2, 2"},
		{[]int{1, 2, 3, 3, 4, 7}, []int{3}, []int{5, 6}, "1-2, 3×2, 4, 7"},
		{[]int{5}, nil, nil, "5"},
		{nil, nil, nil, "none"},
	}
	for _, c := range cases {
		dups, gaps := ticketsDupsGaps(c.nums)
		assert.Equal(t, c.dups, dups, "%v", c.nums)
		assert.Equal(t, c.gaps, gaps, "%v", c.nums)
		assert.Equal(t, c.summary, ticketsSummary(c.nums), "%v", c.nums)
	}
}

func TestTicketsJudgeUnique(t *testing.T) {
	sold := func(nums ...int) []*ticketsSale {
		var out []*ticketsSale
		for i, n := range nums {
			out = append(out, &ticketsSale{client: i + 1, number: n, ok: true})
		}
		return out
	}
	cases := []struct {
		name  string
		sales []*ticketsSale
		fail  string
	}{
		{"unique and consecutive, any order", sold(3, 1, 2, 5, 4), ""},
		{"duplicates", sold(1, 1, 2, 2), "1, 2 sold more than once"},
		{"gap", sold(1, 2, 4), "3 never sold"},
		{"a client without a ticket", append(sold(1, 2), &ticketsSale{client: 3, eof: true}), "1 of 3 clients"},
	}
	for _, c := range cases {
		err := ticketsJudgeUnique(c.sales)
		if c.fail == "" {
			assert.NoError(t, err, c.name)
			continue
		}
		var f *graders.Failure
		if assert.ErrorAs(t, err, &f, c.name) {
			assert.Contains(t, f.Message, c.fail, c.name)
			assert.Contains(t, f.Actual, "numbers seen:", c.name)
		}
	}
}

func TestConcJudgeModels(t *testing.T) {
	proc := func(pid, threads int) observe.ProcInfo {
		return observe.ProcInfo{PID: pid, PPID: 100, PGRP: 100, Threads: threads, Comm: "python3", State: "S"}
	}
	tree := func(threads, children int) concTree {
		tr := concTree{root: observe.ProcInfo{PID: 100, Threads: threads, Comm: "python3", State: "S"}}
		for i := range children {
			tr.children = append(tr.children, proc(101+i, 1))
		}
		return tr
	}
	before := tree(1, 0)
	cases := []struct {
		name      string
		tr        concTree
		forking   string // "" passes, else a phrase of the failure
		threading string
	}{
		{"a child per client", tree(1, ConcHeld), "", "forks a process per client"},
		{"a thread per client", tree(1+ConcHeld, 0), "in threads, not in processes", ""},
		{"nothing per client", tree(1, 0), "neither a process nor a thread", "did not grow"},
		{"too few children", tree(1, 1), "only 1 child process", "forks a process per client"},
		{"too few threads", tree(2, 0), "in threads, not in processes", "grew by 1 only"},
	}
	for _, c := range cases {
		for _, j := range []struct {
			judge func(before, tr concTree) error
			want  string
		}{{concJudgeForking, c.forking}, {concJudgeThreading, c.threading}} {
			err := j.judge(before, c.tr)
			if j.want == "" {
				assert.NoError(t, err, c.name)
				continue
			}
			var f *graders.Failure
			if assert.ErrorAs(t, err, &f, c.name) {
				assert.Contains(t, f.Message, j.want, c.name)
			}
		}
	}
}
