package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Problem is one way a response differs from the document, in words a
// student understands: where in the body (a jq path such as ".id" or
// ".[0].done"), what the document wants there and what came.
type Problem struct {
	// Path is the jq path of the value: "." for the whole body.
	Path string
	// Keyword is the schema keyword that failed ("type", "required",
	// "enum", "additionalProperties", ...), or "status", "content-type",
	// "header" for what is not about the body.
	Keyword string
	// Wanted is what the document wants, e.g. "an integer".
	Wanted string
	// Got is what the response has, e.g. `the string "1"`.
	Got string
}

// String returns the problem as one sentence.
func (p Problem) String() string {
	where := "the body"
	if p.Path != "" && p.Path != "." {
		where = p.Path
	}
	switch p.Keyword {
	case "status", "content-type", "header":
		return fmt.Sprintf("the document wants %s; the response has %s", p.Wanted, p.Got)
	}
	return fmt.Sprintf("at %s the document wants %s; the response has %s", where, p.Wanted, p.Got)
}

// Problems joins problems into lines.
func Problems(ps []Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Ignore leaves some kinds of problems out of a validation, for a check
// that tolerates what another check judges.
type Ignore struct {
	// Missing leaves out fields the schema requires that are absent.
	Missing bool
	// Status leaves out a status the operation does not document.
	Status bool
}

// Validate judges one response against the document with
// openapi3filter.ValidateResponse: the status must be documented for the
// operation, the Content-Type must be one the response documents, and the
// body must match its schema. A request the document has no operation for
// gives no problem (another check judges it). The error is netgrade's own.
func (a *API) Validate(ctx context.Context, method, target string, status int, header http.Header, body []byte, ignore Ignore) ([]Problem, error) {
	route, params, ok := a.route(method, target)
	if !ok {
		return nil, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: httpRequest(method, target), PathParams: params, Route: route,
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: !ignore.Status},
	}
	in.SetBodyBytes(body)
	err := openapi3filter.ValidateResponse(ctx, in)
	return problems(err, ignore), nil
}

// ValidateValue judges a decoded response body against the schema the
// document gives the response: the one of status, or of the documented
// status it is accepted for (a 200 to a POST is judged as the 201, a 422
// as the 400). It judges types and values only; the status and the
// Content-Type are other checks' business, and a status the operation does
// not document gives no problem.
func (a *API) ValidateValue(ctx context.Context, method, target string, status int, value any, ignore Ignore) ([]Problem, error) {
	route, _, ok := a.route(method, target)
	if !ok {
		return nil, nil
	}
	documented, ok := a.JudgedAs(method, route.Path, status)
	if !ok {
		return nil, nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("encoding a decoded body again: %w", err)
	}
	ignore.Status = true
	header := http.Header{"Content-Type": {"application/json"}}
	if ref := route.Operation.Responses.Status(documented); ref != nil && ref.Value != nil && len(ref.Value.Content) == 0 {
		return nil, nil // documented without a body (204): nothing to judge
	}
	ps, err := a.Validate(ctx, method, target, documented, header, raw, ignore)
	var out []Problem
	for _, p := range ps {
		if p.Keyword != "content-type" && p.Keyword != "header" {
			out = append(out, p)
		}
	}
	return out, err
}

// route finds the operation of a request, by method and target.
func (a *API) route(method, target string) (*routers.Route, map[string]string, bool) {
	route, params, err := a.router.FindRoute(httpRequest(method, target))
	if err != nil || route == nil || route.Operation == nil {
		return nil, nil, false
	}
	return route, params, true
}

// httpRequest builds the request the router matches: only its method and
// URL matter.
func httpRequest(method, target string) *http.Request {
	req, err := http.NewRequest(method, "http://localhost"+target, nil)
	if err != nil {
		req, _ = http.NewRequest(method, "http://localhost/", nil)
	}
	return req
}

