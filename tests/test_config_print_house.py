"""The [print_house] table (issue #11): read as written, and every mistake refused
with the file, the key and the problem."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from gateway.config import loader
from gateway.errors import ConfigError
from tests.builders import network_config


def _with(tmp_path: Path, table: str) -> Path:
    config = network_config(tmp_path).config
    config.write_text(config.read_text() + "\n[print_house]\n" + table)
    return config


def test_no_table_means_no_hand_off_and_no_automatic_close(tmp_path: Path) -> None:
    """Without [print_house] batches are closed only by hand and handed off to no one."""
    house = loader.load(network_config(tmp_path).config).print_house
    assert (house.handoff, house.close_at) == ("none", None)


def test_an_sftp_print_house_is_read(tmp_path: Path) -> None:
    """An SFTP print house's keys are read, paths relative to the configuration's folder."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "print_key").write_text("key")
    (tmp_path / "net" / "print_known_hosts").write_text("host")
    config = _with(
        tmp_path,
        'handoff = "sftp"\nsftp_host = "sftp.print.example"\nsftp_port = 2222\n'
        'username = "alpha"\nkey_file = "print_key"\nknown_hosts = "print_known_hosts"\n'
        'remote_dir = "in"\nclose_at = "17:30"\ntimeout_seconds = 60\n',
    )
    house = loader.load(config).print_house
    assert (house.sftp_host, house.sftp_port, house.username) == (
        "sftp.print.example",
        2222,
        "alpha",
    )
    assert house.key_file == config.parent / "print_key"
    assert house.known_hosts == config.parent / "print_known_hosts"
    assert (house.remote_dir, house.close_at, house.timeout_seconds) == ("in", time(17, 30), 60.0)


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('handoff = "fax"\n', "print_house.handoff", "must be one of none, folder, sftp"),
        ('handoff = "folder"\n', "print_house.folder", "missing required key"),
        ('handoff = "folder"\nfolder = "nowhere"\n', "print_house.folder", "does not exist"),
        (
            'handoff = "sftp"\nsftp_host = "h"\nusername = "u"\nkey_file = "k"\n',
            "print_house.key_file",
            "does not exist",
        ),
        ('close_at = "5pm"\n', "print_house.close_at", 'must be "HH:MM"'),
        ('close_at = "25:00"\n', "print_house.close_at", 'must be "HH:MM"'),
        ('folder = "x"\n', "print_house.folder", 'only with handoff = "folder" or "sftp"'),
        ("retry_seconds = 0\n", "print_house.retry_seconds", "greater than 0"),
        ("colour = true\n", "print_house", "colour"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, table: str, key: str, problem: str) -> None:
    """Each mistake in [print_house] is refused naming its key and what is wrong."""
    with pytest.raises(ConfigError) as caught:
        loader.load(_with(tmp_path, table))
    assert key in caught.value.message and problem in caught.value.message
