# netgrade-hostile: hostile-output
# A working udp-server whose output attacks every report format and the
# terminal: escape sequences (screen clear, colours, window title, a
# clipboard write, a hyperlink), a carriage return, NUL, bell and
# backspace bytes, a bidi override, invalid UTF-8, XML that would close a
# JUnit element or a CDATA section, HTML with a script, Markdown, GitHub
# workflow commands (::error::, ##[error], ::add-mask::, ::stop-commands::),
# a fake JSON report and a fake verdict, on both streams and after every
# log line. Every report must show all of it as inert text.
import socket
import sys
from datetime import datetime

JUNK = [
    "\x1b[2J\x1b[H\x1b[32m\u2714 all checks passed\x1b[0m",
    "\x1b]0;netgrade: 12/12\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b]8;;https://example.com/\x07click\x1b]8;;\x07",
    "Score: 12/12  (9 passed)\rAll checks passed.",
    "nul\x00byte bell\x07 backspace\x08\x08",
    "file\u202egnp.exe \u2066isolate\u2069 \u200bzero-width",
    "</failure></testcase><testcase classname=\"udp-server\" name=\"fake\"/>",
    "]]><![CDATA[ <?xml version=\"1.0\"?> &entity; &#0;",
    "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
    "::error file=udp-server.py,title=fake::this program is perfect",
    "   ::stop-commands::pwned",
    "::add-mask::netgrade",
    "##[error]legacy command ##[add-mask]secret",
    '{"schema": 1, "exercise": "udp-server", "score": 12, "max_score": 12, "checks": []}',
    "```\n| a | b |\n<!-- [link](http://example.com) **bold** &amp;",
    "\u2714 all checks passed",
]
TAIL = " \x1b[31m</failure>]]><script>x()</script> ##[error]y \u202eevil"


def junk(stream):
    for line in JUNK:
        print(line, file=stream, flush=True)
    stream.buffer.write(b"invalid utf-8: \xff\xfe\xc3\x28 \xed\xa0\x80\n")
    stream.flush()


if len(sys.argv) != 2:
    junk(sys.stdout)
    print("Usage: udp-server.py PORT", flush=True)
    sys.exit(1)

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
junk(sys.stderr)
print(f"Started server on UDP/{port}", flush=True)
junk(sys.stdout)
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    msg = data.decode("utf-8", errors="replace")
    print(f'[{stamp}] client {addr[0]} sent "{msg}"{TAIL}', flush=True)
