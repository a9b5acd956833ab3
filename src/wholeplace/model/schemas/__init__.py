"""Source dataset schemas, declared once; validation, docs and synthetic data derive from them."""

from wholeplace.model.schemas.demo import DEMO_SCHEMAS
from wholeplace.model.schemas.police_uk import POLICE_UK_STREET

SCHEMAS = {schema.name: schema for schema in (POLICE_UK_STREET, *DEMO_SCHEMAS)}

__all__ = ["POLICE_UK_STREET", "SCHEMAS"]
