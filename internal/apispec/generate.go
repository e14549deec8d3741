package apispec

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/getkin/kin-openapi/openapi3"
)

// Seed is the seed of the bodies the checks send: the same requests every
// run, so a verdict never depends on a draw.
const Seed = 20240611

// BodyKind says what a generated request body is.
type BodyKind string

// The kinds of generated bodies.
const (
	// Valid bodies follow the schema.
	Valid BodyKind = "valid"
	// Malformed bodies are not JSON at all.
	Malformed BodyKind = "malformed"
	// NotObject bodies are JSON, but an array where an object is due.
	NotObject BodyKind = "not-object"
	// MissingField bodies lack one required field.
	MissingField BodyKind = "missing-field"
	// WrongType bodies have one field of the wrong JSON type.
	WrongType BodyKind = "wrong-type"
	// ExtraField bodies have a field the schema forbids
	// (additionalProperties: false).
	ExtraField BodyKind = "extra-field"
)

// Body is a request body to send, with what it is for a student.
type Body struct {
	Kind BodyKind
	// What describes the body in a failure message, e.g. "a body without
	// the required field \"title\"".
	What string
	// Field is the field a faulty body is about.
	Field string
	// Value is the body as a value (nil for a malformed body).
	Value map[string]any
	// Raw is the bytes sent.
	Raw []byte
}

// Generator makes request bodies from a schema, deterministically: two
// generators with the same schema and seed make the same bodies in the
// same order. Strings are unique within a generator (a serial number
// follows the words), so that an item can be told from another.
type Generator struct {
	schema *openapi3.Schema
	rnd    *rand.Rand
	faker  *gofakeit.Faker
	serial int
	// greet makes the next non-ASCII string the course's "các bạn".
	greet bool
	// field is the property whose value is being generated.
	field string
	// seen are the strings generated so far, by field; fixed the fields
	// whose value could not be varied from one body to the next.
	seen  map[string]map[string]bool
	fixed map[string]bool
}

// NewGenerator returns a generator of bodies for an object schema.
func NewGenerator(schema *openapi3.Schema, seed uint64) *Generator {
	return &Generator{schema: schema, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		faker: gofakeit.New(seed), seen: map[string]map[string]bool{}, fixed: map[string]bool{}}
}

