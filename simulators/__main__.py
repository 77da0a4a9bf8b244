"""``python -m simulators simulate|replay|scenarios`` (the same commands as ``ioc``)."""

import typer

from simulators.cli import register

app = typer.Typer(help="Mô phỏng thành phố Hải Phòng — simulated city streams.", no_args_is_help=True)
register(app)

if __name__ == "__main__":
    app()
