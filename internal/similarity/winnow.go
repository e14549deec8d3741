package similarity

import "hash/fnv"

// Winnowing parameters. Dolos, the reference open-source implementation
// of MOSS's method, fingerprints 23-grams in windows of 17 k-grams by
// default; its tokens are the nodes of a tree-sitter syntax tree with
// their brackets, about twice as many per line as Python's lexical tokens
// (`data = conn.recv(1024)` is 8 tokens here). Halved, that is 12-grams
// in windows of 9: any fragment two files share of at least K+W-1 = 20
// tokens (two or three lines) is certain to be found, and none shorter
// than K = 12 tokens (about one and a half lines) counts.
const (
	K      = 12
	Window = 9
)

// fingerprint is a k-gram selected by winnowing: its hash and the index
// of its first token.
type fingerprint struct {
	hash uint64
	pos  int
}

// kgramHashes returns the hash of every k-gram of toks, by its first
// token.
func kgramHashes(toks []Token, k int) []uint64 {
	if len(toks) < k {
		return nil
	}
	th := make([]uint64, len(toks))
	for i, t := range toks {
		h := fnv.New64a()
		h.Write([]byte(t.Text))
		th[i] = h.Sum64()
	}
	out := make([]uint64, len(toks)-k+1)
	for i := range out {
		var h uint64 = 14695981039346656037
		for _, x := range th[i : i+k] {
			h ^= x
			h *= 1099511628211
			h = h<<13 | h>>51
		}
		out[i] = h
	}
	return out
}

// winnow selects fingerprints from k-gram hashes (Schleimer, Wilkerson and
// Aiken, 2003, robust winnowing): in each window of w consecutive hashes
// the smallest, the rightmost on a tie, recorded once however many windows
// select it. A file with fewer than w k-grams gets its smallest.
func winnow(hashes []uint64, w int) []fingerprint {
	if len(hashes) == 0 {
		return nil
	}
	w = min(w, len(hashes))
	var out []fingerprint
	last := -1
	for start := 0; start+w <= len(hashes); start++ {
		best := start
		for i := start; i < start+w; i++ {
			if hashes[i] <= hashes[best] {
				best = i
			}
		}
		if best != last {
			out = append(out, fingerprint{hash: hashes[best], pos: best})
			last = best
		}
	}
	return out
}
