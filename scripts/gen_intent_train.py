"""Writes fixtures/intents/train.jsonl from the hand-written phrasings in
intent_phrases.py (first round) and intent_phrases_extra.py (second round and
compositional pieces): slots filled, openers/closers added, rendered either the
way Whisper writes a clean line (capitalised, punctuated, digits) or the way it
hears a phone line (lower case, no punctuation, fillers), and then a share of
lines copied through `train_noise`, a training-time noiser with its own
sound-alike table (the evaluation noiser in src/nlu/eval.rs is separate code).
Deterministic (fixed seed). `train_intent.py` calls this first.

    python3 scripts/gen_intent_train.py
"""

import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intent_phrases import INTENTS, PREFIXES, SLOTS, SUFFIXES  # noqa: E402
from intent_phrases_extra import COMPOSED, EXTRA, EXTRA_SLOTS  # noqa: E402
from intent_phrases_round4 import PREFIXES4, ROUND4, ROUND4_SLOTS, SUFFIXES4  # noqa: E402
from crisis_phrases import CRISIS, CRISIS_IN_ROUNDS, CRISIS_TRAPS  # noqa: E402
from intent_phrases_round5 import ROUND5  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "intents" / "train.jsonl"
# Clean lines per label, then noisy copies of about NOISY_SHARE of them.
PER_LABEL = 850
NOISY_SHARE = 0.6
SEED = 20240611
# Crisis lines (emergency, `"crisis": true`) and their look-alikes
# (crisis_phrases.py), drawn after the rest with their own generator so the
# lines above stay as they were.
CRISIS_LINES = 300
CRISIS_TRAP_LINES = 450
CRISIS_SEED = 20261207
CRISIS_TEMPLATES = set(CRISIS) | set(CRISIS_IN_ROUNDS)
# Fifth-round lines per label (intent_phrases_round5.py), drawn last, with
# their own generator.
ROUND5_LINES = 90
ROUND5_SEED = 20261208

ALL_SLOTS = dict(SLOTS)
ALL_SLOTS.update(EXTRA_SLOTS)
ALL_SLOTS.update(ROUND4_SLOTS)
ALL_SLOTS["time"] = SLOTS["time"] + EXTRA_SLOTS["dtime"]

# Short answers take only short openers; a "hi my name is" before "yes" is unnatural.
SHORT_LABELS = {"affirm", "deny", "inform", "goodbye", "out_of_scope"}
SHORT_PREFIXES = ["", "", "", "", "um ", "uh ", "oh ", "well ", "okay ", "hmm ", "yeah ", "so "]
SHORT_SUFFIXES = ["", "", "", "", " thanks", " please", " sorry", " um"]

# Openers that do not claim the clinic, for out-of-scope sentences.
OOS_PREFIXES = ["hi ", "hello ", "hi there ", "yeah so ", "um ", "uh hi ", "yes hi ", "good morning ",
                "hey ", "okay so ", "hi um ", "hello yes ", "yes hello ", "hi good afternoon ", "um hello ",
                "hi this is {name} ", "hi my name is {first} and ", "okay um ", "sorry ", "excuse me ",
                "hi I have a question ", "hello can you hear me okay ", "hi I'm sorry to bother you "]
FILLERS = ["um", "uh", "like", "you know", "I mean", "so", "yeah"]
# First-round rendering mishearings (spelling slips and homophones).
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

