"""Category classifier for citizen reports: suggests a category with a calibrated confidence.

Features: character 2–5-grams of the accent-folded text (robust to missing diacritics, typos and
teencode), word 1–2-grams of the accented text (``ngập`` and ``nắp`` fold to the same letters)
at half weight, and word 1–2-grams of the folded text. Every accented training example is also
fed in folded, so a report typed without diacritics gets the category of its accented twin.
Model: a linear SVM with sigmoid-calibrated probabilities (3-fold ``CalibratedClassifierCV``).

The default model is never committed: :func:`default_classifier` trains it from the seeded corpus
on first use (a few seconds) and caches it in the user cache directory, keyed by a hash of the
corpus version and of the code and configuration that shape it. Only files this module wrote are
ever loaded from there (joblib is pickle).
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import joblib
import numpy as np
import platformdirs
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from tqdm import tqdm

from ioc.tickets import corpus as corpus_mod
from ioc.tickets.categories import DEFAULT_PATH as CATEGORIES_PATH
from ioc.tickets.categories import CategoryCatalog, load_catalog
from ioc.tickets.corpus import LabelledReport
from ioc.tickets.text import char_view, fold, has_diacritics, word_view

MODEL_FORMAT = 1
_SOURCES = (Path(__file__), Path(corpus_mod.__file__), Path(__file__).with_name("text.py"), CATEGORIES_PATH)
_CV_FOLDS = 3
CONFIRMED_WEIGHT = 3.0  # a label a staff member confirmed counts more than a generated one


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The suggested category of one report and the model's calibrated probability for it."""

    category_code: str
    name_vi: str
    confidence: float


@dataclass(frozen=True, slots=True)
class ClassScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """Scores on a labelled set; ``confusion[i][j]`` counts true ``labels[i]`` predicted ``labels[j]``."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScore]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    n: int

    def format(self, catalog: CategoryCatalog | None = None, *, confusion: bool = False) -> str:
        """A plain-text report: accuracy, per-class F1 and optionally the confusion matrix."""
        catalog = catalog or load_catalog()
        lines = [f"accuracy {self.accuracy:.4f}  macro-F1 {self.macro_f1:.4f}  (n = {self.n})", ""]
        lines.append(f"{'category':<26}{'precision':>10}{'recall':>8}{'F1':>8}{'n':>6}")
        for code, s in self.per_class.items():
            name = catalog.get(code).name_vi if code in catalog else code
            lines.append(f"{name:<26}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.support:>6}")
        if confusion:
            width = max(6, *(len(c) + 1 for c in self.labels))
            lines += ["", "confusion (rows = true, columns = predicted)"]
            lines.append(" " * 14 + "".join(f"{c:>{width}}" for c in self.labels))
            for code, row in zip(self.labels, self.confusion, strict=True):
                lines.append(f"{code:<14}" + "".join(f"{v:>{width}}" for v in row))
        return "\n".join(lines)


def _words(view: Callable[[str], str]) -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=view,
        tokenizer=str.split,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
    )


def build_pipeline(seed: int = 0) -> Pipeline:
    """The untrained feature union + calibrated linear model."""
    features = FeatureUnion(
        [
            (
                "chars_folded",
                TfidfVectorizer(
                    preprocessor=char_view,
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
            ("words_accented", _words(word_view)),
            ("words_folded", _words(char_view)),
        ],
        # Accented words carry meaning but split a report from its unaccented twin: weigh them less.
        transformer_weights={"chars_folded": 1.0, "words_accented": 0.5, "words_folded": 1.0},
    )
    model = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=seed), method="sigmoid", cv=_CV_FOLDS)
    return Pipeline([("features", features), ("model", model)])


def split(
    reports: Sequence[LabelledReport],
    test_size: float = 0.2,
    seed: int = 0,
    by: Literal["row", "phrase"] = "phrase",
) -> tuple[list[LabelledReport], list[LabelledReport]]:
    """Train/test split holding out whole core phrasings (default), or random rows (``by="row"``)."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    rng = random.Random(seed)
    if by == "row":
        order = list(range(len(reports)))
        rng.shuffle(order)
        cut = round(len(reports) * test_size)
        held = set(order[:cut])
    elif by == "phrase":
        # Hold out the same share of phrasings in every category, so each class stays tested.
        held_phrases: set[str] = set()
        for category in sorted({r.category for r in reports}):
            phrases = sorted({r.phrase_id for r in reports if r.category == category})
            rng.shuffle(phrases)
            held_phrases.update(phrases[: max(1, round(len(phrases) * test_size))])
        held = {i for i, r in enumerate(reports) if r.phrase_id in held_phrases}
    else:
        raise ValueError(f"split by must be 'row' or 'phrase', got {by!r}")
    train = [r for i, r in enumerate(reports) if i not in held]
    test = [r for i, r in enumerate(reports) if i in held]
    return train, test


