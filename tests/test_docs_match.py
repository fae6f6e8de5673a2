"""The documentation says what the code does (issue #18 item 12): the file
names and columns the channels write, the example configuration's tables,
the README's command table, and the validate output shown in the docs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from gateway.channels.printing import MANIFEST_COLUMNS
from tests.builders import BUYER, SELLER
from tests.support import REPO, bad_invoice, cli, leaf_parsers

CONFIGURATION = (REPO / "docs" / "configuration.md").read_text()


def test_configuration_example_keeps_every_peer_key_in_its_table() -> None:
    """The complete example parses, and smp_url and allow_insecure belong to [[peers]]."""
    example = re.search(
        r"## A complete, commented example\n\n```toml\n(.*?)```", CONFIGURATION, re.S
    )
    assert example is not None
    peer = tomllib.loads(example.group(1))["peers"][0]
    assert {"smp_url", "allow_insecure", "agreement"} <= set(peer)


def test_print_and_inbox_files_are_documented_as_written() -> None:
    """Print files are PDFs, the manifest's columns are the channel's, inbox folders use _."""
    assert (
        "<document id>.pdf" in CONFIGURATION
        and "<document id>.xml` and `manifest" not in CONFIGURATION
    )
    assert f"`{','.join(MANIFEST_COLUMNS)}`" in CONFIGURATION
    assert "`0088:5790000000012` is `inbox/0088_5790000000012/`" in CONFIGURATION


def test_readme_command_table_names_every_command() -> None:
    """Every command the parser knows has its row, and the table names the options
    a newcomer needs (issue #18 item 12)."""
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("## The `gateway` command") : readme.index("## Two networks")]
    for name, _ in leaf_parsers():
        leaf = name.removeprefix("gateway ")
        assert f"`gateway {leaf}" in table or (
            leaf == "partners show" and "/ `show ID`" in table
        ), leaf
    for option in ("--config", "--url", "--token", "--host", "--provider-id", "--store"):
        assert option in table, option


def test_validate_output_in_the_docs_is_what_validate_prints(tmp_path: Path) -> None:
    """The example in docs/validation.md is the command's own output, line for line."""
    shown = (REPO / "docs" / "validation.md").read_text()
    example = re.search(r"```\n(bad\.xml: INVALID\n.*?)```", shown, re.S)
    assert example is not None
    bad = bad_invoice(tmp_path, str(SELLER), str(BUYER))
    out = cli("validate", "bad.xml", cwd=bad.parent)
    assert out.returncode == 1
    for line in example.group(1).splitlines():
        assert line in out.stdout.splitlines(), line
