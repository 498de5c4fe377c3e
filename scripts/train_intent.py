"""Trains the intent classifier and writes models/intent/.

    python3 -m pip install -r scripts/requirements-train.txt
    python3 scripts/train_intent.py

Features are computed here and, identically, in Rust (src/nlu/classifier.rs):
word unigrams, word bigrams and character 3-5-grams of each word, sublinear
TF x IDF, L2-normalised. Only the model over that numeric vector is exported to
ONNX (a hand-built graph: linear or MLP, temperature-scaled softmax), so the
tokenizer does not need an ONNX converter. `features_check.jsonl` lets the Rust
test prove both sides compute the same vector.

Two candidate models are compared by grouped cross-validation on the training
set (whole hand-written sentences held out at a time); the better one is
exported. The held-out set is never trained on: the script refuses to run when
a training line also appears there, and only reports held-out figures.
"""

import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "fixtures" / "intents" / "train.jsonl"
HELDOUT = ROOT / "fixtures" / "intents" / "heldout.jsonl"
OUT = ROOT / "models" / "intent"

LABELS = [
    "book_appointment", "reschedule_appointment", "cancel_appointment", "check_appointment",
    "office_hours", "location", "insurance", "billing", "prescription_refill", "test_results",
    "clinical_question", "emergency", "speak_to_staff", "records_request", "new_patient",
    "affirm", "deny", "inform", "goodbye", "out_of_scope",
]
MIN_DF = 2
MAX_FEATURES = 30000
CHAR_N = (3, 5)
SEED = 7
NEAR_COPY = 0.8


# ---- features (mirror of src/nlu/classifier.rs; change both together) ----

def tokens(text: str) -> list[str]:
    """ASCII-lowercase, drop apostrophes (can't -> cant), everything that is
    not an ASCII letter or digit separates tokens."""
    out = []
    for ch in text:
        if ch in "'\u2019":
            continue
        if ch.isascii() and ch.isalnum():
            out.append(ch.lower())
        else:
            out.append(" ")
    return "".join(out).split()


def raw_features(text: str) -> Counter:
    toks = tokens(text)
    feats = Counter()
    for t in toks:
        feats["w " + t] += 1
    for a, b in zip(toks, toks[1:]):
        feats["b " + a + "_" + b] += 1
    for t in toks:
        padded = "<" + t + ">"
        for n in range(CHAR_N[0], CHAR_N[1] + 1):
            for i in range(0, len(padded) - n + 1):
                feats["c " + padded[i : i + n]] += 1
    return feats


class Featurizer:
    def fit(self, texts: list[str]) -> "Featurizer":
        df = Counter()
        for t in texts:
            df.update(set(raw_features(t)))
        kept = [f for f, n in df.items() if n >= MIN_DF]
        kept.sort(key=lambda f: (-df[f], f))
        kept = sorted(kept[:MAX_FEATURES])
        self.vocab = {f: i for i, f in enumerate(kept)}
        n_docs = len(texts)
        self.idf = np.array(
            [math.log((1 + n_docs) / (1 + df[f])) + 1.0 for f in kept], dtype=np.float32
        )
        return self

    def sparse(self, text: str) -> list[tuple[int, float]]:
        counts = raw_features(text)
        pairs = []
        for f, c in counts.items():
            i = self.vocab.get(f)
            if i is not None:
                pairs.append((i, (1.0 + math.log(c)) * float(self.idf[i])))
        norm = math.sqrt(sum(v * v for _, v in pairs))
        if norm > 0:
            pairs = [(i, v / norm) for i, v in pairs]
        return sorted(pairs)

    def matrix(self, texts: list[str]) -> csr_matrix:
        rows, cols, vals = [], [], []
        for r, t in enumerate(texts):
            for i, v in self.sparse(t):
                rows.append(r)
                cols.append(i)
                vals.append(v)
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)), dtype=np.float32)


# ---- data ----

