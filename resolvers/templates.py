"""Jinja2 templates users write (config and export templates, custom links' text and URL,
webhook URLs, headers and bodies), rendered in a sandbox: no loader, so nothing is read
from disk and no template includes, imports or extends another; only harmless
environment options.

A template is checked when written (it must parse, and use none of those tags) and
rendered on read; a render error is the client's: BAD_USER_INPUT naming the template."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from models.registry import ModelSpec, specs
from resolvers.errors import BadUserInput
from resolvers.rules import RuleBook
from resolvers.writes import Write

# Environment options a template may set (NetBox's environment_params, narrowed to ones
# that change whitespace only).
ALLOWED_PARAMS = frozenset({"trim_blocks", "lstrip_blocks", "keep_trailing_newline"})
_READS_OTHERS = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
# Characters no HTTP header value may hold (C0 controls and DEL: CR/LF injection).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def template_fields(model: type) -> tuple[str, ...]:
    """The columns of ``model`` holding Jinja2 templates, as it declares them
    (``__template_fields__``: a config template's code, a custom link's text and URL)."""
    return tuple(getattr(model, "__template_fields__", ()))


def register_rules(book: RuleBook) -> None:
    for spec in specs().values():
        if template_fields(spec.model):
            book.check(spec.type_name)(_templates_compile)


def is_header_text(value: str) -> bool:
    """The text may stand in an HTTP header: ASCII without control characters (no CR/LF
    to smuggle in another header)."""
    return value.isascii() and not _CONTROL.search(value)


def header_safe(value: Any) -> str:
    """NetBox's ``header_safe`` filter: a value without the control characters (CR, LF…)
    that would smuggle another header into a request."""
    return _CONTROL.sub("", str(value))


def environment(params: dict[str, Any] | None) -> SandboxedEnvironment:
    options = {name: bool(value) for name, value in (params or {}).items() if name in ALLOWED_PARAMS}
    env = SandboxedEnvironment(loader=None, autoescape=False, **options)
    env.filters["header_safe"] = header_safe
    return env


def check_template(code: str, params: dict[str, Any] | None, field: str = "template_code") -> None:
    """Refuse a template that does not parse, or that reads other templates or files."""
    unknown = sorted(set(params or {}) - ALLOWED_PARAMS)
    if unknown:
        raise BadUserInput(f"environment_params: {', '.join(unknown)} not allowed; only {', '.join(sorted(ALLOWED_PARAMS))}", field="environment_params")
    try:
        tree = environment(params).parse(code)
    except TemplateError as error:
        raise BadUserInput(f"{field}: {error.message} (line {getattr(error, 'lineno', '?')})", field=field) from None
    if any(True for _ in tree.find_all(_READS_OTHERS)):
        raise BadUserInput(f"{field}: a template may not include, import or extend other templates", field=field)


def render(code: str, params: dict[str, Any] | None, context: dict[str, Any], field: str = "template_code") -> str:
    try:
        return environment(params).from_string(code).render(context)
    except TemplateError as error:
        raise BadUserInput(f"{field}: rendering failed: {error}", field=field) from None
    except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as error:
        raise BadUserInput(f"{field}: rendering failed: {type(error).__name__}: {error}", field=field) from None


async def _templates_compile(write: Write, spec: ModelSpec, values: dict[str, Any], old: Any) -> None:
    """Each template field written (or every one, when the environment changes) compiles."""
    has_params = spec.scalar("environment_params") is not None
    params = values.get("environment_params", getattr(old, "environment_params", None)) if has_params else None
    for field in template_fields(spec.model):
        if field in values or "environment_params" in values:
            check_template(values.get(field, getattr(old, field, "")) or "", params, field=field)
