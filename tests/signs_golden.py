"""Every answer the sign catalogue gives, as one JSON document: the golden file's content.

``python -m tests.signs_golden > tests/golden/signs.json`` writes it again (only when a change to the
catalogue is meant; say so in the commit).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from astute_cli import signs

EXTRA_CODES = ("3.24", "3_24_n60", "3_13_r3.5", "8_2_1_n150", "9_9", "sign", "background", "5_99_1", "")
"""Labels outside the catalogue, to pin the fallbacks (dotted codes, labels with values, unknown codes)."""
VALUES = (None, 1, 3.5, 60)
LANGS = ("ru", "en")


def answers(code: str) -> dict:
    return {
        "lookup": asdict(signs.lookup(code)),
        "phrase": {lang: [signs.phrase(code, value, lang) for value in VALUES] for lang in LANGS},
    }


def golden() -> dict:
    codes = list(signs.catalogue())
    return {"catalogue": codes, "answers": {code: answers(code) for code in [*codes, *EXTRA_CODES]}}


def dumps(data: dict) -> str:
    """One line per code, so that a change shows as a one-line diff."""
    lines = [f"{json.dumps(code, ensure_ascii=False)}: {json.dumps(answer, ensure_ascii=False)}"
             for code, answer in data["answers"].items()]
    return ('{"catalogue": ' + json.dumps(data["catalogue"]) + ',\n"answers": {\n' + ",\n".join(lines) + "}}\n")


if __name__ == "__main__":
    print(dumps(golden()), end="")
