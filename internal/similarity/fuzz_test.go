package similarity

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzCompare compares any two files as normalised text (what a file that
// is not Python, or that Python's tokenizer refuses, is compared on) and
// renders the pair side by side.
func FuzzCompare(f *testing.F) {
	f.Add([]byte("import socket\nprint('hi')\n"), []byte("import socket\r\nprint('hi')\r\n"))
	f.Add([]byte(strings.Repeat("a b c d e f g h i j k l m n o p\n", 4)), []byte("\xff\xfe</pre><script>x</script>\n"+strings.Repeat("a b c d e f g h i j k l m n o p\n", 3)))
	f.Add([]byte("\ufeffé\u0301 ✓ 𝄞\n\tx"), []byte(""))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		files := []source{{File: File{Student: "a", Name: "a.txt"}}, {File: File{Student: "b", Name: "b.txt"}}}
		for i, data := range [][]byte{a, b} {
			files[i].text = normaliseSource(data)
			files[i].toks = textTokens(files[i].text)
			prepare(&files[i], nil)
		}
		ps, _ := pairs(files, 0.0001)
		p := compare(files, 0, 1)
		for _, x := range []float64{p.Similarity, p.ShareA, p.ShareB} {
			if x < 0 || x > 1 {
				t.Fatalf("a share out of [0, 1]: %+v", p)
			}
		}
		if (len(ps) == 1) != (p.Longest > 0) {
			t.Fatalf("listed %d pairs for a longest fragment of %d", len(ps), p.Longest)
		}
		self := compare([]source{files[0], files[0]}, 0, 1)
		if files[0].own >= K && self.Similarity != 1 {
			t.Fatalf("a file is %v similar to itself", self.Similarity)
		}
		for _, fr := range p.Fragments {
			if fr.Tokens < K {
				t.Fatalf("a fragment of %d tokens", fr.Tokens)
			}
		}
		// Painted, each line is the source's line, whole and in order.
		for i, side := range []struct {
			text  string
			spans func(Fragment) Span
		}{{files[0].text, func(f Fragment) Span { return f.A }}, {files[1].text, func(f Fragment) Span { return f.B }}} {
			var spans []Span
			for _, fr := range p.Fragments {
				spans = append(spans, side.spans(fr))
			}
			var got []string
			for _, l := range paint(side.text, spans) {
				var sb strings.Builder
				for _, s := range l.Segs {
					sb.WriteString(s.Text)
					if s.Frag >= len(spans) {
						t.Fatalf("side %d: a segment of fragment %d of %d", i, s.Frag, len(spans))
					}
				}
				got = append(got, sb.String())
			}
			if want := strings.Split(strings.TrimSuffix(side.text, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("side %d painted as %q, not %q", i, got, want)
			}
		}
		// The page shows what the files hold as text.
		rep := &Report{K: K, Window: Window, Threshold: 0.0001, Exercises: []ExerciseReport{{Exercise: "x", Files: 2, Pairs: []Pair{p}, files: files}}}
		var page bytes.Buffer
		if err := WritePage(&page, rep, PageMeta{}); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(&page)
		if err != nil {
			t.Fatal(err)
		}
		for n := range doc.Descendants() {
			if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "img" || n.Data == "iframe") {
				t.Fatalf("the page holds a <%s>", n.Data)
			}
		}
	})
}
