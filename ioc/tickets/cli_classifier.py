"""Commands: ``ioc classify`` and ``ioc triage train``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from tqdm import tqdm

from ioc.tickets import corpus
from ioc.tickets.classifier import TriageClassifier, default_classifier, split

triage_app = typer.Typer(help="Triage desk for citizen reports (phản ánh hiện trường).", no_args_is_help=True)


def _model(path: Path | None) -> TriageClassifier:
    if path is None:
        return default_classifier(progress=sys.stderr.isatty())
    if not path.exists():
        raise typer.BadParameter(f"model file {str(path)!r} does not exist", param_hint="--model")
    return TriageClassifier.load(path)


def classify(
    text: Annotated[
        str | None, typer.Argument(help="Report text; without it, one report per line is read from stdin.")
    ] = None,
    model: Annotated[Path | None, typer.Option(help="A model saved by `ioc triage train --out`.")] = None,
) -> None:
    """Suggest the category of a citizen report, with the model's confidence."""
    classifier = _model(model)
    if text is not None:
        if not text.strip():
            raise typer.BadParameter("the report text is empty", param_hint="TEXT")
        s = classifier.suggest(text)
        typer.echo(f"{s.name_vi} (độ tin cậy {s.confidence:.2f})")
        return
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        s = classifier.suggest(line)
        record = {
            "text": line,
            "category": s.category_code,
            "name_vi": s.name_vi,
            "name_en": classifier.catalog.get(s.category_code).name_en,
            "confidence": round(s.confidence, 4),
        }
        typer.echo(json.dumps(record, ensure_ascii=False))


@triage_app.command("train")
def train(
    out: Annotated[
        Path | None, typer.Option(help="Also save a model trained on every row here (joblib).")
    ] = None,
    size: Annotated[
        int, typer.Option(min=100, help="Reports in the generated corpus.")
    ] = corpus.DEFAULT_SIZE,
    seed: Annotated[int, typer.Option(help="Corpus seed.")] = corpus.DEFAULT_SEED,
    test_size: Annotated[float, typer.Option(min=0.05, max=0.5, help="Held-out share.")] = 0.2,
    split_by: Annotated[
        str, typer.Option("--split", help="'phrase': hold out whole phrasings (honest); 'row': random rows.")
    ] = "phrase",
) -> None:
    """Build the seeded corpus, train, and print accuracy and per-class F1 on a held-out split."""
    if split_by not in ("phrase", "row"):
        raise typer.BadParameter(f"must be 'phrase' or 'row', got {split_by!r}", param_hint="--split")
    by: Literal["phrase", "row"] = "phrase" if split_by == "phrase" else "row"
    with tqdm(total=4, desc="triage train", unit="step") as bar:
        reports = corpus.generate(size, seed, progress=True)
        bar.update()
        train_set, test_set = split(reports, test_size, seed, by=by)
        model = TriageClassifier.train(train_set, progress=True)
        bar.update()
        evaluation = model.evaluate(test_set)
        bar.update()
        if out is not None:
            TriageClassifier.train(reports, progress=True).save(out)
        bar.update()
    typer.echo(f"corpus {corpus.CORPUS_VERSION}: {len(reports)} reports, seed {seed}, split by {by}")
    typer.echo(f"trained on {len(train_set)}, held out {len(test_set)}")
    typer.echo(evaluation.format(model.catalog))
    if out is not None:
        typer.echo(f"model saved to {out}")


def register(app: typer.Typer) -> None:
    """Add ``classify`` and the ``triage`` group to the ``ioc`` command."""
    app.command("classify")(classify)
    app.add_typer(triage_app, name="triage")
