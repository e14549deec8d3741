package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/guess"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/spf13/cobra"
)

// maxGuessRead is how much of a file `course guess` reads: a student's
// program is a few kilobytes.
const maxGuessRead = 1 << 20

func newCourseGuessCmd() *cobra.Command {
	var out string
	var cf courseFlag
	c := &cobra.Command{
		Use:   "guess CLASS",
		Short: "Propose the file names of each exercise from what a class's files contain",
		Long: `Read the source files of a class (CLASS holds one folder or .zip archive per
student, as 'netgrade batch' takes it), never running them, and tell from what
each contains which exercise it is: a SOCK_DGRAM socket that recvfrom()s is a
UDP server, one that sendto()s without bind() a UDP client, ForkingTCPServer the
forking server, a ticket counter the ticket seller, http.server with /date the
HTTP server, Flask or FastAPI with /api/ the REST API, smtplib, poplib, imaplib
the mail clients. It proposes, per exercise, the names that take those files
(the course's own name first), checks them with the finder 'netgrade batch'
uses, and writes them as a course file: above each exercise the files each name
takes, at the end the files it could not place and why. Review it, then grade
with --course FILE. Nothing is graded on a guess.

With --course, the exercises and first names are that course file's; only the
exercises and their file names are written: copy the file: lines into your own
course file to keep its other settings.`,
		Example: "  netgrade course guess submissions/ -o course.yaml\n  netgrade batch submissions/ -o results/ --course course.yaml",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("give the folder of the class: netgrade course guess CLASS")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			crs, err := cf.read()
			if err != nil {
				return err
			}
			g, err := guessClass(args[0], crs)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			g.writeYAML(&buf, args[0])
			if _, err := coursefile.Parse("proposal", buf.Bytes(), course.Registry()); err != nil {
				return internalErr(fmt.Errorf("the proposed course file is not valid (a netgrade bug): %w", err))
			}
			if out == "" {
				if _, err := c.OutOrStdout().Write(buf.Bytes()); err != nil {
					return err
				}
			} else if err := batch.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return internalErr(err)
			}
			g.summary(c.ErrOrStderr(), out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the proposed course file here (default: standard output)")
	c.Flags().StringVar(&cf.path, "course", "", "course file whose exercises and names to start from; default: the built-in course")
	return c
}

// classGuess is a class read by `course guess`: the proposal, and what
// the finder makes of it.
type classGuess struct {
	students int
	files    []guess.File
	proposal guess.Proposal
	// takes lists, per exercise and name, the files the name takes.
	takes map[string]map[string][]string
	// left are the files the proposal leaves, with why.
	left []guess.Unplaced
}

// guessClass reads the class and proposes its names.
func guessClass(dir string, crs *coursefile.Course) (*classGuess, error) {
	students, err := batch.Discover(dir)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	if len(students) == 0 {
		return nil, usageErr("%s holds no student folder or .zip archive", dir)
	}
	tmp, err := os.MkdirTemp("", "netgrade-guess-")
	if err != nil {
		return nil, internalErr(err)
	}
	defer os.RemoveAll(tmp)
	g := &classGuess{students: len(students), takes: map[string]map[string][]string{}}
	dirs := map[string]string{}
	for _, s := range students {
		sdir := s.Source
		if s.Zip {
			sdir = filepath.Join(tmp, s.ID)
			if err := os.MkdirAll(sdir, 0o755); err != nil {
				return nil, internalErr(err)
			}
			if err := batch.Extract(s.Source, sdir, batch.DefaultZipLimits()); err != nil {
				if !errors.Is(err, batch.ErrArchive) {
					return nil, internalErr(err)
				}
				g.left = append(g.left, guess.Unplaced{File: guess.File{Student: s.ID, Path: filepath.Base(s.Source)}, Reason: err.Error()})
				continue
			}
		}
		dirs[s.ID] = sdir
		all, err := batch.Find(sdir, nil)
		if err != nil {
			return nil, internalErr(err)
		}
		for _, p := range all.NotGraded {
			f := guess.File{Student: s.ID, Path: p}
			if strings.ContainsFunc(p, unicode.IsControl) {
				g.left = append(g.left, guess.Unplaced{File: f, Reason: "its name holds control characters: rename it"})
				continue
			}
			src, err := readHead(filepath.Join(sdir, filepath.FromSlash(p)))
			if err != nil {
				g.left = append(g.left, guess.Unplaced{File: f, Reason: fmt.Sprintf("it cannot be read: %v", err)})
				continue
			}
			f.Guess = guess.Classify(src)
			g.files = append(g.files, f)
		}
	}
	defaults := map[string]string{}
	for _, e := range crs.Exercises {
		defaults[e.ID] = e.File
	}
	g.proposal = guess.Propose(g.files, crs.IDs(), defaults)
	g.left = append(g.left, g.proposal.Unplaced...)

	// What the finder makes of the names: every file read as an exercise
	// must be the one it takes.
	var rules []batch.Rule
	for _, e := range g.proposal.Exercises {
		if len(e.Names) > 0 {
			rules = append(rules, batch.Rule{Exercise: e.ID, Patterns: e.Names})
		}
	}
	unplaced := map[string]bool{}
	for _, u := range g.proposal.Unplaced {
		unplaced[u.File.String()] = true
	}
	for _, s := range students {
		sdir, ok := dirs[s.ID]
		if !ok {
			continue
		}
		found, err := batch.Find(sdir, rules)
		if err != nil {
			return nil, internalErr(err)
		}
		takenBy := map[string]string{}
		for _, ff := range found.Files {
			if ff.Path == "" {
				continue
			}
			takenBy[ff.Path] = ff.Exercise
			if g.takes[ff.Exercise] == nil {
				g.takes[ff.Exercise] = map[string][]string{}
			}
			g.takes[ff.Exercise][ff.Pattern] = append(g.takes[ff.Exercise][ff.Pattern], s.ID+"/"+ff.Path)
		}
		for _, f := range g.files {
			if f.Student != s.ID || f.Exercise == "" || unplaced[f.String()] {
				continue
			}
			switch by := takenBy[f.Path]; {
			case by == f.Exercise:
			case by != "":
				g.left = append(g.left, guess.Unplaced{File: f, Reason: fmt.Sprintf("it reads as %s (%s), but the names take it for %s", f.Exercise, f.Why, by)})
			case found.Path(f.Exercise) == "":
				g.left = append(g.left, guess.Unplaced{File: f, Reason: fmt.Sprintf("it reads as %s (%s), but no name proposed takes it", f.Exercise, f.Why)})
			default:
				g.left = append(g.left, guess.Unplaced{File: f, Reason: fmt.Sprintf("another file of %s is graded: %s/%s (one file per exercise; rename the one to grade, or remove the other)", f.Exercise, s.ID, found.Path(f.Exercise))})
			}
		}
	}
	return g, nil
}

// readHead reads at most maxGuessRead bytes of a file.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxGuessRead))
}

