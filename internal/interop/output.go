package interop

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/render"
)

// Files written under a batch's output folder.
const (
	HTMLFile    = "interop.html"
	CSVFile     = "interop.csv"
	SummaryFile = "summary.json" // under Dir(out)
	// LinesFile holds what each student's page says of the matrix, by
	// student (under Dir(out); batch.InteropLines reads it).
	LinesFile = "lines.json"
)

// CSV returns interop.csv: one row per cell.
func CSV(ms []*Matrix) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"client_exercise", "server_exercise", "client", "server", "verdict", "culprit", "diagnosis", "reason", "own_grade", "duration_ms"})
	for _, m := range ms {
		for _, c := range m.Cells {
			_ = w.Write([]string{m.Pair.Client, m.Pair.Server, csvName(c.Client), csvName(c.Server), string(c.Verdict),
				c.Culprit, c.Diagnosis, csvSafe(c.Reason), csvSafe(c.Own), strconv.FormatInt(c.DurationMS, 10)})
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func csvName(k string) string {
	if k == RefKey {
		return "reference"
	}
	return csvSafe(k)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

//go:embed interop.html.tmpl
var pageTemplate string

// pageTmpl is the page's template, parsed on first use: parsed at
// init, it cost every start of netgrade, the unit and pair runners of
// every sandbox included, which never write the page.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("interop").Funcs(template.FuncMap{
		"name": func(k string) string {
			if k == RefKey {
				return "reference"
			}
			return k
		},
		"text": func(s string) string { return render.Terminal(s, false) },
	}).Parse(pageTemplate))
})

type pageView struct {
	Generated string
	Version   string
	Sandbox   string
	Message   string
	Pairs     []pairView
	Legend    []legendRow
}

type pairView struct {
	*Matrix
	Anchor string
	Rows   []rowView
	Counts []countView
	Diags  []countView
	All    []*cellView
}

type rowView struct {
	Client string
	Cells  []*cellView
}

type cellView struct {
	*Cell
	ID string
}

type countView struct {
	Name string
	N    int
}

type legendRow struct{ Verdict, Text string }

// Page writes interop.html: one matrix per exercise pair, each cell a link
// to its details (reason, wire, both programs' transcripts); one file with
// its CSS inline, readable without a server.
func Page(ms []*Matrix, sum Summary, version string, generated time.Time) ([]byte, error) {
	v := pageView{Generated: generated.Format("2006-01-02 15:04 MST"), Version: version, Sandbox: sum.Sandbox, Message: Message,
		Legend: []legendRow{
			{string(Green), "the message arrived whole, the server logged it right and, over TCP, the client printed the server's reply"},
			{string(Amber), "they talked, but something was lost or garbled, or a program did not end the conversation as it should"},
			{string(Red), "no conversation"},
			{string(Grey), "one side could not run at all (its own grade says why)"},
		}}
	for _, m := range ms {
		pv := pairView{Matrix: m, Anchor: m.Pair.ID()}
		byKey := map[[2]string]*cellView{}
		for i, c := range m.Cells {
			cv := &cellView{Cell: c, ID: fmt.Sprintf("c-%s-%d", m.Pair.ID(), i)}
			byKey[[2]string{c.Client, c.Server}] = cv
			pv.All = append(pv.All, cv)
		}
		for _, cl := range m.Clients {
			row := rowView{Client: cl}
			for _, sv := range m.Servers {
				row.Cells = append(row.Cells, byKey[[2]string{cl, sv}])
			}
			pv.Rows = append(pv.Rows, row)
		}
		counts := map[string]int{}
		diags := map[string]int{}
		for _, c := range m.Cells {
			counts[string(c.Verdict)]++
			if c.Diagnosis != "" {
				diags[Diagnoses[c.Diagnosis]]++
			}
		}
		for _, k := range []Verdict{Green, Amber, Red, Grey} {
			pv.Counts = append(pv.Counts, countView{string(k), counts[string(k)]})
		}
		for d, n := range diags {
			pv.Diags = append(pv.Diags, countView{d, n})
		}
		sort.Slice(pv.Diags, func(i, j int) bool {
			if pv.Diags[i].N != pv.Diags[j].N {
				return pv.Diags[i].N > pv.Diags[j].N
			}
			return pv.Diags[i].Name < pv.Diags[j].Name
		})
		v.Pairs = append(v.Pairs, pv)
	}
	var buf bytes.Buffer
	if err := pageTmpl().Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFiles writes interop.csv and interop.html beside the class report,
// and the summary to Dir(out)/summary.json (where the batch's summary.json
// and class report find it).
func WriteFiles(out string, ms []*Matrix, sum Summary, version string) error {
	data, err := CSV(ms)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, CSVFile), data); err != nil {
		return err
	}
	page, err := Page(ms, sum, version, time.Now())
	if err != nil {
		return fmt.Errorf("writing %s: %w", HTMLFile, err)
	}
	if err := writeAtomic(filepath.Join(out, HTMLFile), page); err != nil {
		return err
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(Dir(out), SummaryFile), append(js, '\n')); err != nil {
		return err
	}
	// What each student's page says of the matrix, kept for every later
	// writing of the pages (a batch's, a regrade's, a merge's).
	lines := map[string][]string{}
	for _, id := range Students(ms) {
		lines[id] = StudentLines(id, ms)
	}
	js, err = json.MarshalIndent(lines, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(Dir(out), LinesFile), append(js, '\n'))
}

// writeAtomic writes a file through a temporary one renamed into place.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Students returns the student IDs of the matrices, sorted.
func Students(ms []*Matrix) []string {
	var ids []string
	for _, m := range ms {
		for _, k := range append(slices.Clone(m.Clients), m.Servers...) {
			if k != RefKey && !slices.Contains(ids, k) {
				ids = append(ids, k)
			}
		}
	}
	slices.Sort(ids)
	return ids
}
