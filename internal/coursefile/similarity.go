package coursefile

import (
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml/ast"
)

// Similarity is the course's setting of the similarity analysis of a
// class (`similarity:` in the course file).
type Similarity struct {
	// Base are the files of code every student was given (the slides'
	// examples, a template, a published reference), as paths relative to
	// the course file made absolute: their fingerprints are removed
	// before comparing.
	Base []string
	// Threshold is the similarity from which a pair is shown (0: the
	// analysis's default).
	Threshold float64
}

// similarityKeys are the keys of `similarity:`.
var similarityKeys = []string{"base", "threshold"}

// similarity parses `similarity:`; base files are relative to the course
// file (named name) and must exist.
func (p *parseState) similarity(n ast.Node, name string) Similarity {
	var s Similarity
	m := p.mapping(n, "similarity", similarityKeys)
	if m == nil {
		return s
	}
	if t, ok := m["threshold"]; ok {
		if v, ok := p.number(t, "similarity.threshold"); ok {
			if v <= 0 || v > 1 {
				p.errorf(t, "similarity.threshold is a share of the two files' code, above 0 and at most 1 (0.5: half), not %v", v)
			} else {
				s.Threshold = v
			}
		}
	}
	if b, ok := m["base"]; ok {
		var items []ast.Node
		if seq, ok := unwrap(b).(*ast.SequenceNode); ok {
			items = seq.Values
		} else {
			items = []ast.Node{b}
		}
		for _, it := range items {
			f := p.str(it, "similarity.base")
			if f == "" {
				continue
			}
			path := f
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(name), path)
			}
			if st, err := os.Stat(path); err != nil || st.IsDir() {
				p.errorf(it, "similarity.base names a file of code every student was given, relative to the course file; %s is not a file (%s)", f, path)
				continue
			}
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			s.Base = append(s.Base, path)
		}
	}
	return s
}