# Training-time noiser table: sound-alikes a narrow-band recogniser produces,
# both directions where both words are common.
SOUND_ALIKE = {
    "no": ["know", "now", "noh"], "know": ["no"], "now": ["no", "know"],
    "two": ["to", "too", "2"], "to": ["two", "too", "ta"], "too": ["to", "two"],
    "for": ["four", "fore", "fer"], "four": ["for", "4"],
    "bill": ["build", "built", "bell", "pill", "bills"], "billing": ["building", "billings"],
    "cancel": ["council", "counsel", "cancer", "cancelled", "canceled"],
    "my": ["me", "mine", "mah", "by"], "me": ["my", "mi"],
    "results": ["result", "resorts", "resolves"], "result": ["results"],
    "refill": ["re fill", "refills", "refilled", "we fill"],
    "appointment": ["appoint meant", "appointments", "a point", "appointment's", "point"],
    "appointments": ["appointment", "appoint meant"],
    "doctor": ["doc", "doctors", "doctor's", "dr"], "dr": ["doctor", "doc"],
    "prescription": ["prescriptions", "description", "subscription"],
    "insurance": ["assurance", "ensurance", "insurances"],
    "records": ["record", "recorts", "wreckers"], "record": ["records"],
    "the": ["a", "da", "uh"], "a": ["the", "uh"],
    "right": ["write", "rite"], "write": ["right"],
    "yes": ["yeah", "yess", "yep"], "yeah": ["yes", "ya"],
    "week": ["weak"], "hours": ["ours", "hour"], "new": ["knew", "nu"],
    "bye": ["by", "buy", "bi"], "here": ["hear"], "there": ["their", "they're"],
    "your": ["you're", "yer"], "pain": ["pane"], "breathe": ["breed", "breath"],
    "three": ["free", "tree", "3"], "eight": ["ate", "8"], "one": ["won", "1"],
    "son": ["sun"], "test": ["text", "taste", "tests"], "lab": ["lamb", "labs"],
    "blood": ["blud"], "check": ["chick", "czech", "checked"], "moved": ["move"],
    "move": ["moved", "moo"], "book": ["look", "brook"], "schedule": ["skedule", "schedules"],
    "reschedule": ["re schedule", "reschedules"], "time": ["tie"], "cant": ["can"],
    "can't": ["can", "cant"], "i'd": ["i", "id"], "i'm": ["im", "um"],
    "nurse": ["nurses", "nursed"], "office": ["offices", "off is"], "open": ["opened", "hope in"],
    "address": ["a dress"], "parking": ["barking"], "pharmacy": ["farmacy", "pharmacies"],
    "medication": ["medications", "medicate"], "daughter": ["darter", "daughters"],
    "wife": ["why"], "see": ["sea", "c"], "would": ["wood"], "our": ["hour", "are"],
    "date": ["eight"], "birth": ["berth"], "thanks": ["thinks", "thank"],
    "patient": ["patience", "patients"], "covered": ["cover"], "accept": ["except"],
    "paid": ["pay"], "owe": ["oh"], "available": ["a valuable"], "monday": ["mundane"],
    "tuesday": ["choose day"], "friday": ["fried day"],
}
NOISE_FILLERS = ["um", "uh", "yeah so", "like", "you know", "so", "uh huh", "er", "hmm", "okay so",
                 "I mean", "yeah"]
DROPPABLE = {"the", "a", "to", "my", "is", "for", "an", "of", "and", "i", "it", "that", "at", "on"}


def fill(template: str, rng: random.Random) -> str:
    relpro = rng.choice(ALL_SLOTS["relpro"])

    def sub(m: re.Match) -> str:
        key = m.group(1)
        if key.startswith("relpro"):
            return relpro[int(key[-1])]
        return rng.choice(ALL_SLOTS[key])

    text = re.sub(r"\{(\w+)\}", sub, template)
    # "my husband can't" read better than "my husband's"; fix the few "he face" joins.
    text = text.replace(" he face", " his face").replace(" she face", " her face")
    # Slot values that carry their own determiner ("the mri", "my insulin").
    text = re.sub(r"(\bmy|\bthe|\ba|'s) (the|my|a) ", r"\1 ", text)
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


NUMBER_WORDS = {"two": "2", "three": "3", "four": "4", "five": "5", "ten": "10", "nine": "9"}


