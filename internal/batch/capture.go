package batch

import (
	"fmt"
	"path/filepath"

	"github.com/netgrade/netgrade/internal/capture"
)

// saveCaptures writes a student's captures into CAPTURES/ID/ and links
// them from the results by a path relative to the student's page and
// record (OUT/students/).
func saveCaptures(rec *Record, opt Options) error {
	if opt.Captures == "" {
		capture.Strip(rec.Results)
		return nil
	}
	dir, err := filepath.Abs(filepath.Join(opt.Captures, rec.Student))
	if err != nil {
		return fmt.Errorf("the captures of %s: %w", rec.Student, err)
	}
	pages, err := filepath.Abs(filepath.Join(opt.Out, studentsDir))
	if err != nil {
		return fmt.Errorf("the captures of %s: %w", rec.Student, err)
	}
	link, err := filepath.Rel(pages, dir)
	if err != nil {
		link = dir
	}
	return capture.Save(dir, link, rec.Results)
}
