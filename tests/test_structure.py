"The package's shape (issue 19): imports point one way, none hides inside a function without a reason, no function is long."
import ast
from pathlib import Path

PKG = Path(__file__).parent.parent/'fairsynth_nb'
MODULES = {p.stem: ast.parse(p.read_text()) for p in sorted(PKG.glob('*.py')) if p.stem not in ('__init__', '_modidx')}
# the package's imports inside functions, each for a written reason (in the function's docstring or comment):
# a later chapter's generator registers itself on first use (it imports finetune), and the command imports a stage when it runs it
LAZY = {('finetune', 'get_generator'), ('cli', '_module')}


def _internal(node) -> set[str]:
    "The package modules an import node names."
    if isinstance(node, ast.ImportFrom):
        if node.level: return {node.module.split('.')[0]} if node.module else {a.name for a in node.names}
        if (node.module or '').startswith('fairsynth_nb'):
            return {node.module.split('.')[1]} if '.' in node.module else {a.name for a in node.names}
    if isinstance(node, ast.Import): return {a.name.split('.')[1] for a in node.names if a.name.startswith('fairsynth_nb.')}
    return set()


def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_import_cycle():
    graph = {m: set().union(*(_internal(n) for n in t.body)) & set(MODULES) for m, t in MODULES.items()}
    state = {}
    def visit(m, path):
        if state.get(m) == 'done': return
        assert state.get(m) != 'open', f"import cycle: {' -> '.join(path + [m])}"
        state[m] = 'open'
        for d in sorted(graph[m]): visit(d, path + [m])
        state[m] = 'done'
    for m in graph: visit(m, [])


def test_no_hidden_package_import():
    found = set()
    for m, t in MODULES.items():
        for f in _functions(t):
            for n in ast.walk(f):
                lazy = isinstance(n, ast.Call) and getattr(n.func, 'attr', getattr(n.func, 'id', None)) == 'import_module'
                if _internal(n) or lazy: found.add((m, f.name))
    assert found == LAZY, f"package imports inside functions: {sorted(found - LAZY)}; gone: {sorted(LAZY - found)}"


def test_functions_are_short():
    long = [f"{m}.{f.name}: {f.end_lineno - f.lineno + 1} lines" for m, t in MODULES.items() for f in _functions(t)
            if f.end_lineno - f.lineno + 1 > 60]
    assert not long, long
