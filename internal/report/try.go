package report

// Try is how a student sees a failed check's failure by hand, with the
// course's own tools (nc, curl, faketime, netgrade serve): a few shell
// commands with the check's port and texts filled in, in order. It is
// derived from the check's transcript (internal/repro), never written by
// the check, and never given for a check the student may not read.
type Try struct {
	Steps []TryStep `json:"steps"`
	// Look says what to look for in what the commands show: the failure
	// the check describes.
	Look string `json:"look,omitempty"`
}

// TryStep is one command of a Try.
type TryStep struct {
	// Say is what the command does, for the reader.
	Say string `json:"say"`
	// Run is the shell command (sh syntax), on one line.
	Run string `json:"run"`
	// Keep marks a command that keeps running (a server, a listener):
	// start it in a terminal of its own, then go on with the next steps
	// in another; stop it with Ctrl-C once done.
	Keep bool `json:"keep,omitempty"`
}
