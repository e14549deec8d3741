package batch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
)

// interopSummary is where `netgrade interop` leaves its summary under a
// batch's output folder, and interopLines the lines it tells each student
// (see InteropLines).
const (
	interopSummary = "interop/summary.json"
	interopLines   = "interop/lines.json"
)

// InteropSection returns the interop matrix's summary written under out,
// for summary.json and the class report's link; nil when the matrix was
// never run there or its file is unreadable.
func InteropSection(out string) json.RawMessage {
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(interopSummary)))
	if err != nil || !json.Valid(data) {
		return nil
	}
	return json.RawMessage(bytes.TrimSpace(data))
}

// InteropLines returns what `netgrade interop` tells each student about
// their programs and their classmates', by student, as it left it under
// out: every writing of the students' pages (a batch, a regrade, a merge,
// the similarity analysis) keeps these lines. Nil when the matrix was
// never run there.
func InteropLines(out string) map[string][]string {
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(interopLines)))
	if err != nil {
		return nil
	}
	var lines map[string][]string
	if json.Unmarshal(data, &lines) != nil {
		return nil
	}
	return lines
}

// previousSimilarity returns the similarity section of the summary.json
// already in out, when its page (similarity.html) is still there: a
// command that writes the class files again without running the analysis
// (netgrade interop, a merge) keeps it.
func previousSimilarity(out string, into *Summary) {
	if _, err := os.Stat(filepath.Join(out, "similarity.html")); err != nil {
		return
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		return
	}
	var prev Summary
	if json.Unmarshal(data, &prev) == nil {
		into.Similarity = prev.Similarity
	}
}
