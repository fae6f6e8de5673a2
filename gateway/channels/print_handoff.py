"""Handing a closed print batch to the print house: its ZIP copied into a
folder, or uploaded over SFTP.

Both ways write the ZIP under a temporary name and rename it, so the print
house never picks up half a file; a retry after a failure starts over and
ends with the same one file. Over SFTP the server's host key must be in the
configured known_hosts file: an unknown or changed key is refused, never
accepted on first use. Success is recorded in the batch folder
(``handed-off``), so the next close says so instead of sending it again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import datetime
from pathlib import Path

import asyncssh
import structlog

from gateway.channels.print_batch import Batch
from gateway.channels.print_folder import HANDED_OFF, write_marker
from gateway.config.print_house import PrintHouseSettings
from gateway.errors import GatewayError

log = structlog.get_logger("gateway.print")


class HandoffError(GatewayError):
    """The batch could not reach the print house; it stays closed, to be handed off again."""

    code = "print_handoff_failed"


async def hand_off(batch: Batch, house: PrintHouseSettings, *, now: datetime) -> str:
    """Hand ``batch``'s ZIP to the print house; return where it went."""
    if house.handoff == "folder":
        assert house.folder is not None  # the loader requires it
        where = await asyncio.to_thread(_copy, batch.zip, house.folder)
    elif house.handoff == "sftp":
        where = await _upload(batch.zip, house)
    else:
        raise HandoffError("no print house is configured ([print_house] handoff)")
    await asyncio.to_thread(
        write_marker, batch.folder, HANDED_OFF, f"{where} at {now.isoformat()}\n"
    )
    log.info("print.handed_off", batch=batch.name, to=where, documents=batch.documents)
    return where


def _copy(source: Path, folder: Path) -> str:
    target = folder / source.name
    tmp = folder / f".{source.name}.{os.getpid()}.part"
    try:
        with open(source, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise HandoffError(f"cannot copy {source.name} into {folder}: {reason}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return str(target)


async def _upload(source: Path, house: PrintHouseSettings) -> str:
    where = f"sftp://{house.username}@{house.sftp_host}:{house.sftp_port}"
    remote = f"{house.remote_dir.rstrip('/')}/{source.name}"
    try:
        async with asyncio.timeout(house.timeout_seconds):
            await _put(source, remote, house)
    except asyncssh.HostKeyNotVerifiable as exc:
        raise HandoffError(
            f"{where}: the server's host key is not the one in {house.known_hosts}"
            f" ({exc.reason}); refusing to connect. Add the print house's key there"
            " once you have checked it with them."
        ) from None
    except asyncssh.PermissionDenied:
        raise HandoffError(
            f"{where}: the server refused our key {house.key_file} for user {house.username}"
        ) from None
    except TimeoutError:
        raise HandoffError(
            f"{where}: no answer within {house.timeout_seconds:g} s; the batch is kept"
        ) from None
    except asyncssh.SFTPError as exc:
        raise HandoffError(f"{where}: cannot write {remote}: {exc.reason}") from None
    except (OSError, asyncssh.Error) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise HandoffError(f"{where}: cannot connect: {reason}; the batch is kept") from None
    return f"{where}/{remote}"


async def _put(source: Path, remote: str, house: PrintHouseSettings) -> None:
    async with (
        asyncssh.connect(
            house.sftp_host,
            house.sftp_port,
            username=house.username,
            client_keys=[str(house.key_file)],
            known_hosts=str(house.known_hosts),
            connect_timeout=house.connect_timeout_seconds,
            agent_path=None,
            config=[],
        ) as conn,
        conn.start_sftp_client() as sftp,
    ):
        part = f"{remote}.part"
        await sftp.put(str(source), part)
        try:
            await sftp.posix_rename(part, remote)
        except asyncssh.SFTPOpUnsupported:  # a server without the OpenSSH extension
            if await sftp.exists(remote):
                await sftp.remove(remote)
            await sftp.rename(part, remote)
