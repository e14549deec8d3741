// Package guess tells, from what a source file contains, which exercise
// of the course it is, without running it: a SOCK_DGRAM socket that
// recvfrom()s is a UDP server, one that sendto()s without bind() a UDP
// client, a ForkingTCPServer a forking server, a counter of tickets the
// ticket seller, http.server with /date the HTTP server, smtplib an SMTP
// client. From the files of a class it proposes, per exercise, the names
// that would take them (Propose): `netgrade course guess` writes them as a
// course file the instructor reviews. Nothing is graded on a guess.
package guess

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Guess is what a file looks like.
type Guess struct {
	// Exercise is the exercise the file looks like, "" when none.
	Exercise string
	// Why names what in the file says so ("SOCK_DGRAM + recvfrom").
	Why string
}

// feature is a pattern of the source that says something about a file.
type feature struct {
	name string
	re   *regexp.Regexp
}

func f(name, re string) feature { return feature{name, regexp.MustCompile(re)} }

// The features the rules read, each named as the rule's Why shows it.
var (
	imaplib      = f("imaplib", `\bimaplib\b`)
	poplib       = f("poplib", `\bpoplib\b`)
	smtplib      = f("smtplib", `\bsmtplib\b`)
	flask        = f("Flask", `\b(from\s+flask\s+import|import\s+flask)\b`)
	fastapi      = f("FastAPI", `\b(from\s+fastapi\s+import|import\s+fastapi)\b`)
	httpServer   = f("http.server", `\b(http\.server|BaseHTTPRequestHandler|HTTPServer|aiohttp)\b`)
	httpText     = f("HTTP/1.x", `HTTP/1\.[01]`)
	datePath     = f("/date", `["']/date\b`)
	apiPath      = f("/api/", `["']/api\b|["']api["']`)
	ticket       = f("a ticket counter", `(?i)ticket`)
	forking      = f("ForkingTCPServer", `\b(ForkingTCPServer|ForkingMixIn)\b`)
	forks        = f("fork", `\bos\.fork\(|\bmultiprocessing\b`)
	threading    = f("ThreadingTCPServer", `\b(ThreadingTCPServer|ThreadingMixIn)\b`)
	threads      = f("threads", `\bThread\(|ThreadPoolExecutor|\bstart_new_thread\(|asyncio\.start_server`)
	socketserver = f("socketserver", `\b(socketserver|SocketServer|TCPServer|BaseRequestHandler|StreamRequestHandler)\b`)
	sleeps       = f("sleep", `\bsleep\(`)
	upper        = f("upper()", `\.upper\(\)`)
	dgram        = f("SOCK_DGRAM", `\bSOCK_DGRAM\b|DatagramProtocol|create_datagram_endpoint|\bUDPServer\b|DatagramRequestHandler`)
	recvfrom     = f("recvfrom", `\brecvfrom\(|datagram_received|\bUDPServer\b`)
	sendto       = f("sendto", `\bsendto\(`)
	bind         = f("bind", `\.bind\(|\bUDPServer\b`)
	socket       = f("socket", `\bsocket\.socket\(|\bsocket\(|\bcreate_connection\(|asyncio\.open_connection|asyncio\.start_server|create_server\(`)
	listen       = f("listen/accept", `\.listen\(|\.accept\(|create_server\(|asyncio\.start_server`)
	connect      = f("connect", `\.connect\(|create_connection\(|asyncio\.open_connection`)
	commentLine  = regexp.MustCompile(`(?m)^\s*#.*$`)
	trailing     = regexp.MustCompile(`(?m)\s+#[^"'\n]*$`)
)

// rule says which exercise a file with all of its features (and none of
// its excluded ones) is.
type rule struct {
	exercise string
	all      []feature
	anyOf    []feature
	none     []feature
}

// rules are tried in order: the most specific first (a ticket seller is a
// forking or threading server too; an HTTP server with /date may also
// serve /api/date).
var rules = []rule{
	{exercise: "imap-client", all: []feature{imaplib}},
	{exercise: "pop-client", all: []feature{poplib}},
	{exercise: "smtp-client", all: []feature{smtplib}},
	{exercise: "http-server", all: []feature{datePath}, anyOf: []feature{httpServer, flask, fastapi, httpText}},
	{exercise: "rest-api", all: []feature{apiPath}, anyOf: []feature{flask, fastapi, httpServer, httpText}},
	{exercise: "rest-api", anyOf: []feature{flask, fastapi}},
	{exercise: "http-server", anyOf: []feature{httpServer, httpText}, none: []feature{socketserver}},
	{exercise: "udp-server", all: []feature{dgram, recvfrom, bind}},
	{exercise: "udp-client", all: []feature{dgram, sendto}, none: []feature{bind}},
	{exercise: "udp-server", all: []feature{dgram, recvfrom}},
	{exercise: "udp-client", all: []feature{dgram}},
	{exercise: "tcp-tickets", all: []feature{ticket}, anyOf: []feature{socketserver, socket, threading, forking}},
	{exercise: "tcp-forking", all: []feature{forking}},
	{exercise: "tcp-threading", all: []feature{threading}},
	{exercise: "tcp-forking", all: []feature{socket, listen, forks}},
	{exercise: "tcp-threading", all: []feature{socket, listen, threads}},
	{exercise: "tcp-waiting", all: []feature{sleeps}, anyOf: []feature{socketserver, listen}},
	{exercise: "tcp-upper", all: []feature{upper}, anyOf: []feature{socketserver, listen}},
	{exercise: "tcp-server", all: []feature{socketserver}},
	{exercise: "tcp-server", all: []feature{socket, listen}},
	{exercise: "tcp-client", all: []feature{socket, connect}},
}

