"""WTForms for the UI (CSRF on every form through Flask-WTF), every field built from a rule.

No limit, pattern or choice list is restated here: each field takes the domain's own rule
(see supply_app.web.fields), so the UI refuses exactly what the API and the services do.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import InputRequired, StopValidation
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from supply_app.auth import rules as auth_rules
from supply_app.cases import rules as case_rules
from supply_app.catalog import rules as catalog_rules
from supply_app.facilities.rules import SITE_OF_SERVICE
from supply_app.fields import ID
from supply_app.inventory import rules as stock_rules
from supply_app.money import PRICE
from supply_app.notifications.rules import EMAIL
from supply_app.ordering import rules as order_rules
from supply_app.rules import RuleBroken
from supply_app.web.fields import (
    AmountField,
    RuleDateField,
    RuleNumberField,
    RuleSelectField,
    RuleTextAreaField,
    RuleTextField,
    options,
)

__all__ = ["options"]


def row_id(value: Any) -> int:
    """A row id from a form (ASCII digits only; a look-alike digit never names a row)."""
    return value if isinstance(value, int) else ID.parse(value)


def optional_id(value: Any) -> int | None:
    """A row id from a form, or None for the blank choice."""
    return None if value in ("", None) else row_id(value)


def schedule_year(value: Any) -> int:
    """A fee-schedule year from a form (ASCII digits, within the rule's years)."""
    return value if isinstance(value, int) else case_rules.SCHEDULE_YEAR.parse(value)


class IdSelectField(SelectField):
    """A choice of rows (facilities, parts, order lines) by id; the view fills the choices."""

    def __init__(
        self, label: str, *, blank: bool = False, required: bool = False, **kwargs: Any
    ) -> None:
        """blank: the choices start with a blank option (no row), and it may be chosen
        unless required: then it only makes the user choose, as no row is preselected."""
        if blank:
            needed = [InputRequired(message=f"Choose the {label.lower()}.")] if required else []
            super().__init__(label, coerce=optional_id, validators=needed, **kwargs)
        else:
            required = InputRequired(message=f"Choose the {label.lower()}.")
            super().__init__(label, coerce=row_id, validators=[required], **kwargs)


class CheckboxList(SelectMultipleField):
    """A set of checkboxes (one label each) in a list, for picking several options."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RuleCheckboxList(CheckboxList):
    """Checkboxes offering some of a Choice rule's options (the view narrows them)."""

    def __init__(self, label: str, rule: Any, **kwargs: Any) -> None:
        self.rule = rule
        super().__init__(label, choices=options(*rule.options), **kwargs)

    def pre_validate(self, form: Any) -> None:
        """Every ticked value is one the rule allows and the form offered."""
        offered = {choice.value for choice in self.choices}
        for value in self.data or ():
            try:
                self.rule.clean(value)
            except RuleBroken as exc:
                raise StopValidation(str(exc)) from exc
            if value not in offered:
                raise StopValidation(f"{value!r} is not one of the choices here.")


class LoginForm(FlaskForm):
    """Sign in with username and password (any text: a wrong one is just a wrong guess)."""

    username = RuleTextField("Username", auth_rules.SIGN_IN_NAME)
    password = RuleTextField("Password", auth_rules.SIGN_IN_PASSWORD, widget=PasswordField.widget)


def scan_field() -> RuleTextField:
    """The barcode field a keyboard-wedge scanner types into (Enter ends a scan)."""
    return RuleTextField(
        "Scan barcode",
        stock_rules.SCAN,
        optional=True,
        description="Scan a GS1 label: part, lot and expiry are filled in for you.",
    )


def note_field() -> RuleTextField:
    """An optional note about the stock."""
    return RuleTextField("Note", stock_rules.NOTE, optional=True)


class StockFacilityMixin:
    """The facility whose stock moves."""

    facility_id = IdSelectField("Facility")


class PartLotMixin:
    """A lot: picked or typed (any case), or scanned; the part only where a number is shared."""

    scan = scan_field()
    part_id = IdSelectField("Part", blank=True)
    lot_number = RuleTextField("Lot number", stock_rules.LOT_NUMBER)


class QuantityMixin:
    """A quantity as whole packs plus loose eaches, the way people count shelves.

    Both start empty (never a 0 nobody typed); an empty one counts as none.
    """

    packs = RuleNumberField("Packs", stock_rules.SHELF_PACKS, optional=True)
    eaches = RuleNumberField("Loose eaches", stock_rules.LOOSE_EACHES, optional=True)


class ReceiveForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Stock arriving outside an order: opening balance, loan, donation, return or found."""

    lot_number = RuleTextField("Lot number", stock_rules.LOT_NUMBER, optional=True)
    expiry_date = RuleDateField("Expiry date", stock_rules.EXPIRY_DATE, optional=True)
    # No reason is preselected: a default would be booked by a user who never read it.
    reason = RuleSelectField(
        "Reason", stock_rules.FREE_RECEIPT_REASON, blank="Choose a reason", required=True
    )
    pack_cost = AmountField(
        "Cost per pack ($)",
        PRICE,
        optional=True,
        description="Leave empty to use the contract price in effect today.",
    )
    note = note_field()


class AdjustForm(FlaskForm, StockFacilityMixin, PartLotMixin):
    """Correct a balance up or down with a reason code."""

    change = RuleNumberField("Change in eaches (+ or −)", stock_rules.CHANGE_IN_EACHES)
    reason = RuleSelectField(
        "Reason", stock_rules.TYPED_ADJUSTMENT_REASON, blank="Choose a reason", required=True
    )
    note = note_field()


class TransferForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Send stock of one lot to another facility; its value travels with it."""

    to_facility_id = IdSelectField("To facility")
    note = note_field()


class WasteForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Remove expired, damaged, contaminated or recalled stock."""

    reason = RuleSelectField(
        "Reason", stock_rules.WASTE_REASON, blank="Choose a reason", required=True
    )
    note = note_field()


class CountForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """A physical count of one lot; a difference from the books is posted as an adjustment."""

    note = note_field()


class ReturnForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Stock shipped back to the vendor under a returned-goods authorisation."""

    rga_number = RuleTextField("RGA number", stock_rules.RGA_NUMBER)
    rga_date = RuleDateField(
        "RGA date",
        stock_rules.RGA_DATE,
        description=f"An RGA is good for {stock_rules.RGA_VALID_DAYS} days from this date.",
    )
    note = note_field()


class RecallLotsForm(FlaskForm):
    """Lots for a recall, one per line."""

    lots = RuleTextAreaField(
        "Lots (one per line: part number, then lot number)",
        stock_rules.RECALL_LOT_LINES,
        description="For example: STT2190-5 A12345",
    )


class RecallForm(RecallLotsForm):
    """A recall notice: placing it holds its lots everywhere at once."""

    source = RuleSelectField("Source", stock_rules.RECALL_SOURCE)
    notice_number = RuleTextField("Notice number", stock_rules.NOTICE_NUMBER)
    notice_date = RuleDateField("Notice date", stock_rules.NOTICE_DATE)
    reason = RuleTextAreaField("Reason", stock_rules.RECALL_REASON)


class RecallEndForm(FlaskForm):
    """Why a recall is released, or what closing it records."""

    note = RuleTextField("Note", stock_rules.RECALL_NOTE)


class CreditForm(FlaskForm):
    """The vendor's credit memo for a return."""

    credit_memo = RuleTextField("Credit memo number", stock_rules.CREDIT_MEMO)
    credited_on = RuleDateField("Credit date", stock_rules.CREDIT_DATE)


class NotificationForm(FlaskForm):
    """Where your mail goes and whether you want the daily digest."""

    email = RuleTextField("Email address", EMAIL, optional=True)
    daily_digest = BooleanField("Send me the daily digest")


class ReverseForm(FlaskForm):
    """Reverse a movement, saying why."""

    reason = RuleTextField("Why reverse it", stock_rules.REVERSAL_REASON)


class OrderHeaderMixin:
    """The DoD fields of an order."""

    fund_code = RuleTextField("Fund code", order_rules.FUND_CODE)
    priority = RuleSelectField("Priority designator", order_rules.PRIORITY, default="13")
    required_delivery_date = RuleDateField("Required delivery date", order_rules.DELIVERY_DATE)


class OrderForm(FlaskForm, OrderHeaderMixin):
    """A new draft order's header."""

    facility_id = IdSelectField("Facility")
    notes = RuleTextAreaField("Notes", order_rules.ORDER_NOTES, optional=True)


class AddLineForm(FlaskForm):
    """Add packs of a part to a draft order."""

    part_id = IdSelectField("Part")
    packs = RuleNumberField("Packs", order_rules.PACKS, default=1)


class ActionForm(FlaskForm):
    """A button that changes state (submit, approve, remove a line): CSRF only."""


class CancelForm(FlaskForm):
    """Cancel an order, saying why."""

    reason = RuleTextField("Reason", order_rules.CANCEL_REASON, optional=True)


class ReceiptLineForm(Form):
    """One outstanding order line on the receipt: packs arrived, their lot (scanned or typed)."""

    line_id = RuleNumberField("Order line", ID, widget=HiddenInput())
    packs = RuleNumberField("Packs received", order_rules.PACKS, optional=True)
    lot_number = RuleTextField("Lot number", stock_rules.LOT_NUMBER, optional=True)
    expiry_date = RuleDateField("Expiry date", stock_rules.EXPIRY_DATE, optional=True)
    scan = RuleTextField("Scanned label", stock_rules.SCAN, optional=True, widget=HiddenInput())


class OrderReceiveForm(FlaskForm):
    """Receive several lines of an order at once: each row's packs, lot and expiry (a scan
    fills the row of its part)."""

    scan = scan_field()
    lines = FieldList(FormField(ReceiptLineForm))
    note = RuleTextField("Note", order_rules.RECEIPT_NOTE, optional=True)


class LinePacksForm(FlaskForm):
    """Change the packs of a draft order's line."""

    packs = RuleNumberField("Packs", order_rules.PACKS)


class SuggestionForm(FlaskForm, OrderHeaderMixin):
    """Turn a facility's reorder suggestions into a draft order."""

    facility_id = IdSelectField("Facility")


class CaseForm(FlaskForm):
    """A procedure case at the point of use: no patient data, only an opaque reference."""

    facility_id = IdSelectField("Facility")
    date_of_service = RuleDateField("Date of service", case_rules.DATE_OF_SERVICE)
    reference = RuleTextField(
        "Case reference (facility-local, no patient data)", case_rules.CASE_REFERENCE
    )
    laterality = RuleSelectField("Side", case_rules.LATERALITY)
    anterior = RuleCheckboxList(
        "Anterior-knee nerves treated (64640, one per nerve)", case_rules.NERVE
    )
    genicular = RuleCheckboxList("Genicular nerves treated (64624)", case_rules.NERVE)
    anterior_left = RuleCheckboxList("Left knee: anterior-knee nerves (64640)", case_rules.NERVE)
    genicular_left = RuleCheckboxList("Left knee: genicular nerves (64624)", case_rules.NERVE)
    device = BooleanField("Bill the device (C9809)")
    as_0441t = BooleanField(
        "Bill the nerves as 0441T (the Medicare contractor here requires it instead of "
        "64640 and 64624)"
    )
    payer_id = IdSelectField(
        "Payer (a category such as TRICARE or active duty, never a name)", blank=True
    )
    handpiece_serial = RuleTextField(
        "Handpiece serial number (optional)", stock_rules.SERIAL, optional=True
    )
    scans = RuleTextAreaField(
        "Scanned supplies (one barcode per line, one each per scan)",
        case_rules.SCANNED_SUPPLIES,
        optional=True,
    )
    no_supplies = BooleanField("No tips or cartridges were used in this case")


class VoidForm(FlaskForm):
    """Void a case; the reason is required."""

    reason = RuleTextField("Reason for voiding", case_rules.VOID_REASON)


class OverrideForm(FlaskForm):
    """Set the amount a fee schedule uses for C9809 at a site of service."""

    year = SelectField("Calendar year", coerce=schedule_year)
    site = RuleSelectField("Site of service", SITE_OF_SERVICE.only("HOPD", "ASC"))
    amount = AmountField("C9809 amount ($)", PRICE)
    note = RuleTextField("Note", case_rules.OVERRIDE_NOTE, optional=True)


class UserEditForm(FlaskForm):
    """Change a user: name, role, facilities, active, and optionally a new password."""

    display_name = RuleTextField("Display name", auth_rules.DISPLAY_NAME)
    role = RuleSelectField("Role", auth_rules.ROLE)
    facility_ids = CheckboxList("Facilities", coerce=row_id)
    all_facilities = BooleanField("Every facility (admin and finance only)")
    active = BooleanField("Active: may sign in and use API tokens")
    password = RuleTextField(
        "New password (leave empty to keep the current one)",
        auth_rules.PASSWORD,
        optional=True,
        widget=PasswordField.widget,
    )


class UserForm(UserEditForm):
    """A new user with an initial password."""

    username = RuleTextField("Username", auth_rules.USERNAME)
    display_name = RuleTextField("Display name", auth_rules.DISPLAY_NAME, optional=True)
    # No role is chosen for the admin: a slip must not make an administrator.
    role = RuleSelectField("Role", auth_rules.ROLE, blank="Choose a role", required=True)
    active = None  # a new user starts active
    password = RuleTextField("Initial password", auth_rules.PASSWORD, widget=PasswordField.widget)


class DefaultFacilityForm(FlaskForm):
    """The facility the user's sign-ins start in."""

    default_facility_id = IdSelectField("Start each sign-in at", blank=True)


class PasswordForm(FlaskForm):
    """Change your own password: the current one, then the new one twice."""

    current_password = RuleTextField(
        "Current password", auth_rules.SIGN_IN_PASSWORD, widget=PasswordField.widget
    )
    password = RuleTextField("New password", auth_rules.PASSWORD, widget=PasswordField.widget)
    confirm = RuleTextField(
        "New password again", auth_rules.SIGN_IN_PASSWORD, widget=PasswordField.widget
    )


class SwitchFacilityForm(FlaskForm):
    """Work in another of your facilities (the header's switcher)."""

    facility_id = IdSelectField("Facility")


class GtinLinkForm(FlaskForm):
    """What a barcode names: its part and what the labelled package holds."""

    part_id = IdSelectField("Part", blank=True, required=True)
    level = RuleSelectField(
        "The label is on", catalog_rules.PACKAGE_LEVEL, blank="Choose", required=True
    )


class GtinForm(GtinLinkForm):
    """Link a scanned barcode's GTIN to its part."""

    gtin = RuleTextField(
        "Barcode GTIN", catalog_rules.LABEL_GTIN, render_kw={"inputmode": "numeric"}
    )


class FacilitySettingsForm(FlaskForm):
    """What a facility's forms start with."""

    bill_device_by_default = BooleanField("New cases bill the device (C9809) unless unticked")
