"""``ioc kpi …``: the Decision 766 index from a dossier CSV, the KPI catalogue and document figures.

Exit codes: 0 done; 2 invalid input (the message on stderr names the row and the field, and
nothing is printed on stdout).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ioc.i18n import Lang, fmt_number
from ioc.kpi.dossier_csv import DossierCsvError, TimestampError, index_from_csv, parse_timestamp
from ioc.kpi.index766 import INDICATORS, MAX_POINTS, Index766Result, IndicatorScore, ScoreCard

kpi_app = typer.Typer(help="Chỉ tiêu của buồng lái lãnh đạo: chỉ số 766, danh mục chỉ tiêu. / Leaders' KPIs.",
                      no_args_is_help=True)  # fmt: skip

EXIT_INVALID = 2


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code=EXIT_INVALID)


def _lang(value: str) -> Lang:
    if value not in ("vi", "en"):
        _fail([f"lỗi: --lang phải là vi hoặc en, không phải {value!r} / error: --lang must be vi or en"])
    return value  # type: ignore[return-value]


@kpi_app.command("index766")
def index766_command(
    dossiers: Annotated[Path, typer.Option("--dossiers", help="CSV of dossiers (index766.md section 8).")],
    as_of: Annotated[str, typer.Option("--as-of", help="End of the period, ISO 8601 with offset.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the documented JSON instead of a table.")
    ] = False,
    lang: Annotated[str, typer.Option(help="Table language: vi or en.")] = "vi",
) -> None:
    """Chỉ số 766 (phần tính được từ hồ sơ) theo đơn vị và toàn thành phố."""
    language = _lang(lang)
    try:
        moment = parse_timestamp(as_of)
    except TimestampError as exc:
        _fail([f"lỗi: --as-of: {exc.message_vi}", f"error: --as-of: {exc.message_en}"])
    try:
        with dossiers.open(encoding="utf-8-sig", newline="") as f:
            result = index_from_csv(f, moment)
    except DossierCsvError as exc:
        lines = []
        for e in exc.errors:
            lines += [f"lỗi: {e.text('vi')}", f"error: {e.text('en')}"]
        if exc.more:
            lines.append(f"… và {exc.more} lỗi khác / … and {exc.more} more")
        lines.append(f"{dossiers}: tệp bị từ chối, không tính chỉ số / file refused, no index computed")
        _fail(lines)
    except (OSError, UnicodeDecodeError) as exc:
        _fail([f"lỗi: không đọc được {dossiers}: {exc}", f"error: cannot read {dossiers}: {exc}"])
    typer.echo(result.to_json() if as_json else render_table(result, language))


def render_table(result: Index766Result, lang: Lang = "vi") -> str:
    """A readable table: one line per unit and the city, ratio and points of each indicator."""
    vi = lang == "vi"
    head = ("Đơn vị" if vi else "Unit", "Hồ sơ" if vi else "Dossiers")
    width = max([len(head[0]), 14] + [len(u.unit) for u in result.units])

    def cell(s: IndicatorScore) -> str:
        if s.ratio is None:
            return f"{'(trống)' if vi else '(empty)'} {fmt_number(float(s.points), lang, 2)}"
        return f"{fmt_number(float(s.ratio * 100), lang, 2)}% {fmt_number(float(s.points), lang, 2)}"

    def line(name: str, card: ScoreCard) -> str:
        cells = "".join(f"{cell(s):>15}" for s in card.indicators)
        total = f"{fmt_number(float(card.total), lang, 2)}/{card.max}"
        return f"{name:<{width}}{fmt_number(card.dossiers, lang):>9}{cells}{total:>12}"

    # The exact instant, seconds and offset included: a deadline at 23:59:59 must not read 23:59.
    title = (f"Chỉ số 766 — phần tính được từ hồ sơ ({MAX_POINTS}/100 điểm), tại {result.as_of.isoformat()}"
             if vi else f"Decision 766 index — dossier-computable part ({MAX_POINTS}/100 points), "
             f"as of {result.as_of.isoformat()}")  # fmt: skip
    out = [title, ""]
    out.append(f"{head[0]:<{width}}{head[1]:>9}" + "".join(f"{s.id:>15}" for s in INDICATORS)
               + f"{'Tổng' if vi else 'Total':>12}")  # fmt: skip
    out += [line(u.unit, u.card) for u in result.units]
    out.append(line("Toàn thành phố" if vi else "Whole city", result.city))
    out.append("")
    out.append("Mỗi ô: tỷ lệ và điểm. Chỉ tiêu:" if vi else "Each cell: ratio and points. Indicators:")
    for s in INDICATORS:
        if vi:
            pts = f"tối đa {s.max_points} điểm" if s.max_points else "chỉ báo cáo, không tính điểm"
            out.append(f"  {s.id:<4} {s.name_vi} ({pts})")
        else:
            pts = f"max {s.max_points} points" if s.max_points else "reported, no points"
            out.append(f"  {s.id:<4} {s.name_en} ({pts})")
    out.append("Hạng xếp loại chỉ áp dụng cho thang 100 điểm đầy đủ." if vi
               else "Rating bands apply to the full 100-point index only.")  # fmt: skip
    return "\n".join(out)


@kpi_app.command("catalogue")
def catalogue_command(
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
) -> None:
    """Kiểm tra và liệt kê danh mục chỉ tiêu (catalogue.yaml)."""
    from ioc.kpi.catalogue import CatalogueError, load_catalogue

    language = _lang(lang)
    try:
        cat = load_catalogue()
    except CatalogueError as exc:
        _fail([f"lỗi / error: {exc}"])
    for k in cat.kpis:
        name = k.name_vi if language == "vi" else k.name_en
        typer.echo(f"{k.id:<34} {k.source:<10} {k.frequency:<12} {name}")
    typer.echo(f"{len(cat.kpis)} {'chỉ tiêu' if language == 'vi' else 'KPIs'}")


@kpi_app.command("seed")
def seed_command() -> None:
    """Số liệu từ văn bản (seed_figures.csv) gắn vào danh mục; bỏ qua kèm lý do nếu thiếu thư mục."""
    from ioc.kpi.seed import load_seed_values

    loaded = load_seed_values()
    if loaded.skipped_reason:
        typer.echo(f"bỏ qua / skipped: {loaded.skipped_reason}", err=True)
        return
    for v in loaded.values:
        lines = ",".join(str(n) for n in v.lines)
        scope = f" [{v.scope}]" if v.scope else ""
        typer.echo(
            f"{v.kpi_id:<34} {v.kind:<7} {v.qualifier}{v.value} {v.unit:<8} "
            f"{v.period_start}..{v.period_end}{scope}  {v.source_document}:{lines}"
        )
    for problem in loaded.problems:
        typer.echo(f"cảnh báo / warning: {problem}", err=True)


figure_app = typer.Typer(help="Số liệu nhập tay của chỉ tiêu không có nguồn trực tiếp. / KPI figures by hand.",
                         no_args_is_help=True)  # fmt: skip
kpi_app.add_typer(figure_app, name="figure")


@figure_app.command("set")
def figure_set_command(
    indicator: Annotated[str, typer.Argument(help="Mã chỉ tiêu trong danh mục, ví dụ infra.bts_4g.")],
    value: Annotated[str, typer.Argument(help="Giá trị theo đơn vị của chỉ tiêu (27,9 hoặc 27.9).")],
    as_of: Annotated[str, typer.Option("--as-of", help="Ngày của số liệu, YYYY-MM-DD.")],
    source: Annotated[str, typer.Option("--source", help="Văn bản hoặc địa chỉ trang nêu số liệu.")],
    author: Annotated[str, typer.Option("--author", help="Người nhập (ghi vào nhật ký kiểm toán).")],
    note: Annotated[str | None, typer.Option("--note", help="Ghi chú.")] = None,
) -> None:
    """Nhập một số liệu mới (kiểm tra, ghi nhật ký kiểm toán). / Enter a new figure (validated, audited)."""
    from ioc.db import connect
    from ioc.i18n import cli_time
    from ioc.kpi.figures import FigureError, record_figure
    from ioc.settings import Settings, running_settings

    try:
        with connect(running_settings(Settings()).database_dsn()) as conn:
            fig = record_figure(conn, author, indicator, value, as_of, source, note)
    except FigureError as exc:
        _fail([f"lỗi: {exc.message_vi}", f"error: {exc.message_en}"])
    typer.echo(f"#{fig.id} {fig.kpi_id} = {fig.value} ({fig.as_of.isoformat()}) · {fig.source} · "
               f"{fig.entered_by} {cli_time(fig.entered_at)}")  # fmt: skip


@figure_app.command("list")
def figure_list_command(
    lang: Annotated[str, typer.Option(help="vi or en.")] = "vi",
) -> None:
    """Số liệu hiện hành của các chỉ tiêu không có nguồn trực tiếp, rồi các lần nhập gần nhất."""
    from ioc.db import connect
    from ioc.i18n import cli_time
    from ioc.kpi.figures import current_figures, document_values, hand_kpis, latest_entries, list_figures
    from ioc.settings import Settings, running_settings

    language = _lang(lang)
    vi = language == "vi"
    with connect(running_settings(Settings()).database_dsn()) as conn:
        latest, entries = latest_entries(conn), list_figures(conn)
    current = current_figures(document_values(), latest)
    for k in hand_kpis():
        c = current.get(k.id)
        shown = "—" if c is None else (f"{c.value} {k.unit.value} ({c.as_of.isoformat()}) · {c.source}"
                                        + (f" · {c.entered_by} {cli_time(c.entered_at)}" if c.kind == "hand" else ""))
        typer.echo(f"{k.id:<34} {shown}")
    typer.echo("")
    typer.echo(("Các lần nhập tay" if vi else "Entries by hand") + f" ({len(entries)}):")
    for e in entries:
        typer.echo(f"  #{e.id} {cli_time(e.entered_at)} {e.entered_by}: {e.kpi_id} = {e.value} "
                   f"({e.as_of.isoformat()}) · {e.source}" + (f" · {e.note}" if e.note else ""))  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``kpi`` group to the ``ioc`` command."""
    app.add_typer(kpi_app, name="kpi")


if __name__ == "__main__":
    kpi_app()
