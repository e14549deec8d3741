package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// The JUnit XML document, as GitLab, Jenkins and the GitHub JUnit actions
// read it: they count the children of every testcase (failure, error,
// skipped), so the suite attributes only repeat those counts.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
	SystemOut *junitText    `xml:"system-out"`
}

// junitText is element content netgrade escapes itself (xmlContent), so
// that newlines stay newlines and the XML stays readable.
type junitText struct {
	Text string `xml:",innerxml"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",innerxml"`
}

// xmlText makes program text fit for an XML attribute: control
// characters, which XML cannot hold, and bidi overrides become visible
// escapes, as do CI log commands (Terminal); encoding/xml then escapes the
// markup.
func xmlText(s string, keepNewlines bool) string { return Terminal(s, keepNewlines) }

// xmlContent makes program text fit for XML element content written as it
// is: Terminal as for xmlText, then &, < and > escaped, so that no printed
// text can open or close an element or end a CDATA section ("]]>" becomes
// "]]&gt;"). Newlines and tabs stay.
func xmlContent(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(Terminal(s, true))
}

// seconds formats milliseconds as JUnit's seconds.
func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// JUnit writes the results as a JUnit XML document: one testsuite per
// exercise, one testcase per check (classname the exercise, name the check
// ID and title), a <failure> for a check the submission failed with what
// was expected, what happened and the transcript in its body, an <error>
// only for netgrade's own errors, <skipped> with the reason, and what the
// program printed in the testcase's <system-out> (not what it printed
// because netgrade stopped it). Times are in seconds.
func JUnit(w io.Writer, results []report.Result) error {
	results = readable(results)
	doc := junitSuites{Name: "netgrade"}
	var total int64
	for _, r := range results {
		s := junitSuite{
			Name: xmlText(r.Exercise, false),
			Time: seconds(r.DurationMS),
			Properties: []junitProperty{
				{Name: "submission", Value: xmlText(r.Submission, false)},
				{Name: "score", Value: Num(r.Score)},
				{Name: "max_score", Value: Num(r.MaxScore)},
			},
		}
		if !r.StartedAt.IsZero() {
			s.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
		}
		if r.Version != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "netgrade_version", Value: xmlText(r.Version, false)})
		}
		for _, c := range r.Checks {
			tc := junitCase{
				Classname: xmlText(r.Exercise, false),
				Name:      xmlText(c.ID+": "+c.Title, false),
				Time:      seconds(c.DurationMS),
			}
			out := programOutput(c.Transcript)
			for _, n := range c.Notes {
				out = "netgrade note: " + n + "\n" + out
			}
			if c.Capture != "" {
				// Jenkins and GitLab attach the file so named to the test.
				out += "[[ATTACHMENT|" + c.Capture + "]]\n"
			}
			if out != "" {
				tc.SystemOut = &junitText{Text: xmlContent(out)}
			}
			switch c.Status {
			case report.Fail:
				tc.Failure = &junitProblem{Message: xmlText(c.Message, false), Type: string(c.Category), Body: xmlContent(failureBody(c, ""))}
				s.Failures++
			case report.Error:
				tc.Error = &junitProblem{Message: xmlText(c.Message, false), Type: "netgrade", Body: xmlContent(c.Message + "\nThis is netgrade's own error; it is not charged to the submission.")}
				s.Errors++
			case report.Skip:
				msg := c.Message
				if c.Unjudged() {
					msg += " (left out of the score)"
				}
				tc.Skipped = &junitProblem{Message: xmlText(msg, false)}
				s.Skipped++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		total += r.DurationMS
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// programOutput returns what the programs of a check printed, both
// streams in order, as a terminal shows them.
func programOutput(evs []report.Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Kind == report.EvStdout || e.Kind == report.EvStderr {
			b.WriteString(e.Data)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// failureBody is the plain-text account of a failure: the problem, what
// was expected and what came, how the program ended, the hint, the
// transcript. Multi-line values are indented under their label, every
// line behind a "| " gutter. Course texts (requirement, hint) are plain:
// the backticks around their code are dropped. When an earlier check
// (sameAs) failed from the same cause, the account refers to it instead of
// repeating how the program ended, the hint and the transcript.
func failureBody(c report.Check, sameAs string) string {
	var b strings.Builder
	field := func(name, value string) {
		if value == "" {
			return
		}
		if !strings.Contains(value, "\n") {
			fmt.Fprintf(&b, "%-12s %s\n", name+":", value)
			return
		}
		fmt.Fprintf(&b, "%s:\n", name)
		for _, l := range strings.Split(value, "\n") {
			fmt.Fprintf(&b, "  | %s\n", l)
		}
	}
	field("problem", c.Message)
	if c.Requirement != "" {
		field("requirement", plainMarkup(c.Requirement))
	}
	field("expected", c.Expected)
	field("got", c.Actual)
	if sameAs != "" {
		field("cause", causeLine(sameAs, c.Traceback))
		return b.String()
	}
	field("program", programLine(c.Exit, c.Traceback))
	field("note", strings.Join(c.Notes, "\n"))
	if c.Hint != "" {
		field("hint", plainMarkup(c.Hint))
	}
	if len(c.Transcript) > 0 {
		b.WriteString("transcript:\n")
		for _, e := range c.Transcript {
			fmt.Fprintf(&b, "  %+9.1fms  %s\n", e.TimeMS, eventBlock(e, "  "+transcriptIndent))
		}
	}
	return b.String()
}