def typed_style(text: str, rng: random.Random) -> str:
    """Whisper's clean output: capitals, commas after openers, digits, a full stop."""
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"^(hi|hello|um|uh|yeah|so|okay|well|oh|yes|sure)\s", lambda m: m.group(1) + ", ", text)
    if rng.random() < 0.4:
        text = re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: NUMBER_WORDS[m.group(1)], text)
    text = re.sub(r"\bdr\b\.?", "Dr.", text)
    text = text[0].upper() + text[1:] if text else text
    if rng.random() < 0.8 and not text.endswith(("?", ".", "!")):
        question = re.match(r"(can|could|do|does|is|are|what|when|where|how|which|who|will|did|am|have|has)\b",
                            text.lower())
        text += "?" if question else rng.choice([".", ".", "!"])
    return text


def train_noise(text: str, rng: random.Random) -> str:
    """Another take on a phone line: lower case, no punctuation, one or two
    sound-alikes, fillers, a dropped function word, sometimes a cut-off end."""
    words = re.sub(r"[^\w\s']", " ", text.lower()).split()
    if not words:
        return text
    hits = [i for i, w in enumerate(words) if w in SOUND_ALIKE]
    rng.shuffle(hits)
    for i in hits[: rng.choice([1, 1, 1, 2, 2, 3])]:
        words[i] = rng.choice(SOUND_ALIKE[words[i]])
    if len(words) > 4 and rng.random() < 0.4:
        drops = [i for i, w in enumerate(words) if w in DROPPABLE]
        if drops:
            del words[rng.choice(drops)]
    for _ in range(rng.choice([0, 1, 1, 1, 2])):
        words.insert(rng.randrange(0, len(words) + 1), rng.choice(NOISE_FILLERS))
    if len(words) > 6 and rng.random() < 0.1:
        words = words[: len(words) - 1]
    if rng.random() < 0.1:
        words = [w.replace("'", "") for w in words]
    return " ".join(words)


def compose(parts: list[list[str]], rng: random.Random) -> tuple[str, int]:
    """One piece of each part; returns the sentence and which piece of the
    widest part was used (the sentence's group for grouped CV)."""
    widest = max(range(len(parts)), key=lambda i: len(parts[i]))
    picks = [rng.randrange(len(p)) for p in parts]
    text = " ".join(parts[i][k] for i, k in enumerate(picks) if parts[i][k])
    return text, picks[widest]


def generate() -> list[dict]:
    rng = random.Random(SEED)
    rows = []
    for label, first_round in INTENTS.items():
        second_round = EXTRA.get(label, [])
        fourth_round = ROUND4.get(label, [])
        composed = COMPOSED.get(label)
        seen = set()
        short = label in SHORT_LABELS
        attempts = 0
        while len(seen) < PER_LABEL and attempts < PER_LABEL * 40:
            attempts += 1
            roll = rng.random()
            if composed and roll < 0.25:
                core, k = compose(composed, rng)
                group = f"{label}/c{k}"
                wrap = False
            elif fourth_round and roll < 0.55:
                k = rng.randrange(len(fourth_round))
                core, group, wrap = fourth_round[k], f"{label}/r{k}", True
            elif second_round and roll < 0.8:
                k = rng.randrange(len(second_round))
                core, group, wrap = second_round[k], f"{label}/x{k}", True
            else:
                k = rng.randrange(len(first_round))
                core, group, wrap = first_round[k], f"{label}/{k}", True
            text = fill(core, rng)
            if wrap:
                if label == "out_of_scope" and len(text.split()) >= 4 and rng.random() < 0.4:
                    # Wrong numbers and other businesses open like any caller.
                    text = fill(rng.choice(OOS_PREFIXES), rng) + text + rng.choice(SHORT_SUFFIXES)
                elif short:
                    text = rng.choice(SHORT_PREFIXES) + text + rng.choice(SHORT_SUFFIXES)
                elif rng.random() < 0.3:
                    text = fill(rng.choice(PREFIXES4), rng) + text + rng.choice(SUFFIXES4)
                else:
                    text = fill(rng.choice(PREFIXES), rng) + text + rng.choice(SUFFIXES)
            text = re.sub(r"\s+", " ", text).strip()
            text = asr_style(text, rng) if rng.random() < 0.45 else typed_style(text, rng)
            key = text.lower()
            if not text or key in seen:
                continue
            seen.add(key)
            # `group` names the hand-written sentence (or the main piece of a
            # composed one), so model selection can hold out whole sentences.
            row = {"text": text, "intent": label, "group": group}
            if label == "emergency" and core in CRISIS_TEMPLATES:
                row["crisis"] = True
            rows.append(row)
            if rng.random() < NOISY_SHARE:
                noisy = train_noise(text, rng)
                if noisy and noisy.lower() not in seen:
                    seen.add(noisy.lower())
                    rows.append({**row, "text": noisy, "noisy": True})
    rows += generate_crisis({r["text"].lower() for r in rows})
    rows += generate_round5({r["text"].lower() for r in rows})
    return rows


