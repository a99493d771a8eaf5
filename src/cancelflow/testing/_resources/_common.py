"""What every resource store shares (strictly private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Final,
    Generic,
    ParamSpec,
    TypeVar,
)

from cancelflow.testing._errors import ApiError
from cancelflow.testing._expand import NOT_INCLUDABLE, expand
from cancelflow.testing._routing import Call
from cancelflow.testing._store import Collection, Record

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = [
    "ADDRESS_FIELDS",
    "JSON",
    "Store",
    "address",
    "created_filter",
    "merge_metadata",
    "operation",
    "respond",
]

JSON = dict[str, Any]
R = TypeVar("R", bound=Record)
S = TypeVar("S", bound="Store[Any]")
P = ParamSpec("P")
T = TypeVar("T")

ADDRESS_FIELDS: Final = ("city", "country", "line1", "line2", "postal_code", "state")
_METADATA_KEYS: Final = 50
_METADATA_KEY_LENGTH: Final = 40
_METADATA_VALUE_LENGTH: Final = 500


class Store(Generic[R]):
    """A resource's records plus the lookups every resource needs."""

    noun: ClassVar[str] = "object"
    """The word in ``No such <noun>: '<id>'``."""

    def __init__(self, backend: Backend) -> None:
        self.b = backend
        self.store: Collection[R] = Collection()

    def __len__(self) -> int:
        return len(self.store)

    def get(self, object_id: str, *, param: str = "id") -> R:
        """The record, or Stripe's 404 ``resource_missing`` naming *param*."""
        record = self.store.by_id.get(object_id)
        if record is None:
            raise ApiError.resource_missing(self.noun, object_id, param)
        return record

    def render(self, record: R) -> JSON:
        """The object's wire shape (override to compose or compute fields)."""
        return record.obj

    def include(self, obj: JSON, field: str) -> Any:  # noqa: ARG002 - hook for subclasses
        """The value of an includable *field* Stripe leaves out unless expanded."""
        return NOT_INCLUDABLE


def operation(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Run a store method as one backend operation.

    Its events are delivered when it returns, unless it runs inside a larger
    operation (an API request, a portal action), which then delivers them.
    """

    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self.b.operation():
            return method(self, *args, **kwargs)

    run.__name__ = method.__name__
    run.__qualname__ = method.__qualname__
    run.__doc__ = method.__doc__
    return run


def respond(backend: Backend, call: Call, obj: JSON) -> JSON:
    """*obj*, expanded as the call asked."""
    paths = call.params.get("expand")
    return expand(backend, obj, paths) if paths else obj


def created_filter(value: Any) -> Callable[[int], bool] | None:
    """A predicate for a ``created`` list filter (an int, or ``gt``/``gte``/``lt``/``lte``)."""
    if value is None:
        return None
    if isinstance(value, int):
        return lambda created: created == value
    bounds: dict[str, int] = value

    def accept(created: int) -> bool:
        return (
            ("gt" not in bounds or created > bounds["gt"])
            and ("gte" not in bounds or created >= bounds["gte"])
            and ("lt" not in bounds or created < bounds["lt"])
            and ("lte" not in bounds or created <= bounds["lte"])
        )

    return accept


def merge_metadata(
    old: dict[str, str], new: Any, param: str = "metadata"
) -> dict[str, str]:
    """Stripe's metadata update: keys merge, ``""`` unsets a key, ``metadata=""`` unsets all."""
    if new == "":
        return {}
    merged = dict(old)
    for key, value in new.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    for key, value in merged.items():
        if len(key) > _METADATA_KEY_LENGTH:
            raise ApiError.invalid(
                f"Metadata keys can have up to {_METADATA_KEY_LENGTH} characters.",
                param=f"{param}[{key}]",
            )
        if len(value) > _METADATA_VALUE_LENGTH:
            raise ApiError.invalid(
                f"Metadata values can have up to {_METADATA_VALUE_LENGTH} characters.",
                param=f"{param}[{key}]",
            )
    if len(merged) > _METADATA_KEYS:
        raise ApiError.invalid(
            f"You can have at most {_METADATA_KEYS} metadata keys.", param=param
        )
    return merged


def address(value: Any) -> JSON | None:
    """An address hash with every field (``null`` where not given); ``""`` unsets it."""
    if value is None or value == "":
        return None
    return {field: value.get(field) for field in ADDRESS_FIELDS}
