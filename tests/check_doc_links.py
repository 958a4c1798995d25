#!/usr/bin/env python3
"""Every relative link in the project's Markdown names something that exists.

Checks README.md, docs/*.md, bench/*.md, web/README.md and native/server/**/README.md. A link
`[text](path)`, `![alt](path)`, `[text](path#anchor)` or `[text](#anchor)` must name a file or
folder in the repository, and an anchor must be a heading of the target file, slugged as GitHub
does. http(s) and mailto links are not fetched. Links inside code blocks and code spans are not
links. Also fails when README.md is longer than README_MAX_LINES: the README is for a newcomer,
everything longer lives in docs/.

usage: python3 tests/check_doc_links.py [repository root]   (exits 1 and lists what is wrong)
"""
import re
import sys
from pathlib import Path
from urllib.parse import unquote

README_MAX_LINES = 200

# Inline links and images; the destination stops at whitespace or the closing parenthesis, and an
# optional "title" may follow it.
INLINE_LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE_DEFINITION = re.compile(r'^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+".*")?\s*$')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
HTML_ANCHOR = re.compile(r'<a\s+(?:name|id)="([^"]+)"', re.IGNORECASE)
FENCE = re.compile(r'^ {0,3}(```|~~~)')
CODE_SPAN = re.compile(r'(`+)(.+?)\1')
EXTERNAL = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:')  # http:, https:, mailto:, ...


def documents(root):
    found = [root / 'README.md', root / 'web' / 'README.md']
    found += sorted((root / 'docs').glob('*.md'))
    found += sorted((root / 'bench').glob('*.md'))
    found += sorted((root / 'native' / 'server').glob('**/README.md'))
    return [path for path in found if path.is_file()]


def prose_lines(text):
    """(line number, line) outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif match.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield number, line


def slug(heading):
    """GitHub's anchor for a heading: the rendered text, lowercased, punctuation dropped,
    spaces turned into hyphens."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link renders as its text
    text = re.sub(r'<[^>]+>', '', text)
    text = text.replace('`', '')
    text = re.sub(r'(\*+|(?<!\w)_+|_+(?!\w))', '', text)  # emphasis markers, not snake_case
    text = text.strip().lower()
    text = ''.join(ch for ch in text if ch.isalnum() or ch in ' -_')
    return text.replace(' ', '-')


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        names = set()
        text = path.read_text(encoding='utf-8')
        for _, line in prose_lines(text):
            names.update(HTML_ANCHOR.findall(line))
            match = HEADING.match(line)
            if not match:
                continue
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            names.add(base if count == 0 else f'{base}-{count}')
        cache[path] = names
    return cache[path]


def links(text):
    """(line number, destination) of every link outside code."""
    for number, line in prose_lines(text):
        reference = REFERENCE_DEFINITION.match(line)
        if reference:
            yield number, reference.group(1)
            continue
        without_code = CODE_SPAN.sub(lambda m: ' ' * len(m.group(0)), line)
        for match in INLINE_LINK.finditer(without_code):
            yield number, match.group(1)


def check_link(root, document, destination):
    """What is wrong with one link, or None."""
    if not destination or EXTERNAL.match(destination):
        return None
    target_part, _, anchor = destination.partition('#')
    target_part = unquote(target_part.split('?', 1)[0])
    if target_part.startswith('/'):
        target = (root / target_part.lstrip('/')).resolve()
    elif target_part:
        target = (document.parent / target_part).resolve()
    else:
        target = document.resolve()
    try:
        target.relative_to(root.resolve())
    except ValueError:
        return f'{destination}: outside the repository'
    if not target.exists():
        return f'{destination}: no such file or folder'
    if anchor:
        if target.is_dir() or target.suffix.lower() != '.md':
            return f'{destination}: an anchor into something that is not a Markdown file'
        if unquote(anchor).lower() not in anchors(target):
            return f'{destination}: no heading with the anchor #{anchor} in {target.relative_to(root.resolve())}'
    return None


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    root = root.resolve()
    problems = []
    readme = root / 'README.md'
    if readme.is_file():
        count = len(readme.read_text(encoding='utf-8').splitlines())
        if count > README_MAX_LINES:
            problems.append(f'README.md: {count} lines, more than {README_MAX_LINES}')
    checked = 0
    for document in documents(root):
        text = document.read_text(encoding='utf-8')
        for number, destination in links(text):
            checked += 1
            problem = check_link(root, document, destination)
            if problem:
                problems.append(f'{document.relative_to(root)}:{number}: {problem}')
    for problem in problems:
        print(problem)
    print(f'check_doc_links: {checked} links checked, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
