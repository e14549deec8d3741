package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"
)

// parseMail parses a message as the server received it.
func parseMail(data []byte) (*mail.Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the message is not a valid RFC 5322 message: %w", err)
	}
	return msg, nil
}

// headerBlock returns the header of a raw message, for a failure.
func headerBlock(data []byte) string {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	if len(head) > 2000 {
		head = head[:2000]
	}
	return strings.TrimSpace(strings.ReplaceAll(string(head), "\r\n", "\n"))
}

// decodeWords decodes RFC 2047 encoded-words in a header value.
func decodeWords(v string) (string, error) {
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	return dec.DecodeHeader(v)
}

// charsetReader reads the charsets Python's email package uses besides
// UTF-8 (which mime decodes itself): Latin-1 for short Western texts.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		runes := make([]rune, len(b))
		for i, c := range b {
			runes[i] = rune(c)
		}
		return strings.NewReader(string(runes)), nil
	}
	return nil, fmt.Errorf("charset %q is not supported", charset)
}

// errNoText is returned for a message without a text/plain part.
var errNoText = errors.New("the message has no text/plain part")

// mailText returns a message's text: its body when it is text/plain (or
// has no Content-Type), else its first text/plain part, decoded according
// to its Content-Transfer-Encoding and charset.
func mailText(msg *mail.Message) (string, error) {
	return partText(textproto.MIMEHeader(msg.Header), msg.Body, 0)
}

func partText(h textproto.MIMEHeader, body io.Reader, depth int) (string, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("bad Content-Type %q: %w", ct, err)
	}
	if strings.HasPrefix(media, "multipart/") {
		if depth > 5 {
			return "", errNoText
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return "", errNoText
			}
			if err != nil {
				return "", fmt.Errorf("reading the multipart body: %w", err)
			}
			if text, err := partText(part.Header, part, depth+1); !errors.Is(err, errNoText) {
				return text, err
			}
		}
	}
	if media != "text/plain" {
		return "", errNoText
	}
	var r io.Reader = body
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	default:
		return "", fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("decoding the body: %w", err)
	}
	charset := strings.ToLower(params["charset"])
	switch charset {
	case "utf-8", "utf8":
		if !utf8.Valid(raw) {
			return "", fmt.Errorf("the body is declared UTF-8 but is not")
		}
		return string(raw), nil
	case "", "us-ascii":
		if !isASCII(raw) {
			if charset == "" {
				return "", fmt.Errorf("the body holds 8-bit bytes but declares no charset (Content-Type: %s)", ct)
			}
			return "", fmt.Errorf("the body holds 8-bit bytes but declares charset us-ascii")
		}
		return string(raw), nil
	default:
		cr, err := charsetReader(charset, bytes.NewReader(raw))
		if err != nil {
			return "", err
		}
		text, err := io.ReadAll(cr)
		return string(text), err
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// sameText compares a text sent with the one given, line ends and
// trailing white space aside.
func sameText(got, want string) bool {
	norm := func(s string) string {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		return strings.TrimRight(s, " \t\r\n")
	}
	return norm(got) == norm(want)
}
