"""A small mutation check, run by hand: does the suite notice when the code is wrong?

    python -m tests.mutants cookbook/statistics.py tests/test_statistics.py [more tests ...]

Makes one change at a time to the source file (a comparison flipped, an arithmetic or
boolean operator swapped, a number nudged, a boolean or a `not` inverted), runs the given
tests against it, and lists the mutants that no test killed. The file is restored after
every mutant, and at the end whatever happens.
"""

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

SWAPS = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.And: ast.Or, ast.Or: ast.And,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Mutation:
    position: int  # the node's place in `ast.walk` order
    index: int  # which comparison operator of a chain; -1 otherwise
    description: str

    def apply(self, tree):
        node = list(ast.walk(tree))[self.position]
        if isinstance(node, ast.Compare):
            node.ops[self.index] = SWAPS[type(node.ops[self.index])]()
        elif isinstance(node, ast.Constant):
            node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
        elif isinstance(node, ast.UnaryOp):
            node.op = ast.UAdd()  # `not x` becomes `+x`: truthiness inverted for booleans
        else:
            node.op = SWAPS[type(node.op)]()
        return ast.unparse(tree)


def mutations(tree):
    for position, node in enumerate(ast.walk(tree)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    yield Mutation(position, index, f"{where}: {type(op).__name__} -> {SWAPS[type(op)].__name__}")
        elif isinstance(node, (ast.BinOp, ast.BoolOp, ast.AugAssign)) and type(node.op) in SWAPS:
            yield Mutation(position, -1, f"{where}: {type(node.op).__name__} -> {SWAPS[type(node.op)].__name__}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)):
            yield Mutation(position, -1, f"{where}: constant {node.value!r} changed")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield Mutation(position, -1, f"{where}: `not` dropped")


def main(target, *tests):
    path = Path(target)
    original = path.read_text()
    survived, killed = [], 0
    try:
        for mutation in mutations(ast.parse(original)):
            path.write_text(mutation.apply(ast.parse(original)))
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider", *tests],
                capture_output=True,
                timeout=600,
            )
            if done.returncode == 0:
                survived.append(mutation.description)
            else:
                killed += 1
    finally:
        path.write_text(original)
    print(f"{target}: {killed} mutants killed, {len(survived)} survived")
    for description in survived:
        print(f"  survived: {description}")


if __name__ == "__main__":
    main(*sys.argv[1:])
