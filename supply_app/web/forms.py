"""WTForms for the UI (CSRF on every form through Flask-WTF); every field is bounded."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from supply_app.auth.models import ROLES
from supply_app.auth.service import MIN_PASSWORD_LENGTH, USERNAME_PATTERN, USERNAME_RULE

MAX_EACHES = 100_000
MAX_PACKS = 1000
LOT_TEXT = Regexp(r"^[\x21-\x7e][\x20-\x7e]*$", message="Use printable letters and digits.")
MONEY_TEXT = Regexp(r"^\$?[0-9][0-9,]*(\.[0-9]{1,2})?$", message="Give an amount such as 1250.00.")


def options(*pairs: tuple[object, str], **attrs: dict) -> list[SelectChoice]:
    """Select options from (value, label) pairs; attrs maps a value to extra HTML attributes."""
    return [
        SelectChoice(value, label, render_kw=attrs.get(str(value), {})) for value, label in pairs
    ]


class LoginForm(FlaskForm):
    """Sign in with username and password."""

    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CheckboxList(SelectMultipleField):
    """A set of checkboxes (one label each) in a list, for picking several options."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def scan_field() -> StringField:
    """The barcode field a keyboard-wedge scanner types into (Enter ends a scan)."""
    return StringField(
        "Scan barcode",
        validators=[Optional(), Length(max=200)],
        description="Scan a GS1 label: part, lot and expiry are filled in for you.",
    )


class StockFacilityMixin:
    """The facility whose stock moves."""

    facility_id = SelectField("Facility", coerce=int, validators=[InputRequired()])


class PartLotMixin:
    """Part + lot number (typed or scanned) naming one lot."""

    scan = scan_field()
    part_id = SelectField("Part", coerce=int, validators=[InputRequired()])
    lot_number = StringField("Lot number", validators=[DataRequired(), Length(max=40), LOT_TEXT])


class QuantityMixin:
    """A quantity as whole packs plus loose eaches, the way people count shelves."""

    packs = IntegerField(
        "Packs", default=0, validators=[InputRequired(), NumberRange(0, MAX_PACKS)]
    )
    eaches = IntegerField(
        "Loose eaches", default=0, validators=[InputRequired(), NumberRange(0, MAX_EACHES)]
    )


class ReceiveForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Stock arriving outside an order: opening balance, loan, donation or return."""

    expiry_date = DateField("Expiry date", validators=[InputRequired()])
    reason = SelectField(
        "Reason",
        choices=options(
            ("opening_balance", "Opening balance"),
            ("loan", "Loan"),
            ("donation", "Donation"),
            ("return", "Return"),
        ),
    )
    pack_cost = StringField(
        "Cost per pack ($)",
        validators=[Optional(), Length(max=20), MONEY_TEXT],
        description="Leave empty to use the contract price in effect today.",
    )
    note = StringField("Note", validators=[Optional(), Length(max=200)])


class AdjustForm(FlaskForm, StockFacilityMixin, PartLotMixin):
    """Correct a balance up or down with a reason code."""

    change = IntegerField(
        "Change in eaches (+ or −)",
        validators=[InputRequired(), NumberRange(-MAX_EACHES, MAX_EACHES)],
    )
    reason = SelectField(
        "Reason",
        choices=options(
            ("found", "Found"),
            ("lost", "Lost"),
            ("data_entry_error", "Data entry error"),
            ("other", "Other"),
        ),
    )
    note = StringField("Note", validators=[Optional(), Length(max=200)])


class TransferForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Send stock of one lot to another facility; its value travels with it."""

    to_facility_id = SelectField("To facility", coerce=int, validators=[InputRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=200)])


class WasteForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """Remove expired, damaged, contaminated or recalled stock."""

    reason = SelectField(
        "Reason",
        choices=options(
            ("expired", "Expired"),
            ("damaged", "Damaged"),
            ("contaminated", "Contaminated"),
            ("recalled", "Recalled"),
        ),
    )
    note = StringField("Note", validators=[Optional(), Length(max=200)])


class CountForm(FlaskForm, StockFacilityMixin, PartLotMixin, QuantityMixin):
    """A physical count of one lot; a difference from the books is posted as an adjustment."""

    note = StringField("Note", validators=[Optional(), Length(max=200)])


