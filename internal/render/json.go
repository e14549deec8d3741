package render

import (
	"encoding/json"
	"io"

	"github.com/netgrade/netgrade/internal/report"
)

// Results is the JSON document for several results at once (a student's
// folder): the schema version and one result per exercise.
type Results struct {
	Schema  int             `json:"schema"`
	Results []report.Result `json:"results"`
}

// JSON writes one result as DESIGN's result object, or several as a Results
// document. Go's encoder escapes every control character and <, >, & in
// strings, so nothing a program printed can break the document or a page
// that embeds it.
func JSON(w io.Writer, results []report.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(results) == 1 {
		return enc.Encode(results[0])
	}
	if results == nil {
		results = []report.Result{}
	}
	return enc.Encode(Results{Schema: report.Schema, Results: results})
}
