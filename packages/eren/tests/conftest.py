"""Shared fixtures: tiny files in the official formats (invented records, written by the tests) and the real data."""

from __future__ import annotations

import json

import pytest

from lc_core.testing import shared_data_dir

# invented entities in CounterFact-Hard's shape: (subject, relation question, new object, old object, same-subject qs)
CFH_FACTS = [
    ("Aldo Venn", "What is Aldo Venn's mother tongue?", "Dutch", "Greek", ["Where was Aldo Venn born?"]),
    ("Bree Castor", "Which city is Bree Castor the capital of?", "Norland", "Eastmark", ["Who founded Bree Castor?"]),
    ("Corin Ashby", "What sport does Corin Ashby play?", "cricket", "tennis", ["What is Corin Ashby's nationality?"]),
    ("Dela Frost", "Who is the employer of Dela Frost?", "Maplecorp", "Birchworks", []),
    ("Emil Sarto", "What instrument does Emil Sarto play?", "violin", "piano", ["Where did Emil Sarto die?"] * 2),
]


def make_cfh(n: int = 5) -> list[dict]:
    out = []
    for i, (subj, q, new, old, same) in enumerate(CFH_FACTS[:n]):
        rel = q.replace(subj, "{}")
        stmt = {
            0: f"{subj}'s mother tongue is {new}.",
            1: f"{subj} is the capital of {new}.",
            2: f"{subj} plays {new}.",
            3: f"{subj} works for {new}.",
            4: f"{subj} plays the {new}.",
        }[i]
        out.append(
            {
                "id": i,
                "edit_statement": stmt,
                "subject_name": subj,
                "edit_scope": [[q, new], [" " + q.replace("What", "Which"), new]] if i != 3 else [],
                "edit_scope_true_ans": [old, old] if i != 3 else [],
                "unrelated": {
                    "neighbor_subj": [rel.format(f"Other{i}{j}") for j in range(3)],
                    "same_subj": same,
                },
                "unrelated_true_ans": {"neighbor_subj": [old] * 3, "same_subj": ["x"] * (len(same) + 1)},
            }
        )
    return out


def make_fever(n: int = 8) -> list[dict]:
    studios = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gum", "Hazel", "Ivy", "Juniper"]
    films = ["Moonrise", "Tidewater", "Ashfall", "Kettle", "Harbor", "Lantern", "Orchard", "Quarry", "Saffron", "Thicket"]
    out = []
    for i in range(n):
        s, f = studios[i], films[i]
        claim = f"{s} Pictures refused to release the film {f}."
        out.append(
            {
                "id": i,
                "_id": str(1000 + i),
                "edit_statement": claim,
                "edit_scope": [[claim, "yes"], [f"{s} Pictures released the movie {f}.", "no"]],
                "edit_scope_true_ans": ["no", "no", "no"],
            }
        )
    return out


def make_hotpot(n: int = 6) -> list[dict]:
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"{i:024x}",
                "step": i,
                "type": "bridge",
                "leval": "easy",
                "edit_scope": [[f" Which magazine, Mag{i}A or Mag{i}B, started first?", f"Mag{i}A"]],
                "edit_scope_true_ans": [f"Mag{i}A"],
                "edit_statement": [f"Mag{i}A was started in 1844.", f"Mag{i}B was started in 1989."],
            }
        )
    return out


@pytest.fixture
def cfh_file(tmp_path):
    p = tmp_path / "cfh_filtered.json"
    p.write_text(json.dumps(make_cfh()), encoding="utf-8")
    return p


@pytest.fixture
def fever_file(tmp_path):
    p = tmp_path / "fever_filtered.json"
    p.write_text(json.dumps(make_fever()), encoding="utf-8")
    return p


@pytest.fixture
def hotpot_file(tmp_path):
    p = tmp_path / "hotpot.json"
    p.write_text(json.dumps(make_hotpot()), encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def real_file():
    """``real_file(name)``: a real EREN file, or skip loudly."""

    def get(name: str):
        folder = shared_data_dir("eren")
        if folder is None or not (folder / name).is_file():
            pytest.skip(f"real EREN data not found (shared/data/eren/{name}); set LC_SHARED_DATA to run this check")
        return folder / name

    return get


@pytest.fixture(scope="session")
def fixtures():
    """The record builders, for tests that need variations."""
    return {"cfh": make_cfh, "fever": make_fever, "hotpot": make_hotpot}