// writeYAML writes the proposal as a course file, the files each name
// takes and the ones left over as comments.
func (g *classGuess) writeYAML(w io.Writer, class string) {
	fmt.Fprintf(w, "# Course file proposed by `netgrade course guess` from the files of %s\n", plural(g.students, "student"))
	fmt.Fprintf(w, "# (%s), read, never run: each exercise's names, first first, with the\n", comment(class))
	fmt.Fprintln(w, "# files each takes. Review it, then grade with --course THIS_FILE.")
	fmt.Fprintln(w, "exercises:")
	for _, e := range g.proposal.Exercises {
		if len(e.Names) == 0 {
			fmt.Fprintf(w, "  # %s: no name (its course name is other exercises' files in this class)\n", e.ID)
			continue
		}
		fmt.Fprintf(w, "  - id: %s\n", e.ID)
		for _, n := range e.Names {
			taken := g.takes[e.ID][n]
			if len(taken) == 0 {
				continue
			}
			fmt.Fprintf(w, "    # %s takes: %s\n", comment(n), comment(strings.Join(taken, ", ")))
		}
		fmt.Fprintf(w, "    file: %s\n", course.FileYAML(e.Names))
	}
	if len(g.left) > 0 {
		fmt.Fprintln(w, "\n# Not placed: give each a name above, or leave it out.")
		for _, u := range g.left {
			fmt.Fprintf(w, "#   %s: %s\n", comment(u.File.String()), comment(u.Reason))
		}
	}
}

// comment makes a text safe in a YAML comment: one line.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// summary tells the instructor what the proposal takes and leaves.
func (g *classGuess) summary(w io.Writer, out string) {
	read, placed := 0, 0
	for _, f := range g.files {
		read++
		if f.Exercise != "" {
			placed++
		}
	}
	taken := 0
	for _, byName := range g.takes {
		for _, fs := range byName {
			taken += len(fs)
		}
	}
	dest := "above"
	if out != "" {
		dest = "in " + out
	}
	fmt.Fprintf(w, "netgrade course guess: %s of %s: %d read as an exercise, %d taken by the names proposed %s.\n",
		plural(read, "source file"), plural(g.students, "student"), placed, taken, dest)
	if len(g.left) > 0 {
		fmt.Fprintf(w, "Not placed (%d):\n", len(g.left))
		for _, u := range g.left {
			fmt.Fprintf(w, "  %s: %s\n", render.Terminal(u.File.String(), false), render.Terminal(u.Reason, false))
		}
	}
}
