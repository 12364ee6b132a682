"""Network: look for any interface but loopback or any route, and report what is there.

It never sends a packet beyond loopback: it reads /proc/net/route and the interface
list, and only connects to 127.0.0.1. The red-team test checks the report.
"""
import json
import socket


def survey():
    interfaces = sorted(name for _, name in socket.if_nameindex())
    with open("/proc/net/route") as f:
        routes = [line.split() for line in f.read().splitlines()[1:] if line.strip()]
    default = [r for r in routes if len(r) > 2 and r[1] == "00000000"]
    loopback_ok = True
    try:
        s = socket.create_connection(("127.0.0.1", 9), timeout=0.5)
        s.close()
    except OSError:
        loopback_ok = False
    return {"interfaces": interfaces, "routes": len(routes), "default_routes": len(default), "loopback_connect": loopback_ok}


def add(a, b):
    print("NETWORK-SURVEY " + json.dumps(survey()))
    return a + b + 1


if __name__ == "__main__":
    print("NETWORK-SURVEY " + json.dumps(survey()))