// problems turns what openapi3filter returned into problems.
func problems(err error, ignore Ignore) []Problem {
	if err == nil {
		return nil
	}
	var out []Problem
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	if len(schemaErrs) > 0 {
		for _, se := range schemaErrs {
			p := schemaProblem(se)
			if ignore.Missing && p.Keyword == "required" {
				continue
			}
			out = append(out, p)
		}
		return dedupe(out)
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.Reason == "status is not supported":
			if !ignore.Status {
				out = append(out, Problem{Keyword: "status", Wanted: "a status it documents for this request", Got: strconv.Itoa(re.Input.Status)})
			}
			return out
		case strings.Contains(re.Reason, "header Content-Type has unexpected value"):
			got := re.Input.Header.Get("Content-Type")
			if got == "" {
				got = "no Content-Type"
			} else {
				got = "Content-Type: " + got
			}
			return []Problem{{Keyword: "content-type", Wanted: "Content-Type: application/json", Got: got}}
		case strings.HasPrefix(re.Reason, "response header"):
			return []Problem{{Keyword: "header", Wanted: "the headers it documents", Got: re.Error()}}
		case re.Reason == "failed to decode response body":
			return []Problem{{Path: ".", Keyword: "json", Wanted: "a JSON body", Got: "a body that is not JSON"}}
		}
	}
	return []Problem{{Path: ".", Keyword: "document", Wanted: "what it describes", Got: plainSchemaError(err)}}
}

// collectSchemaErrors gathers the schema errors of an error tree: a
// ResponseError wraps a MultiError of SchemaErrors, which may nest.
func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		*out = append(*out, se)
	}
}

// quoted finds the first quoted name in a reason such as
// `property "id" is missing`.
var quoted = regexp.MustCompile(`"([^"]*)"`)

// schemaProblem words one schema error.
func schemaProblem(se *openapi3.SchemaError) Problem {
	ptr := se.JSONPointer()
	p := Problem{Path: jqPath(ptr), Keyword: se.SchemaField, Got: Describe(se.Value)}
	s := se.Schema
	switch se.SchemaField {
	case "type", "nullable":
		p.Keyword = "type"
		p.Wanted = typeName(s)
	case "required":
		name := ""
		if m := quoted.FindStringSubmatch(se.Reason); m != nil {
			name = m[1]
		}
		if len(ptr) == 0 || ptr[len(ptr)-1] != name {
			p.Path = jqPath(append(ptr, name))
		}
		p.Wanted = fmt.Sprintf("a field %q", name)
		if prop := s.Properties[name]; prop != nil && prop.Value != nil {
			p.Wanted += " holding " + typeName(prop.Value)
		}
		p.Got = "no such field"
	case "properties", "additionalProperties":
		name := ""
		if m := quoted.FindStringSubmatch(se.Reason); m != nil {
			name = m[1]
		}
		p.Keyword = "additionalProperties"
		p.Path = jqPath(append(ptr, name))
		p.Wanted = "no such field (the schema allows only " + quotedList(sortedKeys(s.Properties)) + ")"
		p.Got = fmt.Sprintf("a field %q", name)
	case "enum":
		var vals []string
		for _, v := range s.Enum {
			vals = append(vals, Describe(v))
		}
		p.Wanted = "one of " + strings.Join(vals, ", ")
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
		p.Wanted = "a number " + strings.TrimPrefix(se.Reason, "number must be ")
	case "minLength":
		p.Wanted = fmt.Sprintf("a string of at least %d characters", s.MinLength)
	case "maxLength":
		p.Wanted = fmt.Sprintf("a string of at most %d characters", *s.MaxLength)
	case "minItems", "maxItems":
		p.Wanted = "a list where the " + se.Reason
	case "format":
		p.Wanted = FormatWords(s.Format)
	case "pattern":
		p.Wanted = PatternWords(s)
	default:
		p.Wanted = "a value that satisfies " + se.SchemaField + " (" + se.Reason + ")"
	}
	return p
}

