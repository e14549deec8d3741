package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/overrides"
)

// seenFile is where, under OUT, a batch remembers the verdict each
// override was first applied over, to flag it when a regrade changes it.
const seenFile = "overrides-seen.json"

// RegradeSummary is what summary.json says of a regrade: the students
// whose last grading was replaced, those whose grading changed, and every
// changed cell (as changes.csv lists them).
type RegradeSummary struct {
	Regraded int      `json:"regraded"`
	Changed  []string `json:"changed_students"`
	Changes  []Change `json:"changes"`
}

// regradeSummary sums a regrade up; nil when no student was regraded.
func regradeSummary(rg Regrade) *RegradeSummary {
	if len(rg.Regraded) == 0 {
		return nil
	}
	s := &RegradeSummary{Regraded: len(rg.Regraded), Changes: rg.Changes}
	for _, c := range rg.Changes {
		if !slices.Contains(s.Changed, c.Student) {
			s.Changed = append(s.Changed, c.Student)
		}
	}
	if s.Changes == nil {
		s.Changes = []Change{}
	}
	return s
}

// applyOverrides returns the records with the instructor's overrides
// applied (the records given are not changed), what each override did,
// and the overrides that matched nothing (a student not in out, a check
// the grading does not hold). It remembers in OUT/overrides-seen.json the
// verdict each override was first applied over.
func applyOverrides(out string, recs []*Record, f *overrides.File) ([]*Record, []overrides.Applied, []overrides.Unmatched, error) {
	if f.Len() == 0 {
		return recs, nil, nil, nil
	}
	seen, err := readSeen(out)
	if err != nil {
		return nil, nil, nil, err
	}
	var applied []overrides.Applied
	var unmatched []overrides.Unmatched
	students := map[string]bool{}
	adjusted := make([]*Record, len(recs))
	for i, r := range recs {
		students[r.Student] = true
		list := f.For(r.Student)
		if len(list) == 0 {
			adjusted[i] = r
			continue
		}
		cp := *r
		var app []overrides.Applied
		var un []overrides.Unmatched
		cp.Results, app, un = overrides.Apply(r.Results, list, seen)
		cp.adjusted = map[string]bool{}
		for _, a := range app {
			if a.Check == "" {
				cp.adjusted[a.Exercise] = true
			}
		}
		cp.tally()
		adjusted[i] = &cp
		applied = append(applied, app...)
		unmatched = append(unmatched, un...)
	}
	for _, o := range f.Overrides {
		if !students[o.Student] {
			unmatched = append(unmatched, overrides.Unmatched{Override: o, Reason: "no student " + o.Student + " in this output"})
		}
	}
	next := overrides.Seen{}
	for _, a := range applied {
		next[a.Key()] = a.WrittenOver
	}
	// Overrides of students not in this output (another shard) keep
	// their verdict.
	for _, u := range unmatched {
		if v, ok := seen[u.Key()]; ok {
			next[u.Key()] = v
		}
	}
	data, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return nil, nil, nil, err
	}
	if err := WriteFileAtomic(filepath.Join(out, seenFile), append(data, '\n')); err != nil {
		return nil, nil, nil, err
	}
	return adjusted, applied, unmatched, nil
}

// readSeen reads OUT/overrides-seen.json (empty when there is none).
func readSeen(out string) (overrides.Seen, error) {
	path := filepath.Join(out, seenFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return overrides.Seen{}, nil
	}
	if err != nil {
		return nil, err
	}
	seen := overrides.Seen{}
	if err := json.Unmarshal(data, &seen); err != nil {
		return nil, fmt.Errorf("%s is not netgrade's record of overrides: %w (delete it: the overrides' verdicts are then taken anew)", path, err)
	}
	return seen, nil
}

// Catalog returns what an overrides file may adjust in the course: each
// exercise and each check it grades, with the points they are worth under
// the course's settings (nil: the defaults).
func Catalog(exs []*graders.Exercise, course graders.Course) overrides.Catalog {
	cat := overrides.Catalog{}
	for _, ex := range exs {
		set := graders.SettingsOf(course, ex.ID)
		total := 0.0
		for _, c := range ex.Checks {
			if OffReason(ex, c, set) != "" {
				continue
			}
			pts := c.Points
			if p := set.Check(c.ID).Points; p != nil {
				pts = *p
			}
			total += pts
			cat[c.ID] = overrides.Target{Exercise: ex.ID, Check: c.ID, Max: pts}
		}
		cat[ex.ID] = overrides.Target{Exercise: ex.ID, Max: math.Round(total*1e6) / 1e6}
	}
	return cat
}