class TriageClassifier:
    """A trained model plus the examples it was trained on (so confirmed labels can retrain it)."""

    def __init__(
        self,
        pipeline: Pipeline,
        texts: Sequence[str],
        labels: Sequence[str],
        weights: Sequence[float],
        catalog: CategoryCatalog | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._texts = tuple(texts)
        self._labels = tuple(labels)
        self._weights = tuple(weights)
        self.catalog = catalog or load_catalog()

    # Training -----------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        reports: Iterable[LabelledReport],
        catalog: CategoryCatalog | None = None,
        *,
        progress: bool = False,
        seed: int = 0,
    ) -> TriageClassifier:
        """Fit on labelled reports; every label must be a category of ``catalog``."""
        reports = list(reports)
        return cls._fit(
            [r.text for r in reports],
            [r.category for r in reports],
            [1.0] * len(reports),
            catalog,
            progress,
            seed,
        )

    @classmethod
    def _fit(
        cls,
        texts: list[str],
        labels: list[str],
        weights: list[float],
        catalog: CategoryCatalog | None,
        progress: bool,
        seed: int,
    ) -> TriageClassifier:
        catalog = catalog or load_catalog()
        unknown = sorted(set(labels) - set(catalog.codes))
        if unknown:
            raise ValueError(
                f"labels not in the category catalog: {unknown}; known: {', '.join(catalog.codes)}"
            )
        if len(set(labels)) < 2:
            raise ValueError(f"need at least two categories to train, got {sorted(set(labels))}")
        too_few = sorted(code for code, n in Counter(labels).items() if n < _CV_FOLDS)
        if too_few:
            raise ValueError(
                f"calibration needs at least {_CV_FOLDS} examples per category; too few: {too_few}"
            )
        # Every accented example also teaches its unaccented twin, so both get the same category.
        twins = [i for i, t in enumerate(texts) if has_diacritics(t)]
        x_texts = list(texts) + [fold(texts[i]) for i in twins]
        y = list(labels) + [labels[i] for i in twins]
        w = np.asarray(list(weights) + [weights[i] for i in twins])
        pipeline = build_pipeline(seed)
        with tqdm(total=2, desc="train", unit="step", disable=not progress, leave=False) as bar:
            bar.set_postfix_str("features")
            x = pipeline.named_steps["features"].fit_transform(x_texts)
            bar.update()
            bar.set_postfix_str("calibrated linear SVM")
            pipeline.named_steps["model"].fit(x, y, sample_weight=w)
            bar.update()
        return cls(pipeline, texts, labels, weights, catalog)

    def retrain(
        self, confirmed_labels: Iterable[tuple[str, str]], *, progress: bool = False
    ) -> TriageClassifier:
        """A new classifier trained on the old examples plus staff-confirmed ``(text, category_code)``.

        A confirmed label replaces any earlier example with the same text and counts
        ``CONFIRMED_WEIGHT`` times; this classifier is left unchanged.
        """
        confirmed: dict[str, tuple[str, str]] = {}  # normalised text -> (text, code); last one wins
        for item in confirmed_labels:
            try:
                text, code = item
            except (TypeError, ValueError) as exc:
                raise ValueError(f"confirmed label must be (text, category_code), got {item!r}") from exc
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"confirmed label has empty text: {item!r}")
            if code not in self.catalog:
                raise ValueError(
                    f"confirmed label {code!r} is not a category; known: {', '.join(self.catalog.codes)}"
                )
            confirmed[word_view(text)] = (text, code)
        if not confirmed:
            return self
        keep = [i for i, t in enumerate(self._texts) if word_view(t) not in confirmed]
        texts = [self._texts[i] for i in keep]
        labels = [self._labels[i] for i in keep]
        weights = [self._weights[i] for i in keep]
        for text, code in confirmed.values():
            texts.append(text)
            labels.append(code)
            weights.append(CONFIRMED_WEIGHT)
        return self._fit(texts, labels, weights, self.catalog, progress, seed=0)

    # Prediction ---------------------------------------------------------------------------------
    def probabilities(self, text: str) -> dict[str, float]:
        """Calibrated probability of every category for one report, highest first."""
        _check_text(text)
        proba = self._pipeline.predict_proba([text])[0]
        pairs = sorted(zip(self._pipeline.classes_, proba, strict=True), key=lambda p: -p[1])
        return {str(c): float(p) for c, p in pairs}

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        """One suggestion per report (batched: much faster than calling :meth:`suggest` in a loop)."""
        for t in texts:
            _check_text(t)
        if not texts:
            return []
        proba = self._pipeline.predict_proba(list(texts))
        classes = self._pipeline.classes_
        out = []
        for row in proba:
            best = int(np.argmax(row))
            code = str(classes[best])
            out.append(Suggestion(code, self.catalog.get(code).name_vi, float(row[best])))
        return out

    def suggest(self, text: str) -> Suggestion:
        """The most probable category of one report."""
        return self.suggest_many([text])[0]

    def evaluate(self, reports: Sequence[LabelledReport]) -> Evaluation:
        """Accuracy, per-class precision/recall/F1 and the confusion matrix on labelled reports."""
        if not reports:
            raise ValueError("cannot evaluate on an empty set of reports")
        truth = [r.category for r in reports]
        predicted = [s.category_code for s in self.suggest_many([r.text for r in reports])]
        labels = tuple(c for c in self.catalog.codes if c in set(truth) | set(predicted))
        p, r, f, n = precision_recall_fscore_support(truth, predicted, labels=list(labels), zero_division=0)
        per_class = {
            c: ClassScore(float(p[i]), float(r[i]), float(f[i]), int(n[i])) for i, c in enumerate(labels)
        }
        cm = confusion_matrix(truth, predicted, labels=list(labels))
        return Evaluation(
            accuracy=float(accuracy_score(truth, predicted)),
            macro_f1=float(np.mean(f)),
            per_class=per_class,
            labels=labels,
            confusion=tuple(tuple(int(v) for v in row) for row in cm),
            n=len(reports),
        )

    # Persistence --------------------------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        """Write atomically with joblib (a temporary file renamed into place)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "format": MODEL_FORMAT,
            "sklearn": sklearn.__version__,
            "pipeline": self._pipeline,
            "texts": self._texts,
            "labels": self._labels,
            "weights": self._weights,
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            joblib.dump(state, tmp, compress=3)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def load(cls, path: Path | str, catalog: CategoryCatalog | None = None) -> TriageClassifier:
        """Load a model written by :meth:`save` (trusted files only: joblib unpickles)."""
        state = joblib.load(path)
        if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path} is not a triage model of format {MODEL_FORMAT}")
        if state.get("sklearn") != sklearn.__version__:
            raise ValueError(
                f"{path} was saved with scikit-learn {state.get('sklearn')}, running {sklearn.__version__}"
            )
        return cls(state["pipeline"], state["texts"], state["labels"], state["weights"], catalog)


