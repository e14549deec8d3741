package apispec

import (
	"bytes"
	"encoding/json"
	"html"
	"mime"
	"regexp"
	"strings"
)

// Kind is what a response body turned out to be.
type Kind string

// The kinds of bodies Recognise tells apart.
const (
	// Empty is a body of no bytes.
	Empty Kind = "empty"
	// JSON is a body that parses as JSON.
	JSON Kind = "json"
	// PythonRepr is a Python value written with str() or print instead of
	// json.dumps: {'id': 1}, True, False, None.
	PythonRepr Kind = "python-repr"
	// PythonBytes is the str() of a bytes object: b'{"id": 1}'.
	PythonBytes Kind = "python-bytes"
	// HTML is an HTML page: a framework's error page, a traceback page, or
	// the student's own.
	HTML Kind = "html"
	// Traceback is a Python traceback sent as text.
	Traceback Kind = "traceback"
	// Text is anything else.
	Text Kind = "text"
)

// Recognised is what a body is, its decoded value when it has one, and
// its name for a student.
type Recognised struct {
	Kind Kind
	// Value is the decoded value of a JSON body, and of a Python literal
	// (read as the JSON it should have been), else nil.
	Value any
	// Name names the body for a student, e.g. "Flask's default 404 page".
	Name string
	// Exception is the last line of a traceback the body shows, if any.
	Exception string
	// Advice says what to change, in the vocabulary of the course, as
	// one or two sentences.
	Advice string
}

// Decodable reports whether the body has a value the checks can read:
// JSON, or a Python literal read as the JSON it should have been.
func (r Recognised) Decodable() bool {
	return r.Kind == JSON || ((r.Kind == PythonRepr || r.Kind == PythonBytes) && r.Value != nil)
}

// htmlPage is one error page students' servers send, recognised by text
// it always holds.
type htmlPage struct {
	marks  []string
	name   string
	advice string
}

// pages are the error pages recognised, most specific first.
var pages = []htmlPage{
	{[]string{"Werkzeug Debugger"}, "Flask's debugger page (the app runs with debug=True)",
		"An exception was raised in your view function: catch the case (an unknown id, a bad body) and answer it, e.g. return jsonify({\"error\": \"not found\"}), 404."},
	{[]string{"<title>404 Not Found</title>", "The requested URL was not found on the server"}, "Flask's default 404 page",
		"abort(404) and unknown URLs give Flask's HTML page: return jsonify({\"error\": \"not found\"}), 404, or register an @app.errorhandler(404) that returns JSON."},
	{[]string{"<title>405 Method Not Allowed</title>", "The method is not allowed for the requested URL"}, "Flask's default 405 page",
		"Flask answers a method the route does not list with an HTML page: register an @app.errorhandler(405) that returns jsonify({\"error\": \"method not allowed\"}), 405."},
	{[]string{"<title>400 Bad Request</title>", "The browser (or proxy) sent a request that this server could not understand"}, "Flask's default 400 page",
		"request.get_json() answers a body that is not JSON with an HTML page: use request.get_json(silent=True) and return jsonify({\"error\": ...}), 400 when it gives None."},
	{[]string{"<title>500 Internal Server Error</title>", "The server encountered an internal error"}, "Flask's default 500 page (an exception in your view function)",
		"An exception was raised in your view function: look at the traceback the server printed."},
	{[]string{"<title>Error response</title>", "<p>Error code: 501</p>", "Unsupported method"}, "http.server's 501 page (the handler has no do_ method for this method)",
		"BaseHTTPRequestHandler answers a method it has no do_PUT/do_DELETE/... for with an HTML 501 page: write the method and answer 405 with a JSON body."},
	{[]string{"<title>Error response</title>", "<p>Error code: "}, "http.server's error page (self.send_error)",
		"send_error() writes an HTML page: send the status with self.send_response(404), the header Content-Type: application/json, and a JSON body such as {\"error\": \"not found\"}."},
}

