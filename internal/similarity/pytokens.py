# netgrade's similarity tokenizer: Python's own tokenize module, run once
# over many files. It reads a JSON list of paths on stdin and writes one
# JSON line per path, in order: {"toks": [[text, line, col, end_line,
# end_col], ...]} or {"error": "why"}. Names that are neither keywords nor
# builtins become N, strings S, numbers 0; comments and layout are dropped;
# INDENT and DEDENT, which are syntax in Python, become { and }.
import builtins, json, keyword, sys, tokenize

KEEP = set(dir(builtins))
DROP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.ENDMARKER}
FSTART = getattr(tokenize, "FSTRING_START", None)
FEND = getattr(tokenize, "FSTRING_END", None)


def tokens(path):
    out = []
    depth = 0
    with tokenize.open(path) as f:
        for t in tokenize.generate_tokens(f.readline):
            k = t.type
            if FSTART is not None and k == FSTART:
                if depth == 0:
                    start = t.start
                depth += 1
                continue
            if depth:
                if k == FEND:
                    depth -= 1
                    if depth == 0:
                        out.append(["S", start[0], start[1], t.end[0], t.end[1]])
                continue
            if k in DROP:
                continue
            if k == tokenize.NAME:
                s = t.string if keyword.iskeyword(t.string) or t.string in KEEP else "N"
            elif k == tokenize.STRING:
                s = "S"
            elif k == tokenize.NUMBER:
                s = "0"
            elif k == tokenize.INDENT:
                s = "{"
            elif k == tokenize.DEDENT:
                s = "}"
            elif k == tokenize.OP:
                s = t.string
            else:
                s = tokenize.tok_name.get(k, "?")
            if k == tokenize.INDENT:
                # An indent is syntax, not the spaces it spans.
                out.append([s, t.end[0], t.end[1], t.end[0], t.end[1]])
            else:
                out.append([s, t.start[0], t.start[1], t.end[0], t.end[1]])
    return out


def main():
    paths = json.load(sys.stdin)
    w = sys.stdout
    for p in paths:
        try:
            rec = {"toks": tokens(p)}
        except (SyntaxError, tokenize.TokenError, UnicodeDecodeError, LookupError, OSError, ValueError) as e:
            rec = {"error": "%s: %s" % (type(e).__name__, e)}
        w.write(json.dumps(rec))
        w.write("\n")
    w.flush()


main()
