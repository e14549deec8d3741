# A client of netgrade's IMAP server for its tests: imaplib, one scenario a
# run. Prints one JSON object on stdout (messages in base64).
# Usage: imap_client.py PORT SCENARIO USER PASSWORD
import base64
import json
import imaplib
import sys

port, scenario, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
m = imaplib.IMAP4("127.0.0.1", port)
out["starttls_offered"] = "STARTTLS" in m.capabilities
if "starttls" in scenario:
    m.starttls()
try:
    m.login(user, password)
except imaplib.IMAP4.error as e:
    out["login_error"] = str(e)
    m.logout()
    print(json.dumps(out))
    sys.exit(0)
if "examine" in scenario:
    typ, data = m.select("INBOX", readonly=True)
else:
    typ, data = m.select("INBOX")
out["count"] = int(data[0])
item = "(BODY.PEEK[])" if "peek" in scenario else "(RFC822)"
msgs = []
for i in range(1, out["count"] + 1):
    typ, data = m.fetch(str(i), item)
    msgs.append(base64.b64encode(data[0][1]).decode())
out["messages"] = msgs
if "delete" in scenario:
    m.store("2", "+FLAGS", "\\Deleted")
    m.expunge()
m.close()
m.logout()
print(json.dumps(out))
