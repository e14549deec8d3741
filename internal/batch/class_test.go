package batch_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// badClass writes six students for the fake sandbox: two hand in both
// exercises, two miss one each, one hands in an archive that is no zip,
// one an empty folder.
func badClass(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"alice/udp-server.py": "pass",
		"alice/udp-client.py": "pass",
		"bob/udp-server.py":   "fail udp-server/log-format",
		"bob/udp-client.py":   "pass",
		"carol/udp-client.py": "fail udp-client/exits",      // no udp-server.py
		"dave/udp-server.py":  "fail udp-server/log-format", // no udp-client.py
		"erin.zip":            "this is not a zip archive",
	})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "frank"), 0o755))
	return dir
}

// TestClassReportCountsHandedInWork grades a class with two missing
// exercises, a corrupt archive and an empty folder: the pass rates count
// only the work handed in, the two bad submissions are named with why in
// summary.json and the class report, and grades.csv tells a missing
// exercise from a 0 and from one not graded properly (error), which the
// total and the class figures leave out and say so.
func TestClassReportCountsHandedInWork(t *testing.T) {
	subs := badClass(t)
	out := t.TempDir()
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	require.Len(t, students, 6)
	_, err = batch.Run(context.Background(), students, options(out, newFake()))
	require.NoError(t, err)
	sum, err := batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test", Generated: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)

	checks := map[string]batch.CheckSummary{}
	for _, c := range sum.Checks {
		checks[c.ID] = c
	}
	logFormat := checks["udp-server/log-format"]
	assert.Equal(t, 3, logFormat.HandedIn, "alice, bob and dave handed udp-server in")
	assert.Equal(t, 2, logFormat.Fail)
	assert.Equal(t, 1, logFormat.Pass)
	assert.Equal(t, 0.3333, logFormat.PassRate, "over the students who handed it in")
	assert.Equal(t, 2, logFormat.CommonFailureCount)
	exits := checks["udp-client/exits"]
	assert.Equal(t, 3, exits.HandedIn, "alice, bob and carol handed udp-client in")
	assert.Equal(t, 1, exits.Fail)
	assert.Equal(t, 1.0, checks["udp-client/sends-message"].PassRate, "a file not handed in is not a failed check")
	for _, e := range sum.Exercises {
		assert.Equal(t, 3, e.Submitted, e.ID)
		assert.Equal(t, 2, e.Missing, "%s: one student missed it, and the empty folder", e.ID)
	}

	require.Len(t, sum.Problems, 2, "the corrupt archive and the empty folder")
	assert.Equal(t, "erin", sum.Problems[0].Student)
	assert.Contains(t, sum.Problems[0].Reason, "erin.zip cannot be read as a zip archive")
	assert.Equal(t, "frank", sum.Problems[1].Student)
	assert.Contains(t, sum.Problems[1].Reason, "no exercise file in the submission (looked for udp-server.py, udp-client.py)")

	data, err := os.ReadFile(filepath.Join(out, "grades.csv"))
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"student", "udp-server", "udp-client", "total", "not_graded"}, rows[0])
	byStudent := map[string][]string{}
	for _, r := range rows[1:] {
		byStudent[r[0]] = r[1:]
	}
	assert.Equal(t, []string{"missing", "7", "7", ""}, byStudent["carol"])
	assert.Equal(t, []string{"10", "missing", "10", ""}, byStudent["dave"])
	assert.Equal(t, []string{"missing", "missing", "0", ""}, byStudent["frank"])
	assert.Equal(t, []string{batch.NotGradedCell, batch.NotGradedCell, "0", "udp-server udp-client"}, byStudent["erin"],
		"an archive that cannot be read is neither a 0 nor missing, and the row says its total is not a grade")

	assert.Equal(t, 5, sum.Counted, "erin's total is not a grade: left out of the class figures")
	for _, e := range sum.Exercises {
		assert.Equal(t, 1, e.NotGraded, "%s: erin's archive", e.ID)
	}
	graded := 0.0
	for _, r := range rows[1:] {
		if v, err := strconv.ParseFloat(r[1], 64); err == nil {
			graded += v
		}
	}
	assert.InDelta(t, graded/5, sum.Exercises[0].Average, 0.01, "udp-server: the cells' scores (missing as 0) over the five students graded, erin left out")

	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	doc, err := html.Parse(strings.NewReader(string(page)))
	require.NoError(t, err)
	hard := findAttr(doc, "data-check", "udp-server/log-format", "hard")
	require.NotNil(t, hard, "udp-server/log-format is among the checks most students fail")
	assert.Equal(t, "2", attr(hard, "data-not-passed"))
	assert.Equal(t, "3", attr(hard, "data-handed-in"))
	problems := byID(doc, "problems")
	require.NotNil(t, problems, "the report lists the submissions not graded properly")
	text := textOf(problems)
	assert.Contains(t, text, "erin")
	assert.Contains(t, text, "frank")
	counted := byID(doc, "counted")
	require.NotNil(t, counted, "the report says whom its figures count")
	assert.Contains(t, textOf(counted), "count 5 students: the 1 with an exercise not graded properly (error) are left out")
	erin := findAttr(doc, "data-student", "erin", "student")
	require.NotNil(t, erin)
	assert.Contains(t, textOf(erin), "error")
	assert.Contains(t, string(page), "2 students")
	assert.NotContains(t, string(page), "1 students")
}

