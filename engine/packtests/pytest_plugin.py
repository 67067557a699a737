"""pytest collects every pack's own test cases: `jurisdictions/<id>/pack.yaml` becomes a test file.

Each case is one pytest item named after the case, so `pytest -k superficial` works, and a failure
lists every expectation that did not hold, with the file and line of the case.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from taxpack.engine.core.errors import TaxpackError

if TYPE_CHECKING:  # pytest exports neither name; they are the types of the method this one overrides
    from _pytest._code.code import TerminalRepr, TracebackStyle


def pytest_collect_file(parent: Any, file_path: Path) -> Any:
    if file_path.name == "pack.yaml" and file_path.parent.parent.name == "jurisdictions":
        return PackFile.from_parent(parent, path=file_path)
    return None


class PackFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from taxpack.engine.law.load import load_pack
        from taxpack.engine.packtests.cases import collect_cases

        pack = load_pack(self.path.parent)
        for case in collect_cases(pack):
            yield PackCase.from_parent(self, name=case.name, case=case)


class PackCase(pytest.Item):
    def __init__(self, *, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from taxpack.engine.packtests.cases import run_case

        result = run_case(self.case)
        if not result.ok:
            raise PackCaseFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, PackCaseFailure):
            result = excinfo.value.result
            return f"{result.case.span}: pack test '{result.case.name}' failed:\n  " + "\n  ".join(result.failures)
        if isinstance(excinfo.value, TaxpackError):
            return excinfo.value.render()
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        span = self.case.span
        return self.path, (span.line or 1) - 1, f"pack {self.case.pack.id}: {self.case.name}"


class PackCaseFailure(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(result.case.name)
        self.result = result