// Classify tells which exercise a source file looks like, from its text
// alone (comments left out).
func Classify(src []byte) Guess {
	code := commentLine.ReplaceAllString(string(src), "")
	code = trailing.ReplaceAllString(code, "")
	for _, r := range rules {
		if g, ok := r.match(code); ok {
			return g
		}
	}
	return Guess{}
}

// match applies a rule to code.
func (r rule) match(code string) (Guess, bool) {
	var why []string
	for _, ft := range r.all {
		if !ft.re.MatchString(code) {
			return Guess{}, false
		}
		why = append(why, ft.name)
	}
	if len(r.anyOf) > 0 {
		hit := ""
		for _, ft := range r.anyOf {
			if ft.re.MatchString(code) {
				hit = ft.name
				break
			}
		}
		if hit == "" {
			return Guess{}, false
		}
		why = append(why, hit)
	}
	for _, ft := range r.none {
		if ft.re.MatchString(code) {
			return Guess{}, false
		}
		why = append(why, "no "+ft.name)
	}
	return Guess{Exercise: r.exercise, Why: strings.Join(why, " + ")}, true
}

// File is one source file of a class, as Classify read it.
type File struct {
	// Student is the student's ID; Path the file's path in their folder
	// (forward slashes).
	Student, Path string
	Guess
}

// String names the file as the class holds it: STUDENT/PATH.
func (f File) String() string { return f.Student + "/" + f.Path }

// ExerciseNames is the names proposed for one exercise's file, first first.
type ExerciseNames struct {
	ID    string
	Names []string
}

// Unplaced is a file the proposal gives no exercise, with why.
type Unplaced struct {
	File
	Reason string
}

// Proposal is a course's file names proposed from a class.
type Proposal struct {
	// Exercises are the course's exercises, in course order.
	Exercises []ExerciseNames
	// Unplaced are the files no name of the proposal takes: their content
	// matches no exercise, or their name is another exercise's.
	Unplaced []Unplaced
}

// Propose proposes, for each exercise (in course order, each with its
// default name, such as udp-server.py), the names that take the class's
// files of it: the default name first, then the names students gave, the
// most used first. A name students gave to files of several exercises
// goes to the exercise it is the default name of, else to the one most of
// them are, when the folder it is in does not tell them apart
// (udp/server.py, tcp/server.py); the other files are left unplaced, and
// so are the files whose content matches no exercise.
func Propose(files []File, exercises []string, defaults map[string]string) Proposal {
	type use struct {
		count map[string]int // exercise -> files
		shown string         // the name as first written
	}
	byName := map[string]*use{}
	known := map[string]bool{}
	for _, e := range exercises {
		known[e] = true
	}
	var p Proposal
	var placed []File
	for _, f := range files {
		if f.Exercise == "" || !known[f.Exercise] {
			p.Unplaced = append(p.Unplaced, Unplaced{File: f, Reason: "its content matches no exercise of the course"})
			continue
		}
		placed = append(placed, f)
		key := strings.ToLower(baseName(f.Path))
		u := byName[key]
		if u == nil {
			u = &use{count: map[string]int{}, shown: baseName(f.Path)}
			byName[key] = u
		}
		u.count[f.Exercise]++
	}
	owner := func(key string) string {
		u := byName[key]
		for _, e := range exercises {
			if strings.EqualFold(defaults[e], key) && u.count[e] > 0 {
				return e
			}
		}
		best := ""
		for _, e := range exercises {
			if u.count[e] > u.count[best] {
				best = e
			}
		}
		return best
	}
	names := map[string]map[string]int{} // exercise -> name -> files
	add := func(e, name string) {
		if names[e] == nil {
			names[e] = map[string]int{}
		}
		names[e][name]++
	}
	// A name of several exercises: its folder may tell them apart.
	qualified := map[string]map[string]bool{} // lower parent/name -> exercises
	for _, f := range placed {
		if q := parentName(f.Path); q != "" {
			k := strings.ToLower(q)
			if qualified[k] == nil {
				qualified[k] = map[string]bool{}
			}
			qualified[k][f.Exercise] = true
		}
	}
	for _, f := range placed {
		key := strings.ToLower(baseName(f.Path))
		u := byName[key]
		if len(u.count) == 1 {
			add(f.Exercise, u.shown)
			continue
		}
		if q := parentName(f.Path); q != "" && len(qualified[strings.ToLower(q)]) == 1 {
			add(f.Exercise, q)
			continue
		}
		if o := owner(key); o == f.Exercise {
			add(f.Exercise, u.shown)
			continue
		}
		p.Unplaced = append(p.Unplaced, Unplaced{File: f, Reason: fmt.Sprintf("it reads as %s (%s), but %s is the name of %s files in this class: rename it, or give it its own name in the course file", f.Exercise, f.Why, u.shown, owner(key))})
	}
	for _, e := range exercises {
		ex := ExerciseNames{ID: e}
		def := defaults[e]
		if def != "" {
			if u := byName[strings.ToLower(def)]; u == nil || owner(strings.ToLower(def)) == e {
				ex.Names = append(ex.Names, def)
			}
		}
		var rest []string
		for n := range names[e] {
			if !strings.EqualFold(n, def) {
				rest = append(rest, n)
			}
		}
		sort.Slice(rest, func(i, j int) bool {
			if names[e][rest[i]] != names[e][rest[j]] {
				return names[e][rest[i]] > names[e][rest[j]]
			}
			return rest[i] < rest[j]
		})
		ex.Names = append(ex.Names, rest...)
		p.Exercises = append(p.Exercises, ex)
	}
	return p
}

// baseName is a slash path's last part.
func baseName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// parentName is a slash path's last two parts ("" for a file at the top).
func parentName(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) < 2 {
		return ""
	}
	return strings.Join(parts[len(parts)-2:], "/")
}