// TestUndecodableSourceIsAProblem: a source file Python cannot read (not
// UTF-8, no encoding declared) is named as a problem of the submission; a
// file that declares its encoding (PEP 263) is not.
func TestUndecodableSourceIsAProblem(t *testing.T) {
	subs := t.TempDir()
	write(t, subs, map[string]string{
		"grace/udp-server.py": "pass # caf\xe9",
		"grace/udp-client.py": "pass",
		"heidi/udp-server.py": "pass\n# -*- coding: latin-1 -*-\n# caf\xe9",
		"heidi/udp-client.py": "\xef\xbb\xbfpass",
		"ivan/udp-server.py":  "# coding: utf-8\npass # caf\xe9",
	})
	out := t.TempDir()
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	_, err = batch.Run(context.Background(), students, options(out, newFake()))
	require.NoError(t, err)
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, "udp-server.py is not UTF-8 text (byte 0xe9 at offset 10), so Python cannot read it: save it as UTF-8", recs[0].Problem)
	assert.Empty(t, recs[1].Problem, "a declared encoding and a byte-order mark are fine")
	assert.Contains(t, recs[2].Problem, "udp-server.py is not UTF-8 text", "declaring UTF-8 does not make it so")
}

// findAttr returns the first element whose attribute key is val (and whose
// class is class, when given).
func findAttr(n *html.Node, key, val, class string) *html.Node {
	if n.Type == html.ElementNode && attr(n, key) == val && (class == "" || attr(n, "class") == class) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findAttr(c, key, val, class); f != nil {
			return f
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// TestChecksTheCourseDoesNotGrade: a check the course switches off, and
// one graded only when the course sets a text it leaves unset, get no pass
// rate in summary.json and no row in the class report's tables; the
// report names them once, with why.
func TestChecksTheCourseDoesNotGrade(t *testing.T) {
	httpEx, err := course.Registry().Get("http-server")
	require.NoError(t, err)
	exs := append(classExercises(), httpEx)
	var static string
	for _, c := range httpEx.Checks {
		if c.OnlyWithText != "" {
			static = c.ID
		}
	}
	require.NotEmpty(t, static, "http-server has a check graded only with a text")
	settings := sandbox.Course{"udp-server": {Settings: graders.Settings{Checks: map[string]graders.CheckSettings{"udp-server/log-format": {Disabled: true}}}}}
	out := t.TempDir()
	writeRecords(t, out, synthRecords(4))
	sum, err := batch.WriteClassFiles(out, exs, batch.ReportMeta{Version: "test", Course: settings})
	require.NoError(t, err)
	assert.Equal(t, []batch.CheckOff{
		{ID: "udp-server/log-format", Reason: "switched off by the course"},
		{ID: static, Reason: "graded only when the course sets the text " + httpEx.Check(static).OnlyWithText},
	}, sum.ChecksOff)
	for _, c := range sum.Checks {
		assert.NotEqual(t, "udp-server/log-format", c.ID)
		assert.NotEqual(t, static, c.ID)
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	var raw struct {
		Checks []map[string]any `json:"checks"`
		Off    []map[string]any `json:"checks_not_graded"`
	}
	require.NoError(t, json.Unmarshal(data, &raw))
	require.Len(t, raw.Off, 2)
	assert.NotContains(t, raw.Off[0], "pass_rate")

	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	doc, err := html.Parse(bytes.NewReader(page))
	require.NoError(t, err)
	assert.Nil(t, findAttr(doc, "data-check", "udp-server/log-format", "check"), "no pass-rate row")
	assert.Nil(t, findAttr(doc, "data-check", static, "check"), "no pass-rate row")
	assert.NotNil(t, findAttr(doc, "data-check", "udp-server/start-line", "check"), "the others keep theirs")
	off := byID(doc, "checks-off")
	require.NotNil(t, off)
	assert.Contains(t, textOf(off), "udp-server/log-format (switched off by the course)")

	// Without the course's settings, only the defaults count.
	assert.Len(t, batch.Summarize(nil, exs).ChecksOff, 1)
}
