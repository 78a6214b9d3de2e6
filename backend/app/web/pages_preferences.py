"""Rebalancing preferences (AC-2.3.4) and the tax impact preview (AC-2.3.7).

The preferences page shows a portfolio's settings, restricted symbols and lots to anyone holding a role; a
manager, approver or owner also gets the forms. Saving goes through ``rebalance.configure`` /
``rebalance.set_restricted`` (the capabilities ``dawsos rebalancing settings set`` and ``restricted set`` call),
so the orchestrator decides who may write (a forged POST by a viewer is its 403). The settings form is merged
into the stored settings (fields the form does not show keep their values) and validated by the capability's
own model, :class:`~app.agents.rebalancing_setup.ConfigureArgs`: a message next to each wrong field and nothing
written. The capability stores all of it in one transaction, or nothing.

The tax preview is ``rebalance.tax_preview``: the trades a rebalance would make now with the lots they sell,
the realised gains by term and the estimated tax; nothing is stored, so a viewer may look.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError

from app.agents.rebalancing_setup import ConfigureArgs, SetRestrictedArgs
from app.api.service import TaxPreviewRequest
from app.core.errors import DawsosError, PermissionDeniedError, one_line
from app.domain.rebalancing import Frequency, LotMethod, RebalanceSettings, TargetSource
from app.web.forms import field_errors
from app.web.pages_portfolio import role_on
from app.web.render import Web, checked_form, page, redirect

EDITORS = ("manager", "approver", "owner")
#: the settings the form edits, in the model's units (fractions of 1, currency); a blank field is None
SETTING_FIELDS = ("target_source", "policy_id", "model_portfolio_id", "drift_abs_band", "drift_rel_band",
                  "frequency", "calendar", "approval_threshold", "lot_method", "tax_rates.short_term",
                  "tax_rates.long_term", "harvest_threshold")
CHOICES = {"target_source": [e.value for e in TargetSource], "frequency": ["", *(e.value for e in Frequency)],
           "lot_method": [e.value for e in LotMethod]}
NOTICES = {"saved": "Settings saved.", "restricted": "Restricted list updated."}


async def optional(call: Any) -> tuple[Any, str | None]:
    """``(result, None)`` or ``(None, the one-line reason)`` when the capability refuses (e.g. no settings)."""
    try:
        return await call, None
    except PermissionDeniedError:
        raise
    except DawsosError as exc:
        return None, one_line(exc)


async def require_editor(web: Web, portfolio_id: str) -> None:
    """PermissionDeniedError (403) unless the user is a manager, approver or owner of the portfolio: a forged
    POST is refused before its fields are even read (``rebalance.configure``/``set_restricted`` declare the
    same rule to the orchestrator, which refuses the call itself whatever the page did)."""
    role = await role_on(web, portfolio_id)
    if role not in EDITORS:
        raise PermissionDeniedError(web.who.user_id, "manager", portfolio_id,
                                    detail=f"their role there: {role}" if role else "")


def setting_values(settings: RebalanceSettings | None) -> dict[str, str]:
    """The form's values (dotted names) from stored settings (none stored: the defaults)."""
    doc = (settings or RebalanceSettings(portfolio_id="-")).model_dump(mode="json")
    doc.update({f"tax_rates.{k}": v for k, v in doc.pop("tax_rates").items()})
    return {name: "" if doc.get(name) is None else str(doc[name]) for name in SETTING_FIELDS}


def merged_settings(portfolio_id: str, stored: RebalanceSettings | None, posted: dict[str, str]) -> dict[str, Any]:
    """The stored settings (or the defaults) with the form's fields over them; a blank field is None."""
    doc = stored.model_dump(mode="json") if stored else {}
    given = {name: posted.get(name, "").strip() or None for name in SETTING_FIELDS}
    rates = {**doc.get("tax_rates", {}), **{k.split(".", 1)[1]: v for k, v in given.items() if "." in k}}
    doc.update({k: v for k, v in given.items() if "." not in k})
    return {**doc, "tax_rates": rates, "portfolio_id": portfolio_id}


