#!/usr/bin/python3
"""The repository stands alone: no tracked file points outside it.

Fails, printing file:line and the reason for each offence, when a tracked
text file
  - has a relative link or path (markdown link target, #include "...",
    a path in a script or comment) that resolves above the repository root,
    or a markdown link to an absolute filesystem path;
  - names the shared directory beside the checkout (dot-dot-slash "shared");
  - cites the contract as "SPEC §N", "SPEC.md §N" or "SPEC section N"
    without naming docs/SPEC.md, the repository's own copy;
  - cites a tracker issue by number, or an original document by that name,
    instead of stating the fact it stands for.

    python3 tests/self_contained_test.py [SOURCE_DIR]   # default: this checkout

Exits 0 when clean, 1 on offences, 77 (CTest's skip code, set in
tests/CMakeLists.txt) when SOURCE_DIR is not a git checkout: the files to
check are `git ls-files`.
"""

import os
import re
import subprocess
import sys

SKIP = 77

# Built from pieces so that this file does not match its own patterns.
SHARED_DIR = re.compile(re.escape(".." + "/shared"))
SPEC_CITATION = re.compile(r"(?<![\w/])(SPEC(?:\.md)?)`?\s*(?:§|section\s+)\d", re.IGNORECASE)
ISSUE_NUMBER = re.compile(r"\bissues?\s+#?\d+|\bissue#\d+", re.IGNORECASE)
ORIGINAL_DOCUMENT = re.compile(r"\bthe\s+original\s+" + "document", re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INCLUDE_QUOTED = re.compile(r"^\s*#\s*include\s+\"([^\"]+)\"")
DOT_DOT_PATH = re.compile(r"(?<![\w.\-/])((?:\.\./)+[\w.\-/]*|\.\.(?=[\"'\s)`]|$))")
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def tracked_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"SKIPPED: {root} is not a git checkout ({e}); this test checks the files "
              "`git ls-files` lists, so it runs only in a clone")
        sys.exit(SKIP)
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def read_text(path):
    """The file's lines, or None for binary files (a NUL byte) and unreadable ones."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace").splitlines()


def escapes_root(root, relative_to_dir, target):
    """Whether `target`, relative to the directory `relative_to_dir`, lies outside root."""
    resolved = os.path.normpath(os.path.join(root, relative_to_dir, target))
    return os.path.relpath(resolved, root).split(os.sep)[0] == ".."


def link_target_path(target):
    """The filesystem part of a markdown link target, or None for URLs and anchors."""
    if not target or target.startswith("#") or URL_SCHEME.match(target):
        return None
    return target.split("#", 1)[0].split("?", 1)[0] or None


def offences_in_line(root, file_dir, line):
    """Why `line` of a file in `file_dir` (relative to root) points outside root."""
    found = []
    paths = set()  # relative paths named on the line, however they were written
    if SHARED_DIR.search(line):
        found.append("names the shared directory outside the repository")
    for m in SPEC_CITATION.finditer(line):
        found.append(f"cites '{m.group(0)}' without naming docs/SPEC.md")
    for m in ISSUE_NUMBER.finditer(line):
        found.append(f"cites '{m.group(0)}': state the fact instead of an issue number")
    if ORIGINAL_DOCUMENT.search(line):
        found.append("refers to an original document the reader cannot see: state the fact instead")
    for m in MARKDOWN_LINK.finditer(line):
        path = link_target_path(m.group(1))
        if path is None:
            continue
        if path.startswith("/"):
            found.append(f"links to the absolute path {path}")
        else:
            paths.add(path)
    m = INCLUDE_QUOTED.match(line)
    if m:
        paths.add(m.group(1))
    paths.update(m.group(1) for m in DOT_DOT_PATH.finditer(line))
    for path in paths:
        if escapes_root(root, file_dir, path):
            found.append(f"points to {path}, outside the repository")
    return sorted(set(found))


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    files = tracked_files(root)
    count = 0
    for rel in files:
        lines = read_text(os.path.join(root, rel))
        if lines is None:
            continue
        file_dir = os.path.dirname(rel)
        for number, line in enumerate(lines, 1):
            for why in offences_in_line(root, file_dir, line):
                print(f"{rel}:{number}: {why}")
                count += 1
    if count:
        print(f"FAILED: {count} reference(s) outside the repository in {len(files)} tracked files")
        return 1
    print(f"OK: {len(files)} tracked files stand alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
