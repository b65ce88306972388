"""Flask extensions, created unbound and bound in the factory."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from supply_app.db import Base
from supply_app.http import ProblemApi

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
api = ProblemApi()
login_manager = LoginManager()
csrf = CSRFProtect()
