#!/usr/bin/python3
"""Checks the documentation against the tree and the binary.

  /usr/bin/python3 scripts/check_docs.py build/ctmq      # from the repository root

1. Every relative link and image in README.md, CHANGELOG.md and docs/*.md names a file or
   folder that exists, and every #anchor names a heading (GitHub's rule: lowercase, spaces to
   '-', punctuation other than '-' and '_' dropped, '-1', '-2' for repeats) or an id/name.
2. No absolute path of a development machine (/work/, /tmp/, /home/, ...) appears in
   docs/*.md, README.md or CHANGELOG.md.
3. Every `ctmq` subcommand and every --flag that docs/cli.md names exists in the binary's
   --help output: flags in a span that starts with `ctmq SUBCOMMAND` (and the rest of that
   table row) belong to that subcommand or are global; any other flag belongs to some command.

docs/spec.md's key table is checked by the spec tests (SpecDoc), not here. Prints one line per
problem and exits 1 when there is any, 0 otherwise. Standard library only.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Paths that name a development machine rather than something every user has.
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|tmp|home|root|Users|mnt|scratch)/|/opt/(?:gcc|torch)\b")

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_ANCHOR = re.compile(r"<a\s+[^>]*(?:name|id)\s*=\s*\"([^\"]+)\"", re.I)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def doc_files():
    files = [os.path.join(ROOT, "README.md")]
    if os.path.exists(os.path.join(ROOT, "CHANGELOG.md")):
        files.append(os.path.join(ROOT, "CHANGELOG.md"))
    docs = os.path.join(ROOT, "docs")
    files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    return files


def prose_lines(text):
    """(line number, line) outside fenced code blocks, inline code spans blanked out."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0] * len(marker.group(1))
            elif stripped.startswith(fence):
                fence = None
            continue
        if fence is None:
            yield number, re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), line)


def slug(heading):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


anchor_cache = {}


def anchors(path):
    if path not in anchor_cache:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        found, seen = set(), {}
        fence = None
        for line in text.splitlines():
            stripped = line.lstrip()
            marker = re.match(r"(`{3,}|~{3,})", stripped)
            if marker:
                fence = None if fence else marker.group(1)
                continue
            if fence:
                continue
            found.update(HTML_ANCHOR.findall(line))
            m = HEADING.match(line)
            if m:
                base = slug(m.group(2))
                n = seen.get(base, 0)
                found.add(base if n == 0 else f"{base}-{n}")
                seen[base] = n + 1
        anchor_cache[path] = found
    return anchor_cache[path]


def check_links_and_paths(problems):
    for path in doc_files():
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for number, line in enumerate(text.splitlines(), 1):
            for m in MACHINE_PATH.finditer(line):
                problems.append(f"{rel}:{number}: absolute path of a machine: "
                                f"{line[m.start():].split()[0]}")
        for number, line in prose_lines(text):
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:, ...
                    continue
                file_part, _, anchor = target.partition("#")
                if file_part.startswith("/"):
                    problems.append(f"{rel}:{number}: absolute link {target}")
                    continue
                dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) \
                    if file_part else path
                if not os.path.exists(dest):
                    problems.append(f"{rel}:{number}: broken link {target} "
                                    f"({os.path.relpath(dest, ROOT)} does not exist)")
                    continue
                if anchor:
                    if os.path.isdir(dest) or not dest.endswith(".md"):
                        problems.append(f"{rel}:{number}: anchor on a non-Markdown target {target}")
                    elif anchor not in anchors(dest):
                        problems.append(f"{rel}:{number}: broken anchor {target} "
                                        f"(no such heading in {os.path.relpath(dest, ROOT)})")


def help_text(binary, words):
    result = subprocess.run([binary] + words + ["--help"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join([binary] + words)} --help` exited {result.returncode}:\n"
                           f"{result.stdout}")
    return result.stdout


def parse_help(text):
    """(flags, subcommands) of one CLI11 help page."""
    flags, subcommands, section = set(), set(), ""
    for line in text.splitlines():
        if re.match(r"^[A-Za-z][\w ]*:\s*$", line):
            section = line.strip().rstrip(":").lower()
            continue
        m = re.match(r"^\s+(-[^\s]+(?:\s*,\s*-[^\s]+)*)", line)
        if m:
            flags.update(re.findall(r"--[A-Za-z0-9][\w-]*", m.group(1)))
            continue
        m = re.match(r"^\s+([a-z][\w-]*)(\s{2,}|$)", line)
        if m and section == "subcommands":
            subcommands.add(m.group(1))
    return flags, subcommands


class Cli:
    def __init__(self, binary):
        self.binary = binary
        self.pages = {}

    def page(self, words):
        key = tuple(words)
        if key not in self.pages:
            self.pages[key] = parse_help(help_text(self.binary, list(words)))
        return self.pages[key]

    def all_flags(self):
        flags, stack = set(), [()]
        while stack:
            words = stack.pop()
            page_flags, subs = self.page(words)
            flags |= page_flags
            stack += [words + (s,) for s in subs]
        return flags


SPAN = re.compile(r"`([^`]+)`")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def command_of(cli, span):
    """(subcommand words, unknown word) of a span like `ctmq data check --root R`, or None."""
    tokens = span.replace("\\|", " ").split()
    if not tokens or tokens[0] != "ctmq":
        return None
    words = []
    for token in tokens[1:]:
        if not re.match(r"^[a-z][a-z-]*$", token):
            break
        _, subs = cli.page(words)
        if not subs:
            break
        if token not in subs:
            return words, token
        words.append(token)
    return words, None


def check_cli(binary, problems):
    path = os.path.join(ROOT, "docs", "cli.md")
    cli = Cli(binary)
    global_flags, _ = cli.page([])
    every_flag = cli.all_flags()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        spans = SPAN.findall(line) if not fence else [line]
        row_command = None
        for span in spans:
            named = command_of(cli, span)
            if named is not None:
                words, unknown = named
                if unknown is not None:
                    problems.append(f"docs/cli.md:{number}: `ctmq {' '.join(words + [unknown])}`: "
                                    f"no such subcommand (per --help)")
                    continue
                if row_command is None and line.lstrip().startswith("|"):
                    row_command = words
                owner, allowed = words, cli.page(words)[0] | global_flags
            elif row_command is not None:
                owner, allowed = row_command, cli.page(row_command)[0] | global_flags
            else:
                owner, allowed = None, every_flag
            for flag in FLAG.findall(span):
                if flag not in allowed:
                    where = f"`ctmq {' '.join(owner)}`" if owner is not None else "any command"
                    problems.append(f"docs/cli.md:{number}: {flag} is not a flag of {where} "
                                    f"(per --help)")


def main():
    if len(sys.argv) != 2:
        print("usage: check_docs.py CTMQ_BINARY", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    problems = []
    check_links_and_paths(problems)
    if not os.access(binary, os.X_OK):
        problems.append(f"{sys.argv[1]}: not an executable; cannot check docs/cli.md")
    else:
        try:
            check_cli(binary, problems)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            problems.append(f"cannot read the binary's --help: {e}")
    for p in problems:
        print(p)
    if problems:
        print(f"check_docs: {len(problems)} problem(s)")
        return 1
    print(f"check_docs: {len(doc_files())} files, links, anchors, paths and docs/cli.md flags OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
