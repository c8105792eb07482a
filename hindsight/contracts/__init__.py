"""Data products: contracts (ODCS YAML under data-products/), governance, runtime validation.

The runtime API other parts of Hindsight call:

* `validate(message)` -> envelope dict or `Invalid` reason (projection jobs, before projecting;
  `dead_letter(...)` builds the record for `hindsight.dlq`), and
  `default_validator().validate_data(event_type, schema_version, data)` (command service,
  before append);
* `allowed_fields(domain, port)`, `allowed_event_fields(event_type, port)` and
  `redact(envelope, port)` (projections, before writing a read model);
* `hindsight.contracts.ports` (sinks: topic, index alias and graph label names).
"""

from hindsight.contracts.pii import allowed_event_fields, allowed_fields, redact
from hindsight.contracts.validator import Invalid, dead_letter, default_validator, validate

__all__ = [
    "Invalid",
    "allowed_event_fields",
    "allowed_fields",
    "dead_letter",
    "default_validator",
    "redact",
    "validate",
]
