# A client of netgrade's SMTP server for its tests: smtplib, one scenario
# a run. Prints one JSON object on stdout.
# Usage: smtp_client.py PORT SCENARIO USER PASSWORD
import json
import smtplib
import sys

port, scenario, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

# A message that exercises the transfer: a line that starts with a dot, a
# lone dot, a non-ASCII body in 8 bits.
RAW = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: bob@example.org\r\n"
    b"Subject: =?utf-8?b?WGluIGNow6BvIGPDoWMgYuG6oW4=?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b".htaccess\r\n"
    b".\r\n"
    b"..\r\n"
    b"x\xc3\xa0 c\xc3\xa1c b\xe1\xba\xa1n\r\n"
)

out = {}
with smtplib.SMTP("127.0.0.1", port) as s:
    s.ehlo()
    out["starttls_offered"] = s.has_extn("starttls")
    if scenario in ("starttls", "starttls-login"):
        s.starttls()
        s.ehlo()
    if scenario in ("starttls-login", "clear-login"):
        s.login(user, password)
    if scenario == "wrong-password":
        try:
            s.login(user, password)
        except smtplib.SMTPAuthenticationError as e:
            out["auth_error"] = e.smtp_code
    if scenario == "refused":
        try:
            s.sendmail("alice@example.org", ["nobody@example.org"], RAW)
        except smtplib.SMTPRecipientsRefused as e:
            out["refused"] = {k: v[0] for k, v in e.recipients.items()}
    else:
        try:
            s.sendmail("alice@example.org", ["bob@example.org"], RAW)
            out["sent"] = True
        except smtplib.SMTPException as e:
            out["send_error"] = str(e)
print(json.dumps(out))
