"""The bulk options every staff read command shares, and `BulkSpec`, what they amount to.

A read command opts in with `@bulk_options` and a last parameter `bulk: BulkSpec = NO_BULK`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32

# --- the options -----------------------------------------------------------------------------

CustomerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--customer",
        metavar="ID",
        help="Staff: run for this customer (repeatable); see also --customers-file.",
        show_default=False,
    ),
]
CustomersFileOpt = Annotated[
    str | None,
    typer.Option(
        "--customers-file",
        metavar="FILE",
        help="Staff: run for the customer IDs in FILE (- for stdin), one a line; blank "
        "lines and # comments skipped, duplicates looked up once. Results stream with "
        "the customer ID on each row.",
        show_default=False,
    ),
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        min=1,
        max=MAX_CONCURRENCY,
        metavar="N",
        help="Bulk: requests in flight at once (each answers up to 100 customers).",
    ),
]
RateOpt = Annotated[
    float | None,
    typer.Option(
        "--rate",
        min=0.01,
        metavar="PER_SECOND",
        help="Bulk: at most this many requests started per second.",
        show_default=False,
    ),
]
ErrorsOpt = Annotated[
    str | None,
    typer.Option(
        "--errors",
        metavar="FILE",
        help="Bulk: also write each failed customer to FILE as a JSON line (id, status, "
        "reason); rerun them with --customers-file FILE.",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class BulkSpec:
    """The bulk options of one invocation; `active` when any customer was given."""

    customers: tuple[str, ...] = ()
    customers_file: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = None
    errors: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.customers) or self.customers_file is not None

    def __bool__(self) -> bool:
        return self.active


NO_BULK = BulkSpec()

_OPTION_PARAMS: tuple[tuple[str, Any, Any], ...] = (
    ("bulk_customer", CustomerOpt, None),
    ("bulk_customers_file", CustomersFileOpt, None),
    ("bulk_concurrency", ConcurrencyOpt, DEFAULT_CONCURRENCY),
    ("bulk_rate", RateOpt, None),
    ("bulk_errors", ErrorsOpt, None),
)

F = TypeVar("F", bound=Callable[..., Any])


def bulk_options(func: F) -> F:
    """Add the bulk options to a Typer command whose last parameter is `bulk: BulkSpec`.

    The options reach the function as one `BulkSpec`, so a command adds two lines: this
    decorator and `if bulk.active: return run_bulk(...)`.
    """
    signature = inspect.signature(func, eval_str=True)
    if "bulk" not in signature.parameters:
        raise TypeError(f"{func.__qualname__} needs a `bulk: BulkSpec = NO_BULK` parameter")
    params = [p for p in signature.parameters.values() if p.name != "bulk"]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann)
        for name, ann, default in _OPTION_PARAMS
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        spec = BulkSpec(
            customers=tuple(kwargs.pop("bulk_customer", None) or ()),
            customers_file=kwargs.pop("bulk_customers_file", None),
            concurrency=int(kwargs.pop("bulk_concurrency", DEFAULT_CONCURRENCY)),
            rate=kwargs.pop("bulk_rate", None),
            errors=kwargs.pop("bulk_errors", None),
        )
        return func(*args, bulk=spec, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper.__annotations__["return"] = signature.return_annotation
    return wrapper  # type: ignore[return-value]
