# A client of netgrade's POP3 server for its tests: poplib, one scenario a
# run. Prints one JSON object on stdout (messages in base64).
# Usage: pop_client.py PORT SCENARIO USER PASSWORD
import base64
import json
import poplib
import sys

port, scenario, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
p = poplib.POP3("127.0.0.1", port)
out["greeting"] = p.getwelcome().decode()
out["capa"] = sorted(p.capa())
if scenario.startswith("stls"):
    p.stls()
p.user(user)
try:
    p.pass_(password)
except poplib.error_proto as e:
    out["login_error"] = e.args[0].decode()
    p.quit()
    print(json.dumps(out))
    sys.exit(0)
count, size = p.stat()
out["count"], out["size"] = count, size
out["uidl"] = [x.decode() for x in p.uidl()[1]]
if scenario.endswith("read"):
    out["retr"] = [base64.b64encode(b"\r\n".join(p.retr(i)[1]) + b"\r\n").decode() for i in range(1, count + 1)]
    out["top"] = [base64.b64encode(b"\r\n".join(p.top(i, 0)[1]) + b"\r\n").decode() for i in range(1, count + 1)]
if scenario.startswith("dele"):
    p.dele(1)
    p.dele(3)
    if scenario == "dele-rset":
        p.rset()
    if scenario == "dele-noquit":
        p.close()
        print(json.dumps(out))
        sys.exit(0)
p.quit()
print(json.dumps(out))
