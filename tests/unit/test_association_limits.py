"""The rules of association limits (pure): Primary is built in, a label's limit stays
within its direction's unlabeled limit, and the unlabeled limit above every label's."""

from __future__ import annotations

import pytest

from propsync.domain.associations import (
    BUILT_IN_TYPES,
    MAX_TO_OBJECT_IDS,
    check_limit,
    user_defined_pair,
)
from propsync.domain.errors import ValidationError

UNLABELED = BUILT_IN_TYPES[279]  # contacts → companies
BILLING, _ = user_defined_pair("contacts", "companies", 1000, "Billing", None, "billing")


def test_primary_keeps_its_built_in_limit():
    with pytest.raises(ValidationError, match="built in"):
        check_limit(BUILT_IN_TYPES[1], 1, {})


@pytest.mark.parametrize("limit", [0, -1, MAX_TO_OBJECT_IDS + 1])
def test_a_limit_is_at_least_one_and_fits_an_int32(limit):
    with pytest.raises(ValidationError, match="maxToObjectIds"):
        check_limit(UNLABELED, limit, {})


def test_a_label_limit_is_at_most_the_unlabeled_limit():
    check_limit(BILLING, 3, {279: 3})
    check_limit(BILLING, 50, {})
    with pytest.raises(ValidationError, match="at most 3"):
        check_limit(BILLING, 4, {279: 3})


def test_the_unlabeled_limit_is_at_least_every_label_limit():
    check_limit(UNLABELED, 5, {1000: 5})
    with pytest.raises(ValidationError, match="at least 5"):
        check_limit(UNLABELED, 4, {1000: 5})
