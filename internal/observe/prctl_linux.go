package observe

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childSubreaper reports whether netgrade is a child subreaper
// (PR_SET_CHILD_SUBREAPER): orphans of its descendants become its children.
func childSubreaper() bool {
	var flag int32
	// The kernel writes an int through the pointer: the conversion stays
	// in the call expression, which keeps flag alive and in place.
	_, _, errno := syscall.Syscall(syscall.SYS_PRCTL, unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&flag)), 0)
	return errno == 0 && flag != 0
}
