"""The ``gateway`` command (also ``python -m gateway``): the top-level parser.

Each command lives in a module named for its job (network: init, serve,
config, info, certs; health; documents: send, status, documents; validate; sample;
route; agreements; settlement; partners; print; recipients; portal link; webhooks: senders
webhook, recipients webhook, webhooks deliveries); ``common`` holds the configuration
rule they share.

Exit codes: 0 success, 1 the thing checked is not OK (invalid document,
rejected submission), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from gateway.cli import (
    agreements,
    common,
    documents,
    health,
    network,
    partners,
    portal,
    printing,
    recipients,
    route,
    sample,
    settlement,
    validate,
    webhooks,
)
from gateway.errors import ConfigError, GatewayError, InputError

WAIT_TIMED_OUT = documents.WAIT_TIMED_OUT


class _Version(argparse.Action):
    """``--version``: the release and how the validation rules run (compiled or sources).

    Computed when asked, not when the parser is built: it loads the rules.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            help="print the version and whether the validation rules run compiled, then exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import PackageNotFoundError, version

        from gateway.validation.release import describe
        from gateway.validation.rules import BUILD

        try:
            release = version("einvoice-gateway")
        except PackageNotFoundError:  # run from a source tree that was never installed
            release = "(not installed)"
        print(f"gateway {release}; validation rules: {describe()}, {BUILD}")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="gateway",
        description="E-invoicing interoperability gateway",
        epilog="examples:\n"
        "  gateway init var/alpha --name alpha --port 8081\n"
        "  gateway serve --config var/alpha/gateway.toml\n"
        "  gateway send var/alpha/sample-invoice.xml --config var/alpha/gateway.toml --wait 10\n"
        "\n"
        f"{common.CONFIG_RULE}\n"
        "Each command has --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action=_Version)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        network,
        health,
        sample,
        documents,
        validate,
        route,
        agreements,
        settlement,
        partners,
        printing,
        webhooks,
        recipients,
        portal,
    ):
        module.register(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (ConfigError, InputError) as exc:
        return common.fail(exc.message)
    except GatewayError as exc:
        # e.g. the store cannot be reached at start: one clear line, no traceback.
        return common.fail(exc.message, 1)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
