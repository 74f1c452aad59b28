"""The chat server as one node of a cluster: run several, each on its own
port, all with the same Redis. A room message or direct message sent to any
node reaches the members and users on every node, exactly once; presence is
cluster-wide (docs/protocol.md sections 6-7).

    python examples/python/chat_server_multinode.py --redis redis://127.0.0.1:6379 --port 8001
    python examples/python/chat_server_multinode.py --redis redis://127.0.0.1:6379 --port 8002

A build of rtcore without the Redis backplane refuses with a clear error
(exit status 2) instead of silently running as a single node.
"""

from __future__ import annotations

import sys

from chat_server import main

if __name__ == "__main__":
    sys.exit(main(redis_required=True))