var (
	tracebackLine = regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Interrupt|Exit)\b[^\n<]*)\s*$`)
	htmlStart     = regexp.MustCompile(`(?i)^\s*(<!doctype html|<html|<head|<body|<h1|<p>|<title)`)
)

// Recognise tells what a response body is, from its bytes and its
// Content-Type: JSON (decoded), a Python repr or bytes literal (decoded as
// the JSON it should have been), one of the error pages Flask and
// http.server send, a traceback, another HTML page, or text.
func Recognise(contentType string, body []byte) Recognised {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Recognised{Kind: Empty, Name: "an empty body"}
	}
	var v any
	if err := json.Unmarshal(trimmed, &v); err == nil {
		return Recognised{Kind: JSON, Value: v, Name: "JSON"}
	}
	text := string(trimmed)
	if r, ok := recognisePython(text); ok {
		return r
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	isHTML := mt == "text/html" || htmlStart.MatchString(text)
	if isHTML {
		r := Recognised{Kind: HTML, Name: "an HTML page", Advice: "A JSON API answers with JSON: json.dumps(...) (Flask: jsonify(...)) and the header Content-Type: application/json."}
		for _, p := range pages {
			if containsAll(text, p.marks) {
				r.Name, r.Advice = p.name, p.advice
				break
			}
		}
		if exc := lastException(html.UnescapeString(stripTags(text))); exc != "" {
			r.Exception = exc
			if r.Name == "an HTML page" {
				r.Name = "a Python traceback page"
			}
			r.Name += ": " + exc
		}
		return r
	}
	if strings.Contains(text, "Traceback (most recent call last)") {
		exc := lastException(text)
		name := "a Python traceback"
		if exc != "" {
			name += ": " + exc
		}
		return Recognised{Kind: Traceback, Name: name, Exception: exc,
			Advice: "The server sent its traceback: catch the error and answer with a status and a JSON body."}
	}
	if text == "Internal Server Error" {
		return Recognised{Kind: Text, Name: "a plain-text 500 page (an exception in your function)",
			Advice: "An exception was raised while handling the request: look at the traceback the server printed."}
	}
	return Recognised{Kind: Text, Name: "text that is not JSON", Advice: "Send the body with json.dumps(...) (Flask: jsonify(...))."}
}

// recognisePython reads a body as a Python literal that is not JSON.
func recognisePython(text string) (Recognised, bool) {
	if strings.HasPrefix(text, "b'") || strings.HasPrefix(text, `b"`) {
		inner, err := parsePython(text)
		if err != nil {
			return Recognised{}, false
		}
		r := Recognised{Kind: PythonBytes, Name: "the str() of a bytes object (b'...')",
			Advice: "Writing str() of bytes puts b'...' around the text: write the bytes themselves, self.wfile.write(json.dumps(item).encode())."}
		s, _ := inner.(string)
		if v, err := decodeLenient(s); err == nil {
			r.Value = v
		}
		return r, true
	}
	v, err := parsePython(text)
	if err != nil {
		return Recognised{}, false
	}
	if _, isStr := v.(string); isStr {
		return Recognised{}, false // a bare quoted word is text, not a repr
	}
	return Recognised{Kind: PythonRepr, Value: v, Name: "a Python value written with str() or print, not JSON",
		Advice: "Python's str(item) writes single quotes and True, False, None; JSON is what json.dumps(item) writes: double quotes and true, false, null."}, true
}

// decodeLenient decodes JSON, or else a Python literal.
func decodeLenient(s string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v, nil
	}
	return parsePython(s)
}

func containsAll(s string, marks []string) bool {
	for _, m := range marks {
		if !strings.Contains(s, m) {
			return false
		}
	}
	return true
}

var tag = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return tag.ReplaceAllString(s, "") }

// lastException returns the last exception line of a traceback in text:
// "KeyError: 3".
func lastException(text string) string {
	if !strings.Contains(text, "Traceback (most recent call last)") && !strings.Contains(text, "Werkzeug Debugger") {
		return ""
	}
	ms := tracebackLine.FindAllStringSubmatch(text, -1)
	if len(ms) == 0 {
		return ""
	}
	return strings.TrimSpace(ms[len(ms)-1][1])
}