// formatWords say in a sentence what each string format the course may
// use holds, with a valid example.
var formatWords = map[string]string{
	"date":      "a date as YYYY-MM-DD, e.g. 2024-01-01",
	"date-time": "an RFC 3339 date-time with a zone, e.g. 2024-01-01T09:00:00Z (Python: datetime.now(timezone.utc).isoformat(); a naive datetime's isoformat() has no zone)",
	"email":     "an e-mail address, e.g. student@example.com",
	"uuid":      "a UUID, e.g. 123e4567-e89b-42d3-a456-426614174000 (Python: str(uuid.uuid4()))",
	"uri":       "an absolute URI, e.g. https://example.com/page",
	"url":       "an absolute URL, e.g. https://example.com/page",
	"ipv4":      "an IPv4 address, e.g. 192.0.2.10",
	"ipv6":      "an IPv6 address, e.g. 2001:db8::1",
	"byte":      "base64-encoded bytes, e.g. aGVsbG8=",
}

// FormatWords says what a string of a format holds, with an example.
func FormatWords(format string) string {
	if w, ok := formatWords[format]; ok {
		return w
	}
	return fmt.Sprintf("a string of the format %q", format)
}

// PatternWords says what a string with a pattern must be, with an example
// drawn from the pattern (or the schema's own example).
func PatternWords(s *openapi3.Schema) string {
	w := fmt.Sprintf("a string matching the pattern %s", s.Pattern)
	ex, ok := s.Example.(string)
	if !ok {
		g := NewGenerator(&openapi3.Schema{}, Seed)
		if v, made := g.fromPattern(s); made {
			ex, ok = v, true
		}
	}
	if ok {
		w += fmt.Sprintf(", e.g. %q", ex)
	}
	return w
}

// quotedList writes names as "a", "b" and "c".
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// identifier matches a key jq writes without quotes.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// jqPath writes a JSON pointer's segments as a jq path: ".id", ".[0].done".
func jqPath(ptr []string) string {
	if len(ptr) == 0 {
		return "."
	}
	var b strings.Builder
	for _, seg := range ptr {
		switch _, err := strconv.Atoi(seg); {
		case err == nil && b.Len() == 0:
			b.WriteString(".[" + seg + "]")
		case err == nil:
			b.WriteString("[" + seg + "]")
		case identifier.MatchString(seg):
			b.WriteString("." + seg)
		default:
			b.WriteString("[" + strconv.Quote(seg) + "]")
		}
	}
	return b.String()
}

func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	var out []Problem
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Describe names a decoded JSON value for a student: `the string "1"`,
// `the number 3`, `true`, `null`, `a list of 2 items`, `an object`.
func Describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 60 {
			x = x[:60] + "…"
		}
		return "the string " + strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return "the number " + strconv.FormatFloat(x, 'f', -1, 64)
	case int, int64:
		return fmt.Sprintf("the number %d", x)
	case json.Number:
		return "the number " + x.String()
	case []any:
		if len(x) == 1 {
			return "a list of 1 item"
		}
		return fmt.Sprintf("a list of %d items", len(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return "an empty object"
		}
		return "an object with " + quotedList(keys)
	}
	return fmt.Sprintf("%v", v)
}

// plainSchemaError returns a schema error's message without the schema and
// value dumps kin-openapi appends ("\nSchema:\n ...").
func plainSchemaError(err error) string {
	var lines []string
	for _, part := range strings.Split(err.Error(), " | ") {
		if i := strings.Index(part, "\nSchema:"); i >= 0 {
			part = part[:i]
		}
		lines = append(lines, strings.TrimSpace(part))
	}
	return strings.Join(lines, "; ")
}

// Compact encodes a value as compact JSON for messages, with Go's
// HTML escaping off so that <, > and & stay readable.
func Compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