def norm_line(text: str) -> str:
    return " ".join(tokens(text))


def load(path: Path) -> list[dict]:
    rows = []
    with path.open() as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            if row["intent"] not in LABELS:
                sys.exit(f"{path}:{n}: unknown intent {row['intent']!r}")
            rows.append(row)
    return rows


# ---- models ----

def make_candidates():
    return {
        "tfidf_logreg": lambda: LogisticRegression(C=20.0, max_iter=3000),
        "tfidf_mlp": lambda: MLPClassifier(
            hidden_layer_sizes=(128,), alpha=1e-4, max_iter=60, early_stopping=False,
            random_state=SEED,
        ),
    }


def logits_of(model, X) -> np.ndarray:
    if isinstance(model, LogisticRegression):
        return model.decision_function(X)
    # MLP: the pre-softmax output layer.
    h = X @ model.coefs_[0] + model.intercepts_[0]
    h = np.maximum(h, 0)
    return np.asarray(h @ model.coefs_[1] + model.intercepts_[1])


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    def nll(t: float) -> float:
        p = softmax(logits / t)
        return -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            total += mask.mean() * abs((pred[mask] == y[mask]).mean() - conf[mask].mean())
    return float(total)


def metrics(probs: np.ndarray, y: np.ndarray) -> dict:
    pred = probs.argmax(axis=1)
    return {
        "accuracy": float((pred == y).mean()),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=list(range(len(LABELS))))),
        "ece": ece(probs, y),
    }


