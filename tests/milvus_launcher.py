"""Start the PyPI ``milvus`` standalone server on chosen ports (run as a script).

``milvus-server`` fixes the health/metrics port at the first free one from 9091
and its embedded etcd's peer port at 2380; this launcher sets both, so two
servers can run side by side on one machine::

    python tests/milvus_launcher.py DATA_DIR BASE_PORT [key=value ...]

The proxy listens on BASE_PORT, health on BASE_PORT+1 (``/healthz``), etcd's
client and peer ports on BASE_PORT+2 and +3, the coordinators and nodes on the
next ones. Extra ``key=value`` pairs set Milvus configuration keys.
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

PORT_KEYS = (
    "proxy_port",
    "metrics",
    "etcd_port",
    "etcd_peer",
    "root_coord_port",
    "proxy_internal_port",
    "query_coord_port",
    "query_node_port",
    "index_coord_port",
    "index_node_port",
    "data_coord_port",
    "data_node_port",
)


def ports_from(base: int) -> dict[str, int]:
    """Every port a server started with ``base`` listens on, by name."""
    return {key: base + i for i, key in enumerate(PORT_KEYS)}


def _try_bind_port(self: object, port: int) -> socket.socket | None:
    """The package's port check, with SO_REUSEADDR like the Go listeners: a restart on
    the same ports must not fail on connections still in TIME_WAIT."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        sock.close()
        return None
    return sock


def main(argv: list[str]) -> None:
    from milvus import MilvusServer, MilvusServerConfig

    MilvusServerConfig.try_bind_port = _try_bind_port  # type: ignore[method-assign]

    data, base = Path(argv[0]).resolve(), int(argv[1])
    ports = ports_from(base)
    server = MilvusServer(wait_for_started=False)
    server.set_base_dir(str(data))
    # fixed ports: a busy one is an error, never silently another one
    server.config.update(**{k: v for k, v in ports.items() if k.endswith("_port")})
    for item in argv[2:]:
        key, _, value = item.partition("=")
        server.config.set(key, value)
    etcd_conf = data / "configs" / "embed-etcd.yaml"
    etcd_conf.parent.mkdir(parents=True, exist_ok=True)
    client = f"http://127.0.0.1:{ports['etcd_port']}"
    peer = f"http://127.0.0.1:{ports['etcd_peer']}"
    etcd_conf.write_text(
        f"name: default\nlisten-client-urls: {client}\nadvertise-client-urls: {client}\n"
        f"listen-peer-urls: {peer}\ninitial-advertise-peer-urls: {peer}\n"
        f"initial-cluster: default={peer}\n",
        encoding="utf-8",
    )
    server.config.template_text = server.config.template_text.replace(
        "\netcd:\n", f"\netcd:\n  config:\n    path: {etcd_conf}\n", 1
    )
    server.webservice_port = ports["metrics"]
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    server.start()
    server.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
