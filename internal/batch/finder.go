package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Rule says how the course names one exercise's file: names and glob
// patterns (path.Match syntax), first first. A pattern without a / is
// matched against a file's name, at any depth the finder searches; one
// with a / against its path in the student's folder. Matching ignores
// case: archives made on other systems change it.
type Rule struct {
	Exercise string
	Patterns []string
}

// Found is what a student's folder holds for the course: the file each
// exercise takes, the other candidates, and the source files no exercise
// takes, so that nothing handed in goes unseen.
type Found struct {
	// Files has one entry per rule, in course order.
	Files []FoundFile `json:"files"`
	// NotGraded are the source files (see sourceFile) of the folder that
	// no exercise's names or patterns match: handed in, not graded.
	NotGraded []string `json:"handed_in_not_graded,omitempty"`
}

// FoundFile is what the finder found for one exercise.
type FoundFile struct {
	Exercise string `json:"exercise"`
	// Path is the file taken, relative to the folder with forward slashes;
	// "" when the student handed in none.
	Path string `json:"file,omitempty"`
	// Pattern is the name or pattern that took it.
	Pattern string `json:"pattern,omitempty"`
	// Tied are the files the same pattern matched at the same depth as
	// Path: the finder took the first in name order, and says so.
	Tied []string `json:"tied,omitempty"`
	// AlsoFound are the other files the exercise's names and patterns
	// match that no exercise took (Tied included).
	AlsoFound []string `json:"also_found,omitempty"`
}

// Notes returns what a reader must be told about the student's files, one
// line each: the files handed in and not graded, the other candidates of
// an exercise, and the ties the finder decided.
func (f Found) Notes() []string {
	var out []string
	for _, ff := range f.Files {
		if len(ff.Tied) > 0 {
			all := "both"
			if len(ff.Tied) > 1 {
				all = "all"
			}
			out = append(out, fmt.Sprintf("%s: %s and %s %s match %q at the same depth: graded %s (name one in the course file to choose)", ff.Exercise, ff.Path, strings.Join(ff.Tied, ", "), all, ff.Pattern, ff.Path))
		}
		if len(ff.AlsoFound) > 0 {
			out = append(out, fmt.Sprintf("%s: graded %s; also found: %s", ff.Exercise, ff.Path, strings.Join(ff.AlsoFound, ", ")))
		}
	}
	if len(f.NotGraded) > 0 {
		out = append(out, "handed in, not graded: "+strings.Join(f.NotGraded, ", "))
	}
	return out
}

// Path returns the file an exercise took ("" when none).
func (f Found) Path(exercise string) string {
	for _, ff := range f.Files {
		if ff.Exercise == exercise {
			return ff.Path
		}
	}
	return ""
}

// Finder finds every exercise's file in a student's folder.
type Finder func(dir string) (Found, error)

// maxFindDepth is how deep below a student's folder files are looked for:
// archives often hold a folder that holds the files, and repositories a
// folder per chapter.
const maxFindDepth = 3

// RulesFinder returns the Finder of a course's rules (see Find).
func RulesFinder(rules []Rule) Finder {
	return func(dir string) (Found, error) { return Find(dir, rules) }
}

