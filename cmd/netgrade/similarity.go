package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/similarity"
	"github.com/spf13/cobra"
)

// newSimilarityCmd is `netgrade similarity OUT`: the similarity analysis
// of a class already graded, without grading it again.
func newSimilarityCmd() *cobra.Command {
	var cf courseFlag
	var of overridesFlag
	c := &cobra.Command{
		Use:   "similarity OUT",
		Short: "Find the students of a graded class who handed in the same program (a lead, never a verdict)",
		Long: `Compare, exercise by exercise, the files of every student of a class already
graded by 'netgrade batch' (which runs this itself unless --no-similarity), from
the copies the batch keeps in OUT/sources; nothing is graded again.

Each file is read as tokens (Python's own tokenizer, names, strings and numbers
normalised, comments and layout dropped; other files as normalised text),
fingerprinted by winnowing, stripped of the course's base code (similarity.base
in the course file) and of what most of the class shares. Pairs are ranked by
the share of their code in fragments the other holds too; pairs whose programs
fail the same checks with the same rare output are listed with that output.

Written to OUT:
  similarity.html   the pairs per exercise, each opening a side-by-side view
  similarity.csv    one row per pair
and the similarity section of summary.json, linked from report.html.

These are leads for a human to read: nothing here changes a grade or reaches a
student's report.`,
		Example: "  netgrade similarity results/\n  netgrade similarity results/ --course course.yaml",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("give the output folder of a batch: netgrade similarity OUT")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			out := args[0]
			if st, err := os.Stat(filepath.Join(out, "students")); err != nil || !st.IsDir() {
				return usageErr("%s is not the output folder of a netgrade batch (it has no students folder)", out)
			}
			crs, err := cf.load()
			if err != nil {
				return err
			}
			recs, err := batch.ReadRecords(out)
			if err != nil {
				return internalErr(err)
			}
			w := newBatchWiring(crs)
			exs := gradedExercises(w.Registry.Exercises(), recs)
			begin := time.Now()
			rep, err := writeSimilarity(c.Context(), out, exs, crs, c.ErrOrStderr())
			if err != nil {
				return internalErr(err)
			}
			ovr, err := of.load(cf, exs, w.Course)
			if err != nil {
				return err
			}
			if _, err := batch.WriteClassFiles(out, exs, batch.ReportMeta{Version: version, Course: w.Course, Similarity: rep, Overrides: ovr, StudentPage: w.StudentPage}); err != nil {
				return internalErr(err)
			}
			printSimilarity(c.OutOrStdout(), out, rep, time.Since(begin))
			return nil
		},
	}
	cf.register(c)
	of.register(c)
	return c
}

// gradedExercises returns the exercises of exs that some record has a
// result for, in course order (a batch may have graded a few with
// --exercise).
func gradedExercises(exs []*graders.Exercise, recs []*batch.Record) []*graders.Exercise {
	return slices.DeleteFunc(slices.Clone(exs), func(ex *graders.Exercise) bool {
		return !slices.ContainsFunc(recs, func(r *batch.Record) bool { _, ok := r.Result(ex.ID); return ok })
	})
}