def generate_round5(seen: set[str]) -> list[dict]:
    """ROUND5_LINES clean lines per label from the fifth round (and noisy
    copies), wrapped as the main loop wraps its labels."""
    rng = random.Random(ROUND5_SEED)
    rows = []
    for label, cores in ROUND5.items():
        short = label in SHORT_LABELS
        made, attempts = 0, 0
        while made < ROUND5_LINES and attempts < ROUND5_LINES * 40:
            attempts += 1
            k = rng.randrange(len(cores))
            if short:
                text = fill(cores[k], rng)
                text = rng.choice(SHORT_PREFIXES) + text + rng.choice(SHORT_SUFFIXES)
                text = re.sub(r"\s+", " ", text).strip()
                text = asr_style(text, rng) if rng.random() < 0.45 else typed_style(text, rng)
            else:
                text = wrap_caller(cores[k], rng)
            if not text or text.lower() in seen:
                continue
            seen.add(text.lower())
            row = {"text": text, "intent": label, "group": f"{label}/v{k}"}
            rows.append(row)
            made += 1
            if rng.random() < NOISY_SHARE:
                noisy = train_noise(text, rng)
                if noisy and noisy.lower() not in seen:
                    seen.add(noisy.lower())
                    rows.append({**row, "text": noisy, "noisy": True})
    return rows


def wrap_caller(core: str, rng: random.Random) -> str:
    """A hand-written sentence with a caller's opener and closer, rendered
    typed or as heard (as the main loop does for long labels)."""
    text = fill(core, rng)
    if rng.random() < 0.3:
        text = fill(rng.choice(PREFIXES4), rng) + text + rng.choice(SUFFIXES4)
    else:
        text = fill(rng.choice(PREFIXES), rng) + text + rng.choice(SUFFIXES)
    text = re.sub(r"\s+", " ", text).strip()
    return asr_style(text, rng) if rng.random() < 0.45 else typed_style(text, rng)


def generate_crisis(seen: set[str]) -> list[dict]:
    """Crisis lines (emergency and crisis) and crisis look-alikes (their own
    label, not crisis): the crisis classifier's positives and traps."""
    rng = random.Random(CRISIS_SEED)
    traps = [(label, k, core) for label, cores in CRISIS_TRAPS.items() for k, core in enumerate(cores)]
    rows = []
    for budget, pick in (
        (CRISIS_LINES, lambda: ("emergency", *[(k, CRISIS[k]) for k in [rng.randrange(len(CRISIS))]][0], True)),
        (CRISIS_TRAP_LINES, lambda: (*rng.choice(traps), False)),
    ):
        made, attempts = 0, 0
        while made < budget and attempts < budget * 40:
            attempts += 1
            label, k, core, crisis = pick()
            text = wrap_caller(core, rng)
            if not text or text.lower() in seen:
                continue
            seen.add(text.lower())
            group = f"{label}/{'k' if crisis else 'kt'}{k}"
            row = {"text": text, "intent": label, "group": group}
            if crisis:
                row["crisis"] = True
            rows.append(row)
            made += 1
            if rng.random() < NOISY_SHARE:
                noisy = train_noise(text, rng)
                if noisy and noisy.lower() not in seen:
                    seen.add(noisy.lower())
                    rows.append({**row, "text": noisy, "noisy": True})
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
