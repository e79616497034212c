#!/usr/bin/env python3
"""Drive a program through a pseudo-terminal: send keystrokes, collect what the terminal shows.

usage: pty-drive.py STEPS_JSON -- PROGRAM ARGS...
STEPS_JSON is a list of [send, expect]: send the bytes (\\x01 is Ctrl-A), then read until `expect`
appears (or 10 s pass). Prints everything the program wrote; exit 0 when every expectation was met.
"""
import json, os, pty, select, sys, time

steps = json.loads(sys.argv[1])
argv = sys.argv[sys.argv.index('--') + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b''
ok = True

def read_until(token, timeout=10.0):
    global out
    end = time.time() + timeout
    while time.time() < end:
        if token and token.encode() in out:
            return True
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return token == ''
            if not data:
                return token == ''
            out += data
    return token == '' or token.encode() in out

for send, expect in steps:
    if send:
        os.write(fd, send.encode())
    if not read_until(expect):
        ok = False
        break
time.sleep(0.2)
try:
    while True:
        r, _, _ = select.select([fd], [], [], 0.3)
        if not r:
            break
        data = os.read(fd, 65536)
        if not data:
            break
        out += data
except OSError:
    pass
sys.stdout.write(out.decode(errors='replace'))
try:
    os.kill(pid, 9)
except ProcessLookupError:
    pass
sys.exit(0 if ok else 1)
