package capture

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// FileName returns the name of a check's capture file: its ID with "/"
// as "-", e.g. udp-server-log-format.pcapng.
func FileName(checkID string) string {
	return strings.ReplaceAll(checkID, "/", "-") + ".pcapng"
}

// Save writes the capture each check of results carries into dir (made
// when missing) and replaces it in the result by the path reports show:
// link (how the reports name dir) joined with the file's name.
func Save(dir, link string, results []report.Result) error {
	made := false
	for i := range results {
		for j := range results[i].Checks {
			c := &results[i].Checks[j]
			if len(c.Pcapng) == 0 {
				continue
			}
			if !made {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("capture: making the folder of the captures: %w", err)
				}
				made = true
			}
			name := FileName(c.ID)
			if err := os.WriteFile(filepath.Join(dir, name), c.Pcapng, 0o644); err != nil {
				return fmt.Errorf("capture: writing the capture of %s: %w", c.ID, err)
			}
			c.Capture, c.Pcapng = path.Join(filepath.ToSlash(link), name), nil
		}
	}
	return nil
}

// Strip drops the captures results carry without saving them.
func Strip(results []report.Result) {
	for i := range results {
		for j := range results[i].Checks {
			results[i].Checks[j].Pcapng = nil
		}
	}
}
