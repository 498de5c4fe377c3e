"""Writes fixtures/intents/train.jsonl from the hand-written phrasings in
intent_phrases.py: slots filled, openers/closers added, and a share of lines
rendered the way Whisper hears a phone line (lower case, no punctuation,
fillers, one misheard word). Deterministic (fixed seed).

    python3 scripts/gen_intent_train.py
"""

import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intent_phrases import INTENTS, PREFIXES, SLOTS, SUFFIXES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "intents" / "train.jsonl"
PER_LABEL = 220
SEED = 20240611

# Short answers take only short openers; a "hi my name is" before "yes" is unnatural.
SHORT_LABELS = {"affirm", "deny", "inform", "goodbye", "out_of_scope"}
SHORT_PREFIXES = ["", "", "", "um ", "uh ", "oh ", "well ", "okay ", "hmm "]
SHORT_SUFFIXES = ["", "", "", " thanks", " please", " sorry"]

FILLERS = ["um", "uh", "like", "you know", "I mean", "so", "yeah"]
# Training-time mishearings (spelling slips and homophones); the evaluation
# noiser in tests/nlu_eval.rs keeps its own, different table.
MISHEAR = {
    "appointment": ["appointmen", "a point meant", "apartment"],
    "prescription": ["perscription", "subscription"],
    "refill": ["re fill", "refil"],
    "schedule": ["skedule", "schedual"],
    "insurance": ["insurence", "in surance"],
    "results": ["result", "reserves"],
    "breathe": ["breath", "breed"],
    "slurring": ["wearing", "slurrying"],
    "doctor": ["dr", "docter"],
    "cancel": ["cancer", "cancelled"],
    "bill": ["pill", "bell"],
    "records": ["record", "recourse"],
    "three": ["free", "tree"],
    "four": ["for", "floor"],
    "two": ["to", "too"],
    "my": ["by", "mine"],
    "chest": ["chess", "just"],
    "pain": ["paint", "pane"],
    "hours": ["ours", "flowers"],
    "open": ["opening", "hope in"],
    "new": ["knew", "nu"],
    "patient": ["patience", "patients"],
}


def fill(template: str, rng: random.Random) -> str:
    relpro = rng.choice(SLOTS["relpro"])

    def sub(m: re.Match) -> str:
        key = m.group(1)
        if key.startswith("relpro"):
            return relpro[int(key[-1])]
        return rng.choice(SLOTS[key])

    text = re.sub(r"\{(\w+)\}", sub, template)
    # "my husband can't" read better than "my husband's"; fix the few "he face" joins.
    text = text.replace(" he face", " his face").replace(" she face", " her face")
    return text


def asr_style(text: str, rng: random.Random) -> str:
    text = text.lower()
    text = re.sub(r"[^\w\s']", " ", text)
    words = text.split()
    if len(words) > 3 and rng.random() < 0.5:
        at = rng.randrange(1, len(words))
        words.insert(at, rng.choice(FILLERS))
    if rng.random() < 0.35:
        hits = [i for i, w in enumerate(words) if w in MISHEAR]
        if hits:
            i = rng.choice(hits)
            words[i] = rng.choice(MISHEAR[words[i]])
    if len(words) > 4 and rng.random() < 0.15:
        # a self-correction: repeat a short stretch
        at = rng.randrange(1, len(words) - 1)
        words[at:at] = words[at - 1 : at + 1]
    return " ".join(words)


def typed_style(text: str, rng: random.Random) -> str:
    text = text[0].upper() + text[1:] if text else text
    if rng.random() < 0.5 and not text.endswith(("?", ".", "!")):
        text += rng.choice([".", "?", "!", "."])
    return text


def generate() -> list[dict]:
    rng = random.Random(SEED)
    rows = []
    for label, cores in INTENTS.items():
        seen = set()
        short = label in SHORT_LABELS
        attempts = 0
        while len(seen) < PER_LABEL and attempts < PER_LABEL * 40:
            attempts += 1
            core_id = attempts % len(cores) if attempts <= len(cores) else rng.randrange(len(cores))
            text = fill(cores[core_id], rng)
            if short:
                text = rng.choice(SHORT_PREFIXES) + text + rng.choice(SHORT_SUFFIXES)
            else:
                prefix = fill(rng.choice(PREFIXES), rng)
                text = prefix + text + rng.choice(SUFFIXES)
            text = re.sub(r"\s+", " ", text).strip()
            text = asr_style(text, rng) if rng.random() < 0.55 else typed_style(text, rng)
            key = text.lower()
            if key in seen:
                continue
            seen.add(key)
            # `group` names the hand-written sentence, so model selection can
            # hold out whole sentences (grouped cross-validation).
            rows.append({"text": text, "intent": label, "group": f"{label}/{core_id}"})
    return rows


def main() -> None:
    rows = generate()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    counts = {}
    for r in rows:
        counts[r["intent"]] = counts.get(r["intent"], 0) + 1
    print(f"wrote {len(rows)} lines to {OUT}")
    for label, n in counts.items():
        print(f"  {label:24s} {n}")


if __name__ == "__main__":
    main()
