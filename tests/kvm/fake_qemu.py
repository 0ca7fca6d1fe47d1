#!/usr/bin/python3
# fake_qemu.py: a QEMU whose monitor misbehaves, for kvmload as $KVMLOAD_QEMU (qemu_monitor.sh).
# It takes QMP on descriptor 5, as kvmload's command line says, greets, answers qmp_capabilities,
# then as $FAKE_QEMU says: "deaf" stops reading and sends STOP events, each of which has kvmload
# ask query-status, until kvmload's writes find no room; "long" sends one line over QMP's 256 KiB;
# "hang" takes kvmload's first question (a vCPU's registers), reports the guest's power-off without
# answering it and never exits (as QEMU 7.2 can hang in its clean-up then); "slow" reports the
# power-off with no question under way and exits 8 s later (a clean-up flushing a slow disk).
import os
import socket
import sys
import time

mon = socket.socket(fileno=5)
mon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
mon.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
got = b""
while b"qmp_capabilities" not in got:
    got += mon.recv(4096)
mon.sendall(b'{"return": {}, "id": "cap"}\r\n')
mode = os.environ.get("FAKE_QEMU")
print("fake_qemu: " + str(mode), file=sys.stderr, flush=True)
if mode == "long":
    mon.sendall(b'{"return": "' + b"x" * (300 * 1024) + b'"}\r\n')
    time.sleep(600)
SHUTDOWN = (b'{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "SHUTDOWN", '
            b'"data": {"guest": true, "reason": "guest-shutdown"}}\r\n')
if mode == "hang":
    while b"human-monitor-command" not in got:
        got += mon.recv(4096)
    mon.sendall(SHUTDOWN)
    time.sleep(600)
if mode == "slow":
    mon.sendall(SHUTDOWN)
    time.sleep(8)
    print("fake_qemu: slow: disks closed", file=sys.stderr, flush=True)
    sys.exit(0)
while True:
    mon.sendall(b'{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP"}\r\n')
