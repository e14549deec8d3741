package apispec

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Errors of Match.
var (
	// ErrNoPath is returned for a path the document does not describe.
	ErrNoPath = errors.New("the document describes no such path")
	// ErrMethod is returned for a method the path does not have.
	ErrMethod = errors.New("the path does not have this method")
)

// Route is an incoming request matched to the document's operation.
type Route struct {
	// Path is the path template, e.g. "/api/todos/{id}".
	Path string
	// Params are the path parameters, by name.
	Params map[string]string

	route *routers.Route
}

// Match finds the operation a request is for: ErrNoPath when the document
// has no such path, ErrMethod when the path lacks the method.
func (a *API) Match(r *http.Request) (Route, error) {
	route, params, err := a.router.FindRoute(r)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return Route{}, ErrMethod
	case err != nil || route == nil:
		return Route{}, ErrNoPath
	}
	return Route{Path: route.Path, Params: params, route: route}, nil
}

// RequestError is what is wrong with a request: a path parameter (an id
// that is not an integer) or the body.
type RequestError struct {
	// Param names the path parameter at fault; empty when it is the body.
	Param string
	// Reason says what is wrong.
	Reason string
	Err    error
}

func (e *RequestError) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("path parameter %s: %s", e.Param, e.Reason)
	}
	return "request body: " + e.Reason
}

func (e *RequestError) Unwrap() error { return e.Err }

// ValidateRequest validates a matched request against the document with
// openapi3filter.ValidateRequest (path parameters, Content-Type and body)
// and writes the schema's defaults into the body it leaves to read. A
// request the document rejects gives a *RequestError.
func (a *API) ValidateRequest(ctx context.Context, r *http.Request, m Route) error {
	in := &openapi3filter.RequestValidationInput{
		Request: r, PathParams: m.Params, Route: m.route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	err := openapi3filter.ValidateRequest(ctx, in)
	if err == nil {
		return nil
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		out := &RequestError{Reason: re.Reason, Err: err}
		if re.Parameter != nil {
			out.Param = re.Parameter.Name
		}
		if re.Err != nil {
			out.Reason = plainSchemaError(re.Err)
			if re.Reason != "" && re.Reason != re.Err.Error() {
				out.Reason = re.Reason + ": " + out.Reason
			}
		}
		return out
	}
	return &RequestError{Reason: plainSchemaError(err), Err: err}
}