// Unvaried returns the string fields whose value the generator could not
// vary from one body to the next (a pattern or an enum with few values, a
// maxLength too short for a serial number), sorted: two items created
// from its bodies may be refused as duplicates, which is then no fault of
// the API's.
func (g *Generator) Unvaried() []string {
	out := make([]string, 0, len(g.fixed))
	for f := range g.fixed {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// topLevel reports whether s is the schema of the body's current field
// itself (not of an element of a list it holds).
func (g *Generator) topLevel(s *openapi3.Schema) bool {
	ref := g.schema.Properties[g.field]
	return ref != nil && ref.Value == s
}

// unique records a generated string of the current field and reports
// whether it differs from every earlier one.
func (g *Generator) unique(v string) bool {
	m := g.seen[g.field]
	if m == nil {
		m = map[string]bool{}
		g.seen[g.field] = m
	}
	if m[v] {
		return false
	}
	m[v] = true
	return true
}

// asciiWords and unicodeWords are what generated strings are made of; the
// non-ASCII ones are the course's own greeting and its neighbours.
var (
	asciiWords   = []string{"buy milk", "read chapter 3", "water the plants", "call the library", "write the report", "fix the bike", "learn sockets", "walk the dog"}
	unicodeWords = []string{"các bạn", "học lập trình mạng", "Đà Lạt", "café crème", "naïve résumé", "Grüße aus Köln"}
)

// Full returns a valid body with every property of the schema, ASCII
// strings, and booleans with a default set to the other value (so that a
// server that ignores them is seen).
func (g *Generator) Full() Body {
	v := g.object(g.schema, true, false)
	return body(Valid, "a body with every field", "", v)
}

// Minimal returns a valid body with only the required properties.
func (g *Generator) Minimal() Body {
	v := g.object(g.schema, false, false)
	return body(Valid, "a body with only the required fields", "", v)
}

// NonASCII returns a valid body with every property and non-ASCII
// strings ("các bạn" first).
func (g *Generator) NonASCII() Body {
	g.greet = true
	v := g.object(g.schema, true, true)
	return body(Valid, "a body with non-ASCII text", "", v)
}

// Invalid returns bodies the server must reject, derived from a fresh
// full body: one that is not JSON, one that is a JSON array holding the
// object, then for each required field one without it, for each field one where it has the wrong type, and when the
// schema forbids other fields, one with an extra field.
func (g *Generator) Invalid() []Body {
	fresh := func() map[string]any { return g.object(g.schema, true, false) }
	raw, _ := json.Marshal(fresh())
	out := []Body{{
		Kind: Malformed, What: "a body that is not JSON (its closing } is missing)",
		Raw: raw[:len(raw)-1],
	}, {
		Kind: NotObject, What: "a body that is a JSON array, not an object",
		Raw: func() []byte { r, _ := json.Marshal(fresh()); return append(append([]byte("["), r...), ']') }(),
	}}
	for _, name := range sortedRequired(g.schema) {
		v := fresh()
		delete(v, name)
		out = append(out, body(MissingField, fmt.Sprintf("a body without the required field %q", name), name, v))
	}
	for _, name := range sortedKeys(g.schema.Properties) {
		p := g.schema.Properties[name].Value
		if p == nil {
			continue
		}
		wrong, what := wrongValue(p)
		v := fresh()
		v[name] = wrong
		out = append(out, body(WrongType, fmt.Sprintf("a body whose field %q is %s instead of %s", name, what, typeName(p)), name, v))
	}
	if forbidsExtra(g.schema) {
		name := extraName(g.schema)
		v := fresh()
		v[name] = "surprise"
		out = append(out, body(ExtraField, fmt.Sprintf("a body with a field %q the document does not allow (additionalProperties: false)", name), name, v))
	}
	return out
}

// Expected returns what an item created (or replaced) from a valid body
// holds: the body's fields, and the default of every property the body
// left out that has one.
func Expected(schema *openapi3.Schema, sent map[string]any) map[string]any {
	out := clone(sent)
	for name, ref := range schema.Properties {
		if _, ok := out[name]; ok || ref.Value == nil || ref.Value.Default == nil {
			continue
		}
		out[name] = normalise(ref.Value.Default)
	}
	return out
}

func body(kind BodyKind, what, field string, v map[string]any) Body {
	raw, _ := json.Marshal(v)
	return Body{Kind: kind, What: what, Field: field, Value: v, Raw: raw}
}

// normalise turns a value into what encoding/json decodes it to, so that
// defaults and generated values compare with decoded responses.
func normalise(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return v
	}
	return out
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys(m openapi3.Schemas) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedRequired(s *openapi3.Schema) []string {
	r := slices.Clone(s.Required)
	sort.Strings(r)
	return r
}

// forbidsExtra reports whether an object schema rejects properties it does
// not list.
func forbidsExtra(s *openapi3.Schema) bool {
	return s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
}

// extraName returns a property name the schema does not have.
func extraName(s *openapi3.Schema) string {
	for _, n := range []string{"extra", "priority", "owner", "unexpected_field"} {
		if _, ok := s.Properties[n]; !ok {
			return n
		}
	}
	return "x_netgrade_extra"
}

// object generates an object: every property when all, else only the
// required ones; the values are normalised to what encoding/json decodes.
func (g *Generator) object(s *openapi3.Schema, all, unicode bool) map[string]any {
	out := map[string]any{}
	for _, name := range sortedKeys(s.Properties) {
		ref := s.Properties[name]
		if ref.Value == nil || ref.Value.ReadOnly {
			continue
		}
		required := slices.Contains(s.Required, name)
		if !all && !required {
			continue
		}
		if s == g.schema {
			g.field = name
		}
		v, ok := g.value(ref.Value, all, unicode)
		if !ok && !required {
			continue // an optional field netgrade cannot make a value for
		}
		out[name] = normalise(v)
	}
	return out
}

// value generates a valid value of a schema; ok is false when it could
// not make one (a pattern it cannot generate from, with no example).
func (g *Generator) value(s *openapi3.Schema, all, unicode bool) (any, bool) {
	if len(s.Enum) > 0 {
		v := s.Enum[g.rnd.IntN(len(s.Enum))]
		if str, ok := v.(string); ok && g.topLevel(s) && !g.unique(str) {
			g.fixed[g.field] = true // a few values for many bodies
		}
		return v, true
	}
	switch {
	case s.Type.Is("boolean"):
		if d, ok := s.Default.(bool); ok {
			return !d, true
		}
		return g.rnd.IntN(2) == 1, true
	case s.Type.Is("integer"):
		lo, hi := bounds(s, 1, 1000)
		return lo + g.rnd.Int64N(hi-lo+1), true
	case s.Type.Is("number"):
		lo, hi := bounds(s, 1, 1000)
		return float64(lo) + float64(g.rnd.IntN(int(hi-lo)*100+1))/100, true
	case s.Type.Is("string"):
		return g.str(s, unicode)
	case s.Type.Is("array"):
		n := max(1, int(s.MinItems))
		if s.MaxItems != nil && uint64(n) > *s.MaxItems {
			n = int(*s.MaxItems)
		}
		items := make([]any, 0, n)
		for range n {
			if s.Items != nil && s.Items.Value != nil {
				v, ok := g.value(s.Items.Value, all, unicode)
				if !ok {
					return nil, false
				}
				items = append(items, v)
			}
		}
		return items, true
	case s.Type.Is("object"):
		return g.object(s, all, unicode), true
	}
	if s.Example != nil {
		return s.Example, true
	}
	if s.Type == nil || len(s.Type.Slice()) == 0 {
		// A schema without a type ({}, "any value"): a string serves.
		return g.str(&openapi3.Schema{}, unicode)
	}
	return nil, true
}

// bounds returns the integer range a number schema allows, within the
// given default range when it sets none.
func bounds(s *openapi3.Schema, lo, hi int64) (int64, int64) {
	if s.Min != nil {
		lo = int64(*s.Min)
		if s.ExclusiveMin.IsTrue() {
			lo++
		}
		if s.Max == nil {
			hi = lo + 999
		}
	}
	if s.Max != nil {
		hi = int64(*s.Max)
		if s.ExclusiveMax.IsTrue() {
			hi--
		}
		if s.Min == nil {
			lo = hi - 999
		}
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// patternTries is how many strings the generator draws from a pattern
// before it settles for one it drew before.
const patternTries = 20

// str generates a string within the schema's length bounds that differs
// from every other the generator made for the field when the schema lets
// it: a serial number follows the words, a format the course may use gets
// a value of that format with the serial in it, and a pattern gets a
// string drawn from it (gofakeit's Regex, seeded) or its example. ok is
// false when no valid string could be made.
func (g *Generator) str(s *openapi3.Schema, unicode bool) (string, bool) {
	g.serial++
	var v string
	switch s.Format {
	case "date":
		v = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.serial).Format(time.DateOnly)
	case "date-time":
		v = time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(g.serial) * time.Hour).Format(time.RFC3339)
	case "email":
		v = fmt.Sprintf("student%d@example.com", g.serial)
	case "uri", "url":
		v = fmt.Sprintf("https://example.com/%d", g.serial)
	case "uuid":
		v = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", g.rnd.Uint32(), g.rnd.IntN(1<<16), g.serial%4096, g.rnd.IntN(4096), g.rnd.Uint64()&(1<<48-1))
	case "ipv4":
		v = fmt.Sprintf("10.%d.%d.%d", g.serial/65536%256, g.serial/256%256, g.serial%256)
	default:
		if s.Pattern != "" {
			return g.fromPattern(s)
		}
		words := asciiWords
		if unicode {
			words = unicodeWords
		}
		w := words[g.rnd.IntN(len(words))]
		if unicode && g.greet {
			w, g.greet = unicodeWords[0], false
		}
		v = fmt.Sprintf("%s %d", w, g.serial)
		if s.MaxLength != nil && uint64(len([]rune(v))) > *s.MaxLength {
			// Keep the serial: it is what tells this item from the others.
			serial := fmt.Sprint(g.serial)
			if room := int(*s.MaxLength) - len(serial) - 1; room > 0 {
				v = string([]rune(w)[:min(room, len([]rune(w)))]) + " " + serial
			}
		}
	}
	if s.MaxLength != nil && uint64(len([]rune(v))) > *s.MaxLength {
		v = string([]rune(v)[:*s.MaxLength])
	}
	for uint64(len([]rune(v))) < s.MinLength {
		v += "x"
	}
	if !g.unique(v) {
		g.fixed[g.field] = true
	}
	return v, true
}

// fromPattern draws a string matching the schema's pattern, different from
// the ones drawn before when it can; else the example, if it matches; ok
// is false when neither gives a valid string.
func (g *Generator) fromPattern(s *openapi3.Schema) (string, bool) {
	re, err := regexp.Compile(s.Pattern)
	if err != nil {
		return "", false
	}
	valid := func(v string) bool {
		n := uint64(len([]rune(v)))
		return re.MatchString(v) && n >= s.MinLength && (s.MaxLength == nil || n <= *s.MaxLength)
	}
	var drawn string
	for range patternTries {
		v := g.faker.Regex(s.Pattern)
		if !valid(v) {
			continue
		}
		if drawn == "" {
			drawn = v
		}
		if !g.seen[g.field][v] {
			g.unique(v)
			return v, true
		}
	}
	if drawn == "" {
		if ex, ok := s.Example.(string); ok && valid(ex) {
			drawn = ex
		} else {
			return "", false
		}
	}
	if !g.unique(drawn) {
		g.fixed[g.field] = true
	}
	return drawn, true
}

// wrongValue returns a value of another JSON type than the schema's, and
// its description.
func wrongValue(s *openapi3.Schema) (any, string) {
	switch {
	case s.Type.Is("string"):
		return 12345, "the number 12345"
	case s.Type.Is("boolean"):
		return "yes", `the string "yes"`
	case s.Type.Is("integer"), s.Type.Is("number"):
		return "not a number", `the string "not a number"`
	case s.Type.Is("array"):
		return "not a list", `the string "not a list"`
	default:
		return "not an object", `the string "not an object"`
	}
}

// typeName names a schema's type for a student: "a string", "an integer"...
func typeName(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return "any JSON value"
	}
	var names []string
	for _, t := range s.Type.Slice() {
		switch t {
		case "string":
			names = append(names, "a string")
		case "integer":
			names = append(names, "an integer")
		case "number":
			names = append(names, "a number")
		case "boolean":
			names = append(names, "true or false")
		case "array":
			names = append(names, "a JSON array")
		case "object":
			names = append(names, "a JSON object")
		case "null":
			names = append(names, "null")
		}
	}
	if s.Nullable {
		names = append(names, "null")
	}
	if len(names) == 0 {
		return "any JSON value"
	}
	return strings.Join(names, " or ")
}

// checkGenerable generates the bodies of every operation the checks use
// and validates them against their own schema: a document whose schema
// netgrade cannot satisfy (a required field with a pattern it cannot draw
// from, and no example) is refused when it is loaded, not when a student
// is graded. An optional field netgrade cannot make a value for is left
// out of the bodies.
func (a *API) checkGenerable() error {
	type body struct {
		method, path string
		schema       *openapi3.Schema
	}
	bodies := []body{{"post", a.Collection.Path, a.Collection.Create}}
	if a.Collection.Replace != nil {
		bodies = append(bodies, body{"put", a.Collection.ItemPath, a.Collection.Replace})
	}
	for _, bd := range bodies {
		g := NewGenerator(bd.schema, Seed)
		for _, b := range []Body{g.Full(), g.Minimal(), g.NonASCII()} {
			err := bd.schema.VisitJSON(b.Value, openapi3.MultiErrors())
			if err == nil {
				continue
			}
			var errs []*openapi3.SchemaError
			collectSchemaErrors(err, &errs)
			field, why := "", plainSchemaError(err)
			if len(errs) > 0 {
				if ptr := errs[0].JSONPointer(); len(ptr) > 0 {
					field = ptr[0]
				}
				why = schemaProblem(errs[0]).Wanted
			}
			e := &Error{Pointer: pointer("paths", bd.path, bd.method, "requestBody", "content", "application/json", "schema"),
				Problem: fmt.Sprintf("netgrade cannot make a valid request body for %s %s (it made %s): give the schema's fields values netgrade can generate", strings.ToUpper(bd.method), bd.path, b.Raw)}
			if field != "" {
				e.Pointer += pointer("properties", field)
				e.Problem = fmt.Sprintf("netgrade cannot make a value of the required field %q of %s %s, which must be %s: give the field an example that matches (example: … beside its pattern; FastAPI: Field(..., example=…))", field, strings.ToUpper(bd.method), bd.path, why)
			}
			return e
		}
	}
	return nil
}
