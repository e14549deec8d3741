package report

// Wire answers the course's questions about a check's traffic, for the
// student's own program: how large a frame is beside the message it
// carries, what a TCP exchange costs in frames, what an eavesdropper
// reads.
type Wire struct {
	// Source is "capture" when the frames were counted in the check's
	// capture, "computed" when there was none and the sizes were computed
	// from the transcript (IPv4 on the loopback).
	Source string `json:"source"`
	// Lines are the answers, each a sentence without its full stop.
	Lines []string `json:"lines"`
}
