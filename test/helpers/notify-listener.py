# Stands in for systemd's notify socket: binds an AF_UNIX datagram socket (a path, or @name for the
# abstract namespace) and prints each datagram received as one JSON line with a monotonic time in ms.
import json
import socket
import sys
import time

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
print(json.dumps({"listening": path}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"atMs": time.monotonic() * 1000, "message": data.decode()}), flush=True)
