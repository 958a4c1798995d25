#!/usr/bin/env python3
"""Fails when the folders of native/server include each other in a cycle of any length.

Each folder is a layer; a file may include headers of its own folder and of the folders below it.
The graph is built from the `#include "folder/file.hpp"` lines of every source file, and every
strongly connected set of more than one folder is reported with one include that closes it.
Usage: check_server_layers.py [native/server directory]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_graph(server):
    folders = {d for d in os.listdir(server) if os.path.isdir(os.path.join(server, d))}
    edges = {f: {} for f in folders}  # folder -> {included folder: an example "file -> header"}
    stray = []
    for folder in sorted(folders):
        for dirpath, _, files in os.walk(os.path.join(server, folder)):
            for name in sorted(files):
                if not name.endswith(('.cpp', '.hpp')):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, server)
                with open(path, encoding='utf-8') as source:
                    for header in INCLUDE.findall(source.read()):
                        target = header.split('/')[0]
                        if '/' not in header:
                            if os.path.exists(os.path.join(server, header)) or header in os.listdir(dirpath):
                                stray.append(f'{rel}: includes "{header}" without its folder')
                            continue
                        if target in folders and target != folder:
                            edges[folder].setdefault(target, f'{rel} -> {header}')
    loose = [f for f in os.listdir(server) if f.endswith(('.cpp', '.hpp'))]
    stray += [f'{f}: a source file outside every folder' for f in loose]
    return edges, stray


def cycles(edges):
    """Tarjan's strongly connected components with more than one folder."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layers(edges):
    """Folders from the bottom up: each after everything it includes."""
    order, placed = [], set()
    while len(placed) < len(edges):
        ready = sorted(f for f in edges if f not in placed and set(edges[f]) <= placed)
        if not ready:
            break
        order.append(ready)
        placed.update(ready)
    return order


def main():
    server = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'native', 'server')
    edges, stray = folder_graph(server)
    problems = list(stray)
    for component in cycles(edges):
        links = [edges[a][b] for a in component for b in component if b in edges[a]]
        problems.append('folders include each other: ' + ' <-> '.join(component) + '\n    ' + '\n    '.join(links))
    if problems:
        print('native/server layering broken:\n  ' + '\n  '.join(problems))
        return 1
    print('native/server layers, bottom up: ' + ' | '.join(', '.join(level) for level in layers(edges)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