def _check_text(text: object) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"report text must be a non-empty string, got {text!r}")


def model_key(size: int = corpus_mod.DEFAULT_SIZE, seed: int = corpus_mod.DEFAULT_SEED) -> str:
    """Hash of everything that shapes the default model: corpus version and size, code, config."""
    h = hashlib.sha256()
    h.update(f"{MODEL_FORMAT}|{corpus_mod.CORPUS_VERSION}|{size}|{seed}|{sklearn.__version__}".encode())
    for source in _SOURCES:
        h.update(source.read_bytes())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("haiphong-ioc")) / "triage"


def default_classifier(
    cache_dir: Path | str | None = None,
    *,
    size: int = corpus_mod.DEFAULT_SIZE,
    seed: int = corpus_mod.DEFAULT_SEED,
    progress: bool = False,
) -> TriageClassifier:
    """The model trained on the whole seeded corpus, loaded from the cache or trained (and cached) now."""
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = directory / f"classifier-{model_key(size, seed)}.joblib"
    if path.exists():
        try:
            return TriageClassifier.load(path)
        except Exception:  # noqa: BLE001 - a stale or corrupt cache entry is rebuilt, never fatal
            path.unlink(missing_ok=True)
    model = TriageClassifier.train(corpus_mod.generate(size, seed, progress=progress), progress=progress)
    model.save(path)
    return model
