package interop

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Summary is the interop section of a class's summary.json.
type Summary struct {
	Schema int `json:"schema"`
	// Sandbox is the isolation the cells ran under.
	Sandbox string         `json:"sandbox"`
	Pairs   []PairSummary  `json:"pairs"`
	Points  *PointsSetting `json:"points,omitempty"`
}

// PairSummary sums up one matrix.
type PairSummary struct {
	Pair  ExercisePair `json:"pair"`
	Cells int          `json:"cells"`
	// Verdicts counts the cells by colour.
	Verdicts map[Verdict]int `json:"verdicts"`
	// Diagnoses counts the usual culprits found, by key.
	Diagnoses map[string]int `json:"diagnoses,omitempty"`
	// Students is, per student, how their programs fared with classmates'.
	Students []StudentSummary `json:"students"`
}

// StudentSummary is how one student's client and server fared in a matrix
// against their classmates' (the reference and themselves left out).
type StudentSummary struct {
	Student string `json:"student"`
	// Server: classmates' clients it understood (green), of those that ran.
	ServerUnderstood int `json:"server_understood"`
	ServerOf         int `json:"server_of"`
	// Client: classmates' servers that understood it, of those that ran.
	ClientUnderstood int `json:"client_understood"`
	ClientOf         int `json:"client_of"`
	// ServerRef and ClientRef are the verdicts against the reference.
	ServerRef Verdict `json:"server_vs_reference,omitempty"`
	ClientRef Verdict `json:"client_vs_reference,omitempty"`
	// Points, when the course turns the matrix into points.
	Points *float64 `json:"points,omitempty"`
}

// PointsSetting is the course's optional interop setting (off by default).
type PointsSetting struct {
	// Points a student gets at most for a pair: in proportion to the
	// classmates their programs understood and were understood by.
	Points float64 `json:"points" yaml:"points"`
	// MinPartners is how many classmates a side must have met for points
	// to be given at all (fewer: full points, the student is not punished
	// for a small class).
	MinPartners int `json:"min_partners" yaml:"min_partners"`
}

// Summarize sums the matrices up.
func Summarize(sandboxName string, ms []*Matrix, pts *PointsSetting) Summary {
	sum := Summary{Schema: 1, Sandbox: sandboxName, Points: pts}
	for _, m := range ms {
		ps := PairSummary{Pair: m.Pair, Cells: len(m.Cells), Verdicts: map[Verdict]int{}, Diagnoses: map[string]int{}}
		per := map[string]*StudentSummary{}
		get := func(id string) *StudentSummary {
			if per[id] == nil {
				per[id] = &StudentSummary{Student: id}
			}
			return per[id]
		}
		for _, c := range m.Cells {
			ps.Verdicts[c.Verdict]++
			if c.Diagnosis != "" {
				ps.Diagnoses[c.Diagnosis]++
			}
			switch {
			case c.Client == RefKey:
				get(c.Server).ServerRef = c.Verdict
			case c.Server == RefKey:
				get(c.Client).ClientRef = c.Verdict
			case c.Client == c.Server:
				// One's own client and server: not a classmate's.
			default:
				if !greyOf(c, "client") {
					s := get(c.Server)
					s.ServerOf++
					if c.Verdict == Green {
						s.ServerUnderstood++
					}
				}
				if !greyOf(c, "server") {
					s := get(c.Client)
					s.ClientOf++
					if c.Verdict == Green {
						s.ClientUnderstood++
					}
				}
			}
		}
		if len(ps.Diagnoses) == 0 {
			ps.Diagnoses = nil
		}
		ids := make([]string, 0, len(per))
		for id := range per {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			s := per[id]
			if pts != nil {
				p := pts.score(s)
				s.Points = &p
			}
			ps.Students = append(ps.Students, *s)
		}
		sum.Pairs = append(sum.Pairs, ps)
	}
	return sum
}

// greyOf reports whether the cell is grey because side could not run: such
// a cell says nothing of the other side.
func greyOf(c *Cell, side string) bool { return c.Verdict == Grey && c.Culprit == side }

// score gives a student's points for a pair: half for their server, half
// for their client, each in proportion to the classmates it talked to
// (full when it met fewer than MinPartners).
func (p PointsSetting) score(s *StudentSummary) float64 {
	part := func(ok, of int) float64 {
		if of < p.MinPartners || of == 0 {
			return 1
		}
		return float64(ok) / float64(of)
	}
	v := p.Points / 2 * (part(s.ServerUnderstood, s.ServerOf) + part(s.ClientUnderstood, s.ClientOf))
	return float64(int(v*100+0.5)) / 100
}

// StudentLines are the lines a student's page shows about the matrices:
// "your udp-server understood 41 of 58 classmates' clients; the clients it
// did not understand: …", "your udp-client was understood by …".
func StudentLines(id string, ms []*Matrix) []string {
	var out []string
	for _, m := range ms {
		if line := serverLine(id, m); line != "" {
			out = append(out, line)
		}
		if line := clientLine(id, m); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func serverLine(id string, m *Matrix) string {
	if !slices.Contains(m.Servers, id) {
		return ""
	}
	ok, of := 0, 0
	why := map[string]int{}
	var ref *Cell
	for _, c := range m.Cells {
		if c.Server != id {
			continue
		}
		if c.Client == RefKey {
			ref = c
			continue
		}
		if c.Client == id || greyOf(c, "client") {
			continue
		}
		of++
		if c.Verdict == Green {
			ok++
			continue
		}
		why[culpritText(c)]++
	}
	s := fmt.Sprintf("interop (%s): your %s understood %d of %d classmates' clients", m.Pair, m.Pair.Server, ok, of)
	if len(why) > 0 {
		s += "; with the others: " + topReasons(why)
	}
	if ref != nil {
		s += fmt.Sprintf(". Against netgrade's reference client: %s (%s)", ref.Verdict, ref.Reason)
	}
	return s
}

func clientLine(id string, m *Matrix) string {
	if !slices.Contains(m.Clients, id) {
		return ""
	}
	ok, of := 0, 0
	why := map[string]int{}
	var ref *Cell
	for _, c := range m.Cells {
		if c.Client != id {
			continue
		}
		if c.Server == RefKey {
			ref = c
			continue
		}
		if c.Server == id || greyOf(c, "server") {
			continue
		}
		of++
		if c.Verdict == Green {
			ok++
			continue
		}
		why[culpritText(c)]++
	}
	s := fmt.Sprintf("interop (%s): your %s was understood by %d of %d classmates' servers", m.Pair, m.Pair.Client, ok, of)
	if len(why) > 0 {
		s += "; with the others: " + topReasons(why)
	}
	if ref != nil {
		s += fmt.Sprintf(". Against netgrade's reference server: %s (%s)", ref.Verdict, ref.Reason)
	}
	return s
}

// culpritText says why a cell is not green, by its usual culprit when one
// was named.
func culpritText(c *Cell) string {
	if d, ok := Diagnoses[c.Diagnosis]; ok {
		return d
	}
	return c.Reason
}

// topReasons lists the three most frequent reasons with their counts.
func topReasons(why map[string]int) string {
	type rc struct {
		r string
		n int
	}
	var list []rc
	for r, n := range why {
		list = append(list, rc{r, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].r < list[j].r
	})
	var parts []string
	for i, x := range list {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d other reasons", len(list)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %s", x.n, x.r))
	}
	return strings.Join(parts, "; ")
}