class OrderForm(FlaskForm):
    """A new draft order's header."""

    facility_id = SelectField("Facility", coerce=int, validators=[InputRequired()])
    fund_code = StringField(
        "Fund code",
        validators=[DataRequired(), Regexp(r"^[A-Z0-9]{2}$", message="Two capitals or digits.")],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
    )
    priority = IntegerField(
        "Priority designator (01–15)", default=13, validators=[InputRequired(), NumberRange(1, 15)]
    )
    required_delivery_date = DateField("Required delivery date", validators=[InputRequired()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=1000)])


class AddLineForm(FlaskForm):
    """Add packs of a part to a draft order."""

    part_id = SelectField("Part", coerce=int, validators=[InputRequired()])
    packs = IntegerField(
        "Packs", default=1, validators=[InputRequired(), NumberRange(1, MAX_PACKS)]
    )


class ActionForm(FlaskForm):
    """A button that changes state (submit, approve, remove a line): CSRF only."""


class CancelForm(FlaskForm):
    """Cancel an order, saying why."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class OrderReceiveForm(FlaskForm):
    """Receive packs of one order line, with the lot typed or scanned."""

    scan = scan_field()
    line_id = SelectField("Order line", coerce=int, validators=[InputRequired()])
    packs = IntegerField(
        "Packs received", default=1, validators=[InputRequired(), NumberRange(1, MAX_PACKS)]
    )
    lot_number = StringField("Lot number", validators=[Optional(), Length(max=40), LOT_TEXT])
    expiry_date = DateField("Expiry date", validators=[Optional()])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class SuggestionForm(FlaskForm):
    """Turn a facility's reorder suggestions into a draft order."""

    facility_id = SelectField("Facility", coerce=int, validators=[InputRequired()])
    fund_code = OrderForm.fund_code
    priority = OrderForm.priority
    required_delivery_date = DateField("Required delivery date", validators=[InputRequired()])


class CaseForm(FlaskForm):
    """A procedure case at the point of use: no patient data, only an opaque reference."""

    facility_id = SelectField("Facility", coerce=int, validators=[InputRequired()])
    date_of_service = DateField("Date of service", default=date.today, validators=[InputRequired()])
    reference = StringField(
        "Case reference (facility-local, no patient data)",
        validators=[
            DataRequired(),
            Length(max=32),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                message="Letters, digits, dot, dash or underscore only; no names or dates.",
            ),
        ],
    )
    laterality = SelectField(
        "Side",
        choices=options(("RT", "Right"), ("LT", "Left"), ("bilateral", "Both sides (bilateral)")),
    )
    anterior = CheckboxList("Anterior-knee nerves treated (64640, one per nerve)")
    genicular = CheckboxList("Genicular nerves treated (64624)")
    device = BooleanField("Bill the device (C9809)")
    scans = TextAreaField(
        "Scanned supplies (one barcode per line, one each per scan)",
        validators=[Optional(), Length(max=4000)],
    )


class VoidForm(FlaskForm):
    """Void a case; the reason is required."""

    reason = StringField("Reason for voiding", validators=[DataRequired(), Length(max=500)])


class OverrideForm(FlaskForm):
    """Set the amount a fee schedule uses for C9809 at a site of service."""

    year = SelectField("Calendar year", coerce=int)
    site = SelectField("Site of service", choices=options(("HOPD", "HOPD"), ("ASC", "ASC")))
    amount = StringField(
        "C9809 amount ($)", validators=[DataRequired(), Length(max=20), MONEY_TEXT]
    )
    note = StringField("Note", validators=[Optional(), Length(max=200)])


PASSWORD_LENGTH = Length(
    MIN_PASSWORD_LENGTH, 200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
)


class UserEditForm(FlaskForm):
    """Change a user: name, role, facilities, active, and optionally a new password."""

    display_name = StringField("Display name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=options(*((r, r) for r in ROLES)))
    facility_ids = CheckboxList("Facilities", coerce=int)
    all_facilities = BooleanField("Every facility (admin and finance only)")
    active = BooleanField("Active: may sign in and use API tokens")
    password = PasswordField(
        "New password (leave empty to keep the current one)",
        validators=[Optional(), PASSWORD_LENGTH],
    )


class UserForm(UserEditForm):
    """A new user with an initial password."""

    username = StringField(
        "Username",
        validators=[DataRequired(), Length(3, 80), Regexp(USERNAME_PATTERN, message=USERNAME_RULE)],
    )
    display_name = StringField("Display name", validators=[Optional(), Length(max=120)])
    active = None  # a new user starts active
    password = PasswordField("Initial password", validators=[DataRequired(), PASSWORD_LENGTH])
