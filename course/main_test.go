package course_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/reference"
)

// init lets the test binary stand in for netgrade when a test grades a
// reference implementation: the submission's command is this binary with
// `ref EXERCISE PORT`, and the forking reference re-executes it with its
// hidden child command. It also drops PYTHONUNBUFFERED, which this kind of
// machine sets and a student's does not. (An init function, not TestMain:
// it must run in the re-executed child too, which runs no test.)
func init() {
	if len(os.Args) > 1 && (os.Args[1] == "ref" || os.Args[1] == reference.ChildCommand) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code, _ := course.Dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Unsetenv("PYTHONUNBUFFERED")
}