// writeSimilarity compares the class's kept files in OUT and writes
// similarity.html and similarity.csv; the caller puts the report in
// summary.json and the class report. Students graded before netgrade kept
// copies of their files are named on stderr.
func writeSimilarity(ctx context.Context, out string, exs []*graders.Exercise, crs *coursefile.Course, stderr io.Writer) (*similarity.Report, error) {
	recs, err := batch.ReadRecords(out)
	if err != nil {
		return nil, err
	}
	var input []similarity.ExerciseFiles
	var uncopied []string
	for _, ex := range exs {
		se := similarity.ExerciseFiles{ID: ex.ID}
		for _, r := range recs {
			res, ok := r.Result(ex.ID)
			if !ok || res.Missing {
				continue
			}
			var file string
			for _, ff := range r.Files {
				if ff.Exercise == ex.ID {
					file = ff.Path
				}
			}
			if file == "" {
				continue
			}
			path := batch.SourcePath(out, r.Student, file)
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				if !slices.Contains(uncopied, r.Student) {
					uncopied = append(uncopied, r.Student)
				}
				continue
			}
			se.Files = append(se.Files, similarity.File{Student: r.Student, Name: file, Path: path, Result: &res})
		}
		input = append(input, se)
	}
	if len(uncopied) > 0 {
		fmt.Fprintf(stderr, "netgrade similarity: OUT keeps no copy of the files of %s (graded by an older netgrade), left out: %s; grade them again (--regrade) to include them\n",
			plural(len(uncopied), "student"), strings.Join(uncopied, ", "))
	}
	python := crs.Python
	if python == "" {
		if python, err = pyenv.NewInterpreters().Resolve(ctx, "python3"); err != nil {
			return nil, fmt.Errorf("the similarity analysis reads Python files with Python's own tokenizer: %w", err)
		}
	}
	rep, err := similarity.Analyze(ctx, input, similarity.Options{Python: python, Base: crs.Similarity.Base, Threshold: crs.Similarity.Threshold})
	if err != nil {
		return nil, fmt.Errorf("similarity: %w", err)
	}
	var page bytes.Buffer
	if err := similarity.WritePage(&page, rep, similarity.PageMeta{Version: version}); err != nil {
		return nil, fmt.Errorf("writing %s: %w", similarity.PageName, err)
	}
	if err := batch.WriteFileAtomic(filepath.Join(out, similarity.PageName), page.Bytes()); err != nil {
		return nil, err
	}
	data, err := similarity.CSV(rep)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", similarity.CSVName, err)
	}
	if err := batch.WriteFileAtomic(filepath.Join(out, similarity.CSVName), data); err != nil {
		return nil, err
	}
	return rep, nil
}

// removeSimilarity deletes the similarity outputs of an earlier run, which
// a batch run with --no-similarity would leave stale.
func removeSimilarity(out string) {
	for _, f := range []string{similarity.PageName, similarity.CSVName} {
		_ = os.Remove(filepath.Join(out, f))
	}
}

// printSimilarity says what the analysis found: the pairs of each exercise
// (the first few), and where the page is.
func printSimilarity(w io.Writer, out string, rep *similarity.Report, took time.Duration) {
	const show = 5
	files := 0
	for _, e := range rep.Exercises {
		files += e.Files
	}
	fmt.Fprintf(w, "Similarity: compared %s in %s; %s to look at (leads for a human, never verdicts).\n",
		plural(files, "file"), took.Round(100*time.Millisecond), plural(rep.PairCount(), "pair"))
	for _, e := range rep.Exercises {
		for i, p := range e.Pairs {
			if i == show {
				fmt.Fprintf(w, "  %s: %d more pairs in the page\n", e.Exercise, len(e.Pairs)-show)
				break
			}
			why := fmt.Sprintf("%.0f%% similar, longest fragment %d tokens", p.Similarity*100, p.Longest)
			if len(p.Behaviour) > 0 {
				why += fmt.Sprintf(", %s of the same rare output", plural(len(p.Behaviour), "line"))
			}
			fmt.Fprintf(w, "  %s: %s and %s: %s\n", e.Exercise, p.A, p.B, why)
		}
	}
	fmt.Fprintf(w, "Wrote %s and %s.\n", filepath.Join(out, similarity.PageName), filepath.Join(out, similarity.CSVName))
}

// batchSimilarity runs the similarity analysis at the end of a batch,
// unless turned off or the batch was interrupted. It is a lead, not
// grading: when it fails, the batch says so and ends as it would have.
func batchSimilarity(ctx context.Context, f batchFlags, exs []*graders.Exercise, crs *coursefile.Course, out *batch.Outcome, stderr io.Writer) *similarity.Report {
	if f.noSimilarity {
		removeSimilarity(f.out)
		return nil
	}
	if out.Interrupted {
		return nil
	}
	rep, err := writeSimilarity(ctx, f.out, exs, crs, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "netgrade batch: the similarity analysis failed (the grades are not affected): %v\n", err)
		return nil
	}
	return rep
}
