package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// interopSummary is where `netgrade interop` leaves its summary under a
// batch's output folder.
const interopSummary = "interop/summary.json"

// InteropSection returns the interop matrix's summary written under out,
// for summary.json and the class report's link; nil when the matrix was
// never run (or its summary is not JSON).
func InteropSection(out string) json.RawMessage {
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(interopSummary)))
	if err != nil || !json.Valid(data) {
		return nil
	}
	return json.RawMessage(bytes.TrimSpace(data))
}

// RewritePage writes a student's page again from their record, with extra
// lines under the notes on their files: what `netgrade interop` tells each
// student about their programs and their classmates'.
func RewritePage(out string, rec *Record, page PageFunc, extra []string) error {
	var buf bytes.Buffer
	notes := append(rec.Found().Notes(), extra...)
	if err := page(&buf, rec.Results, notes); err != nil {
		return fmt.Errorf("rendering the page of %s: %w", rec.Student, err)
	}
	return WriteFileAtomic(PagePath(out, rec.Student), buf.Bytes())
}
