package pyenv

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// Alternative names the standard library's way to do what a third-party
// module a course's programs import does, or "".
func Alternative(module string) string {
	switch module {
	case "flask", "fastapi", "uvicorn", "starlette", "bottle", "aiohttp", "django", "pydantic":
		return "http.server"
	case "pytz", "dateutil":
		return "zoneinfo"
	case "requests", "httpx":
		return "urllib.request"
	}
	return ""
}

// DebianPackage is the Debian and Ubuntu package that installs module for
// /usr/bin/python3.
func DebianPackage(module string) string {
	switch module {
	case "pytz":
		return "python3-tz"
	case "yaml":
		return "python3-yaml"
	}
	return "python3-" + strings.ToLower(strings.ReplaceAll(module, "_", "-"))
}

// pipName is the name pip installs module by.
func pipName(module string) string {
	switch module {
	case "dateutil":
		return "python-dateutil"
	case "yaml":
		return "pyyaml"
	}
	return module
}

// orStdlib is the closing alternative of an advice: ", or use http.server
// from the standard library".
func orStdlib(module string) string {
	if alt := Alternative(module); alt != "" {
		return ", or use " + alt + " from the standard library"
	}
	return ", or use the standard library instead"
}

// Local is the advice for a program graded on the student's own machine
// (netgrade check, netgrade grade) that cannot import module: used is the
// interpreter that ran it (as the course names it, and the executable it
// resolved to; "" when unknown), command the netgrade command to run again ("netgrade
// check"), having the other interpreters here that have the module.
func Local(module, used, command string, having []string) string {
	who := "the Python that ran it"
	if used != "" {
		who = used + ", which ran it,"
	}
	if len(having) > 0 {
		other := having[0]
		return fmt.Sprintf("The program cannot import %s: %s does not have it, but %s has %s: `%s --python %s`, or `python: %s` in the course file.",
			module, who, other, module, command, other, other)
	}
	return fmt.Sprintf("The program cannot import %s: %s does not have it, nor does any other Python on this machine: install it (`pip install %s`, or `sudo apt-get install %s` on Debian and Ubuntu)%s.",
		module, who, pipName(module), DebianPackage(module), orStdlib(module))
}

// Grader is the advice for a program graded on a grading machine (a
// batch's sandbox, an autograder) that cannot import module: where names
// the interpreter that lacks it and where it lives ("python3 in the docker
// image netgrade-python:local"; "" when unknown), fix what the instructor can do about it
// (may be empty), having the other interpreters of the grading machine
// that have the module.
func Grader(module, where, fix string, having []string) string {
	who := "the grading machine's Python"
	if where != "" {
		who += " (" + where + ")"
	}
	s := fmt.Sprintf("The program cannot import %s: %s does not have it. Ask for it to be added there (%s)%s.",
		module, who, DebianPackage(module), orStdlib(module))
	switch {
	case len(having) > 0:
		s += fmt.Sprintf(" For the instructor: %s has %s; grade with `--python %s`, or `python: %s` in the course file.", having[0], module, having[0], having[0])
	case fix != "":
		s += " For the instructor: " + fix
	}
	return s
}

// Explain replaces the hint of every failed check of res whose program
// stopped because it could not import a module with advice(module): the
// check's own hint is about a program that ran, which this one never did.
// advice is asked once per module; an empty answer leaves the hints alone.
// It reports whether it changed anything.
func Explain(res *report.Result, advice func(module string) string) bool {
	asked := map[string]string{}
	changed := false
	for i := range res.Checks {
		c := &res.Checks[i]
		if c.Status != report.Fail {
			continue
		}
		mod := MissingModule(c.Traceback)
		if mod == "" {
			continue
		}
		a, ok := asked[mod]
		if !ok {
			a = advice(mod)
			asked[mod] = a
		}
		if a != "" {
			c.Hint = a
			changed = true
		}
	}
	return changed
}

// MissingModuleHint is a check's own advice for a module the grading
// machine lacks: the standard library's way where there is one. Where
// another interpreter of the machine has the module, an Advisor replaces
// it with where that interpreter is (Local, Grading).
func MissingModuleHint(mod string) string {
	switch mod {
	case "pytz":
		return "The grading machine does not have pytz: use zoneinfo from the standard library (from zoneinfo import ZoneInfo; datetime.now(ZoneInfo(\"Europe/Paris\"))), or ask for it to be installed."
	case "imp":
		return "The imp module is gone since Python 3.12: use importlib instead."
	case "requests":
		return "The grading machine does not have requests: use urllib.request from the standard library, or ask for it to be installed."
	case "flask", "fastapi", "uvicorn":
		return fmt.Sprintf("The grading machine has no %s: ask for it to be installed, or use http.server from the standard library.", mod)
	case "":
		return "A module the program imports is not installed on the grading machine: use the standard library, or ask for it to be installed."
	}
	return fmt.Sprintf("The grading machine does not have %s: use the standard library, or ask for it to be installed.", mod)
}
