"""The package's shape: no import cycles, inference free of training, one exception root, train/ only parses.

Imports are read statically (``ast``), including those inside functions, so a
lazy import cannot hide a cycle or a dependency of inference on training.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import genre_core
from genre_core.errors import GenreLabError

from ._streamlit_config import HOST_AND_PORT

PACKAGE_DIR = Path(genre_core.__file__).parent
REPO = PACKAGE_DIR.parent

#: The inference path: audio → windows → features → models → prediction.  None may import training.
INFERENCE = ("genre_core.audio", "genre_core.windows", "genre_core.features", "genre_core.predict",
             "genre_core.stream", "genre_core.registry", "genre_core.cards", "genre_core.explain",
             "genre_core.cli", "genre_core.models")
TRAINING = "genre_core.training"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every genre_core module ``path`` imports (absolute or relative, at any depth in the file)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module
            # "from . import x" names a submodule; "from .m import f" names module m.
            found.update(f"{base}.{a.name}" for a in node.names)
            found.add(base)
    return {m for m in found if m.split(".")[0] == "genre_core"}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # An imported name resolves to the deepest module it names (a function name falls back to its module).
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.endswith("__init__") or graph.get(nxt) is None:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


def test_the_graph_sees_relative_and_lazy_imports():
    graph = _graph()
    assert "genre_core.models.persistence" in graph["genre_core.models.dense"]  # module-level relative import
    assert "genre_core.models.feature_predictor" in graph["genre_core.registry"]  # imported inside a function
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_genre_core():
    assert _cycle(_graph()) is None


@pytest.mark.parametrize("prefix", INFERENCE)
def test_inference_imports_nothing_from_training(prefix):
    graph = _graph()
    offenders = {name: sorted(t for t in targets if t.startswith(TRAINING))
                 for name, targets in graph.items() if name == prefix or name.startswith(prefix + ".")}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def _all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE_DIR)], "genre_core.")
                  if not m.name.startswith("genre_core.app"))  # page helpers import Streamlit's runtime


@pytest.mark.parametrize("module", _all_modules())
def test_every_exception_class_derives_from_the_root(module):
    mod = importlib.import_module(module)
    own = [obj for _, obj in inspect.getmembers(mod, inspect.isclass)
           if issubclass(obj, BaseException) and obj.__module__ == module]
    assert [cls.__name__ for cls in own if not issubclass(cls, GenreLabError)] == []


def test_train_package_only_parses_arguments():
    """train/ holds argument parsing: no function there fits, evaluates or writes anything itself."""
    forbidden = {"fit", "fit_models", "write_card", "save_sklearn", "save_keras", "make_dataset", "tune"}
    for path in (REPO / "train").glob("*.py"):
        calls = {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                 for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)}
        assert not calls & forbidden, f"{path.name} calls {sorted(calls & forbidden)}"


#: Any Streamlit option on a command line; only HOST_AND_PORT may appear in code.  Every other
#: setting lives once, in .streamlit/config.toml (see tests/test_streamlit_config.py).
_STREAMLIT_FLAG = re.compile(r"--(?:server|runner|browser|client|global|logger|theme)\.[A-Za-z]+")


def test_no_code_sets_streamlit_options_but_host_and_port():
    """No script, benchmark, test or Makefile passes a Streamlit option other than host and port,
    so users, tests and benchmarks all run the app as the config file says."""
    sources = [p for d in ("genre_core", "benchmarks", "tests", "pages", "train", "scripts", ".ci")
               for p in (REPO / d).rglob("*") if p.suffix in (".py", ".sh", "") and p.is_file()]
    sources += [REPO / "Makefile", REPO / "app.py"]
    found = {f"{p.relative_to(REPO)}: {flag}" for p in sources
             for flag in _STREAMLIT_FLAG.findall(p.read_text(errors="replace"))
             if flag[2:] not in HOST_AND_PORT}
    # The check's own examples of overrides it must catch.
    found = {f for f in found if not f.startswith(("tests/_streamlit_config.py", "tests/test_streamlit_config.py",
                                                   "tests/test_layout.py"))}
    assert not found, sorted(found)


#: The evaluation policy's own names: which figure to trust, how models rank, what the headline says.
_POLICY_NAMES = frozenset({"HONEST_PROTOCOLS", "honest_protocol", "honest_metric", "rank_by_card", "rank_by_evidence",
                           "choose_headline", "how_sure", "distinct_models", "HEADLINE_RULE"})


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    names |= {target.id for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
              for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
              if isinstance(target, ast.Name)}
    return names


def test_one_evaluation_policy(tmp_path):
    """Only genre_core/evaluation.py defines the honest metric, the rankings and the headline rule:
    the CLI, the pages and the benchmarks import them, so they cannot choose differently."""
    policy = PACKAGE_DIR / "evaluation.py"
    assert _POLICY_NAMES <= _defined_names(policy)
    sources = [p for d in ("genre_core", "pages", "benchmarks", "train") for p in (REPO / d).rglob("*.py")]
    sources.append(REPO / "app.py")
    found = {f"{p.relative_to(REPO)}: {sorted(_defined_names(p) & _POLICY_NAMES)}" for p in sources
             if p != policy and _defined_names(p) & _POLICY_NAMES}
    assert not found, sorted(found)
    # The check can fail: a ranking of a module's own, or a rule constant of its own, is seen.
    rogue = tmp_path / "rogue.py"
    rogue.write_text("def rank_by_card(cards):\n    return sorted(cards)\nHEADLINE_RULE: str = 'mine'\n")
    assert _defined_names(rogue) & _POLICY_NAMES == {"rank_by_card", "HEADLINE_RULE"}
