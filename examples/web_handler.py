"""Example 4: a web request handler, what happens inside each request, in order?

handle_request() does what a typical endpoint does: parse the request, query a
database (simulated: the process waits 15 ms, as it would on a socket), run a
calculation on the rows (pure CPU) and render a JSON response. Where does a
request's time go: waiting, or computing? A profiler that samples CPU time cannot
see the wait; a trace of every call (PYAGENT_MODE=trace) shows both, call by call.

    python3 examples/web_handler.py [REQUESTS]

prints one line per request with its status and result.
"""
import json
import sys
import time

DB_LATENCY = 0.015  # seconds per query, as a database on the network would take


def parse_request(raw):
    method, path = raw.split(" ", 1)
    user = int(path.rsplit("/", 1)[1])
    return method, path, user


def query_database(user):
    """The database call: mostly waiting (the sleep stands for the network round trip)."""
    time.sleep(DB_LATENCY)
    return [(user * 31 + i) % 997 for i in range(5000)]


def complex_calculation(rows):
    """Pure CPU: a running score over the rows, several passes."""
    score = 0
    for weight in range(1, 21):
        for value in rows:
            score = (score * 31 + value * weight) % 1_000_003
    return score


def render_response(user, score):
    return json.dumps({"user": user, "score": score, "status": 200}, sort_keys=True)


def handle_request(raw):
    method, path, user = parse_request(raw)
    rows = query_database(user)
    score = complex_calculation(rows)
    return render_response(user, score)


def main(requests):
    for i in range(requests):
        body = json.loads(handle_request("GET /users/%d" % (100 + i)))
        print("Request %d processed: status %d, score %d" % (i + 1, body["status"], body["score"]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