def export_onnx(model, temperature: float, n_features: int, path: Path) -> None:
    inv_t = np.array([1.0 / temperature], dtype=np.float32)
    inits = [numpy_helper.from_array(inv_t, "inv_temperature")]
    nodes = []
    if isinstance(model, LogisticRegression):
        inits += [
            numpy_helper.from_array(model.coef_.T.astype(np.float32), "w"),
            numpy_helper.from_array(model.intercept_.astype(np.float32), "b"),
        ]
        nodes += [
            helper.make_node("MatMul", ["features", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["logits"]),
        ]
    else:
        inits += [
            numpy_helper.from_array(model.coefs_[0].astype(np.float32), "w1"),
            numpy_helper.from_array(model.intercepts_[0].astype(np.float32), "b1"),
            numpy_helper.from_array(model.coefs_[1].astype(np.float32), "w2"),
            numpy_helper.from_array(model.intercepts_[1].astype(np.float32), "b2"),
        ]
        nodes += [
            helper.make_node("MatMul", ["features", "w1"], ["h0"]),
            helper.make_node("Add", ["h0", "b1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["h2"]),
            helper.make_node("MatMul", ["h2", "w2"], ["h3"]),
            helper.make_node("Add", ["h3", "b2"], ["logits"]),
        ]
    nodes += [
        helper.make_node("Mul", ["logits", "inv_temperature"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "frontdesk_intent",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n_features])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(LABELS)])],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="frontdesk")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def main() -> None:
    train = load(TRAIN)
    heldout = load(HELDOUT) if HELDOUT.exists() else []
    held_norm = {norm_line(r["text"]) for r in heldout}
    leaks = [r["text"] for r in train if norm_line(r["text"]) in held_norm]
    if leaks:
        sys.exit(
            f"refusing to train: {len(leaks)} training line(s) also appear in {HELDOUT.name}, "
            f"e.g. {leaks[0]!r}; the held-out set must stay unseen"
        )

    # Near-copies leak as much as exact ones: drop training lines whose word
    # set is nearly that of a held-out line (Jaccard >= NEAR_COPY).
    held_sets = [set(tokens(r["text"])) for r in heldout]
    kept, dropped = [], 0
    for r in train:
        s = set(tokens(r["text"]))
        if s and any(len(s & h) / len(s | h) >= NEAR_COPY for h in held_sets):
            dropped += 1
        else:
            kept.append(r)
    if dropped:
        print(f"dropped {dropped} training line(s) that nearly copy a held-out line")
    train = kept

    texts = [r["text"] for r in train]
    y = np.array([LABELS.index(r["intent"]) for r in train])
    groups = np.array([r.get("group", r["text"]) for r in train])

    # Model selection: grouped 5-fold CV; features refit inside each fold.
    comparison = {}
    oof_logits = {}
    for name, make in make_candidates().items():
        logits = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        for fold, (tr, te) in enumerate(GroupKFold(n_splits=5).split(texts, y, groups)):
            feat = Featurizer().fit([texts[i] for i in tr])
            model = make().fit(feat.matrix([texts[i] for i in tr]), y[tr])
            logits[te] = logits_of(model, feat.matrix([texts[i] for i in te]))
        t = fit_temperature(logits, y)
        comparison[name] = {"grouped_cv": metrics(softmax(logits / t), y), "temperature": t}
        comparison[name]["grouped_cv"]["ece_uncalibrated"] = ece(softmax(logits), y)
        oof_logits[name] = logits
        print(f"{name}: grouped CV {comparison[name]['grouped_cv']}  T={t:.3f}", flush=True)

    best = max(comparison, key=lambda n: (comparison[n]["grouped_cv"]["macro_f1"]))
    print(f"selected {best}")

    feat = Featurizer().fit(texts)
    X = feat.matrix(texts)
    final = {}
    for name, make in make_candidates().items():
        model = make().fit(X, y)
        final[name] = model
        if heldout:
            hy = np.array([LABELS.index(r["intent"]) for r in heldout])
            hp = softmax(logits_of(model, feat.matrix([r["text"] for r in heldout])) / comparison[name]["temperature"])
            comparison[name]["heldout"] = metrics(hp, hy)
            print(f"{name}: held-out {comparison[name]['heldout']}")

    OUT.mkdir(parents=True, exist_ok=True)
    temperature = comparison[best]["temperature"]
    export_onnx(final[best], temperature, len(feat.vocab), OUT / "intent.onnx")

    vocab_list = sorted(feat.vocab, key=feat.vocab.get)
    with (OUT / "features.json").open("w") as f:
        json.dump(
            {
                "format": 1,
                "labels": LABELS,
                "char_ngram_min": CHAR_N[0],
                "char_ngram_max": CHAR_N[1],
                "vocab": vocab_list,
                "idf": [round(float(v), 6) for v in feat.idf],
            },
            f,
            separators=(",", ":"),
        )
    # Re-read the rounded idf so the check file matches what Rust loads.
    feat.idf = np.array(json.load((OUT / "features.json").open())["idf"], dtype=np.float32)

    # Features + probabilities for a few fixture lines; the Rust test compares.
    import onnxruntime as ort

    sess = ort.InferenceSession(str(OUT / "intent.onnx"), providers=["CPUExecutionProvider"])
    check_texts = texts[::97][:40] + [r["text"] for r in heldout[::23][:20]] + [
        "Um, I CAN'T breathe!!", "", "café naïve — 3/4/85", "a  b\tc",
    ]
    with (OUT / "features_check.jsonl").open("w") as f:
        for t in check_texts:
            sp = feat.sparse(t)
            dense = np.zeros((1, len(feat.vocab)), dtype=np.float32)
            for i, v in sp:
                dense[0, i] = v
            probs = sess.run(None, {"features": dense})[0][0]
            f.write(json.dumps({
                "text": t,
                "indices": [i for i, _ in sp],
                "values": [round(v, 6) for _, v in sp],
                "probabilities": [round(float(p), 6) for p in probs],
            }) + "\n")

    report = {
        "selected": best,
        "n_train": len(texts),
        "n_features": len(feat.vocab),
        "candidates": comparison,
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT}/intent.onnx ({(OUT / 'intent.onnx').stat().st_size // 1024} KiB), features.json, report.json")


if __name__ == "__main__":
    main()
