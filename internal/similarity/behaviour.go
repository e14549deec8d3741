package similarity

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/report"
)

// An output counts as rare evidence when at most rareMin students' programs
// showed it on the same failed check, or rareShare of the exercise's
// files in a large class: the course's own format and a mistake many make
// are not evidence.
const (
	rareMin   = 2
	rareShare = 0.02
	// evidenceMin is the shortest output (normalised) that counts: "b''"
	// or "HELLO" says nothing of who wrote a program.
	evidenceMin = 8
	// evidenceMax is how much of an output is kept.
	evidenceMax = 200
)

// digitsRe finds runs of digits: ports, times, process IDs and counters
// differ between runs, not between programs.
var digitsRe = regexp.MustCompile(`[0-9]+`)

// output is one thing a program showed during a check.
type output struct {
	check, text string
	// failed is true when the program failed the check.
	failed bool
}

// outputs returns what a graded program showed during its checks (the
// reply or line a check judged, the traceback's last line, the lines it
// printed and the bytes it sent), by check and normalised text, and the
// checks it failed, sorted. Every check counts, passed or failed, so that
// what many programs show is known to be common.
func outputs(res *report.Result) (map[string]output, []string) {
	items := map[string]output{}
	var failed []string
	if res == nil || res.Missing {
		return items, nil
	}
	for _, c := range res.Checks {
		fail := c.Status == report.Fail
		if fail {
			failed = append(failed, c.ID)
		}
		add := func(s string) {
			for _, line := range strings.Split(s, "\n") {
				line = strings.Join(strings.Fields(line), " ")
				norm := digitsRe.ReplaceAllString(line, "0")
				if utf8.RuneCountInString(norm) < evidenceMin {
					continue
				}
				if len(line) > evidenceMax {
					line = strings.ToValidUTF8(line[:evidenceMax], "") + "…"
				}
				items[c.ID+"\x00"+norm] = output{check: c.ID, text: line, failed: fail}
			}
		}
		add(c.Actual)
		add(c.Traceback)
		for _, e := range c.Transcript {
			if e.FromStop {
				continue
			}
			switch e.Kind {
			case report.EvStdout, report.EvStderr, report.EvRecv:
				add(e.Data)
			}
		}
	}
	slices.Sort(failed)
	return items, failed
}

// behaviour returns, by pair of files (lower index first), the rare
// outputs both programs showed while failing the same checks: an output is
// rare when few programs showed it on that check, passed or failed.
func behaviour(files []source) map[[2]int][]Evidence {
	type held struct {
		files []int
		out   output
		// failing are the files that showed it on a check they failed.
		failing []int
	}
	byKey := map[string]*held{}
	failed := make([][]string, len(files))
	for i, f := range files {
		items, fl := outputs(f.Result)
		failed[i] = fl
		for k, o := range items {
			h := byKey[k]
			if h == nil {
				h = &held{out: o}
				byKey[k] = h
			}
			h.files = append(h.files, i)
			if o.failed {
				h.failing = append(h.failing, i)
			}
		}
	}
	rare := max(rareMin, int(rareShare*float64(len(files))))
	out := map[[2]int][]Evidence{}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h := byKey[k]
		if len(h.files) < 2 || len(h.files) > rare {
			continue
		}
		for x := 0; x < len(h.failing); x++ {
			for y := x + 1; y < len(h.failing); y++ {
				a, b := h.failing[x], h.failing[y]
				if !slices.Equal(failed[a], failed[b]) {
					continue
				}
				out[[2]int{a, b}] = append(out[[2]int{a, b}], Evidence{Check: h.out.check, Output: h.out.text, Students: len(h.files)})
			}
		}
	}
	for k, ev := range out {
		out[k] = dedupe(ev)
	}
	return out
}

// dedupe drops an evidence that another of the same check holds (the
// reply as received, and as the check quoted it), keeping the order.
func dedupe(ev []Evidence) []Evidence {
	var out []Evidence
	for i, e := range ev {
		held := slices.ContainsFunc(ev, func(o Evidence) bool {
			return o.Check == e.Check && o.Output != e.Output && strings.Contains(o.Output, e.Output)
		}) || slices.ContainsFunc(ev[:i], func(o Evidence) bool { return o == e })
		if !held {
			out = append(out, e)
		}
	}
	return out
}
