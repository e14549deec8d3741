// Package layers holds the test that netgrade's packages import only
// downward, as docs/architecture.md draws them: each package sits in one
// layer and imports only packages of the layers below it, never one of its
// own layer (no chapter imports another chapter). It has no code.
package layers
