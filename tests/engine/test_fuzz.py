"""A standing fuzz: mutated example files through load, check, compile and save. Only the
outcomes a person is meant to see may occur (bench/fuzz_files.py runs the long version)."""

import pytest

from bench.fuzz_files import GOOD, fuzz

pytestmark = pytest.mark.slow     # 300 mutated files through load, check, compile and save


def test_three_hundred_mutated_examples_end_only_in_clear_outcomes():
    result = fuzz(300, seed=11, compile_limit=64 << 20)
    defects = {o: c for o, c in result["outcomes"].items() if o not in GOOD}
    assert defects == {}, result["defects"]
    assert result["slow"] == 0 and result["big"] == 0
    assert result["outcomes"]["GraphFileError"] > 0 and result["outcomes"]["loaded and saved"] > 0
