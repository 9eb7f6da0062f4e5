"""Every command's --help says what it does and what each option is for."""

from __future__ import annotations

import argparse

from contact_reasons.cli import _parser


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*path, name))
    return found


def test_every_command_has_a_description_and_every_option_a_help_text():
    # `contact-reasons report --help` (and run, faq, cluster, evaluate, redact, purge) printed
    # no line on what the command does, and options like --db, --input, --id-column or
    # --output had none either.
    commands = _commands(_parser())
    assert len(commands) > 15
    missing = []
    for path, parser in commands:
        if not parser.description:
            missing.append(f"{' '.join(path) or 'contact-reasons'}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.dest == "help":
                continue
            if not action.help:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []
