package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// placeholder matches {name} in a command template.
var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// Expand fills the placeholders of a command template ({port}, {host},
// {message}, {file}, ...) with vars. A token that is exactly one placeholder
// whose variable is absent is dropped, so that the same template can be run
// "without arguments" for usage checks; other unknown placeholders are left
// as they are.
func Expand(template []string, vars map[string]string) []string {
	out := make([]string, 0, len(template))
	for _, tok := range template {
		if m := placeholder.FindStringSubmatch(tok); m != nil && m[0] == tok {
			if v, ok := vars[m[1]]; ok {
				out = append(out, v)
			}
			continue
		}
		out = append(out, placeholder.ReplaceAllStringFunc(tok, func(p string) string {
			if v, ok := vars[p[1:len(p)-1]]; ok {
				return v
			}
			return p
		}))
	}
	return out
}

// HasPlaceholders reports whether any token of the template holds a placeholder.
func HasPlaceholders(template []string) bool {
	for _, tok := range template {
		if placeholder.MatchString(tok) {
			return true
		}
	}
	return false
}

// FileCommand returns the command template that runs a submission file: a
// .py file (or any file without its run bit) under python3, others directly;
// args (a template such as {port}) follow.
func FileCommand(path string, args []string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("submission file: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("submission file %s is a directory; give the program file itself", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("submission file: %w", err)
	}
	if strings.HasSuffix(path, ".py") || st.Mode()&0o111 == 0 {
		return append([]string{"python3", abs}, args...), nil
	}
	return append([]string{abs}, args...), nil
}

// FileTemplate fills a course's run template with a submission file: a
// token that is exactly {file} becomes file, a token that is exactly {args}
// is replaced by args (no token when there are none), and {file} inside any
// other token is replaced in place. Other placeholders, such as {port} in
// args, are left for Expand, so that a course and a unit runner build the
// same command from the same template.
func FileTemplate(template []string, file string, args []string) []string {
	var out []string
	for _, tok := range template {
		switch tok {
		case "{file}":
			out = append(out, file)
		case "{args}":
			out = append(out, args...)
		default:
			out = append(out, strings.ReplaceAll(tok, "{file}", file))
		}
	}
	return out
}
