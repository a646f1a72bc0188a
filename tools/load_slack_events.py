#!/usr/bin/env python3
"""Sends signed Slack Events API callbacks to a running Rapport as fast as it takes them.

A load generator for measuring the inbox (how fast events are recorded and processed, and
what the process's memory does meanwhile), not a test. Standard library only.

    python3 tools/load_slack_events.py --url http://127.0.0.1:3000 --secret S --seconds 20

Each event is a `team_join` for one of `--teams` made-up teams (unknown to Rapport, so
processing is the inbox's own cost) with a fresh event id. Prints how many were sent and
acknowledged per second, and the status codes seen.
"""

import argparse
import collections
import hashlib
import hmac
import http.client
import json
import threading
import time
import urllib.parse
import uuid


def signed_request(secret: bytes, team: str) -> tuple[bytes, dict]:
    event_id = "Ev" + uuid.uuid4().hex[:20].upper()
    body = json.dumps({
        "token": "load", "team_id": team, "api_app_id": "ALOAD", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "team_join", "user": {"id": "U" + event_id[2:12], "name": "load"}},
    }).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": "v0=" + digest,
    }
    return body, headers


def worker(url, secret, teams, deadline, statuses, lock, index):
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
    sent = 0
    while time.monotonic() < deadline:
        body, headers = signed_request(secret, f"TLOAD{(index + sent) % teams:04d}")
        try:
            connection.request("POST", "/slack/events", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
            status = "error"
        sent += 1
        with lock:
            statuses[status] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--secret", required=True, help="the app's SLACK_SIGNING_SECRET")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--teams", type=int, default=50)
    args = parser.parse_args()

    statuses = collections.Counter()
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [
        threading.Thread(target=worker, args=(args.url, args.secret.encode(), args.teams, deadline, statuses, lock, i))
        for i in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    print(f"sent {total} events in {elapsed:.1f} s: {total / elapsed:.0f}/s; statuses {dict(statuses)}")


if __name__ == "__main__":
    main()