// Find finds the file of every rule's exercise in dir: at the top of the
// folder or in folders below it (up to maxFindDepth; hidden folders,
// __MACOSX, __pycache__ and virtual environments are not searched).
//
// Exercises take files in course order. For one exercise, the first of its
// patterns that matches a file not taken yet wins; among the files it
// matches the shallowest is taken, and when several match at that depth
// the first in name order is taken and the others are reported (Tied). A
// file another exercise names literally is left to it, unless this
// exercise names it more precisely (tcp/server.py beats server.py). What no exercise
// takes is reported too: its other candidates (AlsoFound) and the source
// files no pattern matches (NotGraded).
func Find(dir string, rules []Rule) (Found, error) {
	files, err := listFiles(dir)
	if err != nil {
		return Found{}, err
	}
	exts := map[string]bool{".py": true, ".pyw": true}
	// claim is, per file, the exercise whose literal name for it is the
	// most specific (the most path parts): a glob of another exercise, or
	// a less specific name, leaves the file to it.
	type claimT struct {
		exercise string
		parts    int
	}
	claim := map[string]claimT{}
	for _, r := range rules {
		for _, p := range r.Patterns {
			if e := strings.ToLower(path.Ext(p)); e != "" && !strings.ContainsAny(e, "*?[") {
				exts[e] = true
			}
			if isGlob(p) {
				continue
			}
			n := strings.Count(p, "/") + 1
			for _, f := range files {
				if c, ok := claim[f]; match(p, f) && (!ok || c.parts < n) {
					claim[f] = claimT{r.Exercise, n}
				}
			}
		}
	}
	leftToOther := func(exercise, p, f string) bool {
		c, ok := claim[f]
		if !ok || c.exercise == exercise {
			return false
		}
		return isGlob(p) || c.parts > strings.Count(p, "/")+1
	}
	taken := map[string]bool{}
	candidate := map[string]bool{}
	var out Found
	for _, r := range rules {
		ff := FoundFile{Exercise: r.Exercise}
		var all []string
		for _, p := range r.Patterns {
			var hits []string
			for _, f := range files {
				if !match(p, f) {
					continue
				}
				if leftToOther(r.Exercise, p, f) {
					continue // another exercise names it
				}
				all = append(all, f)
				if !taken[f] {
					hits = append(hits, f)
				}
			}
			if ff.Path != "" || len(hits) == 0 {
				continue
			}
			sortByDepth(hits)
			ff.Path, ff.Pattern = hits[0], p
			for _, h := range hits[1:] {
				if depth(h) == depth(hits[0]) {
					ff.Tied = append(ff.Tied, h)
				}
			}
			taken[ff.Path] = true
		}
		for _, f := range all {
			candidate[f] = true
		}
		out.Files = append(out.Files, ff)
	}
	for i := range out.Files {
		ff := &out.Files[i]
		var also []string
		for _, p := range ruleOf(rules, ff.Exercise).Patterns {
			for _, f := range files {
				if match(p, f) && !taken[f] && !slices.Contains(also, f) {
					if leftToOther(ff.Exercise, p, f) {
						continue
					}
					also = append(also, f)
				}
			}
		}
		sortByDepth(also)
		ff.AlsoFound = also
	}
	for _, f := range files {
		if !taken[f] && !candidate[f] && exts[strings.ToLower(path.Ext(f))] {
			out.NotGraded = append(out.NotGraded, f)
		}
	}
	return out, nil
}

// ruleOf returns the rule of an exercise.
func ruleOf(rules []Rule, exercise string) Rule {
	for _, r := range rules {
		if r.Exercise == exercise {
			return r
		}
	}
	return Rule{}
}

// isGlob reports whether a name is a pattern rather than a literal name.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// match reports whether a file (relative, forward slashes) matches a
// name or pattern, ignoring case: a pattern without a / is matched against
// the file's name, one with N slashes against the last N+1 parts of its
// path (client/main.py matches client/main.py and alice/client/main.py).
func match(pattern, file string) bool {
	pattern, file = strings.ToLower(pattern), strings.ToLower(file)
	parts := strings.Split(file, "/")
	if n := strings.Count(pattern, "/") + 1; n <= len(parts) {
		file = strings.Join(parts[len(parts)-n:], "/")
	} else {
		return false
	}
	ok, err := path.Match(pattern, file)
	return ok && err == nil
}

// depth is how many folders down a relative path is.
func depth(rel string) int { return strings.Count(rel, "/") }

// sortByDepth sorts paths shallowest first, then by name.
func sortByDepth(paths []string) {
	sort.Slice(paths, func(i, j int) bool {
		di, dj := depth(paths[i]), depth(paths[j])
		if di != dj {
			return di < dj
		}
		return paths[i] < paths[j]
	})
}

// skipDir lists folders that hold no student's work: tools' and
// archivers' leftovers and installed packages.
func skipDir(name string) bool {
	switch name {
	case "__pycache__", "node_modules", "site-packages", "venv", "env":
		return true
	}
	return junk(name)
}

// listFiles lists the regular files of dir down to maxFindDepth, relative,
// with forward slashes, shallowest first.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // an unreadable sub-folder is skipped
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != dir && (skipDir(d.Name()) || depth(rel) >= maxFindDepth) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !junk(d.Name()) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for the exercise files: %w", err)
	}
	sortByDepth(files)
	return files, nil
}

// DefaultRules are the default course's names: exercise udp-server is
// udp-server.py.
func DefaultRules(exercises ...string) []Rule {
	var out []Rule
	for _, e := range exercises {
		out = append(out, Rule{Exercise: e, Patterns: []string{e + ".py"}})
	}
	return out
}

// errNoFinder is returned when Options has no Finder.
var errNoFinder = errors.New("batch: no Finder given")
