#!/usr/bin/python3
"""A real kazoo client for interop tests, driven line by line over stdin/stdout.

Usage: kazoo-peer.py HOSTS   (HOSTS may carry a chroot, e.g. 127.0.0.1:2181/test)

Every input line is a JSON object {"tag": str, "cmd": str, ...}; every reply is one JSON line
{"tag": str, "ok": bool, "result": ..., "error": str}. Blocking acquires run in a thread so
other commands (e.g. a release) can be served meanwhile. The first line printed is
{"tag": "ready", ...} once connected. Commands:
  acquire  lock path identifier blocking timeout ephemeral  -> true/false
  release  lock                                              -> true/false
  contenders path                                            -> [identifier, ...]
  children path                                              -> [name, ...] (sorted)
  create   items: [{path, data (base64), sequence}]          -> [created path, ...] (makepath)
  exit
"""
import base64
import json
import sys
import threading

try:
    import kazoo
    from kazoo.client import KazooClient
    from kazoo.exceptions import LockTimeout
except ImportError as exc:  # the TS test turns this into a failure with a hint
    print(json.dumps({"tag": "ready", "ok": False,
                      "error": "cannot import kazoo (%s): install python3-kazoo" % exc}), flush=True)
    sys.exit(2)

out_lock = threading.Lock()
locks = {}


def reply(tag, ok, result=None, error=None):
    with out_lock:
        print(json.dumps({"tag": tag, "ok": ok, "result": result, "error": error}), flush=True)


def handle(zk, msg):
    tag = msg.get("tag")
    try:
        cmd = msg["cmd"]
        if cmd == "acquire":
            lock = locks.get(msg["lock"])
            if lock is None:
                lock = zk.Lock(msg["path"], msg.get("identifier"))
                locks[msg["lock"]] = lock
            try:
                got = lock.acquire(blocking=msg.get("blocking", True), timeout=msg.get("timeout"),
                                   ephemeral=msg.get("ephemeral", True))
            except LockTimeout:
                got = False
            reply(tag, True, got)
        elif cmd == "release":
            lock = locks.pop(msg["lock"], None)
            reply(tag, True, bool(lock and lock.release()))
        elif cmd == "contenders":
            reply(tag, True, zk.Lock(msg["path"]).contenders())
        elif cmd == "create":
            reply(tag, True, [zk.create(i["path"], base64.b64decode(i.get("data", "")),
                                        sequence=bool(i.get("sequence")), makepath=True)
                              for i in msg["items"]])
        elif cmd == "children":
            reply(tag, True, sorted(zk.get_children(msg["path"])))
        else:
            reply(tag, False, error="unknown command %r" % cmd)
    except Exception as exc:  # report, keep serving
        reply(tag, False, error="%s: %s" % (type(exc).__name__, exc))


def main():
    zk = KazooClient(hosts=sys.argv[1], timeout=10)
    zk.start(timeout=15)
    reply("ready", True, kazoo.__version__ if hasattr(kazoo, "__version__") else "unknown")
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        if msg.get("cmd") == "exit":
            break
        if msg.get("cmd") == "acquire" and msg.get("blocking", True):
            threading.Thread(target=handle, args=(zk, msg), daemon=True).start()
        else:
            handle(zk, msg)
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
