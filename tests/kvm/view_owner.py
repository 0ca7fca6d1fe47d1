#!/usr/bin/python3
# view_owner.py: the owner of a view, as kvmload-hotplug is, for kvmload --view-release-fd (view.sh).
# usage: view_owner.py MODE KVMLOAD ARG... VMNAME: runs KVMLOAD ARG... --view-release-fd N VMNAME,
# N one end of a socket pair (printed first: "owner: fd N"); reads kvmload's byte on the other
# end, prints "owner: got BYTE" (or "owner: eof"), then as MODE says: "answer" writes 'K',
# "wrong" writes 'X', "close" closes without answering.  Exits with kvmload's status.
import socket
import subprocess
import sys

mode, argv = sys.argv[1], sys.argv[2:]
ours, theirs = socket.socketpair()
print("owner: fd %d" % theirs.fileno(), flush=True)
kvmload = subprocess.Popen(argv[:-1] + ["--view-release-fd", str(theirs.fileno()), argv[-1]],
                           pass_fds=[theirs.fileno()])
theirs.close()
ours.settimeout(120)
byte = ours.recv(1)
print("owner: got " + byte.decode() if byte else "owner: eof", flush=True)
if byte and mode == "answer":
    ours.sendall(b"K")
elif byte and mode == "wrong":
    ours.sendall(b"X")
ours.close()
sys.exit(kvmload.wait())
