#!/usr/bin/python3
# fake_qemu.py: a QEMU whose monitor misbehaves, for kvmload as $KVMLOAD_QEMU (qemu_monitor.sh).
# It takes QMP on descriptor 4, as kvmload's command line says, greets, and answers every command
# of the hand-over until "cont" (the guest "runs"), then as $FAKE_QEMU says: "deaf" stops reading
# and sends STOP events, each of which has kvmload ask query-status, until kvmload's writes find no
# room; "long" sends one line over QMP's 256 KiB; "hang" takes kvmload's first question (a vCPU's
# registers), reports the guest's power-off without answering it and never exits (as QEMU 7.2 can
# hang in its clean-up then); "slow" reports the power-off with no question under way and exits 8 s
# later (a clean-up flushing a slow disk). Before the guest runs: "die" exits 1 at once (while
# kvmload's loader runs), "refuse" answers drive_add and blockdev-add as QEMU does when it cannot
# open the disk.
import json
import os
import socket
import sys
import time

mode = os.environ.get("FAKE_QEMU")
print("fake_qemu: " + str(mode), file=sys.stderr, flush=True)
if mode == "die":
    sys.exit(1)
mon = socket.socket(fileno=4)
mon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
mon.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
pending = b""


def command():
    """The next command kvmload sent (descriptors passed along are dropped by recv)."""
    global pending
    while b"\n" not in pending:
        got = mon.recv(4096)
        if not got:
            sys.exit(0)
        pending += got
    line, pending = pending.split(b"\n", 1)
    return json.loads(line) if line.strip() else command()


def answer(c, value, key="return"):
    reply = {key: value}
    if "id" in c:
        reply["id"] = c["id"]
    mon.sendall(json.dumps(reply).encode() + b"\r\n")


while True:
    c = command()
    if mode == "refuse" and c["execute"] == "human-monitor-command":
        answer(c, "Could not open '/dev/fdset/0': Permission denied\r\n")
        continue
    if mode == "refuse" and c["execute"] == "blockdev-add":
        answer(c, {"class": "GenericError", "desc": "Could not open '/dev/fdset/0': Permission denied"}, "error")
        continue
    answer(c, {})
    if c["execute"] == "quit":
        sys.exit(0)
    if c["execute"] == "cont":
        break
if mode == "long":
    mon.sendall(b'{"return": "' + b"x" * (300 * 1024) + b'"}\r\n')
    time.sleep(600)
SHUTDOWN = (b'{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "SHUTDOWN", '
            b'"data": {"guest": true, "reason": "guest-shutdown"}}\r\n')
if mode == "hang":
    while command()["execute"] != "human-monitor-command":
        pass
    mon.sendall(SHUTDOWN)
    time.sleep(600)
if mode == "slow":
    mon.sendall(SHUTDOWN)
    time.sleep(8)
    print("fake_qemu: slow: disks closed", file=sys.stderr, flush=True)
    sys.exit(0)
while True:
    mon.sendall(b'{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP"}\r\n')
