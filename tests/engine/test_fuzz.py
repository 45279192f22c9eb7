"""A standing fuzz: mutated example files through load, check, compile, a forward pass and save.
Only the outcomes a person is meant to see may occur (bench/fuzz_files.py runs the long version)."""

import copy
import json
import random
from collections import Counter

import pytest

from bench.fuzz_files import GOOD, STRUCTURE, examples, fuzz, run_case
from engine import Checker

SMALL_WEIGHTS, SMALL_RUN = 64 << 20, 5 * 10**8      # bytes of weights built, multiply-adds a sample run

pytestmark = pytest.mark.slow     # 300 mutated files through load, check, compile and save


def test_three_hundred_mutated_examples_end_only_in_clear_outcomes():
    result = fuzz(300, seed=11, compile_limit=SMALL_WEIGHTS, run_macs=SMALL_RUN)
    defects = {o: c for o, c in result["outcomes"].items() if o not in GOOD}
    assert defects == {}, result["defects"]
    assert result["slow"] == 0 and result["big"] == 0
    assert result["outcomes"]["GraphFileError"] > 0 and result["outcomes"]["loaded and saved"] > 0


def test_each_change_of_structure_on_every_example_ends_in_a_clear_outcome(tmp_path):
    """A name with a trailing line break, an Identity fed by a node that feeds others, true/false
    values before a layer, a window of 2^31 channels, a lone surrogate: on every example."""
    rng, checker = random.Random(3), Checker()
    seen: dict[str, Counter] = {}
    for mutation in STRUCTURE:
        for name, data in examples():
            mutated = copy.deepcopy(data)
            mutation(mutated, rng)
            outcome, detail = run_case(json.dumps(mutated), checker, SMALL_WEIGHTS, tmp_path, SMALL_RUN)
            assert outcome in GOOD, (mutation.__name__, name, outcome, detail)
            seen.setdefault(mutation.__name__, Counter())[outcome] += 1
    for name, data in examples():
        odd = copy.deepcopy(data)
        odd["metadata"]["description"] = "made by a tool that left \ud800 behind"
        assert run_case(json.dumps(odd), checker, SMALL_WEIGHTS, tmp_path, SMALL_RUN)[0] in GOOD, name
    assert set(seen["_trailing_break"]) == {"GraphFileError"}
    assert seen["_identity_fan_out"]["loaded and saved"] + seen["_identity_fan_out"]["diagnostics"] >= 10
    assert seen["_comparison"]["diagnostics"] >= 5 and set(seen["_huge_window"]) <= {"GraphFileError", "diagnostics"}
