// Package suggest finds what a user probably meant by a mistyped name
// ("udp-srever": did you mean udp-server?).
package suggest

import (
	"strings"

	"github.com/agnivade/levenshtein"
)

// Closest returns the name of known closest to word, when it is close
// enough to be a typo of it: at most a quarter of its letters differ (two
// swapped letters count as two), or one is a prefix of the other. Ties go
// to the earlier name of known.
func Closest(word string, known []string) (string, bool) {
	w := strings.ToLower(word)
	best, bestD := "", -1
	for _, k := range known {
		d := levenshtein.ComputeDistance(w, strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD == 0 && best == word {
		return "", false
	}
	if bestD <= max(1, len([]rune(w))/4) {
		return best, true
	}
	for _, k := range known {
		if len(w) >= 3 && strings.HasPrefix(strings.ToLower(k), w) {
			return k, true
		}
	}
	return "", false
}

// DidYouMean returns " (did you mean NAME?)" for the name of known
// closest to word, or "" when none is close.
func DidYouMean(word string, known []string) string {
	if k, ok := Closest(word, known); ok {
		return " (did you mean " + k + "?)"
	}
	return ""
}
