"""A real SFTP server on loopback (asyncssh, in this process) standing in for
the print house: its own host key, one authorized client key, files served
from a temporary folder. ``house()`` is the [print_house] that reaches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from gateway.config.print_house import PrintHouseSettings
from tests.support import free_port


@dataclass
class SftpServer:
    root: Path  # what the server serves: remote paths are relative to it
    port: int
    host_key: asyncssh.SSHKey
    client_key: Path  # our private key file
    known_hosts: Path  # the server's host key, as the admin would record it
    acceptor: asyncssh.SSHAcceptor | None = field(default=None)

    def house(self, **changes: object) -> PrintHouseSettings:
        values: dict[str, object] = {
            "handoff": "sftp",
            "sftp_host": "127.0.0.1",
            "sftp_port": self.port,
            "username": "printer",
            "key_file": self.client_key,
            "known_hosts": self.known_hosts,
            "remote_dir": "incoming",
            "connect_timeout_seconds": 5.0,
            "timeout_seconds": 30.0,
            **changes,
        }
        return PrintHouseSettings(**values)  # type: ignore[arg-type]

    async def start(self) -> None:
        """Listen on the port (again, after ``stop``)."""
        root = str(self.root)
        self.acceptor = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(
                asyncssh.read_private_key(self.client_key).export_public_key().decode()
            ),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
            allow_scp=False,
        )

    async def stop(self) -> None:
        if self.acceptor is not None:
            self.acceptor.close()
            await self.acceptor.wait_closed()
            self.acceptor = None


def sftp_server(tmp: Path) -> SftpServer:
    """A print house's SFTP server (not started) with an ``incoming`` folder,
    and our key and known_hosts for it under ``tmp``."""
    root = tmp / "print-house"
    (root / "incoming").mkdir(parents=True)
    port = free_port()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client = asyncssh.generate_private_key("ssh-ed25519")
    client_file = tmp / "id_ed25519"
    client.write_private_key(client_file)
    known = tmp / "known_hosts"
    known.write_text(
        f"[127.0.0.1]:{port} {host_key.export_public_key().decode().strip()}\n", encoding="utf-8"
    )
    return SftpServer(root, port, host_key, client_file, known)