async def preferences(web: Web, portfolio_id: str, *, values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, failure: str | None = None) -> Response:
    """Drift bands, calendar, approval threshold, tax settings, restrictions and lots; forms for editors."""
    svc, who, rid = web.service, web.who, web.rid
    settings, settings_note = await optional(svc.rebalance_settings(who, portfolio_id, request_id=rid))
    restricted, _ = await optional(svc.restricted(who, portfolio_id, request_id=rid))
    lots, _ = await optional(svc.lots(who, portfolio_id, request_id=rid))
    roles, _ = await optional(svc.portfolio_roles(who, portfolio_id, request_id=rid))
    policies = await svc.list_policies(who, request_id=rid)
    role = await role_on(web, portfolio_id)
    notice = NOTICES.get(web.request.query_params.get("done", ""))
    return page(web.request, "preferences.html", web=web, portfolio_id=portfolio_id, settings=settings,
                settings_note=settings_note, restricted=restricted, lots=lots, roles=roles, role=role,
                can_edit=role in EDITORS, choices=CHOICES, policies=policies.policies, errors=errors or {},
                values=values or setting_values(settings), failure=failure, notice=None if errors else notice,
                status=422 if errors or failure else 200)


async def save_settings(web: Web, portfolio_id: str) -> Response:
    """POST the settings form: validated by ConfigureArgs (messages next to the fields), then
    ``rebalance.configure``; a refusal (unknown policy or calendar, no role) leaves the stored settings as
    they were."""
    fields = await checked_form(web)
    await require_editor(web, portfolio_id)
    stored, _ = await optional(web.service.rebalance_settings(web.who, portfolio_id, request_id=web.rid))
    try:
        args = ConfigureArgs.model_validate(merged_settings(portfolio_id, stored, fields))
    except ValidationError as exc:
        return await preferences(web, portfolio_id, values=fields, errors=field_errors(exc))
    try:
        await web.service.configure(web.who, args, request_id=web.rid)
    except PermissionDeniedError:
        raise
    except DawsosError as exc:
        return await preferences(web, portfolio_id, values=fields, failure=one_line(exc))
    return redirect(f"/portfolios/{portfolio_id}/preferences?done=saved#settings-h")


async def _restrict(web: Web, portfolio_id: str, symbols: dict[str, str], *,
                    remove: tuple[str, ...] = ()) -> Response:
    try:
        args = SetRestrictedArgs(portfolio_id=portfolio_id, symbols=symbols, remove=remove)
    except ValidationError as exc:
        errors = {"restricted.symbol" if k.startswith("symbols") else k: v for k, v in field_errors(exc).items()}
        return await preferences(web, portfolio_id, errors=errors)
    try:
        await web.service.set_restricted(web.who, args, request_id=web.rid)
    except PermissionDeniedError:
        raise
    except DawsosError as exc:
        return await preferences(web, portfolio_id, failure=one_line(exc))
    return redirect(f"/portfolios/{portfolio_id}/preferences?done=restricted#restricted-h")


async def add_restricted(web: Web, portfolio_id: str) -> Response:
    """POST one symbol (and why) onto the restricted list (``rebalance.set_restricted``, adding)."""
    fields = await checked_form(web)
    await require_editor(web, portfolio_id)
    symbol = fields.get("restricted.symbol", "").strip().upper()
    return await _restrict(web, portfolio_id, {symbol: fields.get("restricted.reason", "").strip()})


async def remove_restricted(web: Web, portfolio_id: str) -> Response:
    """POST a symbol to take off the list (``rebalance.set_restricted`` with ``remove``: one transaction, so a
    symbol added meanwhile by someone else stays)."""
    fields = await checked_form(web)
    await require_editor(web, portfolio_id)
    return await _restrict(web, portfolio_id, {}, remove=(fields.get("symbol", "").strip().upper(),))


async def tax_preview(web: Web, portfolio_id: str) -> Response:
    """The realised gains (short/long-term) and estimated tax of the trades a rebalance would make now, by lot;
    nothing stored. Without rebalancing settings: the reason and where to set them."""
    try:
        req = TaxPreviewRequest(pricing_pack_id=web.request.query_params.get("pack") or None)
    except ValidationError as exc:
        req, note = None, "; ".join(f"pack: {m}" for m in field_errors(exc).values())
    preview = None
    if req is not None:
        preview, note = await optional(web.service.tax_preview(web.who, portfolio_id, req, request_id=web.rid))
    sells = [t for t in preview.trades if t.lots] if preview else []
    return page(web.request, "tax_preview.html", web=web, portfolio_id=portfolio_id, preview=preview, note=note,
                sells=sells, role=await role_on(web, portfolio_id))
