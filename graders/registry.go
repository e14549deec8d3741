package graders

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/internal/suggest"
)

// Registry is the set of exercises netgrade knows, in course order.
type Registry struct {
	list []*Exercise
}

// NewRegistry returns a registry of the given exercises. It panics on a
// duplicate ID or a check that needs an unknown or later check: those are
// programming errors caught by the tests, not input errors.
func NewRegistry(exs ...*Exercise) *Registry {
	seen := map[string]bool{}
	for _, e := range exs {
		if seen[e.ID] {
			panic("duplicate exercise " + e.ID)
		}
		seen[e.ID] = true
		checks := map[string]bool{}
		for _, c := range e.Checks {
			if !strings.HasPrefix(c.ID, e.ID+"/") {
				panic(fmt.Sprintf("check %s is not under exercise %s", c.ID, e.ID))
			}
			if checks[c.ID] {
				panic("duplicate check " + c.ID)
			}
			for _, n := range c.Needs {
				if !checks[n] {
					panic(fmt.Sprintf("check %s needs %s, which is not an earlier check", c.ID, n))
				}
			}
			checks[c.ID] = true
		}
	}
	return &Registry{list: exs}
}

// Exercises returns the exercises in course order.
func (r *Registry) Exercises() []*Exercise { return r.list }

// Get returns the exercise with the given ID. An unknown ID's error
// suggests the closest known one and lists them in course order.
func (r *Registry) Get(id string) (*Exercise, error) {
	for _, e := range r.list {
		if e.ID == id {
			return e, nil
		}
	}
	ids := make([]string, 0, len(r.list))
	for _, e := range r.list {
		ids = append(ids, e.ID)
	}
	return nil, fmt.Errorf("unknown exercise %q%s; known exercises: %s", id, suggest.DidYouMean(id, ids), strings.Join(ids, ", "))
}
