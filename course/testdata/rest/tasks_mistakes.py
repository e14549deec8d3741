# A task API for the course document tasks-api.yaml with many mistakes, so
# that most rest-api checks fail and say why: answers written with str()
# (Python's notation), errors from send_error (HTML), a KeyError on a body
# without "name" and on an unknown taskId (500 without an answer), 404
# instead of 405, bodies decoded as Latin-1, an unlocked counter.
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

tasks = {}
last = 0


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, data, raw=False):
        body = (str(data) if raw else json.dumps(data)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(n).decode("latin-1"))

    def do_GET(self):
        if self.path == "/tasks":
            self.answer(200, list(tasks.values()), raw=True)
        elif self.path.startswith("/tasks/"):
            self.answer(200, tasks[int(self.path.split("/")[2])])
        else:
            self.send_error(404)

    def do_POST(self):
        global last
        if self.path != "/tasks":
            self.send_error(404)
            return
        data = self.body()
        new = last + 1
        last = new
        task = {"taskId": new, "name": data["name"], "completed": str(data.get("completed", False))}
        tasks[new] = task
        self.answer(201, task)

    def do_PUT(self):
        if not self.path.startswith("/tasks/"):
            self.send_error(404)
            return
        key = int(self.path.split("/")[2])
        data = self.body()
        tasks[key] = {"taskId": key, "name": data["name"], "completed": data.get("completed", False)}
        self.answer(200, tasks[key])

    def do_DELETE(self):
        if not self.path.startswith("/tasks/"):
            self.send_error(404)
            return
        self.answer(200, tasks.pop(int(self.path.split("/")[2])))


ThreadingHTTPServer(("localhost", int(sys.argv[1])), Handler).serve_forever()
