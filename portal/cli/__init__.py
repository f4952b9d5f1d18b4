"""Command line: ``flask --app wsgi seed demo`` and ``seed scale``."""

import click
from flask.cli import AppGroup

from . import (  # noqa: F401  (seed steps)
    demo_communities,
    demo_observations,
    demo_partnerships,
    demo_resources,
    demo_scheduling,
    demo_timeline,  # after demo_scheduling: the live room's timeline of a lesson given
    scale_communities,
    scale_observations,
    scale_partnerships,
    scale_resources,
    scale_scheduling,
)

seed = AppGroup("seed", help="Load demo or synthetic city-scale data.")


@seed.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data already exists.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo county (示范县) and its six accounts."""
    from .demo import DataExists, seed_demo

    try:
        summary = seed_demo()
    except DataExists:
        if if_empty:
            click.echo("The database already holds data; demo data not loaded.")
            return
        raise click.ClickException(
            "The database already holds data; `seed demo` only loads into an empty database."
        ) from None
    click.echo(summary)


@seed.command("scale")
@click.option("--schools", type=click.IntRange(1, 20_000), default=2000, show_default=True)
@click.option("--teachers", type=click.IntRange(1, 500_000), default=60_000, show_default=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True)
def seed_scale_command(schools: int, teachers: int, seed_value: int) -> None:
    """Load deterministic synthetic city-scale data for benchmarks."""
    from .scale import DataExists, seed_scale

    try:
        summary = seed_scale(schools=schools, teachers=teachers, seed=seed_value)
    except DataExists:
        raise click.ClickException("The database already holds data; `seed scale` needs an empty database.") from None
    click.echo(summary)
